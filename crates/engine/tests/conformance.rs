//! Conformance against netpol-analyzer's `list` goldens (shared/conformance/netpol-analyzer and
//! netpol-analyzer-anp, README "How to compare"): every case's manifests go through `engine::analyze` and
//! `connlist`, and the result is compared with `expected.txt` (and `expected.json` when present)
//! as sets of `(src, dst, port set)` triples.
//!
//! Corpus location: `PP_CONFORMANCE_DIR` (the folder holding `netpol-analyzer/`), else
//! `<CARGO_MANIFEST_DIR>/../../../shared/conformance`. A missing corpus is reported and only fails
//! when `CI=true`. Debugging: `PP_CONFORMANCE_CASE=<case>` runs one case,
//! `PP_CONFORMANCE_VERBOSE=1` prints its diagnostics and our output. Not a test of the text layout (that is `connlist`'s unit tests).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use engine::connlist::{connlist, render_text};
use engine::portset::PortSet;
use engine::Source;

type Triples = BTreeMap<(String, String), PortSet>;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PP_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

fn is_manifest(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    !name.starts_with("expected.") && matches!(ext, "yaml" | "yml" | "json")
}

/// Parse `src => dst : conn` lines into normalised triples (empty sets dropped, duplicates merged).
fn parse_text(text: &str) -> Result<Triples, String> {
    let mut res = Triples::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (src, rest) = line
            .split_once(" => ")
            .ok_or_else(|| format!("bad line `{line}`"))?;
        let (dst, conn) = rest
            .split_once(" : ")
            .ok_or_else(|| format!("bad line `{line}`"))?;
        add(&mut res, src, dst, conn)?;
    }
    Ok(res)
}

fn add(res: &mut Triples, src: &str, dst: &str, conn: &str) -> Result<(), String> {
    let set: PortSet = conn.parse().map_err(|e| format!("{e}"))?;
    if !set.is_empty() {
        res.entry((src.trim().to_string(), dst.trim().to_string()))
            .or_default()
            .add(&set);
    }
    Ok(())
}

/// Crude reader for upstream's JSON form (`[{"src": …, "dst": …, "conn": …}]`, no escapes in the
/// values of this corpus).
fn parse_json(text: &str) -> Result<Triples, String> {
    let mut res = Triples::new();
    for object in text.split('{').skip(1) {
        let field = |key: &str| -> Result<String, String> {
            let at = object
                .find(&format!("\"{key}\""))
                .ok_or_else(|| format!("no `{key}` in `{object}`"))?;
            let rest = &object[at + key.len() + 2..];
            let start = rest.find('"').ok_or("no value")? + 1;
            let len = rest[start..].find('"').ok_or("unterminated value")?;
            Ok(rest[start..start + len].to_string())
        };
        add(&mut res, &field("src")?, &field("dst")?, &field("conn")?)?;
    }
    Ok(res)
}

fn diff(expected: &Triples, actual: &Triples) -> Vec<String> {
    let keys: BTreeSet<_> = expected.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        match (expected.get(key), actual.get(key)) {
            (Some(e), Some(a)) if e == a => {}
            (Some(e), Some(a)) => out.push(format!(
                "  ~ {} => {} : expected `{e}`, got `{a}`",
                key.0, key.1
            )),
            (Some(e), None) => out.push(format!("  - {} => {} : {e}", key.0, key.1)),
            (None, Some(a)) => out.push(format!("  + {} => {} : {a}", key.0, key.1)),
            (None, None) => {}
        }
    }
    out
}

fn run_case(dir: &Path) -> Result<(), String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let sources: Vec<Source> = files
        .iter()
        .filter(|p| is_manifest(p))
        .filter_map(|p| {
            fs::read_to_string(p).ok().map(|text| {
                Source::new(p.file_name().and_then(|n| n.to_str()).unwrap_or("?"), text)
            })
        })
        .collect();
    let analysis = engine::analyze(&sources);
    let lines = connlist(&analysis.cluster);
    if std::env::var_os("PP_CONFORMANCE_VERBOSE").is_some() {
        for d in &analysis.diagnostics {
            println!("  diag {} {} {}", d.severity.as_str(), d.code, d.message);
        }
        print!("{}", render_text(&lines));
    }
    let actual = parse_text(&render_text(&lines))?;
    let mut problems = Vec::new();
    let expected_txt =
        fs::read_to_string(dir.join("expected.txt")).map_err(|e| format!("expected.txt: {e}"))?;
    let d = diff(&parse_text(&expected_txt)?, &actual);
    if !d.is_empty() {
        problems.push(format!(
            "expected.txt ({} differences):\n{}",
            d.len(),
            d.join("\n")
        ));
    }
    if let Ok(json) = fs::read_to_string(dir.join("expected.json")) {
        let d = diff(&parse_json(&json)?, &actual);
        if !d.is_empty() {
            problems.push(format!("expected.json ({} differences)", d.len()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn netpol_analyzer_corpus() {
    run_corpus("netpol-analyzer", "conformance");
}

/// The AdminNetworkPolicy / BaselineAdminNetworkPolicy corpus (all 54 upstream cases).
#[test]
fn netpol_analyzer_anp_corpus() {
    run_corpus("netpol-analyzer-anp", "anp conformance");
}

/// Every case of one corpus folder; prints `<label>: N passed, M failed`.
fn run_corpus(folder: &str, label: &str) {
    let root = corpus_dir().join(folder);
    let Ok(entries) = fs::read_dir(&root) else {
        println!("conformance corpus not found at {}", root.display());
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "conformance corpus missing under CI"
        );
        return;
    };
    let mut cases: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    // `PP_CONFORMANCE_CASE=name` runs one case (debugging aid).
    if let Ok(only) = std::env::var("PP_CONFORMANCE_CASE") {
        cases.retain(|c| c.file_name().and_then(|n| n.to_str()) == Some(only.as_str()));
    }
    let (mut passed, mut failed) = (0, Vec::new());
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        match run_case(case) {
            Ok(()) => passed += 1,
            Err(msg) => {
                println!("FAIL {name}\n{msg}\n");
                failed.push(name);
            }
        }
    }
    println!("{label}: {passed} passed, {} failed", failed.len());
    assert!(failed.is_empty(), "failing cases: {failed:?}");
}

#[test]
fn readers_normalise() {
    let a = parse_text("x => y : TCP 80,81\nx => y : TCP 82\nx => z : No Connections\n")
        .expect("valid");
    let b = parse_json(r#"[{"src": "x", "dst": "y", "conn": "TCP 80-82"}]"#).expect("valid");
    assert_eq!(a, b);
}
