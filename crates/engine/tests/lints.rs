//! Lint integration tests: each lint on its fixture under `tests/lints/`, its fix applied,
//! re-parsed and re-linted (the lint goes away, the YAML stays valid, and the intended flow's
//! verdict changes, judged through the public `istio` / `netpol` API), no lint on the clean
//! fixtures, `docs/lints.md` in step with the catalogue, and no panic on mutated input.
#![allow(clippy::panic, reason = "tests fail by panicking")]

use engine::diagnostics::Severity;
use engine::istio::{self, HttpRequest, MeshFlow, MeshSource, MeshTarget};
use engine::lints::{self, apply_fix, lint, Lint, LintOptions, CATALOGUE};
use engine::model::{Cluster, Protocol, WorkloadId};
use engine::netpol;
use engine::parse::parse;
use engine::verdict::{Decision, Layer};
use engine::Source;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/lints/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn options(cni: &str) -> LintOptions {
    LintOptions::with_cni(cni).unwrap_or_else(|| panic!("profile {cni}"))
}

fn run(text: &str, opts: &LintOptions) -> (Cluster, Vec<Lint>) {
    let sources = [Source::new("input.yaml", text)];
    let (cluster, _) = parse(&sources);
    let lints = lint(&sources, &cluster, opts);
    (cluster, lints)
}

fn errors(text: &str) -> Vec<String> {
    let (_, diags) = parse(&[Source::new("input.yaml", text)]);
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

fn workload(cluster: &Cluster, name: &str) -> WorkloadId {
    let (ns, n) = name.split_once('/').unwrap_or(("default", name));
    cluster
        .workloads
        .iter()
        .find(|w| w.namespace == ns && w.name == n)
        .map(|w| w.id)
        .unwrap_or_else(|| panic!("no workload {name}"))
}

/// A flow from `src` to `dst` (`ns/name`, or `ns/svc/name` for a Service) on `port`.
fn flow(cluster: &Cluster, src: &str, dst: &str, protocol: Protocol, port: u16) -> MeshFlow {
    let src = if src == "kubelet" {
        MeshSource::Kubelet(cluster.workload(workload(cluster, dst)).node)
    } else {
        MeshSource::Workload(workload(cluster, src))
    };
    let dst = match dst.split('/').collect::<Vec<_>>().as_slice() {
        [ns, "svc", name] => {
            let service = cluster
                .services
                .iter()
                .position(|s| s.namespace == *ns && s.name == *name)
                .unwrap_or_else(|| panic!("no service {dst}"));
            let endpoint = engine::flows::service_endpoints(cluster, service, port)
                .first()
                .map(|(w, _)| *w)
                .unwrap_or_else(|| panic!("no endpoint for {dst}"));
            MeshTarget::Service {
                service,
                port,
                endpoint,
            }
        }
        _ => MeshTarget::Workload(workload(cluster, dst)),
    };
    MeshFlow {
        src,
        dst,
        protocol,
        port,
        http: Some(HttpRequest {
            method: "GET".to_string(),
            path: "/".to_string(),
            ..HttpRequest::default()
        }),
        bypass: false,
    }
}

/// Every leg through every layer (SEMANTICS.md §0): the first deny decides.
fn verdict(cluster: &Cluster, opts: &LintOptions, flow: &MeshFlow) -> (Decision, Option<Layer>) {
    let np = engine::flows::cni_profile(&opts.cni).unwrap_or_default();
    let legs = istio::plan(cluster, &opts.mesh, flow);
    if legs.is_empty() {
        return (Decision::Unknown, None);
    }
    for leg in &legs {
        for v in [
            netpol::evaluate_egress(cluster, &leg.leg, &np),
            netpol::evaluate_ingress(cluster, &leg.leg, &np),
        ] {
            if v.decision != Decision::Allow {
                return (v.decision, Some(v.layer));
            }
        }
        if let Some(j) = istio::judge(cluster, &opts.mesh, leg) {
            if j.verdict.decision != Decision::Allow {
                return (j.verdict.decision, Some(j.verdict.layer));
            }
        }
    }
    (Decision::Allow, None)
}

struct Case {
    code: &'static str,
    file: &'static str,
    cni: &'static str,
    src: &'static str,
    dst: &'static str,
    protocol: Protocol,
    port: u16,
    before: (Decision, Option<Layer>),
    after: (Decision, Option<Layer>),
}

const ALLOW: (Decision, Option<Layer>) = (Decision::Allow, None);
const fn deny(layer: Layer) -> (Decision, Option<Layer>) {
    (Decision::Deny, Some(layer))
}

fn cases() -> Vec<Case> {
    use Protocol::{Tcp, Udp};
    let c = |code, file, cni, src, dst, protocol, port, before, after| Case {
        code,
        file,
        cni,
        src,
        dst,
        protocol,
        port,
        before,
        after,
    };
    vec![
        c(
            "PP4001",
            "pp4001.yaml",
            "generic",
            "demo/client",
            "demo/my-app",
            Tcp,
            9090,
            deny(Layer::NpIngress),
            ALLOW,
        ),
        c(
            "PP4002",
            "pp4002.yaml",
            "generic",
            "shop/web",
            "shop/api",
            Tcp,
            8080,
            deny(Layer::NpEgress),
            ALLOW,
        ),
        c(
            "PP4003",
            "pp4003.yaml",
            "cilium",
            "kubelet",
            "shop/my-app",
            Tcp,
            8080,
            deny(Layer::NpIngress),
            ALLOW,
        ),
        c(
            "PP4004",
            "pp4004.yaml",
            "generic",
            "demo/client",
            "demo/my-app",
            Tcp,
            9091,
            ALLOW,
            deny(Layer::Ztunnel),
        ),
        c(
            "PP4005",
            "pp4005.yaml",
            "generic",
            "fe/web",
            "be/svc/api",
            Tcp,
            80,
            deny(Layer::Ztunnel),
            ALLOW,
        ),
        c(
            "PP4007",
            "pp4007.yaml",
            "generic",
            "fe/web",
            "be/svc/api",
            Tcp,
            80,
            ALLOW,
            deny(Layer::Waypoint),
        ),
        c(
            "PP4008",
            "pp4008.yaml",
            "generic",
            "fe/web",
            "be/svc/api",
            Tcp,
            80,
            deny(Layer::Ztunnel),
            ALLOW,
        ),
        c(
            "PP4009",
            "pp4009.yaml",
            "generic",
            "fe/web",
            "be/svc/api",
            Tcp,
            80,
            deny(Layer::NpIngress),
            ALLOW,
        ),
        c(
            "PP4011",
            "pp4011.yaml",
            "generic",
            "fe/web",
            "be/api",
            Tcp,
            8080,
            deny(Layer::Ztunnel),
            ALLOW,
        ),
        c(
            "PP4012",
            "pp4012.yaml",
            "generic",
            "fe/other",
            "be/api",
            Tcp,
            8080,
            ALLOW,
            deny(Layer::NpIngress),
        ),
        c(
            "PP4013",
            "pp4013.yaml",
            "generic",
            "shop/web",
            "kube-system/coredns",
            Udp,
            53,
            deny(Layer::NpEgress),
            ALLOW,
        ),
    ]
}

/// The test: apply each fix, the lint goes away, the YAML stays valid, and the intended
/// flow's verdict changes.
#[test]
fn fixes_remove_the_lint_and_change_the_verdict() {
    for case in cases() {
        let opts = options(case.cni);
        let text = fixture(case.file);
        let (cluster, lints) = run(&text, &opts);
        let f = flow(&cluster, case.src, case.dst, case.protocol, case.port);
        assert_eq!(
            verdict(&cluster, &opts, &f),
            case.before,
            "{} before the fix",
            case.code
        );
        let hits: Vec<&Lint> = lints.iter().filter(|l| l.code == case.code).collect();
        assert_eq!(hits.len(), 1, "{}: {lints:#?}", case.code);
        let found = hits[0];
        assert_eq!(found.doc, lints::info(case.code).map_or("", |i| i.summary));
        let fix = found
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no fix: {found:#?}", case.code));
        let fixed = apply_fix(&text, fix);
        assert!(
            errors(&fixed).is_empty(),
            "{}: fix made invalid input: {:?}\n{fixed}",
            case.code,
            errors(&fixed)
        );
        let (cluster2, lints2) = run(&fixed, &opts);
        assert!(
            !lints2.iter().any(|l| l.code == case.code),
            "{} still reported after the fix:\n{fixed}\n{lints2:#?}",
            case.code
        );
        let f2 = flow(&cluster2, case.src, case.dst, case.protocol, case.port);
        assert_eq!(
            verdict(&cluster2, &opts, &f2),
            case.after,
            "{} after the fix:\n{fixed}",
            case.code
        );
    }
}

/// PP4003 depends on the CNI profile: Calico iptables counts the SNATed probe as node traffic.
#[test]
fn probe_lint_follows_the_cni_profile() {
    let text = fixture("pp4003.yaml");
    for (cni, expected, grade) in [
        ("cilium", true, "evidence V"),
        ("generic", true, "evidence U"),
        ("ovn-kubernetes", true, "evidence R"),
        ("calico-iptables", false, ""),
        ("kube-router", false, ""),
        ("flannel", false, ""),
    ] {
        let (_, lints) = run(&text, &options(cni));
        let found = lints.iter().find(|l| l.code == "PP4003");
        assert_eq!(found.is_some(), expected, "{cni}: {lints:#?}");
        if let Some(l) = found {
            assert!(
                l.help.as_deref().unwrap_or("").contains(grade),
                "{cni}: {:?}",
                l.help
            );
        }
    }
}

/// Lints without a fix (or whose fix is not tested above) are still reported where they should.
#[test]
fn lints_without_fix_are_reported() {
    let opts = options("generic");
    let (_, lints) = run(&fixture("pp4006.yaml"), &opts);
    let deny = lints
        .iter()
        .find(|l| l.code == "PP4006")
        .unwrap_or_else(|| panic!("{lints:#?}"));
    assert!(
        deny.message.contains("has no effect")
            && deny
                .message
                .contains("ztunnel does not support HTTP attributes (found: methods)"),
        "{}",
        deny.message
    );
    let (_, lints) = run(&fixture("pp4010.yaml"), &opts);
    let nothing = lints
        .iter()
        .find(|l| l.code == "PP4010")
        .unwrap_or_else(|| panic!("{lints:#?}"));
    assert_eq!(nothing.severity, Severity::Warning);
    // The same policy alone, with no workloads: info.
    let policy_only: String = fixture("pp4010.yaml")
        .split("---")
        .nth(1)
        .unwrap_or("")
        .to_string();
    let (_, lints) = run(&policy_only, &opts);
    assert!(
        lints
            .iter()
            .any(|l| l.code == "PP4010" && l.severity == Severity::Info),
        "{lints:#?}"
    );
    // PP4001's fix opens 15008, which PP4004 then reports (istio/istio#56659).
    let (_, lints) = run(&fixture("pp4001.yaml"), &opts);
    let fix = lints
        .iter()
        .find(|l| l.code == "PP4001")
        .and_then(|l| l.fix.clone())
        .unwrap_or_else(|| panic!("{lints:#?}"));
    let (_, after) = run(&apply_fix(&fixture("pp4001.yaml"), &fix), &opts);
    assert!(after.iter().any(|l| l.code == "PP4004"), "{after:#?}");
}

/// No lint (and so no fix) on the clean fixtures.
#[test]
fn clean_fixtures_have_no_lints() {
    for file in ["clean-mesh.yaml", "clean-plain.yaml"] {
        for cni in ["generic", "cilium", "calico-iptables"] {
            let (_, lints) = run(&fixture(file), &options(cni));
            assert!(lints.is_empty(), "{file} ({cni}): {lints:#?}");
        }
    }
}

/// Every lint converts to a diagnostic with the same code, severity and span.
#[test]
fn lints_become_diagnostics() {
    let (_, lints) = run(&fixture("pp4012.yaml"), &options("generic"));
    let l = lints
        .iter()
        .find(|l| l.code == "PP4012")
        .unwrap_or_else(|| panic!("{lints:#?}"));
    let d = l.to_diagnostic();
    assert_eq!((d.code, d.severity, d.span), (l.code, l.severity, l.span));
    assert!(d.help.as_deref().unwrap_or("").contains("fix: merge"));
}

/// `docs/lints.md` is generated from the catalogue; `UPDATE_EXPECT=1` rewrites it.
#[test]
fn docs_list_every_lint() {
    let path = format!("{}/../../docs/lints.md", env!("CARGO_MANIFEST_DIR"));
    let expected = lints::catalogue_markdown();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &expected).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for info in CATALOGUE {
        assert!(
            actual.contains(&format!("## {}", info.code)),
            "{} missing",
            info.code
        );
    }
    assert_eq!(
        actual, expected,
        "docs/lints.md is stale: run with UPDATE_EXPECT=1"
    );
}

/// Every fixture and scenario: every fix applies to valid YAML, and linting never panics.
#[test]
fn every_fix_keeps_the_input_valid() {
    let mut inputs: Vec<(String, String)> = Vec::new();
    let dir = format!("{}/tests/lints", env!("CARGO_MANIFEST_DIR"));
    let scenarios = format!("{}/../../scenarios", env!("CARGO_MANIFEST_DIR"));
    for d in [dir, scenarios] {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    inputs.push((p.display().to_string(), t));
                }
            }
        }
    }
    assert!(inputs.len() >= 14);
    for (name, text) in &inputs {
        for cni in ["generic", "cilium"] {
            let opts = options(cni);
            let (_, lints) = run(text, &opts);
            let before = errors(text);
            for l in &lints {
                if let Some(fix) = &l.fix {
                    let fixed = apply_fix(text, fix);
                    assert_eq!(
                        errors(&fixed),
                        before,
                        "{name} {}: {}\n{fixed}",
                        l.code,
                        fix.title
                    );
                }
            }
        }
    }
}

/// A tiny deterministic PRNG (xorshift), no dependencies.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

/// Random mutations of the fixtures (deleted, duplicated and swapped lines, changed
/// characters, truncation): lint and every fix never panic.
#[test]
fn no_panic_on_mutations() {
    let files = [
        "pp4001.yaml",
        "pp4003.yaml",
        "pp4004.yaml",
        "pp4005.yaml",
        "pp4007.yaml",
        "pp4008.yaml",
        "pp4009.yaml",
        "pp4011.yaml",
        "pp4012.yaml",
        "pp4013.yaml",
        "clean-mesh.yaml",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let opts = options("cilium");
    for file in files {
        let text = fixture(file);
        for _ in 0..40 {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(lines.len());
                match rng.below(6) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let l = lines[i].clone();
                        lines.insert(i, l);
                    }
                    2 => {
                        let j = rng.below(lines.len());
                        lines.swap(i, j);
                    }
                    3 => {
                        let l = &mut lines[i];
                        if !l.is_empty() {
                            let at = rng.below(l.len());
                            if l.is_char_boundary(at) {
                                let c = [' ', '-', ':', '{', '[', 'x', '\t', '"'][rng.below(8)];
                                l.insert(at, c);
                            }
                        }
                    }
                    4 => lines[i] = format!("  {}", lines[i]),
                    _ => lines.truncate(i.max(1)),
                }
                if lines.is_empty() {
                    lines.push(String::new());
                }
            }
            let mutated = lines.join("\n");
            let (_, lints) = run(&mutated, &opts);
            for l in &lints {
                if let Some(fix) = &l.fix {
                    let _ = apply_fix(&mutated, fix);
                }
            }
        }
    }
}
