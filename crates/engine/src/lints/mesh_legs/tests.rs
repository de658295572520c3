//! The set-based mesh legs family against the per-flow reference it replaced: every mesh flow
//! planned with `istio::plan` and each HBONE / waypoint leg judged with `netpol::evaluate_*`,
//! on the input corpora and on random clusters, under every CNI profile.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::lints::{Facts, LintOptions};
use crate::source::Source;
use crate::verdict::{LayerVerdict, Reason};

/// Findings by key: (sources, destinations, target ports), as names.
type Names = BTreeMap<(usize, usize), (BTreeSet<String>, BTreeSet<String>, BTreeSet<u16>)>;

/// The (policy, rule) pairs an allowing verdict names.
fn allowed_by(v: &LayerVerdict) -> Vec<(usize, usize)> {
    if !v.is_allow() {
        return Vec::new();
    }
    v.reasons
        .iter()
        .filter_map(|r| match r {
            Reason::AllowedBy(rule) => Some((rule.policy.index, rule.rule)),
            _ => None,
        })
        .collect()
}

fn add(map: &mut Names, key: (usize, usize), src: &Workload, dst: &Workload, port: u16) {
    let e = map.entry(key).or_default();
    e.0.insert(wname(src));
    e.1.insert(wname(dst));
    e.2.insert(port);
}

/// The per-flow walk (the family as it was before it was made set-based, without its flow
/// budget): [ingress, egress, waypoint] findings.
fn reference(cx: &Cx) -> [Names; 3] {
    let cluster = cx.cluster;
    let np = &cx.np;
    let mut out: [Names; 3] = Default::default();
    if !np.enforces_network_policy {
        return out;
    }
    let isolated = |w: &Workload, d: Direction| netpol::is_isolated(cluster, w, d, np);
    let planes: Vec<DataPlane> = cluster
        .workloads
        .iter()
        .map(|w| mesh::dataplane(cluster, w))
        .collect();
    let meshed = |i: usize| {
        matches!(
            planes.get(i),
            Some(DataPlane::Ambient | DataPlane::Sidecar { .. })
        )
    };
    let mut service_targets: Vec<(usize, u16, WorkloadId)> = Vec::new();
    for (index, service) in cluster.services.iter().enumerate() {
        let service_waypoint = mesh::service_waypoint(cluster, service).is_some();
        for sp in service.ports.iter().filter(|p| p.protocol == Protocol::Tcp) {
            for (endpoint, _) in crate::flows::service_endpoints(cluster, index, sp.port) {
                let differs = service_waypoint
                    || workload(cx, endpoint)
                        .is_some_and(|w| mesh::workload_waypoint(cluster, w).is_some());
                if differs {
                    service_targets.push((index, sp.port, endpoint));
                }
            }
        }
    }
    let judge_in = |leg: &Leg| netpol::evaluate_ingress(cluster, leg, np);
    let judge_out = |leg: &Leg| netpol::evaluate_egress(cluster, leg, np);
    for (si, src) in cluster.workloads.iter().enumerate() {
        if !meshed(si) {
            continue;
        }
        let src_egress = isolated(src, Direction::Egress);
        let mut flows = Vec::new();
        for (di, dst) in cluster.workloads.iter().enumerate() {
            if dst.id == src.id || !(src_egress || isolated(dst, Direction::Ingress)) || !meshed(di)
            {
                continue;
            }
            for (protocol, port) in crate::flows::declared_ports(dst) {
                if protocol == Protocol::Tcp {
                    flows.push(MeshFlow {
                        src: MeshSource::Workload(src.id),
                        dst: MeshTarget::Workload(dst.id),
                        protocol,
                        port,
                        http: None,
                        bypass: false,
                    });
                }
            }
        }
        for &(service, port, endpoint) in &service_targets {
            if endpoint != src.id {
                flows.push(MeshFlow {
                    src: MeshSource::Workload(src.id),
                    dst: MeshTarget::Service {
                        service,
                        port,
                        endpoint,
                    },
                    protocol: Protocol::Tcp,
                    port,
                    http: None,
                    bypass: false,
                });
            }
        }
        for flow in &flows {
            for l in istio::plan(cluster, cx.mesh(), flow) {
                let (Endpoint::Pod(leg_src), Endpoint::Pod(dst_id)) = (l.leg.src, l.leg.dst) else {
                    continue;
                };
                let Some(target_port) = l.seen.as_ref().map(|c| c.dst_port) else {
                    continue;
                };
                let Some(dst) = workload(cx, dst_id) else {
                    continue;
                };
                let plain = Leg {
                    src: Endpoint::Pod(src.id),
                    dst: Endpoint::Pod(dst_id),
                    protocol: Protocol::Tcp,
                    port: target_port,
                };
                match l.role {
                    LegRole::Hbone if leg_src == src.id => {
                        if isolated(dst, Direction::Ingress) && !judge_in(&l.leg).is_allow() {
                            for r in allowed_by(&judge_in(&plain)) {
                                add(&mut out[0], r, src, dst, target_port);
                            }
                        }
                        if src_egress && !judge_out(&l.leg).is_allow() {
                            for r in allowed_by(&judge_out(&plain)) {
                                add(&mut out[1], r, src, dst, target_port);
                            }
                        }
                    }
                    LegRole::FromWaypoint => {
                        let wp = l.waypoint.or_else(|| {
                            workload(cx, leg_src).and_then(|w| match mesh::dataplane(cluster, w) {
                                DataPlane::Waypoint(i) => Some(i),
                                _ => None,
                            })
                        });
                        let Some(wp) = wp else { continue };
                        let verdict = judge_in(&l.leg);
                        if verdict.is_allow() {
                            continue;
                        }
                        let hbone = Leg {
                            port: HBONE_PORT,
                            ..plain
                        };
                        let intended = judge_in(&plain).is_allow() || judge_in(&hbone).is_allow();
                        if let (true, Some(policy)) = (intended, first_isolating(&verdict.reasons))
                        {
                            add(&mut out[2], (policy, wp), src, dst, target_port);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The set-based family run to its findings, as names.
fn fast(cx: &mut Cx) -> [Names; 3] {
    let mut out: [Names; 3] = Default::default();
    if !cx.np.enforces_network_policy {
        return out;
    }
    let mut legs = MeshLegs::new(cx);
    // Small counts, so that resuming between units is exercised too.
    let mut count = 1;
    while legs.findings.is_none() && !legs.done {
        legs.step(cx, count);
        count = count % 7 + 1;
    }
    for (finding, key, hits) in legs.findings.take().unwrap_or_default() {
        let slot = match finding {
            Finding::Ingress => 0,
            Finding::Egress => 1,
            Finding::Waypoint => 2,
        };
        out[slot].insert(
            key,
            (
                hits.srcs
                    .ones()
                    .map(|i| wname(&cx.cluster.workloads[i]))
                    .collect(),
                hits.dsts
                    .ones()
                    .map(|i| wname(&cx.cluster.workloads[i]))
                    .collect(),
                hits.ports.clone(),
            ),
        );
    }
    out
}

/// (name, options, a change to the CNI profile's NetworkPolicy side).
type Variant = (String, LintOptions, fn(&mut netpol::NpProfile));

/// Every CNI profile, plus variants no profile has (yet): no HBONE from sidecars, `endPort`
/// ignored, `ipBlock` not matching pods with the generic profile's other flags.
fn option_variants() -> Vec<Variant> {
    let mut res: Vec<Variant> = Vec::new();
    for name in crate::flows::cni_profile_names() {
        let Some(options) = LintOptions::with_cni(name) else {
            continue;
        };
        res.push((name.to_string(), options, |_| {}));
    }
    let mut no_hbone = LintOptions::default();
    no_hbone.mesh.sending_hbone = false;
    res.push(("generic, no sending HBONE".to_string(), no_hbone, |_| {}));
    res.push((
        "generic, no endPort".to_string(),
        LintOptions::default(),
        |np| np.end_port_supported = false,
    ));
    res.push((
        "generic, ipBlock never matches pods".to_string(),
        LintOptions::default(),
        |np| np.ipblock_matches_pods = false,
    ));
    res
}

/// Compare on one input under every option variant; the number of findings.
fn check(text: &str, what: &str) -> usize {
    let sources = vec![Source::new("input.yaml", text)];
    let (cluster, _) = crate::parse::parse(&sources);
    let roots: Vec<Vec<crate::yaml::Node>> = vec![Vec::new()];
    let mut found = 0;
    for (name, options, tweak) in option_variants() {
        let facts = Facts::new(&cluster, &options);
        let mut cx = Cx::new(&sources, &roots, &cluster, &options, &facts);
        tweak(&mut cx.np);
        let want = reference(&cx);
        let got = fast(&mut cx);
        for (i, family) in ["PP4001", "PP4002", "PP4009"].iter().enumerate() {
            assert_eq!(
                got[i], want[i],
                "{family} differs on {what} [{name}]:\n{text}"
            );
            found += want[i].len();
        }
    }
    found
}

#[test]
fn agrees_with_the_per_flow_reference_on_the_corpora() {
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests/cases", "crates/engine/tests/lints", "src/scenarios"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 50, "{}", files.len());
    let mut found = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        found += check(&text, &p.display().to_string());
    }
    assert!(found > 10, "{found}");
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

const NS: [&str; 4] = ["a", "b", "c", "d"];
const APPS: [&str; 4] = ["web", "api", "db", "cache"];

fn pod_selector(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "{}".to_string(),
        1 => format!(
            "{{matchExpressions: [{{key: app, operator: NotIn, values: [{}]}}]}}",
            rng.pick(&APPS)
        ),
        2 => "{matchExpressions: [{key: tier, operator: Exists}]}".to_string(),
        _ => format!("{{matchLabels: {{app: {}}}}}", rng.pick(&APPS)),
    }
}

fn ns_selector(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "{}".to_string(),
        1 => format!(
            "{{matchLabels: {{kubernetes.io/metadata.name: {}}}}}",
            rng.pick(&NS)
        ),
        _ => format!("{{matchLabels: {{team: {}}}}}", rng.pick(&NS)),
    }
}

fn np_peer(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => format!("{{podSelector: {}}}", pod_selector(rng)),
        1 => format!("{{namespaceSelector: {}}}", ns_selector(rng)),
        2 => format!(
            "{{namespaceSelector: {}, podSelector: {}}}",
            ns_selector(rng),
            pod_selector(rng)
        ),
        3 => "{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}}".to_string(),
        4 => "{ipBlock: {cidr: 10.244.1.0/24}}".to_string(),
        5 => "{ipBlock: {cidr: 10.0.0.0/24}}".to_string(),
        _ => format!(
            "{{podSelector: {{matchLabels: {{app: {}}}}}}}",
            rng.pick(&APPS)
        ),
    }
}

fn np_ports(rng: &mut Rng) -> String {
    let mut items = Vec::new();
    for _ in 0..rng.below(3) {
        items.push(
            match rng.below(10) {
                0 => "{port: 15008}",
                1 => "{port: http}",
                2 => "{port: 8080}",
                3 => "{port: 8000, endPort: 9100}",
                4 => "{port: 15000, endPort: 15010}",
                5 => "{protocol: TCP}",
                6 => "{port: 53, protocol: UDP}",
                7 => "{port: tcp-db}",
                8 => "{port: 5432, protocol: TCP}",
                _ => "{port: 80}",
            }
            .to_string(),
        );
    }
    if items.is_empty() {
        String::new()
    } else {
        format!(", ports: [{}]", items.join(", "))
    }
}

fn np_rules(rng: &mut Rng, key: &str) -> String {
    let mut rules = Vec::new();
    for _ in 0..rng.below(3) {
        let peers = if rng.chance(5) {
            String::new()
        } else {
            let mut p = Vec::new();
            for _ in 0..1 + rng.below(2) {
                p.push(np_peer(rng));
            }
            format!("{key}: [{}]", p.join(", "))
        };
        let ports = np_ports(rng);
        let body = format!("{peers}{ports}");
        let body = body.trim_start_matches(", ").to_string();
        rules.push(format!("{{{body}}}"));
    }
    format!("[{}]", rules.join(", "))
}

fn admin_rule(rng: &mut Rng, ingress: bool) -> String {
    let action = rng.pick(&["Allow", "Deny", "Pass"]);
    let key = if ingress { "from" } else { "to" };
    let peer = match rng.below(5) {
        0 => format!("{{namespaces: {}}}", ns_selector(rng)),
        3 if !ingress => "{networks: [10.244.0.0/16]}".to_string(),
        1 => format!(
            "{{pods: {{namespaceSelector: {}, podSelector: {}}}}}",
            ns_selector(rng),
            pod_selector(rng)
        ),
        2 if !ingress => "{networks: [10.244.1.0/24]}".to_string(),
        _ => "{namespaces: {}}".to_string(),
    };
    let ports = match rng.below(5) {
        0 => ", ports: [{portNumber: {port: 15008}}]",
        1 => ", ports: [{namedPort: http}]",
        2 => ", ports: [{portRange: {start: 8000, end: 16000}}]",
        3 => ", ports: [{portNumber: {port: 8080}}, {portNumber: {protocol: TCP, port: 5432}}]",
        _ => "",
    };
    format!("{{action: {action}, {key}: [{peer}]{ports}}}")
}

/// A random cluster: namespaces in every mesh mode (ambient, ambient with a waypoint, sidecar,
/// none), waypoints for services / workloads / both, pods with ports (named, numeric, UDP),
/// probes, pod-level waypoint and data plane labels, hostNetwork pods, Services (named and
/// numeric target ports, a UDP port sharing a number, waypoint labels), NetworkPolicies
/// (every peer kind, ports with names, ranges, 15008), AdminNetworkPolicies and a BANP.
fn random_yaml(rng: &mut Rng) -> String {
    let mut y = String::new();
    y.push_str("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.11}]}\n---\n");
    y.push_str("apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.12}]}\n---\n");
    let mut waypoints = Vec::new();
    for ns in NS {
        let mut labels = vec![format!("team: {ns}")];
        match rng.below(5) {
            0 | 1 => labels.push("istio.io/dataplane-mode: ambient".into()),
            2 => labels.push("istio-injection: enabled".into()),
            3 => {
                labels.push("istio.io/dataplane-mode: ambient".into());
                labels.push("istio.io/use-waypoint: wp".into());
                waypoints.push(ns);
            }
            _ => {}
        }
        y.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{{}}}}}\n---\n",
            labels.join(", ")
        ));
    }
    if waypoints.is_empty() && rng.chance(2) {
        waypoints.push("a");
    }
    for (i, ns) in waypoints.iter().enumerate() {
        let wf = rng.pick(&["service", "workload", "all", "workload"]);
        y.push_str(&format!("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: wp, namespace: {ns}, labels: {{istio.io/waypoint-for: {wf}}}}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{{name: mesh, port: 15008, protocol: HBONE}}]\n---\n"));
        if rng.chance(5) {
            // A waypoint without a pod in the input: the engine adds one.
            continue;
        }
        y.push_str(&format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: wp, namespace: {ns}, labels: {{gateway.networking.k8s.io/gateway-name: wp, istio.io/dataplane-mode: none, sidecar.istio.io/inject: \"false\"}}}}\nspec:\n  serviceAccountName: wp\n  nodeName: n2\n  containers: [{{name: istio-proxy, image: proxyv2}}]\nstatus: {{podIP: 10.244.9.{}}}\n---\n", 10 + i));
    }
    let pods = 3 + rng.below(8);
    for i in 0..pods {
        let ns = rng.pick(&NS);
        let app = rng.pick(&APPS);
        let mut labels = vec![format!("app: {app}")];
        if rng.chance(3) {
            labels.push("tier: be".into());
        }
        if rng.chance(7) {
            labels.push("istio.io/dataplane-mode: none".into());
        }
        if rng.chance(6) {
            labels.push("istio.io/dataplane-mode: ambient".into());
        }
        if rng.chance(6) {
            labels.push("istio.io/use-waypoint: wp".into());
        }
        if rng.chance(8) {
            labels.push("sidecar.istio.io/inject: \"true\"".into());
        }
        let mut ports = Vec::new();
        for _ in 0..rng.below(4) {
            let (name, port, proto) = match rng.below(7) {
                0 => ("http", 8080, "TCP"),
                1 => ("metrics", 9090, "TCP"),
                2 => ("dns", 53, "UDP"),
                3 => ("tcp-db", 5432, "TCP"),
                4 => ("grpc", 8080, "TCP"),
                5 => ("hbone", 15008, "TCP"),
                _ => ("web", 80, "TCP"),
            };
            ports.push(format!(
                "{{name: {name}, containerPort: {port}, protocol: {proto}}}"
            ));
        }
        let probe = match rng.below(4) {
            0 => "\n      readinessProbe: {httpGet: {path: /healthz, port: 8080}}",
            1 => "\n      livenessProbe: {tcpSocket: {port: http}}",
            _ => "",
        };
        let host = if rng.chance(12) {
            "\n  hostNetwork: true"
        } else {
            ""
        };
        let node = rng.pick(&["n1", "n2"]);
        let ip = if host.is_empty() {
            format!("10.244.{}.{}", 1 + i % 3, 10 + i)
        } else if node == "n1" {
            "10.0.0.11".to_string()
        } else {
            "10.0.0.12".to_string()
        };
        y.push_str(&format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}, labels: {{{}}}}}\nspec:\n  serviceAccountName: {app}\n  nodeName: {node}{host}\n  containers:\n    - name: c\n      image: x\n      ports: [{}]{probe}\nstatus: {{podIP: {ip}}}\n---\n", labels.join(", "), ports.join(", ")));
    }
    for i in 0..rng.below(7) {
        let ns = rng.pick(&NS);
        let app = rng.pick(&APPS);
        let ports = match rng.below(6) {
            0 => "[{name: http, port: 80, targetPort: 8080}]",
            1 => "[{name: tcp-main, port: 80, targetPort: http}]",
            2 => "[{name: dns, port: 53, targetPort: dns, protocol: UDP}, {name: tcp-dns, port: 53, targetPort: 5432}]",
            3 => "[{name: u, port: 80, targetPort: nope, protocol: UDP}, {name: t, port: 80, targetPort: 8080}]",
            4 => "[{name: grpc, port: 9000, targetPort: 9090}, {name: db, port: 5432, targetPort: tcp-db}]",
            _ => "[{name: tcp, port: 5432, targetPort: 5432}]",
        };
        let wp = match rng.below(4) {
            0 => ", labels: {istio.io/use-waypoint: wp}",
            1 => ", labels: {istio.io/use-waypoint: none}",
            _ => "",
        };
        y.push_str(&format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: {ns}{wp}}}\nspec:\n  selector: {{app: {app}}}\n  ports: {ports}\n---\n"));
    }
    for i in 0..1 + rng.below(6) {
        let ns = rng.pick(&NS);
        let types = rng.pick(&["[Ingress]", "[Egress]", "[Ingress, Egress]"]);
        let ingress = np_rules(rng, "from");
        let egress = np_rules(rng, "to");
        y.push_str(&format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{i}, namespace: {ns}}}\nspec:\n  podSelector: {}\n  policyTypes: {types}\n  ingress: {ingress}\n  egress: {egress}\n---\n", pod_selector(rng)));
    }
    if rng.chance(2) {
        for i in 0..1 + rng.below(2) {
            let subject = if rng.chance(2) {
                format!("{{namespaces: {}}}", ns_selector(rng))
            } else {
                format!(
                    "{{pods: {{namespaceSelector: {}, podSelector: {}}}}}",
                    ns_selector(rng),
                    pod_selector(rng)
                )
            };
            let ingress = (0..rng.below(4))
                .map(|_| admin_rule(rng, true))
                .collect::<Vec<_>>()
                .join(", ");
            let egress = (0..rng.below(4))
                .map(|_| admin_rule(rng, false))
                .collect::<Vec<_>>()
                .join(", ");
            y.push_str(&format!("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: anp{i}}}\nspec:\n  priority: {}\n  subject: {subject}\n  ingress: [{ingress}]\n  egress: [{egress}]\n---\n", 10 + i));
        }
    }
    if rng.chance(4) {
        y.push_str("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {team: d}}}]}]\n  egress: [{action: Deny, to: [{namespaces: {matchLabels: {team: c}}}]}]\n---\n");
    }
    y
}

#[test]
fn agrees_with_the_per_flow_reference_on_random_clusters() {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut found = 0;
    for i in 0..500 {
        let text = random_yaml(&mut rng);
        found += check(&text, &format!("random cluster {i}"));
    }
    assert!(found > 300, "{found}");
}
