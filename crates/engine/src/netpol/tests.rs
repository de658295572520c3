//! NetworkPolicy evaluation tests: one test per SEMANTICS.md §1 rule, the §9 test vectors
//! TV-01…TV-10, TV-12, TV-13 on the §9 topology built in code, and property tests (tiny
//! deterministic PRNG) for index/leg agreement and additivity.

use std::net::Ipv4Addr;

use super::*;
use crate::model::{Container, ContainerPort, Namespace, Node};
use crate::selector::Expression;

// --- builders -------------------------------------------------------------------------------

pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `matchLabels` selector.
pub(crate) fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector {
        expressions: pairs
            .iter()
            .map(|(k, v)| Expression::In(k.to_string(), vec![v.to_string()]))
            .collect(),
        span: Span::default(),
    }
}

pub(crate) fn namespace(name: &str, pairs: &[(&str, &str)]) -> Namespace {
    let mut l = labels(pairs);
    l.insert("kubernetes.io/metadata.name".into(), name.into());
    Namespace {
        name: name.into(),
        labels: l,
        span: None,
    }
}

pub(crate) fn workload(
    id: u32,
    ns: &str,
    name: &str,
    pairs: &[(&str, &str)],
    ip: [u8; 4],
    node: u32,
) -> Workload {
    Workload {
        id: WorkloadId(id),
        kind: "Pod".into(),
        name: name.into(),
        namespace: ns.into(),
        labels: labels(pairs),
        annotations: Labels::new(),
        service_account: "default".into(),
        containers: Vec::new(),
        host_network: false,
        node: NodeId(node),
        ips: vec![Ipv4Addr::from(ip)],
        replicas: 1,
        span: Span::default(),
    }
}

pub(crate) fn cport(name: &str, port: u16, protocol: Protocol) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        port,
        protocol,
        span: Span::default(),
    }
}

pub(crate) fn policy(
    ns: &str,
    name: &str,
    pod_selector: LabelSelector,
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
) -> NetworkPolicy {
    NetworkPolicy {
        name: name.into(),
        namespace: ns.into(),
        pod_selector,
        policy_types: PolicyTypes {
            ingress: ingress.is_some(),
            egress: egress.is_some(),
        },
        ingress: ingress.unwrap_or_default(),
        egress: egress.unwrap_or_default(),
        span: Span::default(),
    }
}

pub(crate) fn rule(peers: Vec<Peer>, ports: Vec<PolicyPort>) -> Rule {
    Rule {
        peers,
        ports,
        span: Span::default(),
    }
}

pub(crate) fn pods(
    namespace_selector: Option<LabelSelector>,
    pod_selector: Option<LabelSelector>,
) -> Peer {
    Peer {
        kind: PeerKind::Pods {
            namespace_selector,
            pod_selector,
        },
        span: Span::default(),
    }
}

pub(crate) fn ip_block(cidr: &str, except: &[&str]) -> Peer {
    let net = |s: &str| s.parse::<IpNet>().expect("test cidr");
    Peer {
        kind: PeerKind::IpBlock {
            cidr: net(cidr),
            except: except.iter().map(|s| net(s)).collect(),
        },
        span: Span::default(),
    }
}

pub(crate) fn port(protocol: Protocol, port: Option<PortRef>, end_port: Option<u16>) -> PolicyPort {
    PolicyPort {
        protocol,
        port,
        end_port,
        span: Span::default(),
    }
}

pub(crate) fn tcp(p: u16) -> PolicyPort {
    port(Protocol::Tcp, Some(PortRef::Number(p)), None)
}

pub(crate) fn named(name: &str, protocol: Protocol) -> PolicyPort {
    port(protocol, Some(PortRef::Name(name.into())), None)
}

// §9 common topology.
pub(crate) const WEB: WorkloadId = WorkloadId(0);
pub(crate) const OTHER: WorkloadId = WorkloadId(1);
pub(crate) const API: WorkloadId = WorkloadId(2);
pub(crate) const WEB2: WorkloadId = WorkloadId(3);
pub(crate) const CLIENT: WorkloadId = WorkloadId(4);
pub(crate) const N1: NodeId = NodeId(0);
pub(crate) const N2: NodeId = NodeId(1);

/// SEMANTICS.md §9 "Common topology", no policies.
pub(crate) fn topology() -> Cluster {
    let mut api = workload(2, "be", "api", &[("app", "api")], [10, 244, 2, 20], 1);
    api.containers.push(Container {
        name: "api".into(),
        ports: vec![
            cport("http", 8080, Protocol::Tcp),
            cport("metrics", 9090, Protocol::Tcp),
        ],
        probes: Vec::new(),
    });
    Cluster {
        namespaces: vec![
            namespace("fe", &[("team", "fe")]),
            namespace("be", &[("team", "be")]),
            namespace("legacy", &[]),
        ],
        nodes: vec![
            Node {
                name: "n1".into(),
                ip: Ipv4Addr::new(10, 0, 0, 11),
            },
            Node {
                name: "n2".into(),
                ip: Ipv4Addr::new(10, 0, 0, 12),
            },
        ],
        workloads: vec![
            workload(0, "fe", "web", &[("app", "web")], [10, 244, 1, 10], 0),
            workload(1, "fe", "other", &[("app", "other")], [10, 244, 1, 11], 0),
            api,
            workload(3, "be", "web2", &[("app", "web")], [10, 244, 2, 21], 1),
            workload(
                4,
                "legacy",
                "client",
                &[("app", "client")],
                [10, 244, 1, 30],
                0,
            ),
        ],
        ..Cluster::default()
    }
}

fn with(policies: Vec<NetworkPolicy>) -> Cluster {
    Cluster {
        network_policies: policies,
        ..topology()
    }
}

fn ext(a: u8, b: u8, c: u8, d: u8) -> Endpoint {
    Endpoint::External(Ipv4Addr::new(a, b, c, d))
}

/// `ALLOW`, or `DENY np-egress` / `DENY np-ingress` (first layer that denies), checking that the
/// set-based index agrees with the leg verdicts.
#[track_caller]
fn judge_leg(
    cluster: &Cluster,
    profile: &NpProfile,
    src: Endpoint,
    dst: Endpoint,
    protocol: Protocol,
    port: u16,
) -> String {
    let leg = Leg {
        src,
        dst,
        protocol,
        port,
    };
    let e = evaluate_egress(cluster, &leg, profile);
    let i = evaluate_ingress(cluster, &leg, profile);
    // The cached isolation (the flow table's and the lints' fast path) gives the same verdicts.
    let cache = Isolation::new(cluster, profile);
    assert_eq!(
        evaluate_egress_with(cluster, &leg, profile, Some(&cache)),
        e,
        "cached egress disagrees on {leg:?}"
    );
    assert_eq!(
        evaluate_ingress_with(cluster, &leg, profile, Some(&cache)),
        i,
        "cached ingress disagrees on {leg:?}"
    );
    let index = NpIndex::new(cluster, profile);
    let allowed = e.is_allow() && i.is_allow();
    assert_eq!(
        index.allowed(src, dst).contains(protocol, port),
        allowed,
        "index disagrees on {leg:?}: {e:?} {i:?}"
    );
    if e.decision != Decision::Allow {
        format!("{} np-egress", e.decision.as_str().to_uppercase())
    } else if i.decision != Decision::Allow {
        format!("{} np-ingress", i.decision.as_str().to_uppercase())
    } else {
        "ALLOW".into()
    }
}

#[track_caller]
fn check(cluster: &Cluster, src: Endpoint, dst: Endpoint, port: u16, expected: &str) {
    assert_eq!(
        judge_leg(
            cluster,
            &NpProfile::default(),
            src,
            dst,
            Protocol::Tcp,
            port
        ),
        expected,
        "{src:?} -> {dst:?}:{port}"
    );
}

fn pod(id: WorkloadId) -> Endpoint {
    Endpoint::Pod(id)
}

fn deny_all_ingress_be() -> NetworkPolicy {
    policy("be", "deny-all", sel(&[]), Some(vec![]), None)
}

// --- §9 test vectors ------------------------------------------------------------------------

#[test]
fn tv01_default_deny_ingress() {
    let c = with(vec![deny_all_ingress_be()]);
    check(&c, pod(WEB), pod(API), 8080, "DENY np-ingress");
    check(&c, pod(API), pod(WEB), 8080, "ALLOW");
}

fn tv02_policy(from: Vec<Peer>) -> NetworkPolicy {
    policy(
        "be",
        "api",
        sel(&[("app", "api")]),
        Some(vec![rule(from, vec![tcp(8080)])]),
        None,
    )
}

#[test]
fn tv02_and_peer() {
    let c = with(vec![tv02_policy(vec![pods(
        Some(sel(&[("team", "fe")])),
        Some(sel(&[("app", "web")])),
    )])]);
    check(&c, pod(WEB), pod(API), 8080, "ALLOW");
    check(&c, pod(OTHER), pod(API), 8080, "DENY np-ingress");
    check(&c, pod(WEB), pod(API), 9090, "DENY np-ingress");
    check(&c, pod(WEB2), pod(API), 8080, "DENY np-ingress");
}

#[test]
fn tv03_or_peers() {
    let c = with(vec![tv02_policy(vec![
        pods(Some(sel(&[("team", "fe")])), None),
        pods(None, Some(sel(&[("app", "web")]))),
    ])]);
    check(&c, pod(OTHER), pod(API), 8080, "ALLOW");
    check(&c, pod(WEB2), pod(API), 8080, "ALLOW");
    check(&c, pod(CLIENT), pod(API), 8080, "DENY np-ingress");
}

#[test]
fn tv04_policy_types_defaulted() {
    // The parser defaults `policyTypes` to [Ingress, Egress] (egress rules present, §1.1 rule 2).
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![]),
        Some(vec![rule(vec![ip_block("0.0.0.0/0", &[])], vec![])]),
    )]);
    check(&c, pod(WEB), pod(API), 8080, "DENY np-ingress");
    check(&c, pod(API), ext(203, 0, 113, 5), 443, "ALLOW");
}

#[test]
fn tv05_egress_only_deny() {
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        None,
        Some(vec![]),
    )]);
    check(&c, pod(API), pod(WEB), 8080, "DENY np-egress");
    // Replies to web→api are never evaluated as api→web legs (§1.1 rule 8); the connection is.
    check(&c, pod(WEB), pod(API), 8080, "ALLOW");
}

#[test]
fn tv06_empty_rule_union() {
    let c = with(vec![
        deny_all_ingress_be(),
        policy(
            "be",
            "p",
            sel(&[("app", "api")]),
            Some(vec![rule(vec![], vec![])]),
            None,
        ),
    ]);
    check(&c, pod(CLIENT), pod(API), 9090, "ALLOW");
}

#[test]
fn tv07_named_port() {
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![rule(vec![], vec![named("http", Protocol::Tcp)])]),
        None,
    )]);
    check(&c, pod(WEB), pod(API), 8080, "ALLOW");
    check(&c, pod(WEB), pod(API), 9090, "DENY np-ingress");
}

#[test]
fn tv08_protocol_default() {
    let c = with(vec![policy(
        "fe",
        "p",
        sel(&[("app", "web")]),
        None,
        Some(vec![rule(vec![], vec![tcp(53)])]),
    )]);
    let p = NpProfile::default();
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), ext(10, 96, 0, 10), Protocol::Tcp, 53),
        "ALLOW"
    );
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), ext(10, 96, 0, 10), Protocol::Udp, 53),
        "DENY np-egress"
    );
}

#[test]
fn tv09_ip_block_except() {
    let from = vec![ip_block("172.17.0.0/16", &["172.17.1.0/24"])];
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![rule(from, vec![])]),
        None,
    )]);
    check(&c, ext(172, 17, 1, 5), pod(API), 8080, "DENY np-ingress");
    check(&c, ext(172, 17, 2, 5), pod(API), 8080, "ALLOW");
    check(&c, pod(WEB), pod(API), 8080, "DENY np-ingress");
}

#[test]
fn tv10_end_port() {
    let to = vec![ip_block("10.0.0.0/24", &[])];
    let ports = vec![port(
        Protocol::Tcp,
        Some(PortRef::Number(32000)),
        Some(32768),
    )];
    let c = with(vec![policy(
        "fe",
        "p",
        sel(&[("app", "web")]),
        None,
        Some(vec![rule(to, ports)]),
    )]);
    check(&c, pod(WEB), ext(10, 0, 0, 5), 32768, "ALLOW");
    check(&c, pod(WEB), ext(10, 0, 0, 5), 32769, "DENY np-egress");
    check(&c, pod(WEB), ext(10, 0, 1, 5), 32500, "DENY np-egress");
    // Profile without endPort support: only `port` (§1.5 rule 25).
    let p = NpProfile {
        end_port_supported: false,
        ..NpProfile::default()
    };
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), ext(10, 0, 0, 5), Protocol::Tcp, 32000),
        "ALLOW"
    );
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), ext(10, 0, 0, 5), Protocol::Tcp, 32001),
        "DENY np-egress"
    );
    let v = evaluate_egress(
        &c,
        &Leg {
            src: pod(WEB),
            dst: ext(10, 0, 0, 5),
            protocol: Protocol::Tcp,
            port: 32001,
        },
        &p,
    );
    assert!(v.assumptions.contains(&Assumption {
        flag: ProfileFlag::EndPortSupported,
        value: false
    }));
}

#[test]
fn tv12_node_exemption() {
    let c = with(vec![deny_all_ingress_be()]);
    check(&c, Endpoint::Node(N2), pod(API), 8080, "ALLOW");
    check(&c, Endpoint::Node(N1), pod(API), 8080, "DENY np-ingress");
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: Endpoint::Node(N2),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 8080,
        },
        &NpProfile::default(),
    );
    assert_eq!(v.reasons, vec![Reason::NodeExempt { node: N2 }]);
}

#[test]
fn tv13_both_sides_must_allow() {
    let egress = rule(vec![pods(Some(sel(&[("team", "be")])), None)], vec![]);
    let c = with(vec![
        policy("fe", "p", sel(&[("app", "web")]), None, Some(vec![egress])),
        deny_all_ingress_be(),
    ]);
    let leg = Leg {
        src: pod(WEB),
        dst: pod(API),
        protocol: Protocol::Tcp,
        port: 8080,
    };
    assert!(evaluate_egress(&c, &leg, &NpProfile::default()).is_allow());
    check(&c, pod(WEB), pod(API), 8080, "DENY np-ingress");
}

// --- §1 rules not covered above -------------------------------------------------------------

#[test]
fn rule01_pod_selector_only_in_policy_namespace() {
    // `{}` in fe selects web and other, never api in be.
    let c = with(vec![policy("fe", "deny", sel(&[]), Some(vec![]), None)]);
    check(&c, pod(CLIENT), pod(WEB), 80, "DENY np-ingress");
    check(&c, pod(CLIENT), pod(OTHER), 80, "DENY np-ingress");
    check(&c, pod(CLIENT), pod(API), 80, "ALLOW");
    // A selector matching labels of a pod in another namespace selects nothing there (web2 in be).
    let c = with(vec![policy(
        "fe",
        "deny",
        sel(&[("app", "web")]),
        Some(vec![]),
        None,
    )]);
    check(&c, pod(CLIENT), pod(WEB2), 80, "ALLOW");
}

#[test]
fn rule03_04_directions_are_independent() {
    let c = with(vec![deny_all_ingress_be()]);
    let p = NpProfile::default();
    let api = c.workloads.iter().find(|w| w.id == API).expect("api");
    assert!(is_isolated(&c, api, Direction::Ingress, &p));
    assert!(!is_isolated(&c, api, Direction::Egress, &p));
    let v = evaluate_egress(
        &c,
        &Leg {
            src: pod(API),
            dst: pod(WEB),
            protocol: Protocol::Udp,
            port: 1,
        },
        &p,
    );
    assert_eq!(
        v.reasons,
        vec![Reason::NotIsolated {
            direction: Direction::Egress
        }]
    );
}

#[test]
fn rule05_union_and_reasons() {
    let a = policy(
        "be",
        "a",
        sel(&[("app", "api")]),
        Some(vec![rule(vec![], vec![tcp(8080)])]),
        None,
    );
    let b = policy(
        "be",
        "b",
        sel(&[]),
        Some(vec![rule(vec![], vec![tcp(8080), tcp(9090)])]),
        None,
    );
    let c = with(vec![a, b]);
    let p = NpProfile::default();
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: pod(WEB),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 8080,
        },
        &p,
    );
    assert_eq!(v.decision, Decision::Allow);
    let names: Vec<_> = v
        .reasons
        .iter()
        .filter_map(|r| match r {
            Reason::AllowedBy(rr) => Some((rr.policy.name.as_str(), rr.rule)),
            _ => None,
        })
        .collect();
    assert_eq!(names, [("a", 0), ("b", 0)]);
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: pod(WEB),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 1,
        },
        &p,
    );
    assert_eq!(v.decision, Decision::Deny);
    let isolated_by: Vec<&str> = match v.reasons.first() {
        Some(Reason::NoRuleAllows { isolated_by }) => {
            isolated_by.iter().map(|p| p.name.as_str()).collect()
        }
        _ => Vec::new(),
    };
    assert_eq!(isolated_by, ["a", "b"], "{:?}", v.reasons);
}

#[test]
fn rule06_empty_ingress_list_isolates() {
    let c = with(vec![policy(
        "be",
        "iso",
        sel(&[("app", "api")]),
        Some(vec![]),
        None,
    )]);
    check(&c, pod(WEB2), pod(API), 8080, "DENY np-ingress");
    check(&c, pod(API), pod(WEB2), 8080, "ALLOW");
}

#[test]
fn rule09_hostnetwork_and_probe_snat() {
    let mut c = with(vec![deny_all_ingress_be()]);
    let mut host = workload(
        5,
        "kube-system",
        "agent",
        &[("app", "agent")],
        [10, 0, 0, 12],
        1,
    );
    host.host_network = true;
    c.workloads.push(host.clone());
    // hostNetwork pod on api's own node = the node.
    check(&c, pod(WorkloadId(5)), pod(API), 8080, "ALLOW");
    host.node = N1;
    host.id = WorkloadId(6);
    c.workloads.push(host);
    check(&c, pod(WorkloadId(6)), pod(API), 8080, "DENY np-ingress");
    // Probe SNAT: not the node by default, the node when the profile says so (§2.6, §10.2).
    check(
        &c,
        Endpoint::ProbeSnat(N2),
        pod(API),
        8080,
        "DENY np-ingress",
    );
    let p = NpProfile {
        probe_snat_counts_as_node: true,
        ..NpProfile::default()
    };
    assert_eq!(
        judge_leg(
            &c,
            &p,
            Endpoint::ProbeSnat(N2),
            pod(API),
            Protocol::Tcp,
            8080
        ),
        "ALLOW"
    );
    assert_eq!(
        judge_leg(
            &c,
            &p,
            Endpoint::ProbeSnat(N1),
            pod(API),
            Protocol::Tcp,
            8080
        ),
        "DENY np-ingress"
    );
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: Endpoint::ProbeSnat(N2),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 8080,
        },
        &NpProfile::default(),
    );
    assert!(v.assumptions.contains(&Assumption {
        flag: ProfileFlag::ProbeSnatCountsAsNode,
        value: false
    }));
    // TV-16: allowing 169.254.7.127/32 admits the probe.
    c.network_policies.push(policy(
        "be",
        "probe",
        sel(&[]),
        Some(vec![rule(vec![ip_block("169.254.7.127/32", &[])], vec![])]),
        None,
    ));
    check(&c, Endpoint::ProbeSnat(N2), pod(API), 8080, "ALLOW");
}

#[test]
fn rule10_from_and_ports() {
    let r = rule(
        vec![pods(None, Some(sel(&[("app", "web")])))],
        vec![tcp(8080)],
    );
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    check(&c, pod(WEB2), pod(API), 8080, "ALLOW");
    check(&c, pod(WEB2), pod(API), 9090, "DENY np-ingress");
    check(&c, pod(WEB), pod(API), 8080, "DENY np-ingress");
}

#[test]
fn rule11_12_empty_from_matches_external_too() {
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![rule(vec![], vec![tcp(8080)])]),
        Some(vec![rule(vec![], vec![])]),
    )]);
    check(&c, ext(8, 8, 8, 8), pod(API), 8080, "ALLOW");
    check(&c, Endpoint::Node(N1), pod(API), 8080, "ALLOW");
    check(&c, pod(API), ext(1, 1, 1, 1), 1, "ALLOW");
    let p = NpProfile::default();
    assert_eq!(
        judge_leg(&c, &p, pod(API), ext(1, 1, 1, 1), Protocol::Sctp, 65535),
        "ALLOW"
    );
}

#[test]
fn rule14_namespace_selector_everything() {
    let r = rule(vec![pods(Some(sel(&[])), None)], vec![]);
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    check(&c, pod(CLIENT), pod(API), 1, "ALLOW");
    check(&c, ext(10, 244, 1, 30), pod(API), 1, "DENY np-ingress");
}

#[test]
fn rule17_ip_block_vs_pod_ips_is_a_profile_flag() {
    let r = rule(vec![ip_block("10.244.0.0/16", &[])], vec![]);
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    check(&c, pod(WEB), pod(API), 8080, "ALLOW");
    let p = NpProfile::netpol_analyzer();
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Tcp, 8080),
        "DENY np-ingress"
    );
    // Node IPs likewise (TV-12b).
    let r = rule(vec![ip_block("10.0.0.0/24", &[])], vec![]);
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    check(&c, Endpoint::Node(N1), pod(API), 8080, "ALLOW");
    let p = NpProfile {
        ipblock_matches_nodes: false,
        ..NpProfile::default()
    };
    assert_eq!(
        judge_leg(&c, &p, Endpoint::Node(N1), pod(API), Protocol::Tcp, 8080),
        "DENY np-ingress"
    );
}

#[test]
fn rule18_hostnetwork_pod_is_not_selected() {
    let mut c = with(vec![
        policy("be", "deny", sel(&[]), Some(vec![]), Some(vec![])),
        deny_all_ingress_be(),
    ]);
    let mut host = workload(5, "be", "agent", &[("app", "agent")], [10, 0, 0, 12], 1);
    host.host_network = true;
    c.workloads.push(host);
    // Not selected by the policies of its namespace (no isolation), and as a peer it is the node.
    check(&c, pod(WorkloadId(5)), ext(1, 2, 3, 4), 443, "ALLOW");
    check(&c, pod(WEB), pod(WorkloadId(5)), 443, "ALLOW");
}

#[test]
fn rule19_namespace_by_name_label_even_when_undeclared() {
    let r = rule(
        vec![pods(
            Some(sel(&[("kubernetes.io/metadata.name", "ghost")])),
            None,
        )],
        vec![],
    );
    let mut c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    c.workloads
        .push(workload(5, "ghost", "g", &[], [10, 244, 3, 1], 0));
    check(&c, pod(WorkloadId(5)), pod(API), 80, "ALLOW");
    check(&c, pod(CLIENT), pod(API), 80, "DENY np-ingress");
}

#[test]
fn rule23_protocol_only_port_entry() {
    let r = rule(vec![], vec![port(Protocol::Udp, None, None)]);
    let c = with(vec![policy(
        "be",
        "p",
        sel(&[("app", "api")]),
        Some(vec![r]),
        None,
    )]);
    let p = NpProfile::default();
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Udp, 5353),
        "ALLOW"
    );
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Tcp, 5353),
        "DENY np-ingress"
    );
}

#[test]
fn rule24_named_ports_resolve_on_destination_with_protocol() {
    // Egress named port: resolves on each destination pod; never on a non-pod destination.
    let r = rule(
        vec![],
        vec![
            named("http", Protocol::Tcp),
            named("metrics", Protocol::Udp),
        ],
    );
    let c = with(vec![policy(
        "fe",
        "p",
        sel(&[("app", "web")]),
        None,
        Some(vec![r]),
    )]);
    let p = NpProfile::default();
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Tcp, 8080),
        "ALLOW"
    );
    // `metrics` is TCP on api: the UDP entry does not resolve.
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Udp, 9090),
        "DENY np-egress"
    );
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Tcp, 9090),
        "DENY np-egress"
    );
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), ext(1, 1, 1, 1), Protocol::Tcp, 8080),
        "DENY np-egress"
    );
    let v = evaluate_egress(
        &c,
        &Leg {
            src: pod(WEB),
            dst: ext(1, 1, 1, 1),
            protocol: Protocol::Tcp,
            port: 8080,
        },
        &p,
    );
    assert!(v
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::NamedPortUnresolved { name, .. } if name == "http")));
    // web2 has no container ports at all.
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(WEB2), Protocol::Tcp, 8080),
        "DENY np-egress"
    );
}

#[test]
fn flannel_profile_enforces_nothing() {
    let c = with(vec![deny_all_ingress_be()]);
    let p = NpProfile {
        name: "flannel".into(),
        enforces_network_policy: false,
        ..NpProfile::default()
    };
    assert_eq!(
        judge_leg(&c, &p, pod(WEB), pod(API), Protocol::Tcp, 8080),
        "ALLOW"
    );
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: pod(WEB),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 8080,
        },
        &p,
    );
    assert_eq!(
        v.reasons,
        vec![Reason::NotEnforcedByCni {
            profile: "flannel".into()
        }]
    );
}

#[test]
fn unknown_endpoints_never_panic() {
    let c = with(vec![deny_all_ingress_be()]);
    let p = NpProfile::default();
    let leg = Leg {
        src: pod(WorkloadId(99)),
        dst: pod(API),
        protocol: Protocol::Tcp,
        port: 1,
    };
    assert_eq!(evaluate_ingress(&c, &leg, &p).decision, Decision::Unknown);
    assert_eq!(evaluate_egress(&c, &leg, &p).decision, Decision::Unknown);
    let index = NpIndex::new(&c, &p);
    assert!(index.allowed(pod(WorkloadId(99)), pod(API)).is_empty());
    // A node id with no Node object still works for the exemption.
    let v = evaluate_ingress(
        &c,
        &Leg {
            src: Endpoint::Node(NodeId(7)),
            dst: pod(API),
            protocol: Protocol::Tcp,
            port: 1,
        },
        &p,
    );
    assert_eq!(v.decision, Decision::Deny);
}

// --- property tests -------------------------------------------------------------------------

/// xorshift64* — deterministic, dependency-free.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const KEYS: [&str; 2] = ["a", "b"];
const VALUES: [&str; 2] = ["1", "2"];
const NAMESPACES: [&str; 3] = ["n0", "n1", "n2"];

fn random_labels(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    for k in KEYS {
        if rng.chance(2) {
            l.insert(k.into(), rng.pick(&VALUES).to_string());
        }
    }
    l
}

fn random_selector(rng: &mut Rng) -> LabelSelector {
    let mut expressions = Vec::new();
    for _ in 0..rng.below(3) {
        let k = rng.pick(&KEYS).to_string();
        let v = rng.pick(&VALUES).to_string();
        expressions.push(match rng.below(4) {
            0 => Expression::In(k, vec![v]),
            1 => Expression::NotIn(k, vec![v]),
            2 => Expression::Exists(k),
            _ => Expression::DoesNotExist(k),
        });
    }
    LabelSelector {
        expressions,
        span: Span::default(),
    }
}

const PORTS: [u16; 4] = [53, 80, 8080, 9090];
const PORT_NAMES: [&str; 2] = ["http", "dns"];

fn random_rule(rng: &mut Rng) -> Rule {
    let mut peers = Vec::new();
    for _ in 0..rng.below(3) {
        peers.push(match rng.below(4) {
            0 => ip_block(
                rng.pick(&[
                    "10.0.0.0/8",
                    "10.244.0.0/16",
                    "0.0.0.0/0",
                    "169.254.7.127/32",
                ]),
                rng.pick(&[&[][..], &["10.1.0.0/16"][..]]),
            ),
            1 => pods(None, Some(random_selector(rng))),
            2 => pods(Some(random_selector(rng)), None),
            _ => pods(Some(random_selector(rng)), Some(random_selector(rng))),
        });
    }
    let mut ports = Vec::new();
    for _ in 0..rng.below(3) {
        let protocol = rng.pick(&[Protocol::Tcp, Protocol::Udp, Protocol::Sctp]);
        ports.push(match rng.below(4) {
            0 => port(protocol, None, None),
            1 => port(protocol, Some(PortRef::Number(rng.pick(&PORTS))), None),
            2 => port(protocol, Some(PortRef::Number(80)), Some(8080)),
            _ => named(rng.pick(&PORT_NAMES), protocol),
        });
    }
    rule(peers, ports)
}

fn random_policy(rng: &mut Rng, name: &str) -> NetworkPolicy {
    let ingress = (!rng.chance(3)).then(|| (0..rng.below(3)).map(|_| random_rule(rng)).collect());
    let egress = rng
        .chance(2)
        .then(|| (0..rng.below(3)).map(|_| random_rule(rng)).collect());
    policy(
        rng.pick(&NAMESPACES),
        name,
        random_selector(rng),
        ingress,
        egress,
    )
}

fn random_cluster(rng: &mut Rng) -> Cluster {
    let mut namespaces = Vec::new();
    for n in NAMESPACES {
        // Sometimes undeclared: then it has only its name label (§1.3 rule 19).
        if !rng.chance(4) {
            let mut ns = namespace(n, &[]);
            ns.labels.extend(random_labels(rng));
            namespaces.push(ns);
        }
    }
    let mut workloads = Vec::new();
    for i in 0..1 + rng.below(4) as u32 {
        let mut w = workload(
            i,
            rng.pick(&NAMESPACES),
            &format!("w{i}"),
            &[],
            [10, 244, (i % 3) as u8, 10 + i as u8],
            i % 2,
        );
        w.labels = random_labels(rng);
        w.host_network = rng.chance(8);
        w.containers.push(Container {
            name: "c".into(),
            ports: vec![cport(
                rng.pick(&PORT_NAMES),
                rng.pick(&PORTS),
                rng.pick(&[Protocol::Tcp, Protocol::Udp]),
            )],
            probes: Vec::new(),
        });
        workloads.push(w);
    }
    let network_policies = (0..rng.below(4))
        .map(|i| random_policy(rng, &format!("p{i}")))
        .collect();
    Cluster {
        namespaces,
        nodes: vec![
            Node {
                name: "n0".into(),
                ip: Ipv4Addr::new(10, 0, 0, 1),
            },
            Node {
                name: "n1".into(),
                ip: Ipv4Addr::new(10, 0, 0, 2),
            },
        ],
        workloads,
        network_policies,
        ..Cluster::default()
    }
}

fn endpoints(c: &Cluster) -> Vec<Endpoint> {
    let mut v: Vec<Endpoint> = c.workloads.iter().map(|w| Endpoint::Pod(w.id)).collect();
    v.extend([
        Endpoint::Node(NodeId(0)),
        Endpoint::Node(NodeId(1)),
        Endpoint::ProbeSnat(NodeId(1)),
        Endpoint::External(Ipv4Addr::new(10, 1, 2, 3)),
        Endpoint::External(Ipv4Addr::new(8, 8, 8, 8)),
    ]);
    v
}

fn profiles() -> [NpProfile; 3] {
    [
        NpProfile::default(),
        NpProfile::netpol_analyzer(),
        NpProfile {
            probe_snat_counts_as_node: true,
            end_port_supported: false,
            ..NpProfile::default()
        },
    ]
}

/// The set-based index and the per-leg verdicts agree on every leg, and every `AllowedBy` names
/// a rule that matches on its own (STYLE.md §4 rule 12).
#[test]
fn prop_index_agrees_with_leg_verdicts() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for _ in 0..300 {
        let c = random_cluster(&mut rng);
        for profile in profiles() {
            let index = NpIndex::new(&c, &profile);
            for &src in &endpoints(&c) {
                for &dst in &endpoints(&c) {
                    let set = index.allowed(src, dst);
                    for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
                        for port in [53, 80, 81, 8080, 9090, 65535] {
                            let leg = Leg {
                                src,
                                dst,
                                protocol,
                                port,
                            };
                            let e = evaluate_egress(&c, &leg, &profile);
                            let i = evaluate_ingress(&c, &leg, &profile);
                            assert_eq!(
                                set.contains(protocol, port),
                                e.is_allow() && i.is_allow(),
                                "{leg:?}\n{e:?}\n{i:?}\n{c:#?}"
                            );
                            for v in [&e, &i] {
                                for r in &v.reasons {
                                    if let Reason::AllowedBy(rr) = r {
                                        let only = Cluster {
                                            network_policies: c
                                                .network_policies
                                                .get(rr.policy.index)
                                                .cloned()
                                                .into_iter()
                                                .collect(),
                                            ..c.clone()
                                        };
                                        let again = if v.layer == Layer::NpEgress {
                                            evaluate_egress(&only, &leg, &profile)
                                        } else {
                                            evaluate_ingress(&only, &leg, &profile)
                                        };
                                        assert!(
                                            again.is_allow(),
                                            "{rr:?} does not allow {leg:?} alone"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adding a policy never removes an allowed flow of a pod already isolated in that direction
/// (§1.1 rule 5: policies are additive; STYLE.md §4 rule 12).
#[test]
fn prop_adding_policy_to_isolated_pod_is_additive() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut checked = 0;
    for _ in 0..400 {
        let c = random_cluster(&mut rng);
        let mut bigger = c.clone();
        bigger
            .network_policies
            .push(random_policy(&mut rng, "extra"));
        for profile in profiles() {
            let before = NpIndex::new(&c, &profile);
            let after = NpIndex::new(&bigger, &profile);
            for w in &c.workloads {
                for &other in &endpoints(&c) {
                    if before.is_isolated(w.id, Direction::Ingress) {
                        let (b, a) = (
                            before.allowed_ingress(other, w.id),
                            after.allowed_ingress(other, w.id),
                        );
                        assert!(
                            b.is_subset(&a),
                            "ingress {other:?} -> {:?}: {b} then {a}",
                            w.id
                        );
                        checked += 1;
                    }
                    if before.is_isolated(w.id, Direction::Egress) {
                        let (b, a) = (
                            before.allowed_egress(w.id, other),
                            after.allowed_egress(w.id, other),
                        );
                        assert!(
                            b.is_subset(&a),
                            "egress {:?} -> {other:?}: {b} then {a}",
                            w.id
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "too few isolated pods generated: {checked}");
}

// --- AdminNetworkPolicy / BaselineAdminNetworkPolicy (SEMANTICS.md §1.6) ----------------------

mod admin {
    use super::*;
    use crate::anp::{
        AdminAction, AdminNetworkPolicy, AdminPeer, AdminPeerKind, AdminPort, AdminPortKind,
        AdminRule, BaselineAdminNetworkPolicy, Subject,
    };

    fn from_ns(name: &str, action: AdminAction) -> AdminRule {
        AdminRule {
            name: format!("{}-{name}", action.as_str()),
            action,
            peers: vec![AdminPeer {
                kind: AdminPeerKind::Namespaces(sel(&[("kubernetes.io/metadata.name", name)])),
                span: Span::default(),
            }],
            ports: None,
            span: Span::default(),
        }
    }

    fn anp(name: &str, priority: u32, ingress: Vec<AdminRule>) -> AdminNetworkPolicy {
        AdminNetworkPolicy {
            name: name.into(),
            priority,
            subject: Subject::Namespaces(sel(&[("team", "be")])),
            ingress,
            egress: Vec::new(),
            span: Span::default(),
        }
    }

    /// `be` NP `ingress: [{}]` on all pods.
    fn be_allow_all() -> NetworkPolicy {
        policy(
            "be",
            "allow-all",
            sel(&[]),
            Some(vec![rule(vec![], vec![])]),
            None,
        )
    }

    fn reasons(c: &Cluster, src: WorkloadId, dst: WorkloadId) -> Vec<Reason> {
        let leg = Leg {
            src: Endpoint::Pod(src),
            dst: Endpoint::Pod(dst),
            protocol: Protocol::Tcp,
            port: 8080,
        };
        evaluate_ingress(c, &leg, &NpProfile::default()).reasons
    }

    /// TV-46: ANP Deny beats the NetworkPolicy; `Pass` hands over to it; with no NetworkPolicy
    /// selecting api, the BANP decides.
    #[test]
    fn tv46_anp_ordering() {
        let api = Endpoint::Pod(API);
        let client = Endpoint::Pod(CLIENT);
        let mut c = with(vec![be_allow_all()]);
        c.admin_network_policies = vec![anp(
            "deny-legacy",
            10,
            vec![from_ns("legacy", AdminAction::Deny)],
        )];
        check(&c, client, api, 8080, "DENY np-ingress");
        assert!(matches!(
            reasons(&c, CLIENT, API).as_slice(),
            [Reason::AdminDenied(r)] if r.name == "deny-legacy" && r.priority == Some(10) && r.rule == 0
        ));
        // Other sources are not matched by the ANP: the NetworkPolicy allows them.
        check(&c, Endpoint::Pod(WEB), api, 8080, "ALLOW");

        // Pass: NetworkPolicy decides (allows).
        c.admin_network_policies[0].ingress[0].action = AdminAction::Pass;
        check(&c, client, api, 8080, "ALLOW");
        assert!(matches!(
            reasons(&c, CLIENT, API).as_slice(),
            [Reason::AllowedBy(_), Reason::AdminPassed(_)]
        ));

        // Pass, no NetworkPolicy selecting api, BANP Deny from legacy: denied.
        c.network_policies.clear();
        c.baseline_admin_network_policy = Some(BaselineAdminNetworkPolicy {
            name: "default".into(),
            subject: Subject::Namespaces(sel(&[("team", "be")])),
            ingress: vec![from_ns("legacy", AdminAction::Deny)],
            egress: Vec::new(),
            span: Span::default(),
        });
        check(&c, client, api, 8080, "DENY np-ingress");
        assert!(matches!(
            reasons(&c, CLIENT, API).as_slice(),
            [Reason::BaselineDenied(_), Reason::AdminPassed(_)]
        ));
        // The BANP does not apply when a NetworkPolicy isolates the pod (§1.6 rule 28).
        c.network_policies = vec![be_allow_all()];
        check(&c, client, api, 8080, "ALLOW");
    }

    /// Priority order (lower first), rule order within an ANP, and per-port first match.
    #[test]
    fn priority_rule_order_and_ports() {
        let api = Endpoint::Pod(API);
        let client = Endpoint::Pod(CLIENT);
        let mut allow_8080 = from_ns("legacy", AdminAction::Allow);
        allow_8080.ports = Some(vec![AdminPort {
            kind: AdminPortKind::Named("http".into()),
            span: Span::default(),
        }]);
        let mut c = with(vec![policy("be", "deny", sel(&[]), Some(vec![]), None)]);
        c.admin_network_policies = vec![
            anp("later", 20, vec![from_ns("legacy", AdminAction::Deny)]),
            anp(
                "first",
                5,
                vec![allow_8080, from_ns("legacy", AdminAction::Pass)],
            ),
        ];
        // `first` (priority 5) allows the named port http=8080 despite the isolating NP.
        check(&c, client, api, 8080, "ALLOW");
        // Other ports: `first` passes (so `later` is skipped) and the NP denies.
        check(&c, client, api, 9090, "DENY np-ingress");
        // Without the pass rule, `later` denies; the NP would have denied too, so remove it.
        c.admin_network_policies[1].ingress.pop();
        c.network_policies.clear();
        check(&c, client, api, 9090, "DENY np-ingress");
        check(&c, client, api, 8080, "ALLOW");
        // Ingress rules say nothing about egress: the client's egress side is untouched.
        let leg = Leg {
            src: client,
            dst: api,
            protocol: Protocol::Tcp,
            port: 9090,
        };
        assert!(evaluate_egress(&c, &leg, &NpProfile::default()).is_allow());
    }

    /// Egress `networks` match external addresses; `nodes` match nothing; a non-enforcing CNI
    /// enforces no tier.
    #[test]
    fn egress_networks_and_nodes() {
        let web = Endpoint::Pod(WEB);
        let deny = |kind: AdminPeerKind| AdminRule {
            name: "deny".into(),
            action: AdminAction::Deny,
            peers: vec![AdminPeer {
                kind,
                span: Span::default(),
            }],
            ports: None,
            span: Span::default(),
        };
        let mut c = topology();
        c.admin_network_policies = vec![AdminNetworkPolicy {
            name: "egress".into(),
            priority: 1,
            subject: Subject::Namespaces(sel(&[])),
            ingress: Vec::new(),
            egress: vec![
                deny(AdminPeerKind::Nodes),
                deny(AdminPeerKind::Networks(vec!["8.8.8.0/24"
                    .parse()
                    .expect("cidr")])),
            ],
            span: Span::default(),
        }];
        check(&c, web, ext(8, 8, 8, 8), 53, "DENY np-egress");
        check(&c, web, ext(8, 8, 4, 4), 53, "ALLOW");
        check(&c, web, Endpoint::Pod(API), 8080, "ALLOW");
        let off = NpProfile {
            enforces_network_policy: false,
            ..NpProfile::default()
        };
        assert_eq!(
            judge_leg(&c, &off, web, ext(8, 8, 8, 8), Protocol::Tcp, 53),
            "ALLOW"
        );
    }
}
