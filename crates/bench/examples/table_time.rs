//! Flow-table build time on a generated cluster (native), split into `TableJob::new` and the
//! rows: `cargo run --release -p bench --example table_time [SIZE] [RUNS]` (SIZE S, M, L
//! (default) or XL; the median of RUNS, default 5, is printed).

use std::sync::Arc;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let size = args
        .next()
        .and_then(|s| bench::synth::Size::parse(&s))
        .unwrap_or(bench::synth::Size::L);
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let synth = bench::synth::generate_size(size);
    let sources = vec![engine::Source::new("synth.yaml", synth.yaml.clone())];
    let (cluster, _) = engine::parse::parse(&sources);
    let cluster = Arc::new(cluster);
    let options = Arc::new(engine::flows::Options::default());
    let (mut new, mut rows) = (Vec::new(), Vec::new());
    let mut len = 0;
    let mut kinds: std::collections::BTreeMap<(String, &str), usize> = Default::default();
    for _ in 0..runs {
        let t = Instant::now();
        let job = engine::table::TableJob::new(cluster.clone(), options.clone());
        new.push(t.elapsed());
        let t = Instant::now();
        let table = job.finish();
        rows.push(t.elapsed());
        len = table.len();
        kinds.clear();
        for (_, row) in table.iter() {
            let ends = match (table.source(row), table.target(row)) {
                (engine::flows::FlowSource::External(_), _) => "from external",
                (_, engine::flows::FlowTarget::External(_)) => "to external",
                (_, engine::flows::FlowTarget::Service { .. }) => "to service",
                _ => "to workload",
            };
            *kinds
                .entry((row.kind.as_str().to_string(), ends))
                .or_default() += 1;
        }
    }
    println!(
        "{}: {} workloads, {len} rows; median of {runs}: TableJob::new {:.1} ms, rows {:.1} ms",
        size.name(),
        cluster.workloads.len(),
        median(new),
        median(rows)
    );
    for ((kind, ends), n) in kinds {
        println!("  {kind} {ends}: {n} rows");
    }
}
