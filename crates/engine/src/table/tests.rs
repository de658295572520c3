//! Differential tests: every row of the fast table equals the reference `flows::flow_matrix`
//! (same flows in the same order, same verdict, deciding layer and per-layer decisions).

use super::*;
use crate::source::Source;

/// Compare the fast table with the reference on one cluster; returns the number of rows.
fn check(cluster: &Cluster, options: &Options, what: &str) -> usize {
    let reference = flows::flow_matrix(cluster, options);
    let table = flow_table(cluster, options);
    assert_eq!(
        table.len(),
        reference.len(),
        "{what}: row count differs\n{:?}",
        reference
            .iter()
            .map(|f| (f.kind, f.src, f.dst, f.port))
            .collect::<Vec<_>>()
    );
    for (f, (id, row)) in reference.iter().zip(table.iter()) {
        let spec = table.spec(id).expect("spec");
        assert_eq!(spec, f.spec(), "{what}: flow {id} spec");
        let got = (row.verdict, row.decided_by, row.layers);
        assert_eq!(
            got,
            compact(f),
            "{what}: flow {id} {:?} {:?} → {:?} {:?}/{}",
            f.kind,
            f.src,
            f.dst,
            f.protocol,
            f.port
        );
    }
    // Slicing gives the same table.
    let mut job = TableJob::new(Arc::new(cluster.clone()), Arc::new(options.clone()));
    while !job.is_done() {
        job.step(7);
        let (done, total) = job.progress();
        assert!(done <= total, "{what}: progress {done}/{total}");
    }
    assert_eq!(job.finish(), table, "{what}: sliced build differs");
    table.len()
}

fn option_variants() -> Vec<(String, Options)> {
    let mut res = Vec::new();
    for cni in ["generic", "cilium", "calico", "flannel", "netpol-analyzer"] {
        if let Some(o) = Options::with_cni(cni) {
            res.push((cni.to_string(), o));
        }
    }
    let mut o = Options {
        external_flows: true,
        ..Options::default()
    };
    o.mesh.sending_hbone = false;
    o.mesh.cni_nftables = true;
    o.mesh.auto_allow_waypoint_policy = !o.mesh.auto_allow_waypoint_policy;
    res.push(("mesh-variant".into(), o));
    let mut o = Options {
        external_flows: false,
        ..Options::default()
    };
    o.mesh.rewrite_app_probers = !o.mesh.rewrite_app_probers;
    res.push(("no-external".into(), o));
    res
}

fn parse_text(text: &str) -> Cluster {
    crate::parse::parse(&[Source::new("t.yaml", text)]).0
}

#[test]
fn cases_and_scenarios_agree_with_reference() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests/cases", "scenarios"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "yaml") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "case files not found");
    let mut rows = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).expect("read");
        let cluster = parse_text(&text);
        for (name, options) in option_variants() {
            rows += check(&cluster, &options, &format!("{} [{name}]", p.display()));
        }
    }
    assert!(rows > 1000, "{rows}");
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

const NS: [&str; 3] = ["a", "b", "c"];
const APPS: [&str; 3] = ["web", "api", "db"];
const SAS: [&str; 3] = ["default", "web", "api"];

/// A random cluster as YAML: namespaces in every mesh mode, pods and Deployments with ports,
/// probes and service accounts, Services (named and numeric target ports, `tcp-` names),
/// NetworkPolicies, AuthorizationPolicies (every action, selectors, targetRefs, principals,
/// namespaces, ipBlocks, ports, HTTP fields, `when`), PeerAuthentications and waypoints.
fn random_yaml(rng: &mut Rng) -> String {
    let mut y = String::new();
    y.push_str("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.11}]}\n---\n");
    y.push_str("apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.12}]}\n---\n");
    let mut waypoints = Vec::new();
    for ns in NS {
        let mut labels = vec![format!("team: {ns}")];
        match rng.below(4) {
            0 => labels.push("istio.io/dataplane-mode: ambient".into()),
            1 => labels.push("istio-injection: enabled".into()),
            2 => {
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
    for ns in &waypoints {
        let wf = rng.pick(&["service", "workload", "all"]);
        y.push_str(&format!("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: wp, namespace: {ns}, labels: {{istio.io/waypoint-for: {wf}}}}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{{name: mesh, port: 15008, protocol: HBONE}}]\n---\n"));
        y.push_str(&format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: wp, namespace: {ns}, labels: {{gateway.networking.k8s.io/gateway-name: wp, istio.io/dataplane-mode: none, sidecar.istio.io/inject: \"false\"}}}}\nspec:\n  serviceAccountName: wp\n  nodeName: n2\n  containers: [{{name: istio-proxy, image: proxyv2}}]\nstatus: {{podIP: 10.244.9.{}}}\n---\n", 10 + waypoints.iter().position(|w| w == ns).unwrap_or(0)));
    }
    let pods = 2 + rng.below(5);
    for i in 0..pods {
        let ns = rng.pick(&NS);
        let app = rng.pick(&APPS);
        let sa = rng.pick(&SAS);
        let mut labels = vec![format!("app: {app}")];
        if rng.chance(6) {
            labels.push("istio.io/dataplane-mode: none".into());
        }
        if rng.chance(8) {
            labels.push("istio.io/dataplane-mode: ambient".into());
        }
        if rng.chance(8) {
            labels.push("istio.io/use-waypoint: wp".into());
        }
        let mut ports = Vec::new();
        for _ in 0..rng.below(3) {
            let (name, port, proto) = match rng.below(6) {
                0 => ("http", 8080, "TCP"),
                1 => ("metrics", 9090, "TCP"),
                2 => ("dns", 53, "UDP"),
                3 => ("tcp-db", 5432, "TCP"),
                4 => ("grpc", 8080, "TCP"),
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
        let host = if rng.chance(10) {
            "\n  hostNetwork: true"
        } else {
            ""
        };
        let node = rng.pick(&["n1", "n2"]);
        let ip = if host.is_empty() {
            format!("10.244.{}.{}", 1 + i % 2, 10 + i)
        } else if node == "n1" {
            "10.0.0.11".to_string()
        } else {
            "10.0.0.12".to_string()
        };
        y.push_str(&format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {ns}, labels: {{{}}}}}\nspec:\n  serviceAccountName: {sa}\n  nodeName: {node}{host}\n  containers:\n    - name: c\n      image: x\n      ports: [{}]{probe}\nstatus: {{podIP: {ip}}}\n---\n", labels.join(", "), ports.join(", ")));
    }
    for i in 0..rng.below(4) {
        let ns = rng.pick(&NS);
        let app = rng.pick(&APPS);
        let (name, port, target) = match rng.below(5) {
            0 => ("http", 80, "8080"),
            1 => ("tcp-main", 80, "http"),
            2 => ("dns", 53, "dns"),
            3 => ("grpc", 9000, "9090"),
            _ => ("tcp", 5432, "5432"),
        };
        let proto = if name == "dns" { "UDP" } else { "TCP" };
        let wp = if rng.chance(3) {
            ", labels: {istio.io/use-waypoint: wp}"
        } else {
            ""
        };
        y.push_str(&format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: {ns}{wp}}}\nspec:\n  selector: {{app: {app}}}\n  ports: [{{name: {name}, port: {port}, targetPort: {target}, protocol: {proto}}}]\n---\n"));
    }
    for i in 0..rng.below(4) {
        let ns = rng.pick(&NS);
        let select = if rng.chance(2) {
            "{}".to_string()
        } else {
            format!("{{matchLabels: {{app: {}}}}}", rng.pick(&APPS))
        };
        let peer = match rng.below(5) {
            0 => format!(
                "{{podSelector: {{matchLabels: {{app: {}}}}}}}",
                rng.pick(&APPS)
            ),
            1 => format!(
                "{{namespaceSelector: {{matchLabels: {{team: {}}}}}}}",
                rng.pick(&NS)
            ),
            2 => "{ipBlock: {cidr: 10.0.0.0/8, except: [10.244.1.0/24]}}".to_string(),
            3 => "{ipBlock: {cidr: 169.254.7.127/32}}".to_string(),
            _ => "{namespaceSelector: {}}".to_string(),
        };
        let ports = match rng.below(4) {
            0 => "".to_string(),
            1 => "\n      ports: [{port: 15008}]".to_string(),
            2 => "\n      ports: [{port: http}, {port: 53, protocol: UDP}]".to_string(),
            _ => "\n      ports: [{port: 8000, endPort: 9100}]".to_string(),
        };
        let types = rng.pick(&["[Ingress]", "[Egress]", "[Ingress, Egress]"]);
        let rules = if rng.chance(3) {
            String::new()
        } else {
            format!(
                "\n  ingress:\n    - from: [{peer}]{ports}\n  egress:\n    - to: [{peer}]{ports}"
            )
        };
        y.push_str(&format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{i}, namespace: {ns}}}\nspec:\n  podSelector: {select}\n  policyTypes: {types}{rules}\n---\n"));
    }
    for i in 0..rng.below(5) {
        let ns = rng.pick(&["a", "b", "c", "istio-system"]);
        let action = rng.pick(&["ALLOW", "ALLOW", "DENY", "CUSTOM", "AUDIT"]);
        let target = match rng.below(4) {
            0 => String::new(),
            1 => format!(
                "\n  selector: {{matchLabels: {{app: {}}}}}",
                rng.pick(&APPS)
            ),
            2 => "\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: wp}]"
                .to_string(),
            _ => "\n  targetRefs: [{kind: Service, group: \"\", name: s0}]".to_string(),
        };
        let source = match rng.below(8) {
            0 => format!(
                "{{principals: [cluster.local/ns/{}/sa/{}]}}",
                rng.pick(&NS),
                rng.pick(&SAS)
            ),
            1 => format!("{{namespaces: [{}]}}", rng.pick(&NS)),
            2 => format!("{{notNamespaces: [{}]}}", rng.pick(&NS)),
            3 => "{ipBlocks: [10.244.1.0/24]}".to_string(),
            4 => "{principals: [\"*/sa/web\"]}".to_string(),
            5 => format!("{{principals: [cluster.local/ns/{}/sa/wp]}}", rng.pick(&NS)),
            6 => "{notPrincipals: [\"*\"]}".to_string(),
            _ => String::new(),
        };
        let from = if source.is_empty() {
            String::new()
        } else {
            format!("from: [{{source: {source}}}]")
        };
        let to = match rng.below(5) {
            0 => "to: [{operation: {ports: [\"8080\"]}}]",
            1 => "to: [{operation: {methods: [GET]}}]",
            2 => "to: [{operation: {paths: [/admin]}}]",
            3 => "to: [{operation: {notPorts: [\"9090\"]}}]",
            _ => "",
        };
        let when = match rng.below(6) {
            0 => "when: [{key: source.namespace, values: [a]}]",
            1 => "when: [{key: \"request.headers[x]\", values: [y]}]",
            _ => "",
        };
        let parts: Vec<&str> = [from.as_str(), to, when]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let rules = match rng.below(6) {
            0 => String::new(),
            1 => "\n  rules: [{}]".to_string(),
            _ => format!("\n  rules: [{{{}}}]", parts.join(", ")),
        };
        let provider = if action == "CUSTOM" {
            "\n  provider: {name: ext}"
        } else {
            ""
        };
        y.push_str(&format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: ap{i}, namespace: {ns}}}\nspec:{target}\n  action: {action}{provider}{rules}\n---\n"));
    }
    for i in 0..rng.below(3) {
        let ns = rng.pick(&["a", "b", "c", "istio-system"]);
        let mode = rng.pick(&["STRICT", "PERMISSIVE", "DISABLE"]);
        let extra = match rng.below(3) {
            0 => format!(
                "\n  selector: {{matchLabels: {{app: {}}}}}\n  portLevelMtls: {{\"8080\": {{mode: {}}}}}",
                rng.pick(&APPS),
                rng.pick(&["STRICT", "PERMISSIVE", "DISABLE"])
            ),
            _ => String::new(),
        };
        y.push_str(&format!("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: pa{i}, namespace: {ns}}}\nspec:\n  mtls: {{mode: {mode}}}{extra}\n---\n"));
    }
    y
}

#[test]
fn random_clusters_agree_with_reference() {
    let mut rng = Rng(0x05EE_D0F7_AB1E);
    let variants = option_variants();
    let mut rows = 0;
    for round in 0..400 {
        let text = random_yaml(&mut rng);
        let cluster = parse_text(&text);
        let (name, options) = &variants[round % variants.len()];
        rows += check(
            &cluster,
            options,
            &format!("round {round} [{name}]\n{text}"),
        );
    }
    assert!(rows > 5000, "{rows}");
}

#[test]
fn layers_pack_and_merge() {
    let mut l = Layers::default();
    assert_eq!(l.get(Layer::Ztunnel), LayerDecision::NotApplicable);
    l.add(Layer::Ztunnel, Decision::Allow);
    l.add(Layer::NpEgress, Decision::Unknown);
    l.add(Layer::Ztunnel, Decision::Deny);
    l.add(Layer::Ztunnel, Decision::Allow);
    assert_eq!(l.get(Layer::Ztunnel), LayerDecision::Deny);
    assert_eq!(l.get(Layer::NpEgress), LayerDecision::Unknown);
    assert_eq!(l.get(Layer::Sidecar), LayerDecision::NotApplicable);
    assert_eq!(l.iter().count(), 5);
}

#[test]
fn random_yaml_is_mostly_valid() {
    let mut rng = Rng(0x05EE_D0F7_AB1E);
    let mut errors = 0;
    let (mut aps, mut wps, mut pas) = (0, 0, 0);
    for _ in 0..50 {
        let text = random_yaml(&mut rng);
        let (cluster, diags) = crate::parse::parse(&[Source::new("t.yaml", &text)]);
        errors += diags
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .inspect(|d| {
                eprintln!(
                    "{d:?} {:?}",
                    text.get(d.span.start.saturating_sub(80) as usize..d.span.end as usize + 10)
                )
            })
            .count();
        aps += cluster.authorization_policies.len();
        wps += cluster.waypoints.len();
        pas += cluster.peer_authentications.len();
    }
    assert_eq!(errors, 0);
    assert!(aps > 50 && wps > 10 && pas > 20, "{aps} {wps} {pas}");
}
