//! The netpol-analyzer corpora through the binary (the engine's own tests cover them through the
//! library in full):
//! - `netpol-analyzer-errors/`: every case must give a clear outcome: exit 1 with an error
//!   diagnostic on stderr, or exit 2 with a message; exit 0 only with a warning or note on stderr
//!   saying what was accepted or ignored, never a panic or a silent empty result. The fatal
//!   AdminNetworkPolicy / BaselineAdminNetworkPolicy cases (categories `anp`, `banp`) must exit 1
//!   with an error diagnostic, except the two that Kubernetes accepts (`ACCEPTED_ADMIN`);
//! - `netpol-analyzer/`: `connlist` on a few cases equals `expected.txt` as sets of lines.
//!
//! Corpus: `$PP_CONFORMANCE_DIR`, else `<repo>/../shared/conformance`. When missing the tests say
//! so and fail only with `CI=true`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use engine::portset::PortSet;

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PP_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("conformance corpus not found at {}", dir.display());
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the conformance corpus is required in CI"
        );
        None
    }
}

fn run(args: &[&Path]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_policy-playground"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn error_cases_give_a_clear_outcome() {
    let Some(root) = corpus_dir() else {
        return;
    };
    let root = root.join("netpol-analyzer-errors");
    let tsv = fs::read_to_string(root.join("cases.tsv")).expect("cases.tsv");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(case), Some(severity)) = (cols.first(), cols.get(3)) else {
            continue;
        };
        count += 1;
        let dir = root.join(case);
        let (code, stdout, stderr) = run(&[Path::new("connlist"), &dir]);
        let admin = matches!(cols.get(7), Some(&("anp" | "banp")));
        let clear = match code {
            _ if admin && *severity == "fatal" && !ACCEPTED_ADMIN.contains(case) => {
                code == 1 && stderr.contains("error[")
            }
            1 => stderr.contains("error["),
            2 => stderr.starts_with("error: "),
            0 => {
                stderr.contains("warning[")
                    || stderr.contains("note: ")
                    || (*severity == "non-fatal" && !stdout.is_empty())
            }
            _ => false,
        };
        if !clear {
            failures.push(format!(
                "{case}: exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
            ));
        }
    }
    // Upstream's "path does not exist" case has no input folder.
    let (code, _, stderr) = run(&[Path::new("connlist"), &root.join("no/such/dir")]);
    if code != 2 || !stderr.contains("does not exist") {
        failures.push(format!("missing path: exit {code}, {stderr}"));
    }
    println!(
        "{} passed, {} failed",
        count + 1 - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Fatal upstream, valid Kubernetes: the engine warns and goes on (exit 0 with a warning).
const ACCEPTED_ADMIN: &[&str] = &[
    // Two ANPs with the same priority: order undefined, not rejected (SEMANTICS.md §1.6).
    "anp_bad_path_test_1",
    // Pods of one owner with different labels: modelled as separate workloads.
    "example_w_err_pods_w_same_owner_and_labels_gap_anp",
];

type Triples = BTreeMap<(String, String), PortSet>;

fn triples(text: &str) -> Triples {
    let mut res = Triples::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (src, rest) = line.split_once(" => ").expect("`src => dst : conn`");
        let (dst, conn) = rest.split_once(" : ").expect("`src => dst : conn`");
        let set: PortSet = conn.parse().expect("a connection set");
        res.entry((src.to_string(), dst.to_string()))
            .or_default()
            .add(&set);
    }
    res
}

#[test]
fn connlist_reproduces_upstream_on_a_few_cases() {
    let Some(root) = corpus_dir() else {
        return;
    };
    for case in [
        "netpol-analysis-example-minimal",
        "with_end_port_example",
        "test_with_named_ports",
    ] {
        let dir = root.join("netpol-analyzer").join(case);
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("case dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                !name.starts_with("expected.")
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    )
            })
            .collect();
        files.sort();
        let mut args: Vec<&Path> = vec![Path::new("connlist")];
        args.extend(files.iter().map(PathBuf::as_path));
        let (code, stdout, stderr) = run(&args);
        assert!(code == 0 || code == 1, "{case}: exit {code}\n{stderr}");
        let expected = fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
        assert_eq!(triples(&stdout), triples(&expected), "{case}");
    }
}
