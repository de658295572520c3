//! Envoy authorization at sidecars and waypoints (SEMANTICS.md §4.2–§4.3, §2.5 rule 18):
//! CUSTOM → DENY → ALLOW, AUDIT ignored, dry-run as shadow rules, every source / operation /
//! condition field, string matching, identities from service accounts (plaintext has none), and
//! rule 20 — HTTP-only fields on a TCP connection: in ALLOW the rule never matches, in
//! DENY/CUSTOM the HTTP fields are dropped (treated as matched). Also the sidecar's
//! PeerAuthentication STRICT check (§4.4 rule 24).
//!
//! Which policies apply: a sidecar takes namespace and `selector` policies (its namespace and
//! the root namespace), never `targetRefs`; a waypoint takes only `targetRefs` policies naming
//! it (`Gateway`), the Service addressed (`Service`), or `GatewayClass istio-waypoint` in the
//! root namespace (§4.1 rule 3).

use crate::model::{Cluster, Workload};
use crate::verdict::{
    AuthzIgnored, AuthzOrigin, AuthzPolicyRef, AuthzRuleRef, Decision, Layer, LayerVerdict,
    ProfileFlag, Reason,
};

use super::mesh::match_labels;
use super::model::{
    Action, AuthorizationPolicy, Condition, Operation, Rule, Source, StringMatch, Target,
};
use super::ztunnel::to_ips;
use super::{ap_ref, peerauth, Connection, Denial, Judgement, MeshOptions};

/// Which Envoy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Sidecar,
    Waypoint,
}

/// One Envoy RBAC debug line's data (§6.1); rendered by `logs::envoy_rbac_line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RbacLog {
    /// Dry-run (shadow rules).
    pub shadow: bool,
    pub allowed: bool,
    /// `(namespace, name, rule)`; `None` = `matched policy none`.
    pub matched: Option<(String, String, usize)>,
}

/// Indices of the `AuthorizationPolicy`s a sidecar of `workload` enforces, and the in-scope
/// ones it ignores.
pub fn sidecar_policies(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
) -> Vec<usize> {
    cluster
        .authorization_policies
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let ns_ok = p.namespace == workload.namespace || p.namespace == options.root_namespace;
            ns_ok
                && match &p.target {
                    Target::Namespace => true,
                    Target::Selector(labels) => match_labels(labels, &workload.labels),
                    Target::TargetRefs(_) => false,
                }
        })
        .map(|(i, _)| i)
        .collect()
}

/// Indices of the policies the waypoint `Cluster::waypoints[waypoint]` enforces for traffic to
/// `service` (`None` = pod-addressed).
pub fn waypoint_policies(
    cluster: &Cluster,
    options: &MeshOptions,
    waypoint: usize,
    service: Option<usize>,
) -> Vec<usize> {
    let Some(wp) = cluster.waypoints.get(waypoint) else {
        return Vec::new();
    };
    let svc = service.and_then(|i| cluster.services.get(i));
    cluster
        .authorization_policies
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let Target::TargetRefs(refs) = &p.target else {
                return false;
            };
            refs.iter()
                .any(|r| match (r.group.as_str(), r.kind.as_str()) {
                    ("gateway.networking.k8s.io", "Gateway") => {
                        r.name == wp.name && p.namespace == wp.namespace
                    }
                    ("gateway.networking.k8s.io", "GatewayClass") => {
                        r.name == "istio-waypoint" && p.namespace == options.root_namespace
                    }
                    ("" | "core", "Service") => {
                        svc.is_some_and(|s| s.name == r.name && s.namespace == p.namespace)
                    }
                    _ => false,
                })
        })
        .map(|(i, _)| i)
        .collect()
}

/// How HTTP-only fields are judged when the connection carries no request (`conn.http` is
/// `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NoRequest {
    /// Raw TCP (§4.3 rule 20): ALLOW rules with HTTP fields never match; DENY/CUSTOM drop them
    /// (treated as matched). Also the most restrictive outcome over all requests.
    #[default]
    Tcp,
    /// The most permissive request: an ALLOW rule's HTTP fields count as matched, a DENY/CUSTOM
    /// rule with HTTP fields never matches. With [`NoRequest::Tcp`] it bounds every request: when
    /// both agree, the verdict does not depend on the request.
    Permissive,
}

/// The sidecar of `workload` judging an inbound connection: PeerAuthentication first, then
/// authorization.
pub fn judge_sidecar(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
    conn: &Connection,
) -> Judgement {
    judge_sidecar_with(cluster, options, workload, conn, NoRequest::Tcp)
}

/// [`judge_sidecar`] with a choice of how a missing request is judged.
pub fn judge_sidecar_with(
    cluster: &Cluster,
    options: &MeshOptions,
    workload: &Workload,
    conn: &Connection,
    view: NoRequest,
) -> Judgement {
    let mode = peerauth::effective(cluster, options, workload, conn.dst_port);
    // "Sidecar: STRICT ⇒ plaintext connections rejected by Envoy."
    if mode.mode == super::model::MtlsMode::Strict && conn.src_identity.is_none() {
        let policy = mode.decided_by.and_then(|i| peerauth::pa_ref(cluster, i));
        return Judgement {
            verdict: LayerVerdict::new(
                Layer::Sidecar,
                Decision::Deny,
                vec![Reason::MtlsRequired { policy }],
            ),
            denial: Some(Denial::Reset),
            ztunnel: None,
            rbac_log: Vec::new(),
        };
    }
    let policies = sidecar_policies(cluster, options, workload);
    let mut j = evaluate_with(cluster, &policies, conn, Layer::Sidecar, view);
    j.verdict.assume(ProfileFlag::SidecarMtlsOnTargetPort, true);
    j
}

/// The waypoint `Cluster::waypoints[waypoint]` judging a request addressed to `service` (or to
/// a pod when `None`). Selector policies of the destination are noted as not enforced here.
pub fn judge_waypoint(
    cluster: &Cluster,
    options: &MeshOptions,
    waypoint: usize,
    service: Option<usize>,
    conn: &Connection,
) -> Judgement {
    judge_waypoint_with(cluster, options, waypoint, service, conn, NoRequest::Tcp)
}

/// [`judge_waypoint`] with a choice of how a missing request is judged.
pub fn judge_waypoint_with(
    cluster: &Cluster,
    options: &MeshOptions,
    waypoint: usize,
    service: Option<usize>,
    conn: &Connection,
    view: NoRequest,
) -> Judgement {
    let policies = waypoint_policies(cluster, options, waypoint, service);
    let mut j = evaluate_with(cluster, &policies, conn, Layer::Waypoint, view);
    if let Some(svc) = service.and_then(|i| cluster.services.get(i)) {
        for (i, p) in cluster.authorization_policies.iter().enumerate() {
            if p.namespace == svc.namespace && matches!(p.target, Target::Selector(_)) {
                if let Some(r) = ap_ref(cluster, i) {
                    j.verdict.reasons.push(Reason::AuthzNotEnforcedHere {
                        policy: AuthzPolicyRef {
                            namespace: p.namespace.clone(),
                            name: p.name.clone(),
                            origin: AuthzOrigin::AuthorizationPolicy(r),
                        },
                        why: AuthzIgnored::SelectorAtWaypoint,
                    });
                }
            }
        }
        j.verdict
            .assume(ProfileFlag::WaypointPortIsServicePort, true);
    }
    j.verdict.assume(ProfileFlag::WaypointSeesClientIp, true);
    j
}

/// §4.2: CUSTOM first, then DENY, then ALLOW (AUDIT never decides; dry-run only logs).
pub fn evaluate(
    cluster: &Cluster,
    policies: &[usize],
    conn: &Connection,
    layer: Layer,
) -> Judgement {
    evaluate_with(cluster, policies, conn, layer, NoRequest::Tcp)
}

/// [`evaluate`] with a choice of how a missing request is judged.
pub fn evaluate_with(
    cluster: &Cluster,
    policies: &[usize],
    conn: &Connection,
    layer: Layer,
    view: NoRequest,
) -> Judgement {
    let http = conn.http.is_some();
    let mut logs = Vec::new();
    let mut notes = Vec::new();
    let by_action = |action: Action, dry: bool| -> Vec<(usize, &AuthorizationPolicy)> {
        policies
            .iter()
            .filter_map(|&i| cluster.authorization_policies.get(i).map(|p| (i, p)))
            .filter(|(_, p)| p.action == action && p.dry_run == dry)
            .collect()
    };
    let reference = |i: usize, p: &AuthorizationPolicy, rule: usize| AuthzRuleRef {
        policy: policy_ref(cluster, i, p),
        rule,
        span: super::rule_span(p, rule),
    };

    // Shadow rules (`istio.io/dry-run`): logged, never decide.
    for action in [Action::Deny, Action::Allow] {
        for (i, p) in by_action(action, true) {
            if let Outcome::Matched(rule) = policy_outcome_with(p, conn, action, view) {
                let deny = action == Action::Deny;
                notes.push(Reason::AuthzShadow {
                    rule: reference(i, p, rule),
                    deny,
                });
                logs.push(RbacLog {
                    shadow: true,
                    allowed: !deny,
                    matched: Some((p.namespace.clone(), p.name.clone(), rule)),
                });
            }
        }
    }
    for (i, p) in by_action(Action::Audit, false) {
        notes.push(Reason::AuthzNotEnforcedHere {
            policy: policy_ref(cluster, i, p),
            why: AuthzIgnored::Audit,
        });
    }

    // "CUSTOM first: if a CUSTOM policy's rules match, the external authorizer decides."
    let mut custom: Option<Reason> = None;
    for (i, p) in by_action(Action::Custom, false) {
        match policy_outcome_with(p, conn, Action::Custom, view) {
            Outcome::Matched(rule) => {
                custom.get_or_insert(Reason::AuthzCustom(reference(i, p, rule)));
            }
            Outcome::Unknown(rule, key) => {
                custom.get_or_insert(Reason::AuthzUndecidable {
                    rule: reference(i, p, rule),
                    key,
                });
            }
            Outcome::NoMatch => {}
        }
    }

    let finish = |decision: Decision, mut reasons: Vec<Reason>, notes: Vec<Reason>| {
        reasons.extend(notes);
        let denial = (decision == Decision::Deny).then_some(if http {
            Denial::Http403
        } else {
            Denial::Reset
        });
        (LayerVerdict::new(layer, decision, reasons), denial)
    };

    // "Any matching DENY ⇒ deny."
    let mut deny_unknown: Option<Reason> = None;
    for (i, p) in by_action(Action::Deny, false) {
        match policy_outcome_with(p, conn, Action::Deny, view) {
            Outcome::Matched(rule) => {
                logs.push(RbacLog {
                    shadow: false,
                    allowed: false,
                    matched: Some((p.namespace.clone(), p.name.clone(), rule)),
                });
                let (verdict, denial) = finish(
                    Decision::Deny,
                    vec![Reason::AuthzDenied(reference(i, p, rule))],
                    notes,
                );
                return Judgement {
                    verdict,
                    denial,
                    ztunnel: None,
                    rbac_log: logs,
                };
            }
            Outcome::Unknown(rule, key) => {
                deny_unknown.get_or_insert(Reason::AuthzUndecidable {
                    rule: reference(i, p, rule),
                    key,
                });
            }
            Outcome::NoMatch => {}
        }
    }
    let pending: Vec<Reason> = custom.into_iter().chain(deny_unknown).collect();
    let allow = by_action(Action::Allow, false);
    let (decision, reasons) = if allow.is_empty() {
        // "No ALLOW policy applies to the workload ⇒ allow."
        (Decision::Allow, vec![Reason::AuthzNoAllowPolicies])
    } else {
        let mut matched = None;
        let mut unknown = None;
        for (i, p) in &allow {
            match policy_outcome_with(p, conn, Action::Allow, view) {
                Outcome::Matched(rule) => {
                    matched = Some((*i, *p, rule));
                    break;
                }
                Outcome::Unknown(rule, key) => {
                    unknown.get_or_insert(Reason::AuthzUndecidable {
                        rule: reference(*i, p, rule),
                        key,
                    });
                }
                Outcome::NoMatch => {}
            }
        }
        match (matched, unknown) {
            // "Any ALLOW matches ⇒ allow."
            (Some((i, p, rule)), _) => {
                logs.push(RbacLog {
                    shadow: false,
                    allowed: true,
                    matched: Some((p.namespace.clone(), p.name.clone(), rule)),
                });
                (
                    Decision::Allow,
                    vec![Reason::AuthzAllowed(reference(i, p, rule))],
                )
            }
            (None, Some(u)) => (Decision::Unknown, vec![u]),
            // "Otherwise deny."
            (None, None) => {
                logs.push(RbacLog {
                    shadow: false,
                    allowed: false,
                    matched: None,
                });
                let checked = allow
                    .iter()
                    .map(|(i, p)| policy_ref(cluster, *i, p))
                    .collect();
                (
                    Decision::Deny,
                    vec![Reason::AuthzNoAllowMatched { checked }],
                )
            }
        }
    };
    // A CUSTOM match or an undecidable DENY leaves an allow open.
    let (decision, reasons) = if decision != Decision::Deny && !pending.is_empty() {
        (
            Decision::Unknown,
            pending.into_iter().chain(reasons).collect(),
        )
    } else {
        (decision, reasons)
    };
    let (verdict, denial) = finish(decision, reasons, notes);
    Judgement {
        verdict,
        denial,
        ztunnel: None,
        rbac_log: logs,
    }
}

fn policy_ref(cluster: &Cluster, index: usize, p: &AuthorizationPolicy) -> AuthzPolicyRef {
    AuthzPolicyRef {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        origin: AuthzOrigin::AuthorizationPolicy(ap_ref(cluster, index).unwrap_or(
            crate::verdict::PolicyRef {
                index,
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                span: p.span,
            },
        )),
    }
}

/// Result of one policy against one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The first matching rule (0-based).
    Matched(usize),
    NoMatch,
    /// The first rule whose outcome depends on an unmodelled `when` key.
    Unknown(usize, String),
}

/// "rules OR'ed. Missing/empty rules ⇒ never matches" (§4.3 rule 11).
pub fn policy_outcome(policy: &AuthorizationPolicy, conn: &Connection, action: Action) -> Outcome {
    policy_outcome_with(policy, conn, action, NoRequest::Tcp)
}

/// [`policy_outcome`] with a choice of how a missing request is judged.
pub fn policy_outcome_with(
    policy: &AuthorizationPolicy,
    conn: &Connection,
    action: Action,
    view: NoRequest,
) -> Outcome {
    let mut unknown = None;
    for (i, rule) in policy.rules.iter().enumerate() {
        match rule_matches_with(rule, conn, action, &policy.namespace, view) {
            Ok(true) => return Outcome::Matched(i),
            Ok(false) => {}
            Err(key) => {
                unknown.get_or_insert((i, key));
            }
        }
    }
    match unknown {
        Some((i, key)) => Outcome::Unknown(i, key),
        None => Outcome::NoMatch,
    }
}

/// One rule: `from` (any) AND `to` (any) AND every `when`; `Err(key)` when undecidable.
/// §4.3 rule 20: on a TCP connection an ALLOW rule using HTTP-only fields never matches; in
/// DENY / CUSTOM / AUDIT those fields are dropped.
pub fn rule_matches(
    rule: &Rule,
    conn: &Connection,
    action: Action,
    policy_namespace: &str,
) -> Result<bool, String> {
    rule_matches_with(rule, conn, action, policy_namespace, NoRequest::Tcp)
}

/// [`rule_matches`] with a choice of how a missing request is judged: [`NoRequest::Permissive`]
/// keeps an ALLOW rule's L4 part (its HTTP fields dropped = matched) and never matches a
/// DENY/CUSTOM/AUDIT rule that has HTTP fields.
pub fn rule_matches_with(
    rule: &Rule,
    conn: &Connection,
    action: Action,
    policy_namespace: &str,
    view: NoRequest,
) -> Result<bool, String> {
    let tcp = conn.http.is_none();
    if tcp && rule_has_http(rule) {
        match (view, action == Action::Allow) {
            (NoRequest::Tcp, true) | (NoRequest::Permissive, false) => return Ok(false),
            _ => {}
        }
    }
    let from = rule.from.is_empty()
        || rule
            .from
            .iter()
            .any(|s| source_matches(s, conn, policy_namespace));
    let to = rule.to.is_empty() || rule.to.iter().any(|o| operation_matches(o, conn));
    if !from || !to {
        return Ok(false);
    }
    let mut unknown = None;
    for c in &rule.when {
        match condition_matches(c, conn) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(key) => {
                unknown.get_or_insert(key);
            }
        }
    }
    match unknown {
        Some(key) => Err(key),
        None => Ok(true),
    }
}

/// Does the rule use any field Envoy can only evaluate on HTTP?
pub fn rule_has_http(rule: &Rule) -> bool {
    rule.from.iter().any(|s| !s.http_fields().is_empty())
        || rule.to.iter().any(|o| !o.http_fields().is_empty())
        || rule.when.iter().any(|c| is_http_key(&c.key))
}

fn is_http_key(key: &str) -> bool {
    key.starts_with("request.headers[") || key.starts_with("request.auth.") || key == "remote.ip"
}

/// Positive list empty ⇒ ok, else any matches; negative empty ⇒ ok, else none matches.
/// `None` input (HTTP field on TCP, only reached for DENY/CUSTOM) ⇒ the field is dropped.
fn pair<T>(positive: &[T], negative: &[T], predicate: impl Fn(&T) -> bool) -> bool {
    (positive.is_empty() || positive.iter().any(&predicate))
        && (negative.is_empty() || !negative.iter().any(&predicate))
}

fn strings(values: &[String]) -> Vec<StringMatch> {
    values.iter().map(|v| StringMatch::parse(v)).collect()
}

/// §4.3 rules 14, 15, 19. Identity fields need mTLS; plaintext makes positive matches fail and
/// negative ones succeed.
fn source_matches(source: &Source, conn: &Connection, policy_namespace: &str) -> bool {
    let id = conn.src_identity.as_ref();
    let src_ip = std::net::IpAddr::V4(conn.src_ip);
    let http = conn.http.is_some();
    let principal = |m: &StringMatch| id.is_some_and(|id| m.matches(&id.principal()));
    let namespace = |m: &StringMatch| id.is_some_and(|id| m.matches(&id.namespace));
    let trust_domain = |m: &StringMatch| id.is_some_and(|id| m.matches(&id.trust_domain));
    // serviceAccounts compare (namespace, name); the trust domain is not part of it (INFERRED for
    // Envoy, as ztunnel does, §5.2 d).
    let service_account = |v: &String| {
        let (ns, sa) = v.split_once('/').unwrap_or((policy_namespace, v.as_str()));
        id.is_some_and(|id| id.namespace == ns && id.service_account == sa)
    };
    let ip = |n: &ipnet::IpNet| n.contains(&src_ip);
    pair(
        &strings(&source.principals),
        &strings(&source.not_principals),
        principal,
    ) && pair(
        &strings(&source.namespaces),
        &strings(&source.not_namespaces),
        namespace,
    ) && pair(
        &source.service_accounts,
        &source.not_service_accounts,
        service_account,
    ) && pair(
        &to_ips(&source.ip_blocks),
        &to_ips(&source.not_ip_blocks),
        ip,
    ) && pair(
        &strings(&source.trust_domains),
        &strings(&source.not_trust_domains),
        trust_domain,
    ) && (!http
        // remote.ip = X-Forwarded-For / proxy protocol; without them, the peer address (§10.4 (b)).
        || pair(
            &to_ips(&source.remote_ip_blocks),
            &to_ips(&source.not_remote_ip_blocks),
            ip,
        ))
        // No JWT is modelled: the request principal is empty.
        && (!http
            || pair(
                &strings(&source.request_principals),
                &strings(&source.not_request_principals),
                |_| false,
            ))
}

/// §4.3 rule 16.
fn operation_matches(op: &Operation, conn: &Connection) -> bool {
    let ports = |v: &String| v.parse::<u16>().ok() == Some(conn.dst_port);
    if !pair(&op.ports, &op.not_ports, ports) {
        return false;
    }
    let Some(req) = &conn.http else {
        return true; // HTTP fields on TCP: dropped (ALLOW never gets here with them).
    };
    let host = |m: &StringMatch| {
        req.host.as_deref().is_some_and(|h| {
            m.matches_ignore_case(h)
                || h.rsplit_once(':')
                    .is_some_and(|(name, _)| m.matches_ignore_case(name))
        })
    };
    let method = |m: &StringMatch| m.matches(&req.method);
    let path = |v: &String| path_matches(v, &req.path);
    pair(&strings(&op.hosts), &strings(&op.not_hosts), host)
        && pair(&strings(&op.methods), &strings(&op.not_methods), method)
        && pair(&op.paths, &op.not_paths, path)
}

/// Path matching: the string forms of rule 18 plus `{*}` (one segment) and `{**}` (any number of
/// segments) templates. The query string is not part of the path.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or("");
    if pattern.contains("{*}") || pattern.contains("{**}") {
        let pat: Vec<&str> = pattern.split('/').collect();
        let segs: Vec<&str> = path.split('/').collect();
        return template(&pat, &segs);
    }
    StringMatch::parse(pattern).matches(path)
}

fn template(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"{**}", rest)) => (0..=segs.len()).any(|k| template(rest, &segs[k..])),
        Some((&"{*}", rest)) => segs
            .split_first()
            .is_some_and(|(s, tail)| !s.is_empty() && template(rest, tail)),
        Some((p, rest)) => segs
            .split_first()
            .is_some_and(|(s, tail)| s == p && template(rest, tail)),
    }
}

/// §4.3 rule 17. `Ok` when decided; `Err(key)` for keys the engine cannot evaluate
/// (`connection.sni`, `experimental.envoy.filters.*`). Unsupported keys are silently ignored.
fn condition_matches(c: &Condition, conn: &Connection) -> Result<bool, String> {
    let id = conn.src_identity.as_ref();
    let http = conn.http.as_ref();
    let strs =
        |f: &dyn Fn(&StringMatch) -> bool| pair(&strings(&c.values), &strings(&c.not_values), f);
    let ips = |ip: std::net::Ipv4Addr| {
        let ip = std::net::IpAddr::V4(ip);
        pair(&to_ips(&c.values), &to_ips(&c.not_values), |n| {
            n.contains(&ip)
        })
    };
    let key = c.key.as_str();
    Ok(match key {
        "source.ip" => ips(conn.src_ip),
        "destination.ip" => ips(conn.dst_ip),
        "destination.port" => pair(&c.values, &c.not_values, |v| {
            v.parse::<u16>().ok() == Some(conn.dst_port)
        }),
        "source.namespace" => strs(&|m| id.is_some_and(|id| m.matches(&id.namespace))),
        "source.principal" => strs(&|m| id.is_some_and(|id| m.matches(&id.principal()))),
        // HTTP-only keys on TCP: dropped (ALLOW rules with them never get here).
        "remote.ip" => http.is_none() || ips(conn.src_ip),
        k if k.starts_with("request.auth.") => http.is_none() || strs(&|_| false),
        k if k.starts_with("request.headers[") => match http {
            None => true,
            Some(req) => {
                let name = k
                    .trim_start_matches("request.headers[")
                    .trim_end_matches(']');
                let value = req
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str());
                strs(&|m| value.is_some_and(|v| m.matches(v)))
            }
        },
        "connection.sni" => return Err(key.to_string()),
        k if k.starts_with("experimental.") => return Err(key.to_string()),
        // "Unsupported keys are silently ignored."
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates() {
        let rows = [
            ("/public/*", "/public/x", true),
            ("/public/*", "/private/x", false),
            ("/api/{*}/items", "/api/v1/items", true),
            ("/api/{*}/items", "/api/v1/v2/items", false),
            ("/api/{**}/items", "/api/v1/v2/items", true),
            ("/api/{**}", "/api/a/b", true),
            ("/admin", "/admin?x=1", true),
            ("*", "/", true),
        ];
        for (p, path, want) in rows {
            assert_eq!(path_matches(p, path), want, "{p} {path}");
        }
    }
}
