//! Realistic synthetic clusters, deterministic from a seed, as multi-document YAML text (so the
//! engine's parser is part of what is measured).
//!
//! N namespaces (a mix of mesh modes: ambient, ambient behind a waypoint, sidecar injection, no
//! mesh) × workloads (Deployments and StatefulSets with app/tier/team/version labels, named and
//! numeric container ports, readiness and liveness probes, a service account, mostly 1–5
//! replicas) with a Service each; per namespace a default-deny and a DNS-egress NetworkPolicy,
//! then allow NetworkPolicies (pod, namespace and combined selectors, matchExpressions, named
//! ports, endPort, ipBlock with except) and AuthorizationPolicies (ALLOW by namespaces,
//! principals and ports; DENY with notNamespaces; HTTP rules; waypoint-bound `targetRefs`);
//! waypoints are `Gateway`s of class `istio-waypoint` plus `istio.io/use-waypoint` labels.
//!
//! Policies count NetworkPolicies + AuthorizationPolicies; pods are the sum of replicas.
//! No IO, no dependencies: compiles for wasm32 too.

use std::fmt::Write as _;

/// A tiny deterministic PRNG (SplitMix64): same seed, same cluster, on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// The benchmark sizes of issue 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Size {
    /// A workshop scenario: 10 workloads.
    S,
    /// 200 pods, 50 policies.
    M,
    /// 2,000 pods, 400 policies.
    L,
    /// 10,000 pods, 2,000 policies.
    XL,
}

impl Size {
    pub const ALL: [Size; 4] = [Size::S, Size::M, Size::L, Size::XL];

    pub fn name(self) -> &'static str {
        match self {
            Size::S => "S",
            Size::M => "M",
            Size::L => "L",
            Size::XL => "XL",
        }
    }

    pub fn parse(s: &str) -> Option<Size> {
        Size::ALL
            .into_iter()
            .find(|size| size.name().eq_ignore_ascii_case(s.trim()))
    }

    pub fn params(self) -> Params {
        let (namespaces, target, policies) = match self {
            Size::S => (2, Target::Workloads(10), 10),
            Size::M => (8, Target::Pods(200), 50),
            Size::L => (40, Target::Pods(2_000), 400),
            Size::XL => (100, Target::Pods(10_000), 2_000),
        };
        Params {
            seed: 6,
            namespaces,
            target,
            policies,
        }
    }
}

/// What the workload loop stops at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// This many workloads (replicas 1–2), kube-dns included.
    Workloads(usize),
    /// This many pods (sum of replicas), kube-dns included.
    Pods(usize),
}

/// Generator parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub seed: u64,
    /// Application namespaces (kube-system comes on top).
    pub namespaces: usize,
    pub target: Target,
    /// NetworkPolicies + AuthorizationPolicies (at least three per namespace).
    pub policies: usize,
}

/// A generated cluster.
#[derive(Clone, Debug, Default)]
pub struct Synth {
    /// Multi-document YAML.
    pub yaml: String,
    /// Application namespaces plus kube-system.
    pub namespaces: usize,
    pub workloads: usize,
    pub pods: usize,
    pub services: usize,
    pub network_policies: usize,
    pub authorization_policies: usize,
    pub waypoints: usize,
    /// The one-line edit: byte range of one workload's `tier` label value, and its replacement.
    pub edit_range: (usize, usize),
    pub edit_value: String,
}

impl Synth {
    /// NetworkPolicies + AuthorizationPolicies.
    pub fn policies(&self) -> usize {
        self.network_policies + self.authorization_policies
    }

    /// The YAML after the one-line edit (one workload's `tier` label gets another value).
    pub fn edited(&self) -> String {
        let (start, end) = self.edit_range;
        match (self.yaml.get(..start), self.yaml.get(end..)) {
            (Some(head), Some(tail)) => format!("{head}{}{tail}", self.edit_value),
            _ => self.yaml.clone(),
        }
    }
}

/// Generate one of the standard sizes.
pub fn generate_size(size: Size) -> Synth {
    generate(&size.params())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mesh {
    None,
    Sidecar,
    Ambient,
    /// Ambient, with a namespace waypoint (`istio.io/use-waypoint: waypoint`).
    Waypoint,
}

struct Ns {
    name: String,
    team: &'static str,
    mesh: Mesh,
}

struct Port {
    name: Option<&'static str>,
    number: u16,
}

struct Wl {
    name: String,
    ns: usize,
    team: &'static str,
    ports: Vec<Port>,
}

const TEAMS: [&str; 5] = ["payments", "shop", "identity", "data", "platform"];
const APPS: [&str; 20] = [
    "web",
    "api",
    "cart",
    "checkout",
    "catalog",
    "search",
    "auth",
    "orders",
    "inventory",
    "billing",
    "notify",
    "worker",
    "redis",
    "postgres",
    "gateway",
    "reports",
    "media",
    "users",
    "reviews",
    "ratings",
];
const PRIVATE: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

fn tier_of(app: &str) -> &'static str {
    match app {
        "web" | "gateway" | "media" => "frontend",
        "redis" => "cache",
        "postgres" => "db",
        "worker" | "notify" | "reports" => "worker",
        _ => "backend",
    }
}

fn ports_of(tier: &str, rng: &mut Rng) -> Vec<Port> {
    let p = |name: Option<&'static str>, number: u16| Port { name, number };
    let mut ports = match tier {
        "frontend" => vec![p(Some("http"), 8080), p(Some("metrics"), 9102)],
        "backend" => vec![
            p(Some("http"), 8080),
            p(Some("grpc"), 9090),
            p(Some("metrics"), 9102),
        ],
        "db" => vec![p(Some("tcp-postgres"), 5432)],
        "cache" => vec![p(Some("tcp-redis"), 6379)],
        _ => vec![p(Some("metrics"), 9102)],
    };
    if rng.chance(20) {
        // An unnamed numeric port (admin / TLS).
        ports.push(p(None, 8443));
    }
    ports
}

/// Replicas: mostly 1–5, sometimes more.
fn replicas(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=29 => 1,
        30..=54 => 2,
        55..=79 => 3,
        80..=89 => 4,
        90..=95 => 5,
        _ => 8 + rng.below(5),
    }
}

/// Generate a cluster. Deterministic in `params`.
pub fn generate(params: &Params) -> Synth {
    let mut rng = Rng::new(params.seed ^ 0x5EED_0000_0000_0006);
    let mut out = Synth::default();
    let mut y = String::new();
    let n_ns = params.namespaces.max(1);

    // ---- namespaces -------------------------------------------------------------------------
    let mut namespaces = Vec::with_capacity(n_ns);
    for i in 0..n_ns {
        let team = TEAMS[i % TEAMS.len()];
        let mesh = match i % 4 {
            0 => Mesh::Ambient,
            1 => Mesh::Sidecar,
            2 => Mesh::Waypoint,
            _ => Mesh::None,
        };
        let name = format!("{team}-{}", i / TEAMS.len() + 1);
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    team: {team}\n    env: {}\n",
            if i % 5 == 4 { "staging" } else { "prod" }
        );
        match mesh {
            Mesh::None => {}
            Mesh::Sidecar => y.push_str("    istio-injection: enabled\n"),
            Mesh::Ambient => y.push_str("    istio.io/dataplane-mode: ambient\n"),
            Mesh::Waypoint => y.push_str(
                "    istio.io/dataplane-mode: ambient\n    istio.io/use-waypoint: waypoint\n",
            ),
        }
        if mesh == Mesh::Waypoint {
            let _ = write!(
                y,
                "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: {name}\n  labels:\n    istio.io/waypoint-for: service\nspec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - name: mesh\n    port: 15008\n    protocol: HBONE\n"
            );
            out.waypoints += 1;
        }
        namespaces.push(Ns { name, team, mesh });
    }
    y.push_str(
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: coredns\n  namespace: kube-system\n  labels:\n    k8s-app: kube-dns\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      k8s-app: kube-dns\n  template:\n    metadata:\n      labels:\n        k8s-app: kube-dns\n    spec:\n      serviceAccountName: coredns\n      containers:\n      - name: coredns\n        image: registry.k8s.io/coredns/coredns:v1.11.1\n        ports:\n        - name: dns\n          containerPort: 53\n          protocol: UDP\n        - name: dns-tcp\n          containerPort: 53\n          protocol: TCP\n        - name: metrics\n          containerPort: 9153\n        readinessProbe:\n          httpGet:\n            path: /ready\n            port: 8181\n        livenessProbe:\n          httpGet:\n            path: /health\n            port: 8080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: kube-dns\n  namespace: kube-system\nspec:\n  selector:\n    k8s-app: kube-dns\n  ports:\n  - name: dns\n    port: 53\n    protocol: UDP\n  - name: dns-tcp\n    port: 53\n    protocol: TCP\n",
    );
    out.namespaces = n_ns + 1;
    out.workloads = 1;
    out.pods = 2;
    out.services = 1;

    // ---- workloads --------------------------------------------------------------------------
    let mut workloads: Vec<Wl> = Vec::new();
    let mut per_ns_count = vec![0usize; n_ns];
    let edit_at = match params.target {
        Target::Workloads(n) => n / 2,
        Target::Pods(n) => n / 5,
    };
    loop {
        let done = match params.target {
            Target::Workloads(n) => out.workloads >= n,
            Target::Pods(n) => out.pods >= n,
        };
        if done {
            break;
        }
        let index = workloads.len();
        let ns = index % n_ns;
        let k = per_ns_count[ns];
        per_ns_count[ns] += 1;
        let app = APPS[k % APPS.len()];
        let name = if k < APPS.len() {
            app.to_owned()
        } else {
            format!("{app}-{}", k / APPS.len() + 1)
        };
        let tier = tier_of(app);
        let namespace = &namespaces[ns];
        // Mostly the namespace's team; some shared services belong to another team.
        let team = if rng.chance(85) {
            namespace.team
        } else {
            TEAMS[rng.below(TEAMS.len())]
        };
        let version = if rng.chance(80) { "v1" } else { "v2" };
        let mut reps = match params.target {
            Target::Workloads(_) => 1 + rng.below(2),
            Target::Pods(_) => replicas(&mut rng),
        };
        if let Target::Pods(n) = params.target {
            reps = reps.min(n.saturating_sub(out.pods)).max(1);
        }
        let ports = ports_of(tier, &mut rng);
        let stateful = matches!(tier, "db" | "cache");
        let _ = write!(
            y,
            "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {nsn}\n  labels:\n    app: {name}\nspec:\n  replicas: {reps}\n",
            kind = if stateful { "StatefulSet" } else { "Deployment" },
            nsn = namespace.name,
        );
        if stateful {
            let _ = writeln!(y, "  serviceName: {name}");
        }
        let _ = write!(
            y,
            "  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n        tier: "
        );
        if index == edit_at {
            let start = y.len();
            out.edit_range = (start, start + tier.len());
            out.edit_value = if tier == "frontend" {
                "backend"
            } else {
                "frontend"
            }
            .to_owned();
        }
        let _ = write!(
            y,
            "{tier}\n        team: {team}\n        version: {version}\n"
        );
        match namespace.mesh {
            Mesh::Ambient if rng.chance(10) => {
                // Opted out of the mesh.
                y.push_str("        istio.io/dataplane-mode: none\n");
            }
            Mesh::Waypoint if rng.chance(10) => {
                y.push_str("        istio.io/use-waypoint: none\n");
            }
            _ => {}
        }
        if namespace.mesh == Mesh::Sidecar && rng.chance(10) {
            y.push_str("      annotations:\n        sidecar.istio.io/inject: \"false\"\n");
        }
        let _ = write!(
            y,
            "    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: {app}\n        image: registry.example.com/{team}/{app}:{version}\n        ports:\n"
        );
        for port in &ports {
            match port.name {
                Some(pname) => {
                    let _ = write!(
                        y,
                        "        - name: {pname}\n          containerPort: {}\n",
                        port.number
                    );
                }
                None => {
                    let _ = writeln!(y, "        - containerPort: {}", port.number);
                }
            }
        }
        // Probes: readiness by named port (HTTP) or TCP, liveness by number.
        let first = &ports[0];
        match (tier, first.name) {
            ("frontend" | "backend", Some(pname)) => {
                let _ = write!(
                    y,
                    "        readinessProbe:\n          httpGet:\n            path: /ready\n            port: {pname}\n        livenessProbe:\n          httpGet:\n            path: /healthz\n            port: {}\n",
                    first.number
                );
            }
            ("worker", _) => {
                let _ = write!(
                    y,
                    "        livenessProbe:\n          httpGet:\n            path: /metrics\n            port: {}\n",
                    first.number
                );
            }
            _ => {
                let _ = write!(
                    y,
                    "        readinessProbe:\n          tcpSocket:\n            port: {}\n        livenessProbe:\n          exec:\n            command: [\"/bin/true\"]\n",
                    first.number
                );
            }
        }
        if tier != "worker" {
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {nsn}\nspec:\n  selector:\n    app: {name}\n  ports:\n",
                nsn = namespace.name
            );
            for port in &ports {
                let target = port
                    .name
                    .map_or_else(|| port.number.to_string(), str::to_owned);
                let svc_port = match port.number {
                    8080 => 80,
                    8443 => 443,
                    n => n,
                };
                let _ = write!(
                    y,
                    "  - name: p{svc_port}\n    port: {svc_port}\n    targetPort: {target}\n"
                );
            }
            out.services += 1;
        }
        out.workloads += 1;
        out.pods += reps;
        workloads.push(Wl {
            name,
            ns,
            team,
            ports,
        });
    }

    // ---- policies ---------------------------------------------------------------------------
    // Per namespace: default-deny + DNS egress; then allow policies, NP:AP about 65:35.
    let total = params.policies.max(3 * n_ns);
    let np_budget = (total * 65 / 100).max(3 * n_ns);
    let ap_budget = total - np_budget;
    for ns in &namespaces {
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: {n}\nspec:\n  podSelector: {{}}\n  policyTypes:\n  - Ingress\n  - Egress\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-dns\n  namespace: {n}\nspec:\n  podSelector: {{}}\n  policyTypes:\n  - Egress\n  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: kube-system\n      podSelector:\n        matchLabels:\n          k8s-app: kube-dns\n    ports:\n    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53\n",
            n = ns.name
        );
        out.network_policies += 2;
        if ns.team == "shop" || ns.team == "payments" || ns.mesh == Mesh::Sidecar {
            // The usual companion of default-deny: pods of one namespace may talk freely.
            let _ = write!(
                y,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-same-namespace\n  namespace: {n}\nspec:\n  podSelector: {{}}\n  policyTypes:\n  - Ingress\n  - Egress\n  ingress:\n  - from:\n    - podSelector: {{}}\n  egress:\n  - to:\n    - podSelector: {{}}\n",
                n = ns.name
            );
            out.network_policies += 1;
        }
    }
    // Workloads visited in a shuffled order so policies spread over namespaces and tiers.
    let mut order: Vec<usize> = (0..workloads.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let mut k = 0usize;
    while out.network_policies < np_budget && !order.is_empty() {
        let w = &workloads[order[k % order.len()]];
        allow_np(&mut y, &mut rng, w, k, &workloads, &namespaces);
        out.network_policies += 1;
        k += 1;
    }
    let mut k = 0usize;
    while out.authorization_policies < ap_budget && !order.is_empty() {
        let w = &workloads[order[(k * 7 + 3) % order.len()]];
        authz(&mut y, &mut rng, w, k, &namespaces);
        out.authorization_policies += 1;
        k += 1;
    }
    out.yaml = y;
    out
}

/// One allow NetworkPolicy for workload `w` (variant `k % 6`).
fn allow_np(y: &mut String, rng: &mut Rng, w: &Wl, k: usize, all: &[Wl], namespaces: &[Ns]) {
    let ns = &namespaces[w.ns];
    let port = &w.ports[0];
    let port_ref = port
        .name
        .map_or_else(|| port.number.to_string(), str::to_owned);
    let _ = write!(
        y,
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}-allow-{k}\n  namespace: {nsn}\nspec:\n  podSelector:\n    matchLabels:\n      app: {name}\n",
        name = w.name,
        nsn = ns.name
    );
    match k % 6 {
        0 => {
            // Same-namespace frontends to the named port.
            let _ = write!(
                y,
                "  policyTypes:\n  - Ingress\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          tier: frontend\n    ports:\n    - port: {port_ref}\n"
            );
        }
        1 => {
            // Combined namespace AND pod selector, matchExpressions, endPort.
            let a = TEAMS[rng.below(TEAMS.len())];
            let _ = write!(
                y,
                "  policyTypes:\n  - Ingress\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n        - key: team\n          operator: In\n          values: [{t}, {a}]\n      podSelector:\n        matchLabels:\n          tier: frontend\n    ports:\n    - protocol: TCP\n      port: 8080\n      endPort: 8090\n",
                t = w.team
            );
        }
        2 => {
            // Monitoring from every namespace with a team, plus non-db pods of this namespace.
            let _ = write!(
                y,
                "  policyTypes:\n  - Ingress\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n        - key: team\n          operator: Exists\n      podSelector:\n        matchLabels:\n          app: reports\n    - podSelector:\n        matchExpressions:\n        - key: tier\n          operator: NotIn\n          values: [db]\n    ports:\n    - port: metrics\n    - port: {}\n",
                port.number
            );
        }
        3 => {
            // Egress to a workload of another namespace, and to the internet on 443.
            let other = &all[rng.below(all.len())];
            let other_port = other.ports[0].number;
            let _ = write!(
                y,
                "  policyTypes:\n  - Egress\n  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: {ons}\n      podSelector:\n        matchLabels:\n          app: {oname}\n    ports:\n    - protocol: TCP\n      port: {other_port}\n  - to:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n        except: [{p0}, {p1}, {p2}]\n    ports:\n    - protocol: TCP\n      port: 443\n",
                ons = namespaces[other.ns].name,
                oname = other.name,
                p0 = PRIVATE[0],
                p1 = PRIVATE[1],
                p2 = PRIVATE[2],
            );
        }
        4 => {
            // From the corporate network (not the service range) and versioned pods.
            let _ = write!(
                y,
                "  policyTypes:\n  - Ingress\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n        except:\n        - 10.96.0.0/12\n        - 10.244.{}.0/24\n    - podSelector:\n        matchExpressions:\n        - key: version\n          operator: Exists\n    ports:\n    - protocol: TCP\n      port: 8443\n    - protocol: TCP\n      port: {}\n",
                rng.below(200),
                port.number
            );
        }
        _ => {
            // Both directions: callers by app, and egress to data stores of the namespace.
            let a = namespaces
                .get(w.ns)
                .map_or("web", |_| APPS[rng.below(APPS.len())]);
            let _ = write!(
                y,
                "  policyTypes:\n  - Ingress\n  - Egress\n  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - key: app\n          operator: In\n          values: [web, gateway, {a}]\n    ports:\n    - port: {port_ref}\n  egress:\n  - to:\n    - podSelector:\n        matchExpressions:\n        - key: tier\n          operator: In\n          values: [db, cache]\n    ports:\n    - port: 5432\n    - port: 6379\n  - to:\n    - podSelector:\n        matchExpressions:\n        - key: legacy\n          operator: DoesNotExist\n    ports:\n    - protocol: UDP\n      port: 8125\n"
            );
        }
    }
}

/// One AuthorizationPolicy around workload `w` (variant `k % 5`).
fn authz(y: &mut String, rng: &mut Rng, w: &Wl, k: usize, namespaces: &[Ns]) {
    let ns = &namespaces[w.ns];
    let other = &namespaces[rng.below(namespaces.len())];
    let port = w.ports[0].number;
    let _ = write!(
        y,
        "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {name}-authz-{k}\n  namespace: {nsn}\nspec:\n",
        name = w.name,
        nsn = ns.name
    );
    match k % 5 {
        0 => {
            let _ = write!(
                y,
                "  selector:\n    matchLabels:\n      app: {name}\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        namespaces: [{nsn}, {o}]\n    to:\n    - operation:\n        ports: [\"{port}\"]\n",
                name = w.name,
                nsn = ns.name,
                o = other.name
            );
        }
        1 => {
            let _ = write!(
                y,
                "  selector:\n    matchLabels:\n      app: {name}\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals:\n        - cluster.local/ns/{nsn}/sa/web\n        - cluster.local/ns/{o}/sa/api\n    to:\n    - operation:\n        ports: [\"{port}\", \"9102\"]\n",
                name = w.name,
                nsn = ns.name,
                o = other.name
            );
        }
        2 => {
            let _ = write!(
                y,
                "  action: DENY\n  rules:\n  - from:\n    - source:\n        notNamespaces: [{nsn}, {o}, kube-system, istio-system]\n",
                nsn = ns.name,
                o = other.name
            );
        }
        3 => {
            // HTTP rules: bound to the waypoint where there is one (else enforced by a sidecar,
            // or by ztunnel, which fails safe).
            if ns.mesh == Mesh::Waypoint {
                y.push_str("  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n");
            } else {
                let _ = write!(y, "  selector:\n    matchLabels:\n      app: {}\n", w.name);
            }
            let _ = write!(
                y,
                "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        namespaces: [{nsn}]\n    to:\n    - operation:\n        methods: [GET, HEAD]\n        paths: [\"/api/*\"]\n",
                nsn = ns.name
            );
        }
        _ => {
            let _ = write!(
                y,
                "  selector:\n    matchLabels:\n      app: {}\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [\"/admin/*\"]\n",
                w.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a = generate_size(Size::M);
        let b = generate_size(Size::M);
        assert_eq!(a.yaml, b.yaml);
    }

    #[test]
    fn sizes_hit_their_targets() {
        let s = generate_size(Size::S);
        assert_eq!(s.workloads, 10);
        let m = generate_size(Size::M);
        assert_eq!((m.pods, m.policies()), (200, 50));
        let l = generate_size(Size::L);
        assert_eq!((l.pods, l.policies()), (2_000, 400));
        assert!(l.workloads > 500 && l.workloads < 1_200, "{}", l.workloads);
    }

    #[test]
    fn engine_reads_everything_without_errors() {
        for size in [Size::S, Size::M, Size::L] {
            let synth = generate_size(size);
            let a = crate::measure::parse(&synth.yaml);
            let errors: Vec<_> = a
                .diagnostics
                .iter()
                .filter(|d| d.severity == engine::Severity::Error)
                .collect();
            // Warnings are expected: the generator writes some ALLOW policies with HTTP rules for
            // ambient workloads without a waypoint, which istiod flags (PP3101).
            assert!(errors.is_empty(), "{size:?}: {errors:#?}");
            // The engine may also model each waypoint Gateway as a workload.
            let n = a.cluster.workloads.len();
            assert!(
                n == synth.workloads || n == synth.workloads + synth.waypoints,
                "{n}"
            );
            assert_eq!(a.cluster.network_policies.len(), synth.network_policies);
            let replicas: u32 = a.cluster.workloads.iter().map(|w| w.replicas).sum();
            let replicas = replicas as usize;
            assert!(replicas == synth.pods || replicas == synth.pods + synth.waypoints);
        }
    }

    #[test]
    fn the_edit_changes_one_tier_label() {
        let synth = generate_size(Size::M);
        let edited = synth.edited();
        let (start, end) = synth.edit_range;
        assert!(matches!(
            &synth.yaml[start..end],
            "frontend" | "backend" | "db" | "cache" | "worker"
        ));
        assert_ne!(edited, synth.yaml);
        assert_eq!(edited.lines().count(), synth.yaml.lines().count());
    }
}
