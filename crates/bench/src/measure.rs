//! The measurements, shared by `pp-bench` (native) and `tests/wasm_bench.rs` (headless
//! Chromium): parse, full analysis, re-analysis after a one-line edit, distinct pod classes and
//! (source class, destination class, port) triples, medians, and the Markdown table.
//!
//! The clock is a parameter (milliseconds as `f64`): `Instant` natively, `performance.now()` in
//! the browser. Peak memory is measured by the native binary's counting allocator.

use std::collections::{BTreeSet, HashMap};

use engine::flows;
use engine::model::{Cluster, Protocol};
use engine::netpol::{NpIndex, NpProfile};
use engine::npmatrix::NpMatrix;
use engine::verdict::{Decision, Endpoint};
use engine::{Analysis, AnalyzeOptions, Source};

use crate::synth::Synth;

/// A clock in milliseconds.
pub type Clock<'a> = &'a dyn Fn() -> f64;

/// What "full analysis" runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// `engine::analyze_with` with default options, end to end: parse, diagnostics, lints and
    /// the flow table (every flow of `flows::flow_matrix` with its verdict and per-layer
    /// decisions, through the class-level fast path). What the CLI and the page run.
    #[default]
    Analyze,
    /// [`NpMatrix`]: both NetworkPolicy sides of every (source workload, destination workload,
    /// declared destination port) flow at once, as bit sets; then every flow is read.
    NpMatrix,
    /// `engine::flows::flow_matrix` with default options: every flow (workload → workload and
    /// Service, probes, external ranges) judged leg by leg with reasons at every layer.
    FlowMatrix,
    /// Every (source workload, destination workload, destination port) flow judged at both
    /// NetworkPolicy layers through [`NpIndex`] (cached per-policy selections, port sets as
    /// intervals), one pair at a time.
    NpIndexPairs,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "analyze" => Some(Method::Analyze),
            "matrix" => Some(Method::NpMatrix),
            "index" => Some(Method::NpIndexPairs),
            "flows" => Some(Method::FlowMatrix),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Method::Analyze => {
                "engine::analyze_with (default options), end to end: parse, diagnostics, lints and \
                 the flow table (every flow with verdict and per-layer decisions, fast path); the \
                 analysis column includes parsing"
            }
            Method::NpMatrix => {
                "npmatrix::NpMatrix: NetworkPolicy egress and ingress decision of every workload → \
                 workload × declared destination port flow (pod classes, bit sets), all read once"
            }
            Method::FlowMatrix => {
                "flows::flow_matrix: every flow (workload → workload/Service port, probes, external \
                 ranges) materialised with per-layer verdicts and reasons"
            }
            Method::NpIndexPairs => {
                "netpol::NpIndex, one workload pair at a time: NP egress ∩ ingress port set, \
                 tested on every declared destination port"
            }
        }
    }
}

/// Parse only: YAML → documents → typed cluster + diagnostics (`engine::parse::parse`).
pub fn parse(text: &str) -> Analysis {
    let (cluster, diagnostics) = engine::parse::parse(&[Source::new("synth.yaml", text)]);
    Analysis {
        cluster,
        diagnostics,
        ..Analysis::default()
    }
}

/// The real path: `engine::analyze_with` with default options (parse, lints, flow table);
/// returns the number of allowed flows.
pub fn analyze_text(text: &str) -> usize {
    let analysis = engine::analyze_with(
        &[Source::new("synth.yaml", text)],
        &AnalyzeOptions::default(),
    );
    analysis
        .table
        .iter()
        .filter(|(_, r)| r.verdict == Decision::Allow)
        .count()
}

/// Run the full analysis on a parsed cluster; returns the number of allowed flows.
pub fn analyze(cluster: &Cluster, method: Method) -> usize {
    match method {
        Method::Analyze => engine::table::flow_table(cluster, &flows::Options::default())
            .iter()
            .filter(|(_, r)| r.verdict == Decision::Allow)
            .count(),
        Method::NpIndexPairs => np_index_pairs(cluster),
        Method::FlowMatrix => flows::flow_matrix(cluster, &flows::Options::default())
            .iter()
            .filter(|f| f.verdict == Decision::Allow)
            .count(),
        Method::NpMatrix => NpMatrix::new(cluster, &NpProfile::default()).count_allowed(),
    }
}

fn dst_ports(cluster: &Cluster) -> Vec<Vec<(Protocol, u16)>> {
    cluster
        .workloads
        .iter()
        .map(|w| {
            w.container_ports()
                .filter(|cp| cp.port != 0)
                .map(|cp| (cp.protocol, cp.port))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .collect()
}

fn np_index_pairs(cluster: &Cluster) -> usize {
    let index = NpIndex::new(cluster, &NpProfile::default());
    let ports = dst_ports(cluster);
    let mut allowed = 0;
    for src in &cluster.workloads {
        for (dst, dst_ports) in cluster.workloads.iter().zip(&ports) {
            if src.id == dst.id || dst_ports.is_empty() {
                continue;
            }
            let set = index.allowed(Endpoint::Pod(src.id), Endpoint::Pod(dst.id));
            allowed += dst_ports
                .iter()
                .filter(|(proto, port)| set.contains(*proto, *port))
                .count();
        }
    }
    allowed
}

/// Distinct pod classes (same namespace, labels, annotations, service account, ports, host
/// network: they behave the same at every layer) and distinct (source class, destination class,
/// destination port) triples.
pub fn classes_and_triples(cluster: &Cluster) -> (usize, usize) {
    let mut classes: HashMap<String, usize> = HashMap::new();
    let ports = dst_ports(cluster);
    for (w, ports) in cluster.workloads.iter().zip(&ports) {
        let key = format!(
            "{}|{:?}|{:?}|{}|{:?}|{}",
            w.namespace, w.labels, w.annotations, w.service_account, ports, w.host_network
        );
        classes.entry(key).or_insert(ports.len());
    }
    let n = classes.len();
    let triples = classes.values().map(|p| n * p).sum();
    (n, triples)
}

/// Median (upper median for even counts); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One row of the results table.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub size: String,
    pub yaml_bytes: usize,
    pub workloads: usize,
    pub pods: usize,
    pub network_policies: usize,
    pub authorization_policies: usize,
    pub classes: usize,
    pub triples: usize,
    pub allowed: usize,
    pub runs: usize,
    pub parse_ms: f64,
    pub analysis_ms: f64,
    pub reanalysis_ms: f64,
    /// Filled by the native binary.
    pub peak_bytes: Option<usize>,
}

/// Measure one generated cluster: warm-up runs (at least one, more for small inputs), then `runs` runs of parse, analysis and re-analysis (parse of the
/// edited text + analysis), medians.
pub fn run(size: &str, synth: &Synth, runs: usize, method: Method, now: Clock) -> Row {
    let edited = synth.edited();
    let (mut parse_ms, mut analysis_ms, mut reanalysis_ms) = (Vec::new(), Vec::new(), Vec::new());
    let mut row = Row {
        size: size.to_owned(),
        yaml_bytes: synth.yaml.len(),
        workloads: synth.workloads,
        pods: synth.pods,
        network_policies: synth.network_policies,
        authorization_policies: synth.authorization_policies,
        runs: runs.max(1),
        ..Row::default()
    };
    // Untimed warm-up runs (caches, allocator, the browser's JIT and memory growth): the
    // numbers are those of an editor that has analysed before.
    let full = |text: &str, cluster: &Cluster| match method {
        Method::Analyze => analyze_text(text),
        _ => analyze(cluster, method),
    };
    // At least one run, and more until 300 ms have passed (at most 50): in the browser a
    // small input's first runs still execute in V8's baseline wasm tier (functions tier up to
    // the optimising compiler once hot), which an editor that re-analyses on every keystroke
    // leaves behind after its first few analyses.
    let start = now();
    let mut warm_runs = 0;
    while warm_runs < 1 || (now() - start < 300.0 && warm_runs < 50) {
        let warm = parse(&synth.yaml);
        full(&synth.yaml, &warm.cluster);
        warm_runs += 1;
    }
    for _ in 0..runs.max(1) {
        let t0 = now();
        let analysis = parse(&synth.yaml);
        let t1 = now();
        row.allowed = full(&synth.yaml, &analysis.cluster);
        let t2 = now();
        match method {
            // End to end: parse + lints + table of the edited text.
            Method::Analyze => {
                analyze_text(&edited);
            }
            _ => {
                let edited_analysis = parse(&edited);
                analyze(&edited_analysis.cluster, method);
            }
        }
        let t3 = now();
        parse_ms.push(t1 - t0);
        analysis_ms.push(t2 - t1);
        reanalysis_ms.push(t3 - t2);
        if row.classes == 0 {
            (row.classes, row.triples) = classes_and_triples(&analysis.cluster);
            row.workloads = analysis.cluster.workloads.len();
        }
    }
    row.parse_ms = median(&parse_ms);
    row.analysis_ms = median(&analysis_ms);
    row.reanalysis_ms = median(&reanalysis_ms);
    row
}

/// The Markdown table of results.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| size | YAML bytes | pods | workloads | policies (NP+AP) | pod classes | class triples | allowed flows | parse ms | analysis ms | re-analysis ms | peak MiB |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let peak = r.peak_bytes.map_or_else(
            || "–".to_owned(),
            |b| format!("{:.1}", b as f64 / 1_048_576.0),
        );
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}+{}) | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |\n",
            r.size,
            r.yaml_bytes,
            r.pods,
            r.workloads,
            r.network_policies + r.authorization_policies,
            r.network_policies,
            r.authorization_policies,
            r.classes,
            r.triples,
            r.allowed,
            r.parse_ms,
            r.analysis_ms,
            r.reanalysis_ms,
            peak
        ));
    }
    out
}
