//! NetworkPolicy lints that depend on how the mesh puts traffic on the wire: ambient probes
//! under the CNI profile (PP4003), the exposure 15008 opens (PP4004); and two plain
//! NetworkPolicy pitfalls: the stray dash (PP4012) and egress without DNS (PP4013). The HBONE
//! legs of every mesh flow (PP4001, PP4002, PP4009) are in `mesh_legs`.
//!
//! Every finding is backed by `netpol::evaluate_*` on the legs `istio::plan` produces, so a
//! lint and the flow verdicts never disagree.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::istio::legs::{LegRole, HBONE_PORT};
use crate::istio::{self, ztunnel, Connection, Identity, MeshFlow, MeshSource, MeshTarget};
use crate::model::{PortRef, Protocol, Workload};
use crate::netpol::{self, NetworkPolicy, PeerKind, PolicyPort, Rule};
use crate::selector::{Expression, LabelSelector};
use crate::source::Span;
use crate::verdict::{Direction, Endpoint, Evidence, Leg, ProfileFlag, Reason};

use super::catalogue::{
    DefaultDenyBlocksAmbientProbes, EgressWithoutDns, HbonePortWidensExposure, StrayDash,
};
use super::edit::{key_node, scalar, Y};
use super::{fix, list, qualified, Cx};

/// The rule families of this module, in the order they run.
pub(super) const FAMILIES: usize = 5;

/// One rule family (`1..FAMILIES`; family 0, the mesh legs, is `mesh_legs::MeshLegs`).
pub(super) fn check_family(cx: &mut Cx, family: usize) {
    let enforces = cx.np.enforces_network_policy;
    match family {
        1 if enforces => probes(cx),
        2 if enforces => dns(cx),
        3 => widened(cx),
        4 => stray_dash(cx),
        _ => {}
    }
}

/// `ns/name` of a workload.
pub(super) fn wname(w: &Workload) -> String {
    format!("{}/{}", w.namespace, w.name)
}

pub(super) fn ports_text(ports: &BTreeSet<u16>) -> String {
    list(ports.iter().map(|p| format!("TCP {p}")))
}

pub(super) fn quoted(items: &BTreeSet<String>) -> String {
    list(items.iter().map(|s| format!("`{s}`")))
}

/// The first policy isolating the pod, when no rule allows a leg (`NoRuleAllows`).
pub(super) fn first_isolating(reasons: &[Reason]) -> Option<usize> {
    reasons.iter().find_map(|r| match r {
        Reason::NoRuleAllows { isolated_by } => isolated_by.first().map(|p| p.index),
        _ => None,
    })
}

/// A span inside a policy worth pointing at: the first of `keys` under `spec`, else the name,
/// else the whole object.
pub(super) fn anchor(cx: &Cx, object: Span, keys: &[&str]) -> Span {
    let Some(node) = cx.node(object) else {
        return object;
    };
    if let Some(spec) = node.get("spec") {
        for k in keys {
            if let Some(k) = key_node(spec, k) {
                return k.span;
            }
        }
    }
    node.get("metadata")
        .and_then(|m| m.get("name"))
        .map_or(object, |n| n.span)
}

/// Add `item` to the list `spec.<key>` of the object at `object`.
pub(super) fn spec_edit(cx: &Cx, object: Span, key: &str, item: &Y) -> Option<super::TextEdit> {
    let doc = cx.doc(object)?;
    let spec = cx.node(object)?.get("spec")?;
    doc.add_to_list(spec, key, item)
}

/// PP4003: ambient probes SNATed to 169.254.7.127 and denied at NP ingress.
fn probes(cx: &mut Cx) {
    if cx.np.probe_snat_counts_as_node {
        return;
    }
    let cluster = cx.cluster;
    let np = cx.np.clone();
    let mut found: BTreeMap<usize, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for w in &cluster.workloads {
        if !cx.is_ambient(w) || cx.isolating(w, Direction::Ingress).is_empty() {
            continue;
        }
        for spec in crate::flows::probe_flows(w) {
            let flow = MeshFlow {
                src: MeshSource::Kubelet(w.node),
                dst: MeshTarget::Workload(w.id),
                protocol: Protocol::Tcp,
                port: spec.port,
                http: None,
                bypass: false,
            };
            for l in istio::plan(cluster, cx.mesh(), &flow) {
                if l.role != LegRole::ProbeSnat {
                    continue;
                }
                let v = netpol::evaluate_ingress(cluster, &l.leg, &np);
                if v.is_allow() {
                    continue;
                }
                if let Some(pi) = first_isolating(&v.reasons) {
                    let kind = spec.probe.as_ref().map_or("probe", |p| match p.kind {
                        crate::model::ProbeKind::Liveness => "liveness",
                        crate::model::ProbeKind::Readiness => "readiness",
                        crate::model::ProbeKind::Startup => "startup",
                    });
                    found
                        .entry(pi)
                        .or_default()
                        .entry(wname(w))
                        .or_default()
                        .insert(format!("{kind} :{}", spec.port));
                }
            }
        }
    }
    let (evidence, source) = cx
        .cni
        .as_ref()
        .and_then(|p| p.cell(ProfileFlag::ProbeSnatCountsAsNode))
        .map_or(
            (Evidence::Unverified, "SEMANTICS.md §2.6 rule 24 default"),
            |c| (c.evidence, c.source),
        );
    for (pi, pods) in found {
        let Some(policy) = cluster.network_policies.get(pi) else {
            continue;
        };
        let what = pods
            .iter()
            .map(|(pod, probes)| {
                format!(
                    "`{pod}` ({})",
                    probes.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rule = Y::map(vec![(
            "from",
            Y::Seq(vec![Y::map(vec![(
                "ipBlock",
                Y::map(vec![("cidr", Y::plain("169.254.7.127/32"))]),
            )])]),
        )]);
        let edit = spec_edit(cx, policy.span, "ingress", &rule);
        let span = anchor(cx, policy.span, &["policyTypes", "ingress", "podSelector"]);
        cx.push(
            DefaultDenyBlocksAmbientProbes::INFO,
            span,
            format!(
                "NetworkPolicy {} isolates ambient pods for ingress and admits nothing from 169.254.7.127: the kubelet probes of {what} are SNATed to that address and denied under CNI profile `{}`",
                qualified(&policy.namespace, &policy.name),
                cx.np.name
            ),
            Some(format!(
                "profile `{}` has probeSnatCountsAsNode = false (evidence {}: {source}); on CNIs that count the SNATed probe as node traffic (calico-iptables, kube-router, antrea) the probes pass",
                cx.np.name,
                evidence.letter()
            )),
            fix(
                "allow the ambient probe source 169.254.7.127/32 (Istio's documented rule)",
                edit.into_iter().collect(),
            ),
        );
    }
}

/// The TCP ports the ingress policies isolating `pod` mean to open (excluding 15008); `None`
/// when some rule opens every port.
fn intended_ports(cx: &Cx, pod: &Workload) -> Option<BTreeSet<u16>> {
    let mut res = BTreeSet::new();
    for p in &cx.cluster.network_policies {
        if !(p.policy_types.ingress
            && p.namespace == pod.namespace
            && p.pod_selector.matches(&pod.labels))
        {
            continue;
        }
        for rule in &p.ingress {
            if rule.ports.is_empty() {
                return None;
            }
            for port in &rule.ports {
                if port.protocol != Protocol::Tcp {
                    continue;
                }
                match (&port.port, port.end_port) {
                    (None, _) => return None,
                    (Some(PortRef::Number(n)), Some(end)) => {
                        if end.saturating_sub(*n) > 1024 {
                            return None;
                        }
                        res.extend(*n..=end);
                    }
                    (Some(PortRef::Number(n)), None) => {
                        res.insert(*n);
                    }
                    (Some(PortRef::Name(name)), _) => {
                        if let Some(cp) = pod.container_ports().find(|cp| {
                            cp.protocol == Protocol::Tcp && cp.name.as_deref() == Some(name)
                        }) {
                            res.insert(cp.port);
                        }
                    }
                }
            }
        }
    }
    res.remove(&HBONE_PORT);
    Some(res)
}

fn covers_hbone(port: &PolicyPort) -> bool {
    port.protocol == Protocol::Tcp
        && match (&port.port, port.end_port) {
            (Some(PortRef::Number(n)), Some(end)) => (*n..=end).contains(&HBONE_PORT),
            (Some(PortRef::Number(n)), None) => *n == HBONE_PORT,
            _ => false,
        }
}

/// The NetworkPolicy peer rules of `rule` that select `w` as a pod (empty peers: everyone).
fn rule_selects(cx: &Cx, policy: &NetworkPolicy, rule: &Rule, w: &Workload) -> bool {
    rule.peers.is_empty()
        || rule
            .peers
            .iter()
            .any(|peer| super::peer_selects(cx.cluster, policy, &peer.kind, w))
}

/// PP4004: 15008 next to app ports, with nothing at ztunnel narrowing the ports again.
fn widened(cx: &mut Cx) {
    let cluster = cx.cluster;
    let mesh_opts = cx.mesh();
    for policy in &cluster.network_policies {
        for (ri, rule) in policy.ingress.iter().enumerate() {
            let Some(hbone) = rule.ports.iter().find(|p| covers_hbone(p)) else {
                continue;
            };
            if !rule.ports.iter().any(|p| !covers_hbone(p)) {
                continue;
            }
            let mut widened = Vec::new();
            let mut union = BTreeSet::new();
            let mut any_allow_policy = false;
            for pod in &cluster.workloads {
                if !(cx.is_ambient(pod)
                    && policy.namespace == pod.namespace
                    && policy.pod_selector.matches(&pod.labels))
                {
                    continue;
                }
                let Some(intended) = intended_ports(cx, pod) else {
                    continue;
                };
                let sources: Vec<&Workload> = cluster
                    .workloads
                    .iter()
                    .filter(|s| s.id != pod.id && cx.is_ambient(s))
                    .filter(|s| rule_selects(cx, policy, rule, s))
                    .collect();
                if sources.is_empty() {
                    continue;
                }
                let mut extras: Vec<u16> = crate::flows::declared_ports(pod)
                    .into_iter()
                    .filter(|(proto, p)| {
                        *proto == Protocol::Tcp && *p != HBONE_PORT && !intended.contains(p)
                    })
                    .map(|(_, p)| p)
                    .collect();
                if extras.is_empty() {
                    extras.extend((1..=u16::MAX).find(|p| !intended.contains(p)));
                }
                let candidates = ztunnel::candidates(cluster, mesh_opts, pod);
                any_allow_policy |= candidates
                    .policies
                    .iter()
                    .any(|a| a.action == ztunnel::ZAction::Allow);
                let open = sources.iter().any(|s| {
                    extras.iter().any(|&port| {
                        let conn = Connection {
                            src_ip: s.ip(),
                            src_identity: Some(Identity::of(s, mesh_opts)),
                            dst_ip: pod.ip(),
                            dst_port: port,
                            http: None,
                        };
                        ztunnel::decide(&candidates.policies, &conn).0.is_allow()
                    })
                });
                if open {
                    union.extend(intended.iter().copied());
                    widened.push(pod);
                }
            }
            if widened.is_empty() {
                continue;
            }
            let fix = if any_allow_policy || union.is_empty() || union.len() > 64 {
                None
            } else {
                narrowing_policy(cx, policy, &union)
            };
            let pods: BTreeSet<String> = widened.iter().map(|w| wname(w)).collect();
            cx.push(
                HbonePortWidensExposure::INFO,
                hbone.span,
                format!(
                    "ingress rule {ri} of NetworkPolicy {} allows TCP 15008 next to {}: HBONE can carry a connection to any port, so mesh clients reach every port of {}, not only these",
                    qualified(&policy.namespace, &policy.name),
                    ports_text(&union),
                    quoted(&pods)
                ),
                Some(
                    "istio/istio#56659: NetworkPolicy port lists do not restrict ports inside HBONE; an L4 AuthorizationPolicy (ztunnel sees the real port) narrows it back"
                        .to_string(),
                ),
                fix,
            );
        }
    }
}

/// An ALLOW AuthorizationPolicy for the policy's pods and `ports`, appended to its source.
fn narrowing_policy(cx: &Cx, policy: &NetworkPolicy, ports: &BTreeSet<u16>) -> Option<super::Fix> {
    let labels = match_labels_of(&policy.pod_selector)?;
    let mut name = format!("{}-l4-ports", policy.name);
    let taken = |n: &str| {
        cx.cluster
            .authorization_policies
            .iter()
            .any(|a| a.namespace == policy.namespace && a.name == n)
    };
    let mut i = 2;
    while taken(&name) {
        name = format!("{}-l4-ports-{i}", policy.name);
        i += 1;
    }
    let mut spec = Vec::new();
    if !labels.is_empty() {
        let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, *v)).collect();
        spec.push(("selector", Y::match_labels(&pairs)));
    }
    spec.push(("action", Y::plain("ALLOW")));
    spec.push((
        "rules",
        Y::Seq(vec![Y::map(vec![(
            "to",
            Y::Seq(vec![Y::map(vec![(
                "operation",
                Y::map(vec![(
                    "ports",
                    Y::Seq(ports.iter().map(|p| Y::Quoted(p.to_string())).collect()),
                )]),
            )])]),
        )])]),
    ));
    let doc = Y::map(vec![
        ("apiVersion", Y::plain("security.istio.io/v1")),
        ("kind", Y::plain("AuthorizationPolicy")),
        (
            "metadata",
            Y::map(vec![
                ("name", scalar(&name)),
                ("namespace", scalar(&policy.namespace)),
            ]),
        ),
        ("spec", Y::map(spec)),
    ]);
    let edit = cx.doc(policy.span)?.append_document(&doc);
    fix(
        format!(
            "append AuthorizationPolicy `{}/{name}` allowing only {} at ztunnel",
            policy.namespace,
            ports_text(ports)
        ),
        vec![edit],
    )
}

/// A selector that is only `matchLabels` (single-valued `In`s), as pairs.
fn match_labels_of(selector: &LabelSelector) -> Option<Vec<(&str, &str)>> {
    selector
        .expressions
        .iter()
        .map(|e| match e {
            Expression::In(k, v) if v.len() == 1 => Some((k.as_str(), v[0].as_str())),
            _ => None,
        })
        .collect()
}

/// The two selectors of a stray-dash rule (`[namespaceSelector-only, podSelector-only]`, either
/// order): (namespace selector, pod selector).
pub(super) fn stray_dash_pair(rule: &Rule) -> Option<(&LabelSelector, &LabelSelector)> {
    let [a, b] = rule.peers.as_slice() else {
        return None;
    };
    match (&a.kind, &b.kind) {
        (
            PeerKind::Pods {
                namespace_selector: Some(ns),
                pod_selector: None,
            },
            PeerKind::Pods {
                namespace_selector: None,
                pod_selector: Some(pods),
            },
        )
        | (
            PeerKind::Pods {
                namespace_selector: None,
                pod_selector: Some(pods),
            },
            PeerKind::Pods {
                namespace_selector: Some(ns),
                pod_selector: None,
            },
        ) => Some((ns, pods)),
        _ => None,
    }
}

/// PP4012: `[namespaceSelector-only, podSelector-only]` peers.
fn stray_dash(cx: &mut Cx) {
    let cluster = cx.cluster;
    for policy in &cluster.network_policies {
        for (direction, key, rules) in [
            ("ingress", "from", &policy.ingress),
            ("egress", "to", &policy.egress),
        ] {
            for (ri, rule) in rules.iter().enumerate() {
                let (Some((ns, pods)), [a, b]) = (stray_dash_pair(rule), rule.peers.as_slice())
                else {
                    continue;
                };
                let edits = cx
                    .doc(a.span)
                    .zip(cx.node(a.span))
                    .zip(cx.node(b.span))
                    .and_then(|((d, first), second)| d.merge_items(first, second));
                cx.push(
                    StrayDash::INFO,
                    b.span,
                    format!(
                        "`{key}` of {direction} rule {ri} in NetworkPolicy {} has `namespaceSelector` ({ns}) and `podSelector` ({pods}) as two elements, which are OR'ed: every pod in namespaces matching `{ns}`, or pods matching `{pods}` in `{}`",
                        qualified(&policy.namespace, &policy.name),
                        policy.namespace
                    ),
                    Some(format!(
                        "if you meant pods matching `{pods}` in namespaces matching `{ns}`, put both selectors in one element"
                    )),
                    edits.and_then(|e| {
                        fix("merge the two elements into one (remove the second dash)", e)
                    }),
                );
            }
        }
    }
}

/// PP4013: egress isolation without DNS.
fn dns(cx: &mut Cx) {
    let cluster = cx.cluster;
    let np = cx.np.clone();
    let dns_pods: Vec<&Workload> = cluster
        .workloads
        .iter()
        .filter(|w| w.labels.get("k8s-app").map(String::as_str) == Some("kube-dns"))
        .collect();
    let mut found: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    // The egress verdict toward the DNS pods reads the client only through its isolating
    // policies and AdminNetworkPolicy subjects (SEMANTICS.md §1.1 rules 3–5, §1.6 rules 27,
    // 29): judged once per such class of clients.
    let mut verdicts: HashMap<(Vec<usize>, Vec<usize>), bool> = HashMap::new();
    for w in &cluster.workloads {
        if (w.host_network && np.host_network_is_node) || dns_pods.iter().any(|d| d.id == w.id) {
            continue;
        }
        let policies = cx.isolating(w, Direction::Egress);
        let Some(&first) = policies.first() else {
            continue;
        };
        let allowed = if dns_pods.is_empty() {
            policies.iter().any(|&i| {
                cluster.network_policies.get(i).is_some_and(|p| {
                    p.egress.iter().any(|r| {
                        r.ports.is_empty()
                            || r.ports.iter().any(|port| {
                                port.protocol == Protocol::Udp
                                    && match (&port.port, port.end_port) {
                                        (None, _) => true,
                                        (Some(PortRef::Number(n)), Some(e)) => {
                                            (*n..=e).contains(&53)
                                        }
                                        (Some(PortRef::Number(n)), None) => *n == 53,
                                        // A named port toward unknown pods: assume it is DNS.
                                        (Some(PortRef::Name(_)), _) => true,
                                    }
                            })
                    })
                })
            })
        } else {
            let class = (policies, cx.admin_subjects(w, Direction::Egress));
            *verdicts.entry(class).or_insert_with(|| {
                dns_pods.iter().any(|d| {
                    let leg = Leg {
                        src: Endpoint::Pod(w.id),
                        dst: Endpoint::Pod(d.id),
                        protocol: Protocol::Udp,
                        port: 53,
                    };
                    netpol::evaluate_egress(cluster, &leg, &np).is_allow()
                })
            })
        };
        if !allowed {
            found.entry(first).or_default().insert(wname(w));
        }
    }
    let dns_ns = dns_pods
        .first()
        .map_or("kube-system".to_string(), |d| d.namespace.clone());
    let dns_name = dns_pods
        .first()
        .map_or("kube-dns".to_string(), |d| format!("`{}`", wname(d)));
    for (pi, pods) in found {
        let Some(policy) = cluster.network_policies.get(pi) else {
            continue;
        };
        let port = |proto: &str| Y::map(vec![("port", Y::Int(53)), ("protocol", Y::plain(proto))]);
        let rule = Y::map(vec![
            (
                "to",
                Y::Seq(vec![Y::map(vec![
                    (
                        "namespaceSelector",
                        Y::match_labels(&[("kubernetes.io/metadata.name", dns_ns.as_str())]),
                    ),
                    ("podSelector", Y::match_labels(&[("k8s-app", "kube-dns")])),
                ])]),
            ),
            ("ports", Y::Seq(vec![port("UDP"), port("TCP")])),
        ]);
        let edit = spec_edit(cx, policy.span, "egress", &rule);
        let span = anchor(cx, policy.span, &["policyTypes", "egress", "podSelector"]);
        cx.push(
            EgressWithoutDns::INFO,
            span,
            format!(
                "NetworkPolicy {} isolates {} for egress and no rule allows DNS (UDP 53) to {dns_name}: name lookups fail",
                qualified(&policy.namespace, &policy.name),
                quoted(&pods)
            ),
            Some(
                "allow UDP and TCP 53 to the cluster DNS; ambient pods need it too (ztunnel's DNS proxy forwards from the pod's network namespace)"
                    .to_string(),
            ),
            fix(
                format!("add an egress rule allowing DNS (UDP and TCP 53) to `k8s-app=kube-dns` in `{dns_ns}`"),
                edit.into_iter().collect(),
            ),
        );
    }
}
