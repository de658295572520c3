//! The longest single `AnalysisJob::step` at size L (native): `cargo run --release -p bench --example max_step [budget]`.

use std::time::{Duration, Instant};

fn main() {
    let budget: usize = std::env::args()
        .nth(1)
        .and_then(|b| b.parse().ok())
        .unwrap_or(50);
    let synth = bench::synth::generate_size(bench::synth::Size::L);
    let text = synth.yaml.clone();
    println!("L: {} bytes, budget {budget}", text.len());
    for _ in 0..2 {
        let start = Instant::now();
        let mut job = engine::AnalysisJob::new(
            vec![engine::Source::new("synth.yaml", text.clone())],
            engine::AnalyzeOptions::default(),
        );
        let mut steps = 0usize;
        let mut longest = (Duration::ZERO, 0usize, 0usize);
        let mut last_done = 0;
        while !job.is_done() {
            let t = Instant::now();
            let p = job.step(budget);
            let took = t.elapsed();
            if took > Duration::from_millis(20) {
                println!(
                    "  step #{steps}: {:.2} ms (done {})",
                    took.as_secs_f64() * 1e3,
                    p.done
                );
            }
            if took > longest.0 {
                longest = (took, steps, p.done);
            }
            if p.done < last_done {
                println!("progress went backwards at step {steps}");
            }
            last_done = p.done;
            steps += 1;
        }
        let total = start.elapsed();
        let analysis = job.finish();
        let digest = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            format!("{:?}", analysis.diagnostics).hash(&mut h);
            format!("{:?}", analysis.lints).hash(&mut h);
            format!("{:?}", analysis.cluster).hash(&mut h);
            analysis.table.len().hash(&mut h);
            for i in 0..analysis.table.len() {
                format!("{:?}", analysis.table.get(i)).hash(&mut h);
            }
            h.finish()
        };
        println!(
            "digest {digest:016x} ({} diagnostics, {} lints)",
            analysis.diagnostics.len(),
            analysis.lints.len()
        );
        println!(
            "steps {steps}, total {:.1} ms, longest step {:.2} ms (step #{}, done {}), rows {}",
            total.as_secs_f64() * 1e3,
            longest.0.as_secs_f64() * 1e3,
            longest.1,
            longest.2,
            analysis.table.len()
        );
    }
}
