//! Istio layer tests: ztunnel conversion and matching tables (ztunnel `rbac_test` style,
//! positive and `not` variants side by side), the §4/§5 edge cases, Envoy rule 20, legs per §0
//! row, and the SEMANTICS.md §9 vectors TV-14…TV-45 (+ TV-09b, TV-12b, TV-16a–c) on the §9
//! topology built in code. Property: adding a DENY never turns a deny into an allow.

use std::net::Ipv4Addr;

use super::envoy::{self, Role};
use super::legs::{LegRole, MeshFlow, MeshSource, MeshTarget, Proxy};
use super::model::*;
use super::ztunnel::{self, Clause, Group, Match, Rejection, ServiceAccountMatch};
use super::*;
use crate::model::{
    Container, ContainerPort, NodeId, PortRef, Probe, ProbeAction, ProbeKind, Protocol, Service,
    ServicePort,
};
use crate::netpol::tests as np;
use crate::netpol::{self, NetworkPolicy, NpProfile};
use crate::verdict::{Decision, Endpoint, Reason};

// --- §9 topology ------------------------------------------------------------------------------

const WEB: WorkloadId = np::WEB;
const OTHER: WorkloadId = np::OTHER;
const API: WorkloadId = np::API;
const WEB2: WorkloadId = np::WEB2;
const CLIENT: WorkloadId = np::CLIENT;
const N1: NodeId = np::N1;
const N2: NodeId = np::N2;
const WAYPOINT: WorkloadId = WorkloadId(5);
const API_SVC: usize = 0;

fn topology() -> Cluster {
    let mut c = np::topology();
    for (w, sa) in c
        .workloads
        .iter_mut()
        .zip(["web", "other", "api", "web2", "default"])
    {
        w.service_account = sa.to_string();
    }
    c.services.push(Service {
        name: "api".into(),
        namespace: "be".into(),
        labels: Labels::new(),
        selector: Some(np::labels(&[("app", "api")])),
        ports: vec![ServicePort {
            name: Some("http".into()),
            port: 80,
            target_port: PortRef::Number(8080),
            protocol: Protocol::Tcp,
            span: Span::default(),
        }],
        span: Span::default(),
    });
    c
}

fn label_ns(c: &mut Cluster, ns: &str, key: &str, value: &str) {
    if let Some(n) = c.namespaces.iter_mut().find(|n| n.name == ns) {
        n.labels.insert(key.into(), value.into());
    }
}

/// "ambient(fe,be)".
fn ambient(nss: &[&str]) -> Cluster {
    let mut c = topology();
    for ns in nss {
        label_ns(&mut c, ns, mesh::DATAPLANE_MODE_LABEL, "ambient");
    }
    c
}

/// TV-32's waypoint in `be` (sa `waypoint`, 10.244.2.50) and ns label `istio.io/use-waypoint`.
fn with_waypoint(mut c: Cluster) -> Cluster {
    let mut wp = np::workload(
        5,
        "be",
        "waypoint",
        &[
            (mesh::GATEWAY_NAME_LABEL, "waypoint"),
            (mesh::DATAPLANE_MODE_LABEL, "none"),
        ],
        [10, 244, 2, 50],
        1,
    );
    wp.service_account = "waypoint".into();
    c.workloads.push(wp);
    c.waypoints.push(Waypoint {
        name: "waypoint".into(),
        namespace: "be".into(),
        waypoint_for: WaypointFor::Service,
        labels: Labels::new(),
        workload: None,
        span: Span::default(),
    });
    label_ns(&mut c, "be", mesh::USE_WAYPOINT_LABEL, "waypoint");
    materialize_waypoints(&mut c);
    c
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn ap(
    ns: &str,
    name: &str,
    target: Target,
    action: Action,
    rules: Vec<Rule>,
) -> AuthorizationPolicy {
    AuthorizationPolicy {
        name: name.into(),
        namespace: ns.into(),
        target,
        action,
        provider: None,
        rules,
        dry_run: false,
        span: Span::default(),
    }
}

fn api_selector() -> Target {
    Target::Selector(np::labels(&[("app", "api")]))
}

fn rule(from: Vec<super::model::Source>, to: Vec<Operation>, when: Vec<Condition>) -> Rule {
    Rule {
        from,
        to,
        when,
        span: Span::default(),
    }
}

fn principals(v: &[&str]) -> super::model::Source {
    super::model::Source {
        principals: s(v),
        ..Default::default()
    }
}

fn namespaces(v: &[&str]) -> super::model::Source {
    super::model::Source {
        namespaces: s(v),
        ..Default::default()
    }
}

fn methods(v: &[&str]) -> Operation {
    Operation {
        methods: s(v),
        ..Default::default()
    }
}

fn ports(v: &[&str]) -> Operation {
    Operation {
        ports: s(v),
        ..Default::default()
    }
}

fn get(path: &str) -> Option<HttpRequest> {
    Some(HttpRequest {
        method: "GET".into(),
        path: path.into(),
        host: None,
        headers: Vec::new(),
    })
}

fn post(path: &str) -> Option<HttpRequest> {
    Some(HttpRequest {
        method: "POST".into(),
        path: path.into(),
        host: None,
        headers: Vec::new(),
    })
}

fn to_svc(port: u16) -> MeshTarget {
    MeshTarget::Service {
        service: API_SVC,
        port,
        endpoint: API,
    }
}

fn flow(src: MeshSource, dst: MeshTarget, port: u16, http: Option<HttpRequest>) -> MeshFlow {
    MeshFlow {
        src,
        dst,
        protocol: Protocol::Tcp,
        port,
        http,
        bypass: false,
    }
}

fn wl(id: WorkloadId) -> MeshSource {
    MeshSource::Workload(id)
}

/// The whole flow: every leg, NP egress, NP ingress, then the proxy (§0). Returns `ALLOW`, or
/// the first non-allow as `DENY np-ingress` / `DENY ztunnel` / `UNKNOWN waypoint`.
#[track_caller]
fn run(c: &Cluster, o: &MeshOptions, p: &NpProfile, f: &MeshFlow) -> String {
    let legs = plan(c, o, f);
    assert!(!legs.is_empty(), "no legs for {f:?}");
    for l in &legs {
        let mut verdicts = vec![
            netpol::evaluate_egress(c, &l.leg, p),
            netpol::evaluate_ingress(c, &l.leg, p),
        ];
        if let Some(j) = judge(c, o, l) {
            verdicts.push(j.verdict);
        }
        if let Some(v) = verdicts.iter().find(|v| v.decision != Decision::Allow) {
            return format!("{} {}", v.decision.as_str().to_uppercase(), v.layer);
        }
    }
    "ALLOW".into()
}

#[track_caller]
fn check(c: &Cluster, f: &MeshFlow, expected: &str) {
    assert_eq!(
        run(c, &MeshOptions::default(), &NpProfile::default(), f),
        expected,
        "{f:?}"
    );
}

/// The proxy judgement of the last leg that has one.
fn last_judgement(c: &Cluster, f: &MeshFlow) -> Option<Judgement> {
    let o = MeshOptions::default();
    plan(c, &o, f)
        .iter()
        .filter_map(|l| judge(c, &o, l))
        .next_back()
}

fn ingress_np(ns: &str, sel: &[(&str, &str)], rules: Vec<netpol::Rule>) -> NetworkPolicy {
    np::policy(ns, "np", np::sel(sel), Some(rules), None)
}

fn deny_all_ingress(ns: &str) -> NetworkPolicy {
    np::policy(ns, "deny-all", np::sel(&[]), Some(vec![]), None)
}

// --- ztunnel matcher tables (§5.2), rbac_test style ------------------------------------------

fn id(ns: &str, sa: &str) -> Identity {
    Identity {
        trust_domain: "cluster.local".into(),
        namespace: ns.into(),
        service_account: sa.into(),
    }
}

fn plaintext_conn() -> Connection {
    Connection {
        src_ip: Ipv4Addr::new(10, 244, 1, 30),
        src_identity: None,
        dst_ip: Ipv4Addr::new(10, 244, 2, 20),
        dst_port: 8080,
        http: None,
    }
}

fn tls_conn() -> Connection {
    Connection {
        src_ip: Ipv4Addr::new(10, 244, 1, 10),
        src_identity: Some(id("fe", "web")),
        ..plaintext_conn()
    }
}

fn tls_conn_alt() -> Connection {
    Connection {
        src_ip: Ipv4Addr::new(10, 244, 1, 11),
        src_identity: Some(id("other", "other")),
        dst_port: 9090,
        ..plaintext_conn()
    }
}

fn allow_policy(m: Match) -> ztunnel::Authorization {
    ztunnel::Authorization {
        name: "p".into(),
        namespace: "be".into(),
        scope: ztunnel::Scope::Namespace,
        action: ztunnel::ZAction::Allow,
        groups: vec![Group {
            clauses: vec![Clause { matches: vec![m] }],
            rule: 0,
            span: None,
        }],
        dry_run: false,
        selector: None,
        origin: crate::verdict::AuthzOrigin::StaticStrict { decided_by: None },
    }
}

macro_rules! rbac_test {
    ($name:ident, $m:expr, $($conn:expr => $want:expr),+ $(,)?) => {
        #[test]
        fn $name() {
            let policy = allow_policy($m);
            $( assert_eq!(policy.matches(&$conn), $want, "{}: {:?}", stringify!($conn), $conn); )+
        }
    };
}

fn net(v: &str) -> ipnet::IpNet {
    v.parse().expect("cidr")
}

rbac_test!(rbac_namespaces, Match { namespaces: vec![StringMatch::Exact("fe".into())], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true, tls_conn_alt() => false);
rbac_test!(rbac_not_namespaces, Match { not_namespaces: vec![StringMatch::Exact("fe".into())], ..Default::default() },
    plaintext_conn() => true, tls_conn() => false, tls_conn_alt() => true);
rbac_test!(rbac_namespaces_presence, Match { namespaces: vec![StringMatch::Presence], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true);
rbac_test!(rbac_principals, Match { principals: vec![StringMatch::Exact("cluster.local/ns/fe/sa/web".into())], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true, tls_conn_alt() => false);
rbac_test!(rbac_not_principals, Match { not_principals: vec![StringMatch::Exact("cluster.local/ns/fe/sa/web".into())], ..Default::default() },
    plaintext_conn() => true, tls_conn() => false, tls_conn_alt() => true);
rbac_test!(rbac_principals_presence, Match { principals: vec![StringMatch::Presence], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true);
rbac_test!(rbac_not_principals_presence, Match { not_principals: vec![StringMatch::Presence], ..Default::default() },
    plaintext_conn() => true, tls_conn() => false);
rbac_test!(rbac_service_accounts, Match { service_accounts: vec![ServiceAccountMatch { namespace: "fe".into(), service_account: "web".into() }], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true, tls_conn_alt() => false);
rbac_test!(rbac_not_service_accounts, Match { not_service_accounts: vec![ServiceAccountMatch { namespace: "fe".into(), service_account: "web".into() }], ..Default::default() },
    plaintext_conn() => true, tls_conn() => false, tls_conn_alt() => true);
rbac_test!(rbac_source_ips, Match { source_ips: vec![net("10.244.1.10/32")], ..Default::default() },
    plaintext_conn() => false, tls_conn() => true);
rbac_test!(rbac_not_source_ips, Match { not_source_ips: vec![net("10.244.1.10/32")], ..Default::default() },
    plaintext_conn() => true, tls_conn() => false);
rbac_test!(rbac_destination_ips, Match { destination_ips: vec![net("10.244.2.0/24")], ..Default::default() },
    plaintext_conn() => true, tls_conn() => true);
rbac_test!(rbac_not_destination_ips, Match { not_destination_ips: vec![net("10.244.2.0/24")], ..Default::default() },
    plaintext_conn() => false, tls_conn() => false);
rbac_test!(rbac_destination_ports, Match { destination_ports: vec![8080], ..Default::default() },
    tls_conn() => true, tls_conn_alt() => false);
rbac_test!(rbac_not_destination_ports, Match { not_destination_ports: vec![8080], ..Default::default() },
    tls_conn() => false, tls_conn_alt() => true);

/// ztunnel `rbac_empty_policy`: no rules ⇒ nothing; no clauses or empty clause ⇒ everything;
/// an all-empty match ⇒ nothing.
#[test]
fn rbac_empty_policy() {
    let mut p = allow_policy(Match::default());
    assert!(!p.matches(&tls_conn()), "all-empty match never matches");
    p.groups = vec![];
    assert!(!p.matches(&tls_conn()), "no groups");
    p.groups = vec![Group {
        clauses: vec![],
        rule: 0,
        span: None,
    }];
    assert!(p.matches(&plaintext_conn()), "group without clauses");
    p.groups = vec![Group {
        clauses: vec![Clause::default()],
        rule: 0,
        span: None,
    }];
    assert!(p.matches(&plaintext_conn()), "clause without matches");
}

// --- conversion (§5.1) ------------------------------------------------------------------------

fn convert_one(p: AuthorizationPolicy) -> ztunnel::Conversion {
    let mut c = topology();
    c.authorization_policies.push(p);
    let p = c.authorization_policies[0].clone();
    ztunnel::convert(&p, 0, &c, &MeshOptions::default())
}

#[test]
fn conversion_scopes_and_unsent() {
    let scope = |ns: &str, t: Target| {
        convert_one(ap(ns, "p", t, Action::Allow, vec![]))
            .authorization
            .map(|a| a.scope)
    };
    assert_eq!(
        scope("be", Target::Namespace),
        Some(ztunnel::Scope::Namespace)
    );
    assert_eq!(
        scope("istio-system", Target::Namespace),
        Some(ztunnel::Scope::Global)
    );
    assert_eq!(
        scope("be", api_selector()),
        Some(ztunnel::Scope::WorkloadSelector)
    );
    assert_eq!(
        scope("be", Target::Selector(Labels::new())),
        Some(ztunnel::Scope::WorkloadSelector)
    );
    let tr = convert_one(ap(
        "be",
        "p",
        Target::TargetRefs(vec![]),
        Action::Deny,
        vec![rule(vec![], vec![], vec![])],
    ));
    assert!(tr.authorization.is_none() && tr.status.is_none());
    let mut dry = ap("be", "d", Target::Namespace, Action::Deny, vec![]);
    dry.dry_run = true;
    let c = convert_one(dry);
    assert!(c.authorization.is_none());
    assert_eq!(
        c.status.map(|s| s.message).as_deref(),
        Some("found policy \"be/d\" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn't enabled")
    );
}

/// §5.1 step 7: ALLOW rules with L7 are dropped; the policy stays with zero rules.
#[test]
fn conversion_allow_with_l7_drops_rule() {
    let c = convert_one(ap(
        "be",
        "p",
        api_selector(),
        Action::Allow,
        vec![rule(
            vec![principals(&["cluster.local/ns/fe/sa/web"])],
            vec![methods(&["GET"])],
            vec![],
        )],
    ));
    let a = c.authorization.expect("sent");
    assert!(a.groups.is_empty());
    assert_eq!(
        c.status.expect("status").message,
        "ztunnel does not support HTTP attributes (found: methods). In ambient mode you must use a waypoint proxy to enforce HTTP rules. Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested."
    );
}

/// §5.1 step 8: DENY keeps the L4 part; an L7-only `to` leaves an empty clause ⇒ no effect.
#[test]
fn conversion_deny_with_l7() {
    let mixed = convert_one(ap(
        "be",
        "p",
        api_selector(),
        Action::Deny,
        vec![rule(
            vec![],
            vec![Operation {
                ports: s(&["8080"]),
                methods: s(&["POST"]),
                ..Default::default()
            }],
            vec![],
        )],
    ));
    let a = mixed.authorization.expect("sent");
    assert!(a.matches(&tls_conn()) && !a.matches(&tls_conn_alt()));
    assert!(mixed.status.expect("status").message.ends_with(
        "DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested."));
    let only_l7 = convert_one(ap(
        "be",
        "p",
        api_selector(),
        Action::Deny,
        vec![rule(
            vec![namespaces(&["fe"])],
            vec![methods(&["POST"])],
            vec![],
        )],
    ));
    let a = only_l7.authorization.expect("sent");
    assert!(!a.matches(&tls_conn()), "L4 from AND L7-only to is a no-op");
    assert_eq!(
        only_l7.status.expect("status").message,
        "ztunnel does not support HTTP attributes (found: methods). In ambient mode you must use a waypoint proxy to enforce HTTP rules. After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no effect. Deploy a waypoint proxy and use a targetRef to enforce this policy."
    );
    // An L7 `when` key in DENY: empty clause, never matches; found list sorted and joined.
    let when = convert_one(ap(
        "be",
        "p",
        api_selector(),
        Action::Deny,
        vec![rule(
            vec![super::model::Source {
                request_principals: s(&["*"]),
                namespaces: s(&["fe"]),
                ..Default::default()
            }],
            vec![],
            vec![Condition {
                key: "request.headers[x]".into(),
                values: s(&["a"]),
                ..Default::default()
            }],
        )],
    ));
    assert!(!when.authorization.expect("sent").matches(&tls_conn()));
    assert!(when
        .status
        .expect("status")
        .message
        .contains("(found: request.headers[x], requestPrincipals)"));
}

/// §10.4 (c): trustDomains-only `from` never matches at ztunnel; no status.
#[test]
fn conversion_trust_domains_only_from() {
    let c = convert_one(ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![rule(
            vec![super::model::Source {
                trust_domains: s(&["cluster.local"]),
                ..Default::default()
            }],
            vec![],
            vec![],
        )],
    ));
    assert!(c.status.is_none());
    let a = c.authorization.expect("sent");
    assert!(!a.matches(&tls_conn()) && !a.matches(&plaintext_conn()));
    // Combined with another field the trust-domain part is ignored.
    let c = convert_one(ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![rule(
            vec![super::model::Source {
                trust_domains: s(&["other.td"]),
                namespaces: s(&["fe"]),
                ..Default::default()
            }],
            vec![],
            vec![],
        )],
    ));
    assert!(c.authorization.expect("sent").matches(&tls_conn()));
}

#[test]
fn conversion_when_keys_and_service_accounts() {
    let c = convert_one(ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![rule(
            vec![super::model::Source {
                service_accounts: s(&["fe/web", "api"]),
                ..Default::default()
            }],
            vec![],
            vec![
                Condition {
                    key: "destination.port".into(),
                    values: s(&["8080"]),
                    ..Default::default()
                },
                Condition {
                    key: "source.ip".into(),
                    not_values: s(&["10.244.1.11"]),
                    ..Default::default()
                },
            ],
        )],
    ));
    let a = c.authorization.expect("sent");
    assert!(a.matches(&tls_conn()));
    assert!(!a.matches(&tls_conn_alt()));
    let api_conn = Connection {
        src_identity: Some(id("be", "api")),
        ..tls_conn()
    };
    assert!(a.matches(&api_conn), "bare sa = policy namespace");
}

// --- Envoy (§4.2, §4.3) ----------------------------------------------------------------------

fn envoy_decide(
    policies: Vec<AuthorizationPolicy>,
    conn: &Connection,
) -> (Decision, Option<Denial>, Vec<String>) {
    let mut c = topology();
    c.authorization_policies = policies;
    let idx: Vec<usize> = (0..c.authorization_policies.len()).collect();
    let j = envoy::evaluate(&c, &idx, conn, crate::verdict::Layer::Sidecar);
    (
        j.verdict.decision,
        j.denial,
        j.rbac_log.iter().map(logs::envoy_rbac_line).collect(),
    )
}

fn http_conn(method: &str, path: &str) -> Connection {
    Connection {
        http: Some(HttpRequest {
            method: method.into(),
            path: path.into(),
            host: Some("api.be:80".into()),
            headers: vec![("x-token".into(), "abc".into())],
        }),
        ..tls_conn()
    }
}

/// §4.3 rule 20: HTTP fields on a TCP connection — ALLOW never matches, DENY treated as matched.
#[test]
fn envoy_http_fields_on_tcp() {
    let allow = ap(
        "be",
        "allow-get",
        Target::Namespace,
        Action::Allow,
        vec![rule(vec![], vec![methods(&["GET"])], vec![])],
    );
    let deny = ap(
        "be",
        "deny-post",
        Target::Namespace,
        Action::Deny,
        vec![rule(vec![], vec![methods(&["POST"])], vec![])],
    );
    assert_eq!(
        envoy_decide(vec![allow.clone()], &tls_conn()).0,
        Decision::Deny
    );
    assert_eq!(
        envoy_decide(vec![allow], &http_conn("GET", "/")).0,
        Decision::Allow
    );
    let (d, denial, log) = envoy_decide(vec![deny.clone()], &tls_conn());
    assert_eq!((d, denial), (Decision::Deny, Some(Denial::Reset)));
    assert_eq!(
        log,
        ["enforced denied, matched policy ns[be]-policy[deny-post]-rule[0]"]
    );
    assert_eq!(
        envoy_decide(vec![deny.clone()], &http_conn("GET", "/")).0,
        Decision::Allow
    );
    let (d, denial, _) = envoy_decide(vec![deny], &http_conn("POST", "/"));
    assert_eq!((d, denial), (Decision::Deny, Some(Denial::Http403)));
}

/// Table per operation/source/condition field at Envoy (HTTP connection from fe/web).
#[test]
fn envoy_field_table() {
    let op = |o: Operation| rule(vec![], vec![o], vec![]);
    let src = |s: super::model::Source| rule(vec![s], vec![], vec![]);
    let when = |k: &str, v: &[&str], n: &[&str]| {
        rule(
            vec![],
            vec![],
            vec![Condition {
                key: k.into(),
                values: s(v),
                not_values: s(n),
                span: Span::default(),
            }],
        )
    };
    let rows: Vec<(&str, Rule, bool)> = vec![
        ("methods", op(methods(&["GET"])), true),
        (
            "notMethods",
            op(Operation {
                not_methods: s(&["GET"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "paths prefix",
            op(Operation {
                paths: s(&["/public/*"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "notPaths",
            op(Operation {
                not_paths: s(&["/public/*"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "hosts ci",
            op(Operation {
                hosts: s(&["API.be"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "notHosts",
            op(Operation {
                not_hosts: s(&["api.be"]),
                ..Default::default()
            }),
            false,
        ),
        ("ports", op(ports(&["8080"])), true),
        (
            "notPorts",
            op(Operation {
                not_ports: s(&["8080"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "principals",
            src(principals(&["cluster.local/ns/fe/sa/web"])),
            true,
        ),
        (
            "notPrincipals",
            src(super::model::Source {
                not_principals: s(&["*"]),
                ..Default::default()
            }),
            false,
        ),
        ("namespaces", src(namespaces(&["f*"])), true),
        (
            "notNamespaces",
            src(super::model::Source {
                not_namespaces: s(&["fe"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "serviceAccounts",
            src(super::model::Source {
                service_accounts: s(&["fe/web"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "notServiceAccounts",
            src(super::model::Source {
                not_service_accounts: s(&["fe/web"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "ipBlocks",
            src(super::model::Source {
                ip_blocks: s(&["10.244.1.0/24"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "notIpBlocks",
            src(super::model::Source {
                not_ip_blocks: s(&["10.244.1.10"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "remoteIpBlocks",
            src(super::model::Source {
                remote_ip_blocks: s(&["10.244.1.10"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "requestPrincipals (no JWT)",
            src(super::model::Source {
                request_principals: s(&["*"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "notRequestPrincipals (no JWT)",
            src(super::model::Source {
                not_request_principals: s(&["*"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "trustDomains",
            src(super::model::Source {
                trust_domains: s(&["cluster.local"]),
                ..Default::default()
            }),
            true,
        ),
        (
            "notTrustDomains",
            src(super::model::Source {
                not_trust_domains: s(&["cluster.local"]),
                ..Default::default()
            }),
            false,
        ),
        (
            "when header",
            when("request.headers[X-Token]", &["abc"], &[]),
            true,
        ),
        (
            "when header notValues",
            when("request.headers[x-token]", &[], &["abc"]),
            false,
        ),
        (
            "when source.namespace",
            when("source.namespace", &["fe"], &[]),
            true,
        ),
        (
            "when destination.port",
            when("destination.port", &[], &["8080"]),
            false,
        ),
        (
            "when unsupported key ignored",
            when("foo.bar", &["x"], &[]),
            true,
        ),
    ];
    for (name, r, want) in rows {
        let p = ap("be", "p", Target::Namespace, Action::Allow, vec![r]);
        let (d, _, _) = envoy_decide(vec![p], &http_conn("GET", "/public/x"));
        assert_eq!(d == Decision::Allow, want, "{name}");
    }
    // Plaintext: identity fields — positive fails, negative succeeds (§4.3 rule 19).
    let plain = Connection {
        http: http_conn("GET", "/").http,
        ..plaintext_conn()
    };
    let p = ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![src(super::model::Source {
            not_namespaces: s(&["fe"]),
            ..Default::default()
        })],
    );
    assert_eq!(envoy_decide(vec![p], &plain).0, Decision::Allow);
    let p = ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![src(principals(&["*"]))],
    );
    assert_eq!(envoy_decide(vec![p], &plain).0, Decision::Deny);
    // Unmodelled keys make the result unknown, never a guess.
    let p = ap(
        "be",
        "p",
        Target::Namespace,
        Action::Allow,
        vec![when("connection.sni", &["x"], &[])],
    );
    assert_eq!(envoy_decide(vec![p], &tls_conn()).0, Decision::Unknown);
}

/// §4.2: CUSTOM → unknown unless denied anyway; AUDIT ignored; `spec: {}` denies all;
/// DENY without rules is a no-op; `rules: [{}]` allows all; dry-run only logs.
#[test]
fn envoy_action_order_and_edges() {
    let empty_rule = || vec![rule(vec![], vec![], vec![])];
    let custom = AuthorizationPolicy {
        provider: Some("ext".into()),
        ..ap("be", "c", Target::Namespace, Action::Custom, empty_rule())
    };
    assert_eq!(
        envoy_decide(vec![custom.clone()], &tls_conn()).0,
        Decision::Unknown
    );
    let deny_all = ap("be", "d", Target::Namespace, Action::Deny, empty_rule());
    assert_eq!(
        envoy_decide(vec![custom, deny_all], &tls_conn()).0,
        Decision::Deny
    );
    assert_eq!(
        envoy_decide(
            vec![ap(
                "be",
                "a",
                Target::Namespace,
                Action::Audit,
                empty_rule()
            )],
            &tls_conn()
        )
        .0,
        Decision::Allow
    );
    let (d, _, log) = envoy_decide(
        vec![ap(
            "be",
            "nothing",
            Target::Namespace,
            Action::Allow,
            vec![],
        )],
        &tls_conn(),
    );
    assert_eq!(d, Decision::Deny);
    assert_eq!(log, ["enforced denied, matched policy none"]);
    assert_eq!(
        envoy_decide(
            vec![ap("be", "d", Target::Namespace, Action::Deny, vec![])],
            &tls_conn()
        )
        .0,
        Decision::Allow
    );
    assert_eq!(
        envoy_decide(
            vec![
                ap("be", "nothing", Target::Namespace, Action::Allow, vec![]),
                ap("be", "all", Target::Namespace, Action::Allow, empty_rule())
            ],
            &plaintext_conn()
        )
        .0,
        Decision::Allow
    );
    let mut dry = ap("be", "dry", Target::Namespace, Action::Deny, empty_rule());
    dry.dry_run = true;
    let (d, _, log) = envoy_decide(vec![dry], &tls_conn());
    assert_eq!(d, Decision::Allow);
    assert_eq!(
        log,
        ["shadow denied, matched policy ns[be]-policy[dry]-rule[0]"]
    );
}

// --- PeerAuthentication (§4.4) ---------------------------------------------------------------

fn pa(
    ns: &str,
    name: &str,
    selector: Option<&[(&str, &str)]>,
    mode: MtlsMode,
    port_level: Vec<(u16, MtlsMode)>,
    ts: &str,
) -> PeerAuthentication {
    PeerAuthentication {
        name: name.into(),
        namespace: ns.into(),
        selector: selector.map(np::labels),
        mode,
        port_level,
        creation_timestamp: Some(ts.into()),
        span: Span::default(),
    }
}

#[test]
fn peer_authentication_precedence() {
    let mut c = topology();
    c.peer_authentications = vec![
        pa(
            "istio-system",
            "mesh",
            None,
            MtlsMode::Strict,
            vec![],
            "2024-01-01T00:00:00Z",
        ),
        pa(
            "be",
            "ns-new",
            None,
            MtlsMode::Permissive,
            vec![],
            "2024-03-01T00:00:00Z",
        ),
        pa(
            "be",
            "ns-old",
            None,
            MtlsMode::Unset,
            vec![],
            "2024-02-01T00:00:00Z",
        ),
        pa(
            "istio-system",
            "root-sel",
            Some(&[("app", "api")]),
            MtlsMode::Disable,
            vec![],
            "2020-01-01T00:00:00Z",
        ),
        pa(
            "be",
            "wl",
            Some(&[("app", "api")]),
            MtlsMode::Unset,
            vec![(9090, MtlsMode::Permissive)],
            "2024-01-01T00:00:00Z",
        ),
    ];
    let o = MeshOptions::default();
    let api = c.workload(API).clone();
    // ns-old (oldest, UNSET) inherits mesh STRICT; root selector policy ignored.
    let e = peerauth::effective(&c, &o, &api, 8080);
    assert_eq!((e.mode, e.decided_by), (MtlsMode::Strict, Some(0)));
    assert_eq!(
        peerauth::effective(&c, &o, &api, 9090).mode,
        MtlsMode::Permissive
    );
    // istiod quirk, reproduced: with an UNSET namespace policy present, the PERMISSIVE port is
    // skipped by `convertPeerAuthentication` and the static policy is elided, so ztunnel gets
    // neither (the sidecar view above inherits STRICT).
    assert!(peerauth::ztunnel_policies(&c, &o, &api).is_empty());
    // Without the namespace policy: STRICT mesh + PERMISSIVE port ⇒ converted workload policy,
    // no static strict.
    c.peer_authentications.remove(2);
    c.peer_authentications.remove(1);
    let zs = peerauth::ztunnel_policies(&c, &o, &api);
    assert_eq!(zs.len(), 1);
    assert_eq!(zs[0].name, "converted_peer_authentication_wl");
    let on = |port| Connection {
        dst_port: port,
        ..plaintext_conn()
    };
    assert!(zs[0].matches(&on(8080)), "plaintext on 8080 denied");
    assert!(!zs[0].matches(&on(9090)), "9090 exempt");
    assert!(!zs[0].matches(&Connection {
        dst_port: 8080,
        ..tls_conn()
    }));
}

// --- Legs (§0 table) --------------------------------------------------------------------------

type Shape = (Endpoint, Endpoint, u16, LegRole, Proxy, Option<u16>, bool);

#[test]
fn legs_per_section_0_row() {
    let o = MeshOptions::default();
    let shape = |c: &Cluster, f: MeshFlow| -> Vec<Shape> {
        plan(c, &o, &f)
            .into_iter()
            .map(|l| {
                (
                    l.leg.src,
                    l.leg.dst,
                    l.leg.port,
                    l.role,
                    l.terminated_by,
                    l.seen.as_ref().map(|s| s.dst_port),
                    l.seen.is_some_and(|s| s.src_identity.is_some()),
                )
            })
            .collect()
    };
    let p = Endpoint::Pod;
    // plain → plain
    assert_eq!(
        shape(&topology(), flow(wl(WEB), to_svc(80), 80, None)),
        [(
            p(WEB),
            p(API),
            8080,
            LegRole::Plain,
            Proxy::None,
            None,
            false
        )]
    );
    // ambient → ambient
    let c = ambient(&["fe", "be"]);
    assert_eq!(
        shape(&c, flow(wl(WEB), to_svc(80), 80, None)),
        [(
            p(WEB),
            p(API),
            15008,
            LegRole::Hbone,
            Proxy::Ztunnel(API),
            Some(8080),
            true
        )]
    );
    // non-mesh → ambient
    assert_eq!(
        shape(&c, flow(wl(CLIENT), to_svc(80), 80, None)),
        [(
            p(CLIENT),
            p(API),
            8080,
            LegRole::Plaintext,
            Proxy::Ztunnel(API),
            Some(8080),
            false
        )]
    );
    // ambient → non-mesh
    assert_eq!(
        shape(&c, flow(wl(WEB), MeshTarget::Workload(CLIENT), 80, None)),
        [(
            p(WEB),
            p(CLIENT),
            80,
            LegRole::Plain,
            Proxy::None,
            None,
            false
        )]
    );
    // kubelet probe → ambient
    assert_eq!(
        shape(
            &c,
            flow(
                MeshSource::Kubelet(N2),
                MeshTarget::Workload(API),
                8080,
                None
            )
        ),
        [(
            Endpoint::ProbeSnat(N2),
            p(API),
            8080,
            LegRole::ProbeSnat,
            Proxy::None,
            None,
            false
        )]
    );
    // host process on another node → ambient: plaintext to ztunnel from the node
    assert_eq!(
        shape(
            &c,
            flow(MeshSource::Node(N1), MeshTarget::Workload(API), 8080, None)
        ),
        [(
            Endpoint::Node(N1),
            p(API),
            8080,
            LegRole::Plaintext,
            Proxy::Ztunnel(API),
            Some(8080),
            false
        )]
    );
    // UDP from/to ambient: not captured
    let udp = MeshFlow {
        protocol: Protocol::Udp,
        ..flow(wl(WEB), MeshTarget::Workload(API), 53, None)
    };
    assert_eq!(
        shape(&c, udp),
        [(
            p(WEB),
            p(API),
            53,
            LegRole::NotCaptured,
            Proxy::None,
            None,
            false
        )]
    );
    // bypass: compromised ambient pod sends plaintext on the target port
    let bypass = MeshFlow {
        bypass: true,
        ..flow(wl(WEB), to_svc(80), 80, None)
    };
    assert_eq!(
        shape(&c, bypass),
        [(
            p(WEB),
            p(API),
            8080,
            LegRole::Plaintext,
            Proxy::Ztunnel(API),
            Some(8080),
            false
        )]
    );
    // via waypoint: two legs; waypoint sees service port 80 and client identity
    let c = with_waypoint(ambient(&["fe", "be"]));
    assert_eq!(
        shape(&c, flow(wl(WEB), to_svc(80), 80, get("/"))),
        [
            (
                p(WEB),
                p(WAYPOINT),
                15008,
                LegRole::ToWaypoint,
                Proxy::Waypoint(WAYPOINT),
                Some(80),
                true
            ),
            (
                p(WAYPOINT),
                p(API),
                15008,
                LegRole::FromWaypoint,
                Proxy::Ztunnel(API),
                Some(8080),
                true
            ),
        ]
    );
    // pod-addressed traffic does not use a service waypoint
    assert_eq!(
        shape(&c, flow(wl(WEB), MeshTarget::Workload(API), 8080, None)).len(),
        1
    );
    // out-of-mesh clients skip the waypoint
    let legs = plan(&c, &o, &flow(wl(CLIENT), to_svc(80), 80, None));
    assert_eq!(legs.len(), 1);
    assert_eq!(
        legs[0].bypassed,
        Some(crate::verdict::Bypass::WaypointSkipped)
    );
    // sidecar ↔ sidecar, ambient → sidecar, sidecar → ambient
    let mut c = topology();
    label_ns(&mut c, "fe", "istio-injection", "enabled");
    label_ns(&mut c, "be", "istio-injection", "enabled");
    assert_eq!(
        shape(&c, flow(wl(WEB), to_svc(80), 80, None)),
        [(
            p(WEB),
            p(API),
            8080,
            LegRole::SidecarMtls,
            Proxy::Sidecar(API),
            Some(8080),
            true
        )]
    );
    label_ns(&mut c, "fe", "istio-injection", "disabled");
    label_ns(&mut c, "fe", mesh::DATAPLANE_MODE_LABEL, "ambient");
    assert_eq!(
        shape(&c, flow(wl(WEB), to_svc(80), 80, None)),
        [(
            p(WEB),
            p(API),
            15008,
            LegRole::Hbone,
            Proxy::Sidecar(API),
            Some(8080),
            true
        )]
    );
    assert_eq!(
        shape(&c, flow(wl(API), MeshTarget::Workload(WEB), 8080, None)),
        [(
            p(API),
            p(WEB),
            15008,
            LegRole::Hbone,
            Proxy::Ztunnel(WEB),
            Some(8080),
            true
        )]
    );
    // kubelet probe → sidecar: rewritten to 15020 from the node
    assert_eq!(
        shape(
            &c,
            flow(
                MeshSource::Kubelet(N2),
                MeshTarget::Workload(API),
                8080,
                get("/healthz")
            )
        ),
        [(
            Endpoint::Node(N2),
            p(API),
            15020,
            LegRole::ProbeRewrite,
            Proxy::None,
            None,
            false
        )]
    );
}

#[test]
fn enrolment_rules() {
    let mut c = topology();
    label_ns(&mut c, "fe", mesh::DATAPLANE_MODE_LABEL, "ambient");
    c.workloads[1]
        .labels
        .insert(mesh::DATAPLANE_MODE_LABEL.into(), "none".into());
    c.workloads[4]
        .labels
        .insert(mesh::DATAPLANE_MODE_LABEL.into(), "ambient".into());
    c.workloads[3]
        .labels
        .insert(mesh::INJECT_LABEL.into(), "true".into());
    c.workloads[2]
        .labels
        .insert(mesh::REV_LABEL.into(), "canary".into());
    let plane = |c: &Cluster, id: WorkloadId| mesh::dataplane(c, c.workload(id));
    assert_eq!(plane(&c, WEB), mesh::DataPlane::Ambient);
    assert_eq!(plane(&c, OTHER), mesh::DataPlane::None, "pod opt-out");
    assert_eq!(
        plane(&c, CLIENT),
        mesh::DataPlane::Ambient,
        "pod label alone"
    );
    assert_eq!(plane(&c, WEB2), mesh::DataPlane::Sidecar { revision: None });
    assert_eq!(
        plane(&c, API),
        mesh::DataPlane::Sidecar {
            revision: Some("canary".into())
        }
    );
    c.workloads[0].host_network = true;
    assert_eq!(
        plane(&c, WEB),
        mesh::DataPlane::None,
        "hostNetwork never enrolled"
    );
    c.workloads[0].host_network = false;
    c.workloads[0]
        .annotations
        .insert(mesh::SIDECAR_STATUS_ANNOTATION.into(), "{}".into());
    assert_eq!(
        plane(&c, WEB),
        mesh::DataPlane::Sidecar { revision: None },
        "injected pods are never ambient"
    );
    label_ns(&mut c, "legacy", "istio-injection", "disabled");
    c.workloads[4]
        .labels
        .insert(mesh::INJECT_LABEL.into(), "true".into());
    assert_eq!(
        plane(&c, CLIENT),
        mesh::DataPlane::Ambient,
        "injection disabled; ambient label still holds"
    );
    let c = with_waypoint(ambient(&["be"]));
    assert_eq!(plane(&c, WAYPOINT), mesh::DataPlane::Waypoint(0));
}

#[test]
fn waypoint_selection() {
    let mut c = with_waypoint(ambient(&["fe", "be"]));
    let svc = c.services[0].clone();
    assert_eq!(mesh::service_waypoint(&c, &svc), Some(0));
    assert_eq!(
        mesh::workload_waypoint(&c, c.workload(API)),
        None,
        "waypoint-for service"
    );
    c.waypoints[0].waypoint_for = WaypointFor::All;
    assert_eq!(mesh::workload_waypoint(&c, c.workload(API)), Some(0));
    c.services[0]
        .labels
        .insert(mesh::USE_WAYPOINT_LABEL.into(), "none".into());
    let svc = c.services[0].clone();
    assert_eq!(
        mesh::service_waypoint(&c, &svc),
        None,
        "object opt-out beats namespace"
    );
    c.waypoints[0].waypoint_for = WaypointFor::Workload;
    c.services[0].labels.clear();
    let svc = c.services[0].clone();
    assert_eq!(mesh::service_waypoint(&c, &svc), None);
}

// --- §9 test vectors ---------------------------------------------------------------------------

/// TV-14 ambient needs 15008 at ingress.
#[test]
fn tv14_ambient_needs_15008_ingress() {
    let mut c = ambient(&["fe", "be"]);
    c.network_policies = vec![ingress_np(
        "be",
        &[("app", "api")],
        vec![np::rule(vec![], vec![np::tcp(8080)])],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "DENY np-ingress");
    check(&c, &flow(wl(CLIENT), to_svc(80), 80, None), "ALLOW");
    c.network_policies = vec![ingress_np(
        "be",
        &[("app", "api")],
        vec![np::rule(vec![], vec![np::tcp(8080), np::tcp(15008)])],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    let j = last_judgement(&c, &flow(wl(WEB), to_svc(80), 80, None)).expect("ztunnel");
    assert_eq!(j.verdict.reasons, vec![Reason::AuthzNoAllowPolicies]);
}

/// TV-15 ambient needs 15008 at egress.
#[test]
fn tv15_ambient_needs_15008_egress() {
    let mut c = ambient(&["fe", "be"]);
    let egress = |ports| {
        np::policy(
            "fe",
            "eg",
            np::sel(&[("app", "web")]),
            None,
            Some(vec![np::rule(
                vec![np::pods(Some(np::sel(&[("team", "be")])), None)],
                ports,
            )]),
        )
    };
    c.network_policies = vec![egress(vec![np::tcp(8080)])];
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 8080, None),
        "DENY np-egress",
    );
    c.network_policies = vec![egress(vec![np::tcp(8080), np::tcp(15008)])];
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 8080, None),
        "ALLOW",
    );
}

fn probe_flow() -> MeshFlow {
    flow(
        MeshSource::Kubelet(N2),
        MeshTarget::Workload(API),
        8080,
        get("/healthz"),
    )
}

/// TV-16 ambient probe vs default deny (generic profile), TV-16a–c per CNI.
#[test]
fn tv16_ambient_probe_default_deny() {
    let mut c = ambient(&["be"]);
    c.network_policies = vec![deny_all_ingress("be")];
    check(&c, &probe_flow(), "DENY np-ingress");
    let mut fixed = c.clone();
    fixed.network_policies.push(ingress_np(
        "be",
        &[],
        vec![np::rule(
            vec![np::ip_block("169.254.7.127/32", &[])],
            vec![],
        )],
    ));
    check(&fixed, &probe_flow(), "ALLOW");
    let mut plain = topology();
    plain.network_policies = vec![deny_all_ingress("be")];
    check(&plain, &probe_flow(), "ALLOW");
    let o = MeshOptions::default();
    let by = |name: &str, c: &Cluster| {
        run(
            c,
            &o,
            &crate::profiles::profile(name)
                .expect("profile")
                .np_profile(),
            &probe_flow(),
        )
    };
    for name in [
        "calico-iptables",
        "calico-nftables",
        "kube-router",
        "antrea",
    ] {
        assert_eq!(by(name, &c), "ALLOW", "TV-16a {name}");
    }
    assert_eq!(by("cilium", &c), "DENY np-ingress", "TV-16b");
    assert_eq!(by("cilium", &fixed), "ALLOW", "TV-16b fix");
    for name in ["calico-ebpf", "aws-vpc-cni", "ovn-kubernetes"] {
        assert_eq!(by(name, &c), "DENY np-ingress", "TV-16c {name}");
    }
    // The NP verdict records the flag it rested on.
    let legs = plan(&c, &o, &probe_flow());
    let v = netpol::evaluate_ingress(&c, &legs[0].leg, &NpProfile::default());
    assert!(v
        .assumptions
        .iter()
        .any(|a| a.flag == crate::verdict::ProfileFlag::ProbeSnatCountsAsNode));
}

/// TV-17 probes bypass AuthZ.
#[test]
fn tv17_probes_bypass_authz() {
    let mut c = ambient(&["be"]);
    c.authorization_policies = vec![ap(
        "be",
        "allow-nothing",
        Target::Namespace,
        Action::Allow,
        vec![],
    )];
    check(&c, &probe_flow(), "ALLOW");
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 8080, None),
        "DENY ztunnel",
    );
    let j =
        last_judgement(&c, &flow(wl(WEB), MeshTarget::Workload(API), 8080, None)).expect("ztunnel");
    assert_eq!(
        logs::ztunnel_rejection(&j.ztunnel.expect("rejection")),
        "allow policies exist, but none allowed"
    );
    assert_eq!(j.denial, Some(Denial::Reset));
}

fn tv18_policy() -> AuthorizationPolicy {
    ap(
        "be",
        "allow-web",
        api_selector(),
        Action::Allow,
        vec![rule(
            vec![principals(&["cluster.local/ns/fe/sa/web"])],
            vec![],
            vec![],
        )],
    )
}

/// TV-18 ALLOW by principal.
#[test]
fn tv18_allow_by_principal() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![tv18_policy()];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    check(&c, &flow(wl(OTHER), to_svc(80), 80, None), "DENY ztunnel");
    check(&c, &flow(wl(CLIENT), to_svc(80), 80, None), "DENY ztunnel");
    check(
        &c,
        &flow(wl(WEB2), MeshTarget::Workload(API), 8080, None),
        "DENY ztunnel",
    );
}

/// TV-19 `rules: [{}]` next to allow-nothing.
#[test]
fn tv19_empty_rule_allows_all() {
    let mut c = ambient(&["be"]);
    c.authorization_policies = vec![
        ap(
            "be",
            "allow-nothing",
            Target::Namespace,
            Action::Allow,
            vec![],
        ),
        ap(
            "be",
            "allow-all",
            Target::Namespace,
            Action::Allow,
            vec![rule(vec![], vec![], vec![])],
        ),
    ];
    check(
        &c,
        &flow(wl(CLIENT), MeshTarget::Workload(API), 8080, None),
        "ALLOW",
    );
}

/// TV-20 DENY without rules.
#[test]
fn tv20_deny_without_rules() {
    let mut c = ambient(&["be"]);
    c.authorization_policies = vec![ap("be", "d", Target::Namespace, Action::Deny, vec![])];
    check(
        &c,
        &flow(wl(CLIENT), MeshTarget::Workload(API), 8080, None),
        "ALLOW",
    );
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 8080, None),
        "ALLOW",
    );
}

/// TV-21 ALLOW with L7 at ztunnel.
#[test]
fn tv21_allow_with_l7_no_waypoint() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "be",
        "p",
        api_selector(),
        Action::Allow,
        vec![rule(
            vec![principals(&["cluster.local/ns/fe/sa/web"])],
            vec![methods(&["GET"])],
            vec![],
        )],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, get("/")), "DENY ztunnel");
    let status = ztunnel::convert(&c.authorization_policies[0], 0, &c, &MeshOptions::default())
        .status
        .expect("status");
    assert!(status.message.contains("found: methods"));
    assert!(status
        .message
        .contains("Within an ALLOW policy, rules matching HTTP attributes are omitted"));
    assert_eq!(status.reason, "UnsupportedValue");
}

/// TV-23 DENY with ports + methods at ztunnel.
#[test]
fn tv23_deny_ports_methods() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "be",
        "deny-post",
        api_selector(),
        Action::Deny,
        vec![rule(
            vec![],
            vec![Operation {
                ports: s(&["8080"]),
                methods: s(&["POST"]),
                ..Default::default()
            }],
            vec![],
        )],
    )];
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 8080, get("/")),
        "DENY ztunnel",
    );
    let j =
        last_judgement(&c, &flow(wl(WEB), MeshTarget::Workload(API), 8080, None)).expect("ztunnel");
    assert_eq!(
        logs::ztunnel_rejection(&j.ztunnel.expect("rejection")),
        "explicitly denied by: be/deny-post"
    );
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(API), 9090, None),
        "ALLOW",
    );
}

/// TV-24 mixed ALLOW rules.
#[test]
fn tv24_mixed_allow_rules() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "be",
        "p",
        api_selector(),
        Action::Allow,
        vec![
            rule(
                vec![],
                vec![Operation {
                    paths: s(&["/admin"]),
                    ..Default::default()
                }],
                vec![],
            ),
            rule(vec![namespaces(&["fe"])], vec![], vec![]),
        ],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    let j = last_judgement(&c, &flow(wl(WEB), to_svc(80), 80, None)).expect("ztunnel");
    assert!(matches!(&j.verdict.reasons[0], Reason::AuthzAllowed(r) if r.rule == 1));
    check(
        &c,
        &flow(wl(WEB2), MeshTarget::Workload(API), 8080, None),
        "DENY ztunnel",
    );
    check(&c, &flow(wl(CLIENT), to_svc(80), 80, None), "DENY ztunnel");
}

/// TV-27 principals presence.
#[test]
fn tv27_principals_presence() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "be",
        "p",
        api_selector(),
        Action::Allow,
        vec![rule(vec![principals(&["*"])], vec![], vec![])],
    )];
    for src in [WEB, OTHER, WEB2] {
        check(
            &c,
            &flow(wl(src), MeshTarget::Workload(API), 8080, None),
            "ALLOW",
        );
    }
    check(
        &c,
        &flow(wl(CLIENT), MeshTarget::Workload(API), 8080, None),
        "DENY ztunnel",
    );
}

/// TV-28 PeerAuthentication STRICT (ambient).
#[test]
fn tv28_peer_authentication_strict_ambient() {
    let mut c = ambient(&["fe", "be"]);
    c.peer_authentications = vec![pa(
        "be",
        "strict",
        None,
        MtlsMode::Strict,
        vec![],
        "2024-01-01T00:00:00Z",
    )];
    let f = flow(wl(CLIENT), to_svc(80), 80, None);
    check(&c, &f, "DENY ztunnel");
    let j = last_judgement(&c, &f).expect("ztunnel");
    assert_eq!(logs::ztunnel_error(&j.ztunnel.expect("rejection")), "connection closed due to policy rejection: explicitly denied by: istio-system/istio_converted_static_strict");
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    check(&c, &probe_flow(), "ALLOW");
}

/// TV-29 PeerAuthentication DISABLE is ignored in ambient.
#[test]
fn tv29_peer_authentication_disable_ambient() {
    let mut c = ambient(&["fe", "be"]);
    c.peer_authentications = vec![pa(
        "be",
        "off",
        None,
        MtlsMode::Disable,
        vec![],
        "2024-01-01T00:00:00Z",
    )];
    check(&c, &flow(wl(CLIENT), to_svc(80), 80, None), "ALLOW");
    let legs = plan(
        &c,
        &MeshOptions::default(),
        &flow(wl(WEB), to_svc(80), 80, None),
    );
    assert_eq!(legs[0].leg.port, 15008);
}

/// TV-30 root-namespace policy.
#[test]
fn tv30_root_namespace_policy() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "istio-system",
        "deny-fe",
        Target::Namespace,
        Action::Deny,
        vec![rule(vec![namespaces(&["fe"])], vec![], vec![])],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "DENY ztunnel");
    check(
        &c,
        &flow(wl(WEB2), MeshTarget::Workload(API), 8080, None),
        "ALLOW",
    );
    c.authorization_policies[0].target = api_selector();
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "DENY ztunnel");
}

/// TV-31 unsupported actions at ztunnel.
#[test]
fn tv31_unsupported_actions() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![
        AuthorizationPolicy {
            provider: Some("ext".into()),
            ..ap(
                "be",
                "custom",
                api_selector(),
                Action::Custom,
                vec![rule(vec![], vec![], vec![])],
            )
        },
        ap(
            "be",
            "audit",
            api_selector(),
            Action::Audit,
            vec![rule(vec![], vec![], vec![])],
        ),
    ];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    let st = ztunnel::convert(&c.authorization_policies[0], 0, &c, &MeshOptions::default())
        .status
        .expect("status");
    assert_eq!(st.message, "ztunnel does not support the CUSTOM action");
    let j = last_judgement(&c, &flow(wl(WEB), to_svc(80), 80, None)).expect("ztunnel");
    assert!(j.verdict.reasons.iter().any(|r| matches!(
        r,
        Reason::AuthzNotEnforcedHere {
            why: crate::verdict::AuthzIgnored::UnsupportedActionAtZtunnel,
            ..
        }
    )));
}

/// TV-32 selector policy behind a waypoint; then targetRefs Service.
#[test]
fn tv32_selector_policy_behind_waypoint() {
    let mut c = with_waypoint(ambient(&["fe", "be"]));
    c.authorization_policies = vec![tv18_policy()];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "DENY ztunnel");
    let legs = plan(
        &c,
        &MeshOptions::default(),
        &flow(wl(WEB), to_svc(80), 80, None),
    );
    assert_eq!(
        legs[1]
            .seen
            .as_ref()
            .and_then(|s| s.src_identity.as_ref())
            .map(|i| i.principal())
            .as_deref(),
        Some("cluster.local/ns/be/sa/waypoint")
    );
    c.authorization_policies[0].target = Target::TargetRefs(vec![TargetRef {
        group: "".into(),
        kind: "Service".into(),
        name: "api".into(),
        span: Span::default(),
    }]);
    check(&c, &flow(wl(WEB), to_svc(80), 80, get("/")), "ALLOW");
    check(
        &c,
        &flow(wl(OTHER), to_svc(80), 80, get("/")),
        "DENY waypoint",
    );
    let wp_judgement = |http| {
        let o = MeshOptions::default();
        let legs = plan(&c, &o, &flow(wl(OTHER), to_svc(80), 80, http));
        judge(&c, &o, &legs[0]).expect("waypoint")
    };
    assert_eq!(wp_judgement(get("/")).denial, Some(Denial::Http403));
    assert_eq!(wp_judgement(None).denial, Some(Denial::Reset));
}

/// TV-34 targetRefs without a waypoint.
#[test]
fn tv34_target_refs_without_waypoint() {
    let mut c = ambient(&["fe", "be"]);
    c.authorization_policies = vec![ap(
        "be",
        "deny-all",
        Target::TargetRefs(vec![TargetRef {
            group: "".into(),
            kind: "Service".into(),
            name: "api".into(),
            span: Span::default(),
        }]),
        Action::Deny,
        vec![rule(vec![], vec![], vec![])],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    let j = last_judgement(&c, &flow(wl(WEB), to_svc(80), 80, None)).expect("ztunnel");
    assert!(j.verdict.reasons.iter().any(|r| matches!(
        r,
        Reason::AuthzNotEnforcedHere {
            why: crate::verdict::AuthzIgnored::TargetRefsAtZtunnel,
            ..
        }
    )));
}

/// TV-36 waypoint L7.
#[test]
fn tv36_waypoint_l7() {
    let mut c = with_waypoint(ambient(&["fe", "be"]));
    c.authorization_policies = vec![ap(
        "be",
        "get-public",
        Target::TargetRefs(vec![TargetRef {
            group: "".into(),
            kind: "Service".into(),
            name: "api".into(),
            span: Span::default(),
        }]),
        Action::Allow,
        vec![rule(
            vec![],
            vec![Operation {
                methods: s(&["GET"]),
                paths: s(&["/public/*"]),
                ..Default::default()
            }],
            vec![],
        )],
    )];
    check(
        &c,
        &flow(wl(WEB), to_svc(80), 80, get("/public/x")),
        "ALLOW",
    );
    check(
        &c,
        &flow(wl(WEB), to_svc(80), 80, post("/public/x")),
        "DENY waypoint",
    );
    let o = MeshOptions::default();
    let legs = plan(&c, &o, &flow(wl(WEB), to_svc(80), 80, post("/public/x")));
    let j = judge(&c, &o, &legs[0]).expect("waypoint");
    assert_eq!(j.denial, Some(Denial::Http403));
    assert_eq!(
        j.rbac_log
            .iter()
            .map(logs::envoy_rbac_line)
            .collect::<Vec<_>>(),
        ["enforced denied, matched policy none"]
    );
    assert_eq!(logs::HTTP_DENIED_BODY, "RBAC: access denied");
}

/// TV-38 ambient → non-mesh.
#[test]
fn tv38_ambient_to_non_mesh() {
    let mut c = ambient(&["fe"]);
    c.network_policies = vec![ingress_np(
        "legacy",
        &[("app", "client")],
        vec![np::rule(
            vec![np::pods(Some(np::sel(&[("team", "fe")])), None)],
            vec![np::tcp(80)],
        )],
    )];
    check(
        &c,
        &flow(wl(WEB), MeshTarget::Workload(CLIENT), 80, None),
        "ALLOW",
    );
}

fn sidecar_cluster() -> Cluster {
    let mut c = topology();
    label_ns(&mut c, "fe", "istio-injection", "enabled");
    label_ns(&mut c, "be", "istio-injection", "enabled");
    c
}

/// TV-40 sidecar to sidecar.
#[test]
fn tv40_sidecar_to_sidecar() {
    let mut c = sidecar_cluster();
    c.network_policies = vec![ingress_np(
        "be",
        &[("app", "api")],
        vec![np::rule(
            vec![np::pods(Some(np::sel(&[("team", "fe")])), None)],
            vec![np::tcp(8080)],
        )],
    )];
    check(&c, &flow(wl(WEB), to_svc(80), 80, None), "ALLOW");
    c.authorization_policies = vec![tv18_policy()];
    check(
        &c,
        &flow(wl(OTHER), to_svc(80), 80, get("/")),
        "DENY sidecar",
    );
    check(&c, &flow(wl(WEB), to_svc(80), 80, get("/")), "ALLOW");
    // PeerAuthentication STRICT rejects plaintext at the sidecar (§4.4 rule 24).
    c.authorization_policies.clear();
    c.network_policies.clear();
    c.peer_authentications = vec![pa(
        "be",
        "strict",
        None,
        MtlsMode::Strict,
        vec![],
        "2024-01-01T00:00:00Z",
    )];
    check(&c, &flow(wl(CLIENT), to_svc(80), 80, None), "DENY sidecar");
}

/// TV-41 sidecar probe rewrite.
#[test]
fn tv41_sidecar_probe_rewrite() {
    let mut c = sidecar_cluster();
    c.network_policies = vec![deny_all_ingress("be")];
    c.peer_authentications = vec![pa(
        "be",
        "strict",
        None,
        MtlsMode::Strict,
        vec![],
        "2024-01-01T00:00:00Z",
    )];
    let legs = plan(&c, &MeshOptions::default(), &probe_flow());
    assert_eq!(
        (legs[0].leg.src, legs[0].leg.port),
        (Endpoint::Node(N2), 15020)
    );
    check(&c, &probe_flow(), "ALLOW");
    // Without the rewrite the probe hits Envoy in plaintext and STRICT rejects it.
    c.workloads[2]
        .annotations
        .insert(mesh::REWRITE_PROBES_ANNOTATION.into(), "false".into());
    c.network_policies.clear();
    check(&c, &probe_flow(), "DENY sidecar");
}

/// TV-45 istioctl x authz check.
#[test]
fn tv45_authz_check_table() {
    let mut c = sidecar_cluster();
    c.authorization_policies = vec![
        ap(
            "be",
            "allow-get",
            api_selector(),
            Action::Allow,
            vec![
                rule(vec![], vec![methods(&["GET"])], vec![]),
                rule(vec![namespaces(&["fe"])], vec![], vec![]),
            ],
        ),
        ap(
            "be",
            "deny-path-headers",
            api_selector(),
            Action::Deny,
            vec![rule(
                vec![],
                vec![Operation {
                    paths: s(&["/admin"]),
                    ..Default::default()
                }],
                vec![],
            )],
        ),
    ];
    let api = c.workload(API).clone();
    assert_eq!(
        logs::authz_check(&c, &MeshOptions::default(), &api),
        "ACTION   AuthorizationPolicy    RULES\nDENY     deny-path-headers.be   1\nALLOW    allow-get.be           2\n"
    );
}

/// TV-09b / TV-12b: Cilium's ipBlock never matches pods or nodes.
#[test]
fn tv09b_tv12b_cilium_ip_block() {
    let o = MeshOptions::default();
    let p = |n: &str| crate::profiles::profile(n).expect("profile").np_profile();
    let mut c = topology();
    c.network_policies = vec![ingress_np(
        "be",
        &[("app", "api")],
        vec![np::rule(vec![np::ip_block("10.244.0.0/16", &[])], vec![])],
    )];
    let f = flow(wl(WEB), MeshTarget::Workload(API), 8080, None);
    assert_eq!(run(&c, &o, &p("cilium"), &f), "DENY np-ingress");
    assert_eq!(run(&c, &o, &p("calico-iptables"), &f), "ALLOW");
    c.network_policies = vec![ingress_np(
        "be",
        &[("app", "api")],
        vec![np::rule(vec![np::ip_block("10.0.0.0/24", &[])], vec![])],
    )];
    let f = flow(MeshSource::Node(N1), MeshTarget::Workload(API), 8080, None);
    assert_eq!(run(&c, &o, &p("cilium"), &f), "DENY np-ingress");
    assert_eq!(run(&c, &o, &p("calico-iptables"), &f), "ALLOW");
}

/// The access log line in the §6.3 format.
#[test]
fn ztunnel_access_log_format() {
    let log = logs::AccessLog {
        src: logs::AccessLogPeer {
            addr: "10.244.1.10:48712".into(),
            workload: Some("web-...".into()),
            namespace: Some("fe".into()),
            identity: Some(id("fe", "web")),
        },
        dst: logs::AccessLogPeer {
            addr: "10.244.2.20:15008".into(),
            workload: Some("api-...".into()),
            namespace: Some("be".into()),
            identity: Some(id("be", "api")),
        },
        hbone_addr: Some("10.244.2.20:8080".into()),
        service: Some("api.be.svc.cluster.local".into()),
        inbound: true,
        error: Some(logs::ztunnel_error(&Rejection::NotAllowed)),
    };
    assert_eq!(
        logs::ztunnel_access_log(&log),
        "error access connection complete src.addr=10.244.1.10:48712 src.workload=\"web-...\" src.namespace=\"fe\" src.identity=\"spiffe://cluster.local/ns/fe/sa/web\" dst.addr=10.244.2.20:15008 dst.hbone_addr=10.244.2.20:8080 dst.service=\"api.be.svc.cluster.local\" dst.workload=\"api-...\" dst.namespace=\"be\" dst.identity=\"spiffe://cluster.local/ns/be/sa/api\" direction=\"inbound\" bytes_sent=0 bytes_recv=0 duration=\"0ms\" error=\"connection closed due to policy rejection: allow policies exist, but none allowed\""
    );
}

#[test]
fn auto_allow_waypoint_policy() {
    let mut c = with_waypoint(ambient(&["fe", "be"]));
    let o = MeshOptions {
        auto_allow_waypoint_policy: true,
        ..MeshOptions::default()
    };
    let p = NpProfile::default();
    assert_eq!(
        run(&c, &o, &p, &flow(wl(WEB), to_svc(80), 80, None)),
        "ALLOW"
    );
    // In-mesh traffic that skips the waypoint (pod-addressed) is now denied.
    assert_eq!(
        run(
            &c,
            &o,
            &p,
            &flow(wl(WEB), MeshTarget::Workload(API), 8080, None)
        ),
        "DENY ztunnel"
    );
    c.authorization_policies.clear();
    assert_eq!(
        run(&c, &o, &p, &flow(wl(CLIENT), to_svc(80), 80, None)),
        "DENY ztunnel"
    );
}

// --- property: adding a DENY never turns a deny into an allow ---------------------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

fn random_rule(rng: &mut Rng) -> Rule {
    let mut r = Rule::default();
    match rng.next() % 6 {
        0 => r
            .from
            .push(namespaces(&[rng.pick(&["fe", "be", "*", "f*"])])),
        1 => r.from.push(principals(&[rng.pick(&[
            "cluster.local/ns/fe/sa/web",
            "*",
            "*/sa/api",
        ])])),
        2 => r.to.push(ports(&[rng.pick(&["8080", "9090"])])),
        3 => r.to.push(methods(&[rng.pick(&["GET", "POST"])])),
        4 => r.from.push(super::model::Source {
            not_namespaces: s(&[rng.pick(&["fe", "be"])]),
            ..Default::default()
        }),
        _ => {}
    }
    r
}

fn random_policy(rng: &mut Rng, name: &str, action: Action) -> AuthorizationPolicy {
    let target = if rng.next() % 2 == 0 {
        Target::Namespace
    } else {
        api_selector()
    };
    let n = rng.next() % 3;
    ap(
        rng.pick(&["be", "istio-system"]),
        name,
        target,
        action,
        (0..n).map(|_| random_rule(rng)).collect(),
    )
}

#[test]
fn adding_deny_never_allows() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let o = MeshOptions::default();
    let p = NpProfile::default();
    let planes: [fn() -> Cluster; 3] = [
        || ambient(&["fe", "be"]),
        sidecar_cluster,
        || with_waypoint(ambient(&["fe", "be"])),
    ];
    for i in 0..300 {
        let mut c = planes[i % 3]();
        for k in 0..(rng.next() % 3) {
            let action = rng.pick(&[Action::Allow, Action::Deny]);
            let mut pol = random_policy(&mut rng, &format!("p{k}"), action);
            if i % 3 == 2 && rng.next() % 2 == 0 {
                pol.target = Target::TargetRefs(vec![TargetRef {
                    group: "".into(),
                    kind: "Service".into(),
                    name: "api".into(),
                    span: Span::default(),
                }]);
            }
            c.authorization_policies.push(pol);
        }
        let mut more = c.clone();
        let mut deny = random_policy(&mut rng, "added-deny", Action::Deny);
        if i % 3 == 2 && rng.next() % 2 == 0 {
            deny.target = Target::TargetRefs(vec![TargetRef {
                group: "".into(),
                kind: "Service".into(),
                name: "api".into(),
                span: Span::default(),
            }]);
        }
        more.authorization_policies.push(deny);
        for src in [WEB, OTHER, WEB2, CLIENT] {
            for (dst, port, http) in [
                (to_svc(80), 80, get("/")),
                (MeshTarget::Workload(API), 9090, post("/x")),
                (to_svc(80), 80, None),
            ] {
                let f = flow(wl(src), dst, port, http);
                let before = run(&c, &o, &p, &f);
                let after = run(&more, &o, &p, &f);
                if before.starts_with("DENY") {
                    assert!(after.starts_with("DENY"), "{f:?}: {before} -> {after}");
                }
            }
        }
    }
}

#[test]
fn role_enum_is_used() {
    assert_ne!(Role::Sidecar, Role::Waypoint);
}

#[test]
fn probe_model_types_compile() {
    let _ = Probe {
        kind: ProbeKind::Readiness,
        action: ProbeAction::Exec,
        span: Span::default(),
    };
    let _ = Container {
        name: "c".into(),
        ports: vec![ContainerPort {
            name: None,
            port: 1,
            protocol: Protocol::Tcp,
            span: Span::default(),
        }],
        probes: vec![],
    };
}

// --- from YAML (parse/istio.rs) ----------------------------------------------------------------

/// TV-32 written as manifests: the Gateway gets a materialized waypoint pod, the selector policy
/// behind it denies, the parse layer reports nothing.
#[test]
fn tv32_from_yaml() {
    let text = r#"
apiVersion: v1
kind: Namespace
metadata: {name: fe, labels: {team: fe, istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: be, labels: {team: be, istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: fe, labels: {app: web}}
spec: {serviceAccountName: web, containers: [{name: web, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: be, labels: {app: api}}
spec: {serviceAccountName: api, containers: [{name: api, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: be}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: be}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-web, namespace: be}
spec:
  selector: {matchLabels: {app: api}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/fe/sa/web"]}}]
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: strict, namespace: be, creationTimestamp: "2024-01-01T00:00:00Z"}
spec: {mtls: {mode: STRICT}, selector: {matchLabels: {app: api}}, portLevelMtls: {"9090": {mode: PERMISSIVE}}}
"#;
    let analysis = crate::analyze(&[crate::Source::new("t.yaml", text)]);
    let errors: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity != crate::Severity::Info && !d.code.starts_with("PP4"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let c = &analysis.cluster;
    assert_eq!(c.authorization_policies.len(), 1);
    assert_eq!(
        c.peer_authentications[0].port_level,
        vec![(9090, MtlsMode::Permissive)]
    );
    assert_eq!(c.waypoints.len(), 1);
    let wp = c.waypoints[0].workload.expect("materialized");
    let web = c
        .workloads
        .iter()
        .find(|w| w.name == "web")
        .expect("web")
        .id;
    let api = c
        .workloads
        .iter()
        .find(|w| w.name == "api")
        .expect("api")
        .id;
    assert_eq!(
        mesh::dataplane(c, c.workload(wp)),
        mesh::DataPlane::Waypoint(0)
    );
    let f = flow(
        wl(web),
        MeshTarget::Service {
            service: 0,
            port: 80,
            endpoint: api,
        },
        80,
        None,
    );
    let legs = plan(c, &MeshOptions::default(), &f);
    assert_eq!(legs.len(), 2);
    assert_eq!(legs[0].terminated_by, Proxy::Waypoint(wp));
    assert_eq!(
        run(c, &MeshOptions::default(), &NpProfile::default(), &f),
        "DENY ztunnel"
    );
}

#[test]
fn istio_parse_errors() {
    let text = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: both, namespace: be}
spec:
  selector: {matchLabels: {app: api}}
  targetRefs: [{kind: Service, group: "", name: api}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: bad-action, namespace: be}
spec: {action: REJECT}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: dry, namespace: be, annotations: {istio.io/dry-run: "true"}}
spec:
  action: DENY
  rules: [{to: [{operation: {ports: ["80x"]}}], when: [{key: source.ip}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ingress, namespace: be}
spec: {gatewayClassName: istio}
"#;
    let analysis = crate::analyze(&[crate::Source::new("t.yaml", text)]);
    let codes: Vec<&str> = analysis.diagnostics.iter().map(|d| d.code).collect();
    for code in ["PP3001", "PP3002", "PP3004", "PP3005", "PP1003"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert_eq!(analysis.cluster.authorization_policies.len(), 1);
    assert!(analysis.cluster.authorization_policies[0].dry_run);
    assert!(analysis.cluster.waypoints.is_empty());
}
