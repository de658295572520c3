//! The exact text upstream tools print (SEMANTICS.md §5.1, §6): istiod status messages on an
//! AuthorizationPolicy, Envoy RBAC debug lines, the HTTP denial, ztunnel's access-log line and
//! policy trace messages, and the `istioctl x authz check` table. These are tool outputs, not the
//! engine's own prose (that is `explain`).

use crate::model::{Cluster, Workload};

use super::envoy::RbacLog;
use super::model::{Action, Target};
use super::ztunnel::{HttpOutcome, Rejection};
use super::{Identity, MeshOptions};

/// istiod `httpRuleFmt` with its boilerplates (`authorization.go`).
pub fn http_attributes_status(found: &[String], outcome: HttpOutcome) -> String {
    let boilerplate = match outcome {
        HttpOutcome::DenyNoEffect => {
            "After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no effect. Deploy a waypoint proxy and use a targetRef to enforce this policy."
        }
        HttpOutcome::DenyMixed => {
            "DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested."
        }
        HttpOutcome::AllowRulesOmitted => {
            "Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested."
        }
    };
    format!(
        "ztunnel does not support HTTP attributes (found: {}). In ambient mode you must use a waypoint proxy to enforce HTTP rules. {boilerplate}",
        found.join(", ")
    )
}

/// `ztunnel does not support the <X> action`.
pub fn unsupported_action_status(action: Action) -> String {
    format!("ztunnel does not support the {} action", action.as_str())
}

/// Dry-run policy without `AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY`.
pub fn dry_run_status(namespace: &str, name: &str) -> String {
    format!(
        "found policy \"{namespace}/{name}\" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn't enabled"
    )
}

/// Envoy RBAC debug line (§6.1): `enforced denied, matched policy ns[be]-policy[x]-rule[0]`,
/// `enforced denied, matched policy none`, `shadow denied, ...`.
pub fn envoy_rbac_line(log: &RbacLog) -> String {
    let mode = if log.shadow { "shadow" } else { "enforced" };
    let what = if log.allowed { "allowed" } else { "denied" };
    match &log.matched {
        Some((ns, name, rule)) => {
            format!("{mode} {what}, matched policy ns[{ns}]-policy[{name}]-rule[{rule}]")
        }
        None => format!("{mode} {what}, matched policy none"),
    }
}

/// HTTP denial status (§6.2).
pub const HTTP_DENIED_STATUS: u16 = 403;
/// HTTP denial body (§6.2).
pub const HTTP_DENIED_BODY: &str = "RBAC: access denied";

/// ztunnel's rejection text (`src/proxy.rs` `AuthorizationRejectionError`).
pub fn ztunnel_rejection(rejection: &Rejection) -> String {
    match rejection {
        Rejection::ExplicitlyDenied { namespace, name } => {
            format!("explicitly denied by: {namespace}/{name}")
        }
        Rejection::NotAllowed => "allow policies exist, but none allowed".to_string(),
    }
}

/// The access log `error=` value for a policy rejection.
pub fn ztunnel_error(rejection: &Rejection) -> String {
    format!(
        "connection closed due to policy rejection: {}",
        ztunnel_rejection(rejection)
    )
}

/// ztunnel policy trace messages (debug, or info with `AUTHZ_POLICY_INFO_LOGGING=true`).
pub const TRACE_DENY_MATCH: &str = "deny policy match";
pub const TRACE_NO_ALLOW_POLICIES: &str = "no allow policies, allow";
pub const TRACE_ALLOW_MATCH: &str = "allow policy match";
pub const TRACE_NO_ALLOW_MATCHED: &str = "no allow policies matched";

/// One side of a ztunnel access-log line.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccessLogPeer {
    pub addr: String,
    pub workload: Option<String>,
    pub namespace: Option<String>,
    pub identity: Option<Identity>,
}

/// A ztunnel access-log entry (§6.3): fields in upstream order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccessLog {
    pub src: AccessLogPeer,
    pub dst: AccessLogPeer,
    /// `dst.hbone_addr`, for HBONE.
    pub hbone_addr: Option<String>,
    pub service: Option<String>,
    pub inbound: bool,
    pub error: Option<String>,
}

/// `error access connection complete src.addr=... error="..."` (or `info access ...` without an
/// error). `src.identity` only appears for mTLS; cluster fields are omitted.
pub fn ztunnel_access_log(log: &AccessLog) -> String {
    let mut out = String::new();
    out.push_str(if log.error.is_some() { "error" } else { "info" });
    out.push_str(" access connection complete");
    let mut field = |k: &str, v: String| {
        out.push(' ');
        out.push_str(k);
        out.push('=');
        out.push_str(&v);
    };
    let q = |s: &str| format!("\"{s}\"");
    field("src.addr", log.src.addr.clone());
    if let Some(w) = &log.src.workload {
        field("src.workload", q(w));
    }
    if let Some(n) = &log.src.namespace {
        field("src.namespace", q(n));
    }
    if let Some(id) = &log.src.identity {
        field("src.identity", q(&id.to_string()));
    }
    field("dst.addr", log.dst.addr.clone());
    if let Some(h) = &log.hbone_addr {
        field("dst.hbone_addr", h.clone());
    }
    if let Some(s) = &log.service {
        field("dst.service", q(s));
    }
    if let Some(w) = &log.dst.workload {
        field("dst.workload", q(w));
    }
    if let Some(n) = &log.dst.namespace {
        field("dst.namespace", q(n));
    }
    if let Some(id) = &log.dst.identity {
        field("dst.identity", q(&id.to_string()));
    }
    field(
        "direction",
        q(if log.inbound { "inbound" } else { "outbound" }),
    );
    field("bytes_sent", "0".to_string());
    field("bytes_recv", "0".to_string());
    field("duration", q("0ms"));
    if let Some(e) = &log.error {
        field("error", q(e));
    }
    out
}

/// `istioctl x authz check <pod>` (§6.4, TV-45): header `ACTION AuthorizationPolicy RULES`,
/// rows grouped DENY, ALLOW, LOG (AUDIT), CUSTOM, names `<name>.<namespace>`, RULES = number of
/// rules; Go `tabwriter` with padding 3. Reads the sidecar's (Envoy) view: namespace and
/// selector policies; ALLOW policies that end up with no rules show `_anonymous_match_nothing_`.
pub fn authz_check(cluster: &Cluster, options: &MeshOptions, workload: &Workload) -> String {
    let indices = super::envoy::sidecar_policies(cluster, options, workload);
    let mut rows: Vec<[String; 3]> = Vec::new();
    for (action, label) in [
        (Action::Deny, "DENY"),
        (Action::Allow, "ALLOW"),
        (Action::Audit, "LOG"),
        (Action::Custom, "CUSTOM"),
    ] {
        let mut group: Vec<[String; 3]> = indices
            .iter()
            .filter_map(|&i| cluster.authorization_policies.get(i))
            .filter(|p| p.action == action && !p.rules.is_empty())
            .filter(|p| !matches!(p.target, Target::TargetRefs(_)))
            .map(|p| {
                [
                    label.to_string(),
                    format!("{}.{}", p.name, p.namespace),
                    p.rules.len().to_string(),
                ]
            })
            .collect();
        group.sort_by(|a, b| a[1].cmp(&b[1]));
        if action == Action::Allow && group.is_empty() {
            let exists = indices
                .iter()
                .filter_map(|&i| cluster.authorization_policies.get(i))
                .any(|p| p.action == Action::Allow);
            if exists {
                group.push([
                    label.to_string(),
                    "_anonymous_match_nothing_".to_string(),
                    "1".to_string(),
                ]);
            }
        }
        rows.extend(group);
    }
    let mut table = vec![[
        "ACTION".to_string(),
        "AuthorizationPolicy".to_string(),
        "RULES".to_string(),
    ]];
    table.extend(rows);
    tabwriter(&table, 3)
}

/// Go `text/tabwriter` (minwidth 0, padding `padding`, pad char ' ', no flags) for rows whose
/// cells are tab-terminated except the last: each column is as wide as its widest cell plus the
/// padding; the last cell is not aligned.
pub fn tabwriter(rows: &[[String; 3]], padding: usize) -> String {
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0) + padding;
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!("{:<w0$}{:<w1$}{}\n", r[0], r[1], r[2]));
    }
    out
}
