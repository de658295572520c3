//! Lint time per rule family on a generated cluster (native):
//! `cargo run --release -p bench --example lint_time [SIZE] [RUNS] [OUT]`.
//!
//! SIZE is S, M, L (default) or XL; RUNS (default 5) runs, the median and the minimum per family
//! are printed. The YAML for placing fixes is parsed once, untimed, as `AnalysisJob` does; the
//! first family's time includes the facts every family shares. OUT, when given, receives every
//! lint (Debug form, one per line) for comparing two builds.

use std::time::{Duration, Instant};

/// The families of `engine::lints::Linter`, in order.
const NAMES: [&str; 7] = [
    "mesh legs (PP4001/4002/4009)",
    "probes (PP4003)",
    "dns (PP4013)",
    "widened (PP4004)",
    "stray dash (PP4012)",
    "authz (PP4005-4008)",
    "references (PP4010/4011)",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let size = args
        .next()
        .and_then(|s| bench::synth::Size::parse(&s))
        .unwrap_or(bench::synth::Size::L);
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let out = args.next();
    let synth = bench::synth::generate_size(size);
    let sources = vec![engine::Source::new("synth.yaml", synth.yaml.clone())];
    let (cluster, _) = engine::parse::parse(&sources);
    let options = engine::lints::LintOptions::default();
    println!(
        "{}: {} workloads, {} NetworkPolicies, {} AuthorizationPolicies; {runs} runs",
        size.name(),
        cluster.workloads.len(),
        cluster.network_policies.len(),
        cluster.authorization_policies.len()
    );
    // The YAML for placing fixes, parsed once as `AnalysisJob` does (not timed).
    let roots: Vec<Vec<engine::yaml::Node>> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (documents, _) =
                engine::yaml::parse_documents(engine::parse::source_id(i), &s.text);
            documents.into_iter().filter_map(|d| d.root).collect()
        })
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); NAMES.len()];
    let mut totals = Vec::new();
    let mut finishes = Vec::new();
    let mut lints = Vec::new();
    for _ in 0..runs {
        let mut linter = engine::lints::Linter::with_roots(roots.clone());
        let start = Instant::now();
        let mut per = vec![Duration::ZERO; NAMES.len()];
        while !linter.is_done() {
            let family = linter.progress(&cluster).0 / 1024;
            let t = Instant::now();
            linter.step(&sources, &cluster, &options, usize::MAX);
            if let Some(slot) = per.get_mut(family) {
                *slot += t.elapsed();
            }
        }
        totals.push(start.elapsed());
        let t = Instant::now();
        lints = linter.finish();
        finishes.push(t.elapsed());
        for (all, one) in times.iter_mut().zip(per) {
            all.push(one);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    println!("{:>28}  {:>8}    {:>8}", "family", "median", "min");
    for (name, t) in NAMES.iter().zip(times.iter_mut()) {
        let min = t.iter().min().copied().unwrap_or_default();
        println!(
            "{name:>28}: {:8.2} ms {:8.2} ms",
            median(t).as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
    println!(
        "{:>28}: {:8.2} ms",
        "all steps",
        median(&mut totals).as_secs_f64() * 1e3
    );
    println!(
        "{:>28}: {:8.2} ms (sort; drops the YAML roots)",
        "finish",
        median(&mut finishes).as_secs_f64() * 1e3
    );
    let mut counts = std::collections::BTreeMap::new();
    for l in &lints {
        *counts.entry(l.code).or_insert(0usize) += 1;
    }
    println!("{} lints: {counts:?}", lints.len());
    if let Some(path) = out {
        let text: String = lints.iter().map(|l| format!("{l:?}\n")).collect();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("cannot write {path}: {e}");
        }
    }
}
