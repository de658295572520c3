//! Parse-layer integration tests: fixture scenarios under `tests/parse/`, and no-panic checks
//! over truncated and mutated manifests (a tiny deterministic PRNG, no dependencies).
#![allow(clippy::panic, reason = "tests fail by panicking")]

use std::net::Ipv4Addr;

use engine::diagnostics::Severity;
use engine::parse::parse;
use engine::Source;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/parse/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Seed 001: two namespaces, a Service + Deployment + ConfigMap in each, deny-all ingress in
/// np-test-2, and an AuthorizationPolicy (DENY with `rules: [{}]`) read by the Istio layer.
#[test]
fn two_namespaces_scenario() {
    let text = fixture("two-namespaces.yaml");
    let (cluster, mut diags) = parse(&[Source::new("two-namespaces.yaml", text.clone())]);
    diags.sort_by_key(|d| d.span);
    // The ConfigMaps' single-quoted nginx.conf has unindented continuation lines (accepted by
    // kubectl): one PP1018 warning each. Two ConfigMaps are ignored.
    let summary: Vec<_> = diags.iter().map(|d| (d.code, d.severity)).collect();
    assert_eq!(
        summary,
        [
            ("PP1003", Severity::Info),
            ("PP1018", Severity::Warning),
            ("PP1003", Severity::Info),
            ("PP1018", Severity::Warning),
        ],
        "{diags:#?}"
    );
    assert_eq!(text.get(diags[1].span.range()), Some("'"));

    let namespaces: Vec<_> = cluster.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(namespaces, ["np-test-1", "np-test-2"]);
    for ns in &cluster.namespaces {
        assert_eq!(
            ns.labels.get("istio-injection").map(String::as_str),
            Some("enabled")
        );
        assert_eq!(ns.labels.get("kubernetes.io/metadata.name"), Some(&ns.name));
        assert!(ns.span.is_some());
    }

    let workloads: Vec<_> = cluster.workloads.iter().map(|w| w.display_name()).collect();
    assert_eq!(
        workloads,
        [
            "np-test-1/np-test-nginx-1[Deployment]",
            "np-test-2/np-test-nginx-2[Deployment]"
        ]
    );
    for w in &cluster.workloads {
        assert_eq!(w.replicas, 1);
        assert_eq!(w.service_account, "default");
        assert_eq!(
            w.annotations
                .get("sidecar.istio.io/proxyLogLevel")
                .map(String::as_str),
            Some("rbac:debug")
        );
        let ports: Vec<_> = w
            .container_ports()
            .map(|p| (p.port, p.name.as_deref()))
            .collect();
        assert_eq!(ports, [(80, Some("web"))]);
    }
    assert_eq!(cluster.workloads[0].ip(), Ipv4Addr::new(10, 244, 0, 1));
    assert_eq!(cluster.workloads[1].ip(), Ipv4Addr::new(10, 244, 0, 2));

    let services: Vec<_> = cluster
        .services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    assert_eq!(
        services,
        [
            "np-test-1/svc-np-test-nginx-1",
            "np-test-2/svc-np-test-nginx-2"
        ]
    );

    assert_eq!(cluster.network_policies.len(), 1);
    let policy = &cluster.network_policies[0];
    assert_eq!(
        (policy.namespace.as_str(), policy.name.as_str()),
        ("np-test-2", "deny-all-ingress-using-networkpolicy")
    );
    assert!(policy.pod_selector.is_empty());
    assert!(policy.policy_types.ingress && !policy.policy_types.egress);
    assert!(policy.ingress.is_empty());

    let ignored: Vec<_> = cluster.ignored.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(ignored, ["ConfigMap", "ConfigMap"]);
    let ap = &cluster.authorization_policies;
    assert_eq!(ap.len(), 1);
    assert_eq!(ap[0].action, engine::istio::model::Action::Deny);
    assert_eq!(ap[0].rules.len(), 1);
    assert_eq!(cluster.nodes.len(), 1);
}

/// xorshift64*: deterministic, good enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Parse and check the span invariant (`start <= end <= len`, on char boundaries).
fn parse_checked(text: &str) {
    let (_, diags) = parse(&[Source::new("fuzz.yaml", text)]);
    for d in &diags {
        let (s, e) = (d.span.start as usize, d.span.end as usize);
        assert!(
            s <= e && e <= text.len(),
            "span {s}..{e} out of {} for {d:?}",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "span not on char boundary: {d:?}"
        );
    }
}

fn corpus() -> Vec<String> {
    let mut texts = vec![fixture("two-namespaces.yaml")];
    texts.push(
        r#"{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "x"},
 "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]},
 "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 80, "endPort": 90}]}]}}"#
            .to_owned(),
    );
    texts.push("a: &x [1, 2]\nb: *x\nc:\n  <<: {d: 1}\n  e: \"ü\"\n--- |\n  block\n...\n%YAML 1.2\n---\n- [x]\n".to_owned());
    texts
}

#[test]
fn truncated_prefixes_never_panic() {
    for text in corpus() {
        let mut end = 0;
        while end <= text.len() {
            if let Some(prefix) = text.get(..end) {
                parse_checked(prefix);
            }
            end += 1;
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let alphabet: &[u8] = b" \t\n:-[]{},'\"&*!|>#%@`?0123456789abcxyz\\\x00\xff\xc3";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for text in corpus() {
        for _ in 0..400 {
            let mut bytes = text.clone().into_bytes();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(3) {
                    0 => bytes.insert(at, alphabet[rng.below(alphabet.len())]),
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ if at < bytes.len() => bytes[at] = alphabet[rng.below(alphabet.len())],
                    _ => {}
                }
            }
            parse_checked(&String::from_utf8_lossy(&bytes));
        }
    }
}

#[test]
fn hostile_inputs_finish() {
    let deep_flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_map = format!("{}1{}", "{a: ".repeat(5_000), "}".repeat(5_000));
    let deep_block: String = (0..2_000)
        .map(|i| format!("{}- \n", " ".repeat(i)))
        .collect();
    let many_docs = "---\nkind: Pod\napiVersion: v1\nmetadata: {name: p}\n".repeat(2_000);
    let binary: String = (0..=255u8).cycle().take(20_000).map(char::from).collect();
    let big_list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        "- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n".repeat(3_000)
    );
    for text in [
        deep_flow,
        deep_map,
        deep_block,
        many_docs,
        binary,
        big_list,
        "\u{feff}kind: Pod".to_owned(),
        "\0".to_owned(),
    ] {
        parse_checked(&text);
    }
}
