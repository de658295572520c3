//! Lints about names and selectors that point at nothing in the input: a policy, peer or
//! selector that selects nothing (PP4010), and a namespace or service account named in a rule
//! that does not exist (PP4011, with a "did you mean" fix for near misses).
//!
//! The input may be partial (a policy-only file): PP4010 drops to info when there are no
//! workloads at all, PP4011 then skips service accounts and drops to info, and well-known
//! namespaces are always assumed to exist.

use std::collections::BTreeSet;

use crate::diagnostics::Severity;
use crate::istio::mesh::{self, DataPlane};
use crate::istio::model::{AuthorizationPolicy, Target};
use crate::model::Workload;
use crate::netpol::{NetworkPolicy, PeerKind};
use crate::selector::{Expression, LabelSelector};
use crate::source::Span;

use super::catalogue::{SelectsNothing, UnknownNamespaceOrServiceAccount};
use super::edit::find_scalar;
use super::{fix, qualified, Cx};

/// The rules on item `index` (every NetworkPolicy, then every AuthorizationPolicy); run for
/// every index in order.
pub(super) fn check_item(cx: &mut Cx, index: usize) {
    let cluster = cx.cluster;
    let nps = cluster.network_policies.len();
    if let Some(policy) = cluster.network_policies.get(index) {
        network_policy(cx, policy);
    } else if let Some(policy) = cluster
        .authorization_policies
        .get(index.saturating_sub(nps))
    {
        if let Target::Selector(labels) = &policy.target {
            selector_policy(cx, policy, labels);
        }
        identities(cx, policy);
    }
}

fn nothing_severity(cx: &Cx) -> Severity {
    if cx.has_workloads() {
        SelectsNothing::INFO.severity
    } else {
        Severity::Info
    }
}

/// Does a pod peer (`namespaceSelector` and / or `podSelector`) select some workload
/// (SEMANTICS.md §1.3 rules 13–15, as `lints::peer_selects`), namespace by namespace? A
/// hostNetwork pod treated as its node is never selected (§1.3 rule 18).
fn pod_peer_selects_any(
    cx: &Cx,
    policy: &NetworkPolicy,
    namespace_selector: Option<&LabelSelector>,
    pod_selector: Option<&LabelSelector>,
) -> bool {
    let host_is_node = cx.np.host_network_is_node;
    let pods_match = |ns: &str| {
        cx.workloads_in(ns).any(|w| {
            !(w.host_network && host_is_node) && pod_selector.is_none_or(|s| s.matches(&w.labels))
        })
    };
    match namespace_selector {
        // Rule 13: the policy's namespace.
        None => pods_match(&policy.namespace),
        Some(sel) => cx
            .workload_namespaces()
            .any(|ns| sel.matches(&cx.namespace_labels(ns)) && pods_match(ns)),
    }
}

fn network_policy(cx: &mut Cx, policy: &NetworkPolicy) {
    let host_is_node = cx.np.host_network_is_node;
    let severity = nothing_severity(cx);
    // §1.1 rule 1: the policy selects pods of its own namespace only.
    if !cx
        .workloads_in(&policy.namespace)
        .any(|w| !(w.host_network && host_is_node) && policy.pod_selector.matches(&w.labels))
    {
        cx.push_with(
            SelectsNothing::INFO,
            severity,
            policy.pod_selector.span,
            format!(
                "NetworkPolicy {} selects no pod: no workload in `{}` matches `{}`",
                qualified(&policy.namespace, &policy.name),
                policy.namespace,
                policy.pod_selector
            ),
            Some(
                "check the labels against the pod template's labels, and the policy's namespace"
                    .to_string(),
            ),
            None,
        );
    }
    let known = cx.known_namespaces();
    for (direction, rules) in [("ingress", &policy.ingress), ("egress", &policy.egress)] {
        for (ri, rule) in rules.iter().enumerate() {
            // A stray dash (PP4012) explains an empty peer better.
            let stray = super::network::stray_dash_pair(rule).is_some();
            for peer in &rule.peers {
                let PeerKind::Pods {
                    namespace_selector,
                    pod_selector,
                } = &peer.kind
                else {
                    continue;
                };
                // PP4011: `kubernetes.io/metadata.name` naming an unknown namespace.
                let mut unknown_named = false;
                if let Some(sel) = namespace_selector {
                    for name in metadata_names(sel) {
                        if !known.contains(name) {
                            unknown_named = true;
                            unknown_name(
                                cx,
                                peer.span,
                                "namespace",
                                name,
                                known,
                                format!(
                                    "{direction} rule {ri} of NetworkPolicy {} selects namespace `{name}` by `kubernetes.io/metadata.name`, which is not in the input",
                                    qualified(&policy.namespace, &policy.name)
                                ),
                            );
                        }
                    }
                }
                if unknown_named {
                    continue;
                }
                let any_pod = pod_peer_selects_any(
                    cx,
                    policy,
                    namespace_selector.as_ref(),
                    pod_selector.as_ref(),
                );
                let nothing = match (namespace_selector, pod_selector) {
                    // A namespace-only peer: only when no namespace matches (the pods of a
                    // matching namespace may simply not be in the input).
                    (Some(sel), None) => {
                        !any_pod && !known.iter().any(|ns| sel.matches(&cx.namespace_labels(ns)))
                    }
                    _ => !any_pod,
                };
                if nothing && !stray {
                    cx.push_with(
                        SelectsNothing::INFO,
                        severity,
                        peer.span,
                        format!(
                            "a peer of {direction} rule {ri} in NetworkPolicy {} selects nothing in the input{}",
                            qualified(&policy.namespace, &policy.name),
                            describe_peer(namespace_selector.as_ref(), pod_selector.as_ref(), &policy.namespace)
                        ),
                        Some("without a `namespaceSelector`, a `podSelector` only selects pods in the policy's own namespace".to_string()),
                        None,
                    );
                }
            }
        }
    }
}

fn describe_peer(ns: Option<&LabelSelector>, pods: Option<&LabelSelector>, own: &str) -> String {
    match (ns, pods) {
        (Some(n), Some(p)) => format!(": no pod matches `{p}` in namespaces matching `{n}`"),
        (Some(n), None) => format!(": no namespace matches `{n}`"),
        (None, Some(p)) => format!(": no pod in `{own}` matches `{p}`"),
        (None, None) => String::new(),
    }
}

/// Values of `kubernetes.io/metadata.name` that a selector requires (`In`).
fn metadata_names(sel: &LabelSelector) -> Vec<&str> {
    sel.expressions
        .iter()
        .filter_map(|e| match e {
            Expression::In(k, values) if k == "kubernetes.io/metadata.name" => Some(values),
            _ => None,
        })
        .flatten()
        .map(String::as_str)
        .collect()
}

fn selector_policy(cx: &mut Cx, policy: &AuthorizationPolicy, labels: &crate::selector::Labels) {
    let root = policy.namespace == cx.mesh().root_namespace;
    let selected = |w: &Workload| {
        !matches!(cx.dataplane(w), DataPlane::Waypoint(_)) && mesh::match_labels(labels, &w.labels)
    };
    // §4.1 rules 1–2: the policy's namespace, every namespace from the root namespace.
    let any = if root {
        cx.cluster.workloads.iter().any(selected)
    } else {
        cx.workloads_in(&policy.namespace).any(selected)
    };
    if any {
        return;
    }
    let span = cx
        .node(policy.span)
        .and_then(|n| n.get("spec"))
        .and_then(|s| s.get("selector"))
        .map_or(policy.span, |n| n.span);
    let severity = nothing_severity(cx);
    let shown = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    cx.push_with(
        SelectsNothing::INFO,
        severity,
        span,
        format!(
            "AuthorizationPolicy {} selects no workload: nothing in `{}` matches `{shown}`",
            qualified(&policy.namespace, &policy.name),
            if root { "any namespace" } else { policy.namespace.as_str() }
        ),
        Some("`selector.matchLabels` matches pod labels in the policy's namespace (every namespace from the root namespace)".to_string()),
        None,
    );
}

/// PP4011 for AuthorizationPolicy sources and conditions.
fn identities(cx: &mut Cx, policy: &AuthorizationPolicy) {
    let known = cx.known_namespaces();
    let with_workloads = cx.has_workloads();
    let accounts = cx.accounts();
    // ServiceAccount objects are not modelled; their names count in every namespace.
    let declared: BTreeSet<&str> = cx
        .cluster
        .ignored
        .iter()
        .filter(|o| o.kind == "ServiceAccount")
        .map(|o| o.name.as_str())
        .collect();
    let sa_known = |ns: &str, sa: &str| {
        sa == "default"
            || declared.contains(sa)
            || accounts.contains(&(ns.to_string(), sa.to_string()))
    };
    let name = qualified(&policy.namespace, &policy.name);
    let mut checks: Vec<(Span, &'static str, String)> = Vec::new();
    for rule in &policy.rules {
        for src in &rule.from {
            for v in src.namespaces.iter().chain(&src.not_namespaces) {
                checks.push((src.span, "namespaces", v.clone()));
            }
            for v in src.principals.iter().chain(&src.not_principals) {
                checks.push((src.span, "principals", v.clone()));
            }
            for v in src.service_accounts.iter().chain(&src.not_service_accounts) {
                checks.push((src.span, "serviceAccounts", v.clone()));
            }
        }
        for c in &rule.when {
            let field = match c.key.as_str() {
                "source.namespace" => "namespaces",
                "source.principal" => "principals",
                _ => continue,
            };
            for v in c.values.iter().chain(&c.not_values) {
                checks.push((c.span, field, v.clone()));
            }
        }
    }
    for (span, field, value) in checks {
        if value.contains('*') {
            continue;
        }
        // (namespace, service account) the value names.
        let (ns, sa) = match field {
            "namespaces" => (value.clone(), None),
            "principals" => match principal_parts(&value) {
                Some((ns, sa)) => (ns.to_string(), Some(sa.to_string())),
                None => continue,
            },
            _ => match value.split_once('/') {
                Some((ns, sa)) => (ns.to_string(), Some(sa.to_string())),
                None => (policy.namespace.clone(), Some(value.clone())),
            },
        };
        if !known.contains(&ns) {
            let replacement_of = |candidate: &str| value.replacen(&ns, candidate, 1);
            unknown_in_value(
                cx,
                span,
                &value,
                "namespace",
                &ns,
                known,
                &replacement_of,
                format!("`{field}` of AuthorizationPolicy {name} names namespace `{ns}`, which is not in the input"),
            );
            continue;
        }
        let Some(sa) = sa else { continue };
        if !with_workloads || known_namespaces_without_workloads(cx, &ns) || sa_known(&ns, &sa) {
            continue;
        }
        let in_ns: BTreeSet<String> = accounts
            .iter()
            .filter(|(n, _)| *n == ns)
            .map(|(_, s)| s.clone())
            .collect();
        let replacement_of = |candidate: &str| match value.rsplit_once(sa.as_str()) {
            Some((head, tail)) => format!("{head}{candidate}{tail}"),
            None => value.clone(),
        };
        unknown_in_value(
            cx,
            span,
            &value,
            "service account",
            &sa,
            &in_ns,
            &replacement_of,
            format!(
                "`{field}` of AuthorizationPolicy {name} names service account `{ns}/{sa}`, which no workload in the input uses"
            ),
        );
    }
}

/// A namespace with no workloads in the input (its service accounts are unknown, not absent).
fn known_namespaces_without_workloads(cx: &Cx, ns: &str) -> bool {
    cx.workloads_in(ns).next().is_none()
}

/// `<td>/ns/<ns>/sa/<sa>` (an optional `spiffe://` prefix is tolerated).
fn principal_parts(value: &str) -> Option<(&str, &str)> {
    let value = value.strip_prefix("spiffe://").unwrap_or(value);
    let (_, rest) = value.split_once("/ns/")?;
    let (ns, sa) = rest.split_once("/sa/")?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains('/')).then_some((ns, sa))
}

#[expect(clippy::too_many_arguments, reason = "internal; two call sites")]
fn unknown_in_value(
    cx: &mut Cx,
    span: Span,
    value: &str,
    what: &str,
    name: &str,
    known: &BTreeSet<String>,
    replacement_of: &dyn Fn(&str) -> String,
    message: String,
) {
    let severity = if cx.has_workloads() {
        UnknownNamespaceOrServiceAccount::INFO.severity
    } else {
        Severity::Info
    };
    let scalar = cx.node(span).and_then(|n| find_scalar(n, value));
    let suggestion = closest(name, known);
    let fix = match (suggestion, scalar, cx.doc(span)) {
        (Some(candidate), Some(node), Some(doc)) => doc
            .replace_scalar(node, &replacement_of(candidate))
            .and_then(|e| fix(format!("replace `{name}` with `{candidate}`"), vec![e])),
        _ => None,
    };
    let help = match suggestion {
        Some(candidate) => format!("did you mean `{candidate}`?"),
        None => {
            format!("names are compared as strings; a {what} that does not exist never matches")
        }
    };
    cx.push_with(
        UnknownNamespaceOrServiceAccount::INFO,
        severity,
        scalar.map_or(span, |n| n.span),
        message,
        Some(help),
        fix,
    );
}

/// PP4011 for a NetworkPolicy peer naming a namespace.
fn unknown_name(
    cx: &mut Cx,
    peer: Span,
    what: &str,
    name: &str,
    known: &BTreeSet<String>,
    message: String,
) {
    unknown_in_value(
        cx,
        peer,
        name,
        what,
        name,
        known,
        &|c| c.to_string(),
        message,
    );
}

/// The unique known name within two edits of `name`.
fn closest<'k>(name: &str, known: &'k BTreeSet<String>) -> Option<&'k str> {
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for k in known {
        let d = distance(name, k);
        if d == 0 || d > 2 || d >= name.len().max(1) {
            continue;
        }
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, k));
                tie = false;
            }
        }
    }
    if tie {
        None
    } else {
        best.map(|(_, k)| k)
    }
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_name() {
        let known: BTreeSet<String> = ["fe", "be", "frontend"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest("frontnd", &known), Some("frontend"));
        assert_eq!(closest("xx", &known), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            principal_parts("cluster.local/ns/fe/sa/web"),
            Some(("fe", "web"))
        );
        assert_eq!(principal_parts("*"), None);
    }
}
