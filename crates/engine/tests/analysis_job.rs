//! `AnalysisJob` in the smallest steps (budget 1) gives exactly what `analyze_with` gives, with
//! progress that never goes back, on every case and scenario; and its parts equal the
//! non-incremental `parse::parse`, `lints::lint` and `table::flow_table`.

use std::path::{Path, PathBuf};

use engine::{analyze_with, lint_options, AnalysisJob, AnalyzeOptions, Source};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests/cases", "scenarios", "crates/engine/tests/lints"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        files.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml")),
        );
    }
    files.sort();
    files
}

fn check(name: &str, sources: Vec<Source>, options: &AnalyzeOptions) {
    let expected = analyze_with(&sources, options);
    let mut job = AnalysisJob::new(sources.clone(), options.clone());
    let mut last = job.progress();
    let mut steps = 0usize;
    while !job.is_done() {
        let p = job.step(1);
        assert!(
            p.done >= last.done,
            "{name}: progress went back: {last:?} → {p:?}"
        );
        assert!(p.done <= p.total, "{name}: {p:?}");
        last = p;
        steps += 1;
        assert!(steps < 100_000_000, "{name}: does not finish");
    }
    assert_eq!(job.progress().done, job.progress().total, "{name}");
    let got = job.finish();
    assert_eq!(got.diagnostics, expected.diagnostics, "{name}: diagnostics");
    assert_eq!(got.lints, expected.lints, "{name}: lints");
    assert_eq!(got.table, expected.table, "{name}: table");
    assert_eq!(
        format!("{:?}", got.cluster),
        format!("{:?}", expected.cluster),
        "{name}: cluster"
    );
    // The parts, computed the non-incremental way.
    let (cluster, parse_diagnostics) = engine::parse::parse(&sources);
    assert_eq!(
        format!("{cluster:?}"),
        format!("{:?}", got.cluster),
        "{name}: parse::parse"
    );
    let lints = engine::lints::lint(&sources, &cluster, &lint_options(&options.flow_options));
    assert_eq!(lints, got.lints, "{name}: lints::lint");
    for d in &parse_diagnostics {
        assert!(got.diagnostics.contains(d), "{name}: lost {d:?}");
    }
    if options.flows {
        let table = engine::table::flow_table(&cluster, &options.flow_options);
        assert_eq!(table, got.table, "{name}: table::flow_table");
    }
}

#[test]
fn budget_one_equals_analyze_with() {
    let files = inputs();
    assert!(files.len() > 10, "found only {files:?}");
    for path in &files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let sources = vec![Source::new(name.clone(), text)];
        check(&name, sources, &AnalyzeOptions::default());
    }
}

#[test]
fn budget_one_several_sources_and_no_flows() {
    let files = inputs();
    let sources: Vec<Source> = files
        .iter()
        .take(6)
        .map(|p| {
            Source::new(
                p.display().to_string(),
                std::fs::read_to_string(p).unwrap_or_default(),
            )
        })
        .chain([
            Source::new("empty", ""),
            Source::new("bad", "a: [\n---\nkind: Pod\n"),
        ])
        .collect();
    check("several", sources.clone(), &AnalyzeOptions::default());
    let no_flows = AnalyzeOptions {
        flows: false,
        ..AnalyzeOptions::default()
    };
    check("several, no flows", sources, &no_flows);
    check("nothing", Vec::new(), &AnalyzeOptions::default());
}
