//! AuthorizationPolicy lints about where a policy is enforced: HTTP fields at ztunnel (PP4005
//! ALLOW, PP4006 DENY, quoting istiod's status), `targetRefs` with no waypoint in the path
//! (PP4007; a target that is not in the input is PP4010), and `selector` policies behind a
//! waypoint that name client identities (PP4008).
//!
//! Enforcement facts come from `istio::ztunnel::convert` (istiod's conversion and status) and
//! `istio::mesh` (enrolment, waypoints); nothing is re-derived here.

use std::collections::BTreeSet;

use crate::istio::mesh::{self, DataPlane};
use crate::istio::model::{
    AuthorizationPolicy, Rule, StringMatch, Target, TargetRef, L4_WHEN_KEYS,
};
use crate::istio::{ztunnel, Identity};
use crate::model::Workload;
use crate::source::Span;

use super::catalogue::{
    HttpAllowAtZtunnel, HttpDenyAtZtunnel, SelectorBehindWaypoint, SelectsNothing,
    TargetRefsWithoutWaypoint,
};
use super::edit::{scalar, Y};
use super::network::wname;
use super::{fix, list, qualified, Cx, Fix};

/// The rules on AuthorizationPolicy `index`; run for every index in order.
pub(super) fn check_item(cx: &mut Cx, index: usize) {
    let cluster = cx.cluster;
    if let Some(policy) = cluster.authorization_policies.get(index) {
        match &policy.target {
            Target::TargetRefs(refs) => target_refs(cx, policy, refs),
            Target::Selector(_) | Target::Namespace => {
                http_at_ztunnel(cx, index, policy);
                if matches!(policy.target, Target::Selector(_)) {
                    behind_waypoint(cx, policy);
                }
            }
        }
    }
}

/// The workloads a `selector` / namespace policy applies to (§4.1 rules 1–2), waypoint pods
/// excluded.
fn in_scope<'c>(cx: &Cx<'c>, policy: &AuthorizationPolicy) -> Vec<&'c Workload> {
    let root = policy.namespace == cx.mesh().root_namespace;
    let selected = |w: &&'c Workload| {
        !matches!(cx.dataplane(w), DataPlane::Waypoint(_))
            && match &policy.target {
                Target::Selector(labels) => mesh::match_labels(labels, &w.labels),
                Target::Namespace => true,
                Target::TargetRefs(_) => false,
            }
    };
    if root {
        cx.cluster.workloads.iter().filter(selected).collect()
    } else {
        cx.workloads_in(&policy.namespace)
            .filter(selected)
            .collect()
    }
}

fn rule_has_http(rule: &Rule) -> bool {
    rule.to.iter().any(|o| !o.http_fields().is_empty())
        || rule.from.iter().any(|s| !s.http_fields().is_empty())
        || rule
            .when
            .iter()
            .any(|c| !L4_WHEN_KEYS.contains(&c.key.as_str()))
}

fn pods_text(pods: &[&Workload]) -> String {
    list(pods.iter().map(|w| format!("`{}`", wname(w))))
}

/// PP4005 / PP4006.
fn http_at_ztunnel(cx: &mut Cx, index: usize, policy: &AuthorizationPolicy) {
    let scope = in_scope(cx, policy);
    let ambient: Vec<&Workload> = scope.iter().copied().filter(|w| cx.is_ambient(w)).collect();
    if ambient.is_empty() {
        return;
    }
    let conversion = ztunnel::convert(policy, index, cx.cluster, cx.mesh());
    let Some(status) = conversion.status else {
        return;
    };
    if !status.message.contains("HTTP attributes") {
        return;
    }
    let span = policy
        .rules
        .iter()
        .find(|r| rule_has_http(r))
        .map_or(policy.span, |r| r.span);
    let name = qualified(&policy.namespace, &policy.name);
    let pods = pods_text(&ambient);
    match policy.action {
        crate::istio::model::Action::Allow => {
            let fix = move_to_waypoint(cx, policy, &scope);
            let help = if fix.is_some() {
                "the pods are behind a Service with a waypoint: bind the policy to the Service with `targetRefs` so the waypoint enforces the HTTP rules"
            } else {
                "ztunnel only sees L4: deploy a waypoint for these pods' Service and bind the policy to it with `targetRefs`"
            };
            cx.push(
                HttpAllowAtZtunnel::INFO,
                span,
                format!(
                    "ALLOW AuthorizationPolicy {name} uses HTTP fields and is enforced by ztunnel for {pods} (no waypoint): its HTTP rules are dropped, so it allows less than written; istiod: \"{}\"",
                    status.message
                ),
                Some(help.to_string()),
                fix,
            );
        }
        crate::istio::model::Action::Deny => {
            let effect = if status.message.contains("will have no effect") {
                "it has no effect at all"
            } else {
                "its rules are enforced without their HTTP part, so it denies more than written"
            };
            cx.push(
                HttpDenyAtZtunnel::INFO,
                span,
                format!(
                    "DENY AuthorizationPolicy {name} uses HTTP fields and is enforced by ztunnel for {pods} (no waypoint): {effect}; istiod: \"{}\"",
                    status.message
                ),
                Some(
                    "bind the policy to a waypoint with `targetRefs`, or keep only L4 fields (ports, sources) in it"
                        .to_string(),
                ),
                None,
            );
        }
        _ => {}
    }
}

/// Replace `selector` (or add `targetRefs` to a namespace policy) with the Services, served by a
/// waypoint, that cover every workload in scope. `None` when some workload would lose the
/// policy.
fn move_to_waypoint(cx: &Cx, policy: &AuthorizationPolicy, scope: &[&Workload]) -> Option<Fix> {
    if scope.is_empty() || policy.namespace == cx.mesh().root_namespace {
        return None;
    }
    let mut services = BTreeSet::new();
    for w in scope {
        let covering: Vec<&str> = cx
            .cluster
            .services
            .iter()
            .filter(|s| {
                s.namespace == policy.namespace
                    && mesh::service_selects(s, w)
                    && mesh::service_waypoint(cx.cluster, s).is_some()
            })
            .map(|s| s.name.as_str())
            .collect();
        if covering.is_empty() {
            return None;
        }
        services.extend(covering);
    }
    let refs = Y::Seq(
        services
            .iter()
            .map(|name| {
                Y::map(vec![
                    ("kind", Y::plain("Service")),
                    ("group", Y::Quoted(String::new())),
                    ("name", scalar(name)),
                ])
            })
            .collect(),
    );
    let doc = cx.doc(policy.span)?;
    let spec = cx.node(policy.span)?.get("spec")?;
    let edit = match policy.target {
        Target::Selector(_) => doc.replace_entry(spec, "selector", "targetRefs", &refs)?,
        Target::Namespace => doc.insert_entry(spec, "targetRefs", &refs)?,
        Target::TargetRefs(_) => return None,
    };
    fix(
        format!(
            "attach the policy to Service {} (enforced by its waypoint) with `targetRefs`",
            list(services.iter().map(|s| format!("`{s}`")))
        ),
        vec![edit],
    )
}

/// PP4007 (and PP4010 for targets that are not in the input).
fn target_refs(cx: &mut Cx, policy: &AuthorizationPolicy, refs: &[TargetRef]) {
    let cluster = cx.cluster;
    let mut enforced = false;
    let mut unserved: Vec<(usize, Span)> = Vec::new();
    let mut missing: Vec<&TargetRef> = Vec::new();
    for r in refs {
        match r.kind.as_str() {
            "Service" if r.group.is_empty() || r.group == "core" => {
                match cluster
                    .services
                    .iter()
                    .position(|s| s.namespace == policy.namespace && s.name == r.name)
                {
                    Some(si) => {
                        let served = cluster
                            .services
                            .get(si)
                            .and_then(|s| mesh::service_waypoint(cluster, s))
                            .is_some();
                        if served {
                            enforced = true;
                        } else {
                            unserved.push((si, r.span));
                        }
                    }
                    None => missing.push(r),
                }
            }
            "Gateway" => {
                let known = mesh::find_waypoint(cluster, &policy.namespace, &r.name).is_some()
                    || cluster
                        .ignored
                        .iter()
                        .any(|o| o.kind == "Gateway" && o.name == r.name);
                if known {
                    enforced = true;
                } else {
                    missing.push(r);
                }
            }
            // GatewayClass, ServiceEntry, ...: not judged here.
            _ => enforced = true,
        }
    }
    let severity = if cx.has_workloads() {
        SelectsNothing::INFO.severity
    } else {
        crate::diagnostics::Severity::Info
    };
    for r in &missing {
        cx.push_with(
            SelectsNothing::INFO,
            severity,
            r.span,
            format!(
                "`targetRefs` of AuthorizationPolicy {} names {} `{}`, which is not in the input",
                qualified(&policy.namespace, &policy.name),
                r.kind,
                r.name
            ),
            Some(
                "check the name and the policy's namespace (targets must be in the same namespace)"
                    .to_string(),
            ),
            None,
        );
    }
    if enforced {
        return;
    }
    let Some(&(si, span)) = unserved.first() else {
        return;
    };
    let Some(service) = cluster.services.get(si) else {
        return;
    };
    let candidates: Vec<_> = cluster
        .waypoints
        .iter()
        .filter(|w| w.namespace == policy.namespace && w.waypoint_for.handles_service())
        .collect();
    let fix = match candidates.as_slice() {
        [wp] => label_service(cx, service.span, &wp.name),
        _ => None,
    };
    let help = match candidates.as_slice() {
        [wp] => format!(
            "label the Service `istio.io/use-waypoint: {}` so traffic to it goes through the waypoint",
            wp.name
        ),
        [] => format!(
            "deploy a waypoint in `{}` (`istioctl waypoint apply -n {}`) and label the Service `istio.io/use-waypoint: <waypoint>`",
            policy.namespace, policy.namespace
        ),
        _ => "label the Service `istio.io/use-waypoint: <waypoint>` with one of the namespace's waypoints".to_string(),
    };
    cx.push(
        TargetRefsWithoutWaypoint::INFO,
        span,
        format!(
            "AuthorizationPolicy {} targets Service {}, which no waypoint serves: ztunnel ignores `targetRefs` policies, so nothing enforces it",
            qualified(&policy.namespace, &policy.name),
            qualified(&service.namespace, &service.name)
        ),
        Some(help),
        fix,
    );
}

/// Add `istio.io/use-waypoint: <waypoint>` to a Service's labels.
fn label_service(cx: &Cx, service: Span, waypoint: &str) -> Option<Fix> {
    let doc = cx.doc(service)?;
    let metadata = cx.node(service)?.get("metadata")?;
    let edit = match metadata.get("labels") {
        Some(labels) => doc.insert_entry(labels, mesh::USE_WAYPOINT_LABEL, &scalar(waypoint))?,
        None => doc.insert_entry(
            metadata,
            "labels",
            &Y::map(vec![(mesh::USE_WAYPOINT_LABEL, scalar(waypoint))]),
        )?,
    };
    fix(
        format!(
            "label the Service `{}: {waypoint}`",
            mesh::USE_WAYPOINT_LABEL
        ),
        vec![edit],
    )
}

/// PP4008: identity rules in a selector policy on pods reached through a waypoint.
fn behind_waypoint(cx: &mut Cx, policy: &AuthorizationPolicy) {
    let cluster = cx.cluster;
    let scope = in_scope(cx, policy);
    let mut waypoint_ids: Vec<(Identity, String)> = Vec::new();
    let mut pods = Vec::new();
    for w in scope.iter().filter(|w| cx.is_ambient(w)) {
        let fronts = mesh::waypoints_in_front_of(cluster, w);
        if fronts.is_empty() {
            continue;
        }
        pods.push(*w);
        for i in fronts {
            let Some(wp) = cluster.waypoints.get(i) else {
                continue;
            };
            let Some(pod) = wp
                .workload
                .and_then(|id| cluster.workloads.iter().find(|x| x.id == id))
            else {
                continue;
            };
            let id = Identity::of(pod, cx.mesh());
            if !waypoint_ids.iter().any(|(x, _)| *x == id) {
                waypoint_ids.push((id, format!("{}/{}", wp.namespace, wp.name)));
            }
        }
    }
    if waypoint_ids.is_empty() {
        return;
    }
    let matches_waypoint = |field: &str, value: &str| {
        waypoint_ids.iter().any(|(id, _)| match field {
            "principals" | "source.principal" => StringMatch::parse(value).matches(&id.principal()),
            "namespaces" | "source.namespace" => StringMatch::parse(value).matches(&id.namespace),
            _ => {
                let (ns, sa) = value
                    .split_once('/')
                    .unwrap_or((policy.namespace.as_str(), value));
                ns == id.namespace && sa == id.service_account
            }
        })
    };
    let mut first: Option<(Span, String, String)> = None;
    for rule in &policy.rules {
        for src in &rule.from {
            for (field, values) in [
                ("principals", &src.principals),
                ("namespaces", &src.namespaces),
                ("serviceAccounts", &src.service_accounts),
            ] {
                if let Some(v) = values.iter().find(|v| !matches_waypoint(field, v)) {
                    first.get_or_insert((src.span, field.to_string(), v.clone()));
                }
            }
        }
        for c in &rule.when {
            if matches!(c.key.as_str(), "source.principal" | "source.namespace") {
                if let Some(v) = c.values.iter().find(|v| !matches_waypoint(&c.key, v)) {
                    first.get_or_insert((c.span, c.key.clone(), v.clone()));
                }
            }
        }
    }
    let Some((span, field, value)) = first else {
        return;
    };
    let (wp_id, wp_name) = &waypoint_ids[0];
    let fix = move_to_waypoint(cx, policy, &scope);
    cx.push(
        SelectorBehindWaypoint::INFO,
        span,
        format!(
            "AuthorizationPolicy {} is enforced by ztunnel on {}, which is reached through waypoint `{wp_name}`: traffic through the waypoint carries the waypoint's identity `{wp_id}`, so `{field}: {value}` does not match it",
            qualified(&policy.namespace, &policy.name),
            pods_text(&pods)
        ),
        Some(
            "bind client-identity rules to the waypoint with `targetRefs` (the waypoint sees the client); at ztunnel, allow the waypoint's identity"
                .to_string(),
        ),
        fix,
    );
}
