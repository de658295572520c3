//! The scenario corpus `tests/cases/` (SEMANTICS.md §9 vectors) through the binary: for every
//! `<case>.yaml`, `check <case>.yaml --expect <case>.expect` must pass every expectation, and
//! `flows <case>.yaml` must equal the golden `<case>.flows.txt`.
//!
//! `UPDATE_EXPECT=1 cargo test -p cli --test cases` rewrites the goldens (and creates missing
//! ones). Commands run from the repository root with relative paths, so output names are stable.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_policy-playground"))
        .current_dir(repo_root())
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cases() -> Vec<String> {
    let dir = repo_root().join("tests/cases");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("tests/cases exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".yaml") && !n.starts_with('_'))
        .map(|n| n.trim_end_matches(".yaml").to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn every_case_meets_its_expectations() {
    let cases = cases();
    assert!(
        cases.len() >= 12,
        "expected the §9 vectors, found {cases:?}"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let yaml = format!("tests/cases/{case}.yaml");
        let expect = format!("tests/cases/{case}.expect");
        let (code, stdout, stderr) = run(&["check", &yaml, "--expect", &expect]);
        if code != 0 || !stdout.contains(" passed, 0 failed") {
            failures.push(format!("{case}: exit {code}\n{stdout}{stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_case_matches_its_flows_golden() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let yaml = format!("tests/cases/{case}.yaml");
        let (code, stdout, stderr) = run(&["flows", &yaml]);
        assert_eq!(code, 0, "{case}: flows failed\n{stderr}");
        let golden = repo_root().join(format!("tests/cases/{case}.flows.txt"));
        let expected = fs::read_to_string(&golden).unwrap_or_default();
        if stdout != expected {
            if update {
                fs::write(&golden, &stdout).expect("golden is writable");
            } else {
                failures.push(format!(
                    "{case}: `flows` differs from {} (UPDATE_EXPECT=1 to update)\n--- expected\n{expected}--- actual\n{stdout}",
                    golden.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn failing_expectation_exits_1_with_explanation() {
    let dir = std::env::temp_dir().join(format!("pp-cases-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("wrong.expect");
    fs::write(
        &file,
        "# wrong on purpose\nfe/web -> be/api:8080 allow\nfe/web -> be/nope:80 deny\n",
    )
    .expect("write");
    let file = file.display().to_string();
    let (code, stdout, _) = run(&[
        "check",
        "tests/cases/tv-01-default-deny-ingress.yaml",
        "--expect",
        &file,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("expected allow, got deny at np-ingress"),
        "{stdout}"
    );
    assert!(stdout.contains("np-ingress  DENY"), "{stdout}");
    assert!(
        stdout.contains("be/default-deny-ingress (tests/cases/tv-01-default-deny-ingress.yaml:"),
        "{stdout}"
    );
    assert!(stdout.contains("no workload `be/nope`"), "{stdout}");
    assert!(stdout.ends_with("0 passed, 2 failed\n"), "{stdout}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn explain_names_the_rule_with_its_position() {
    let (code, stdout, stderr) = run(&[
        "explain",
        "tests/cases/tv-02-and-peer.yaml",
        "--from",
        "fe/web",
        "--to",
        "be/svc/api:80",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("leg 1/1: 10.244.1.10 → 10.244.2.20:8080/TCP"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "allowed by be/api-from-fe-web spec.ingress[0] (tests/cases/tv-02-and-peer.yaml:"
        ),
        "{stdout}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let (code, _, stderr) = run(&["flows", "tests/cases/nope.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does not exist"), "{stderr}");
    let (code, _, stderr) = run(&["flows", "--cni", "nope", "tests/cases"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown CNI profile `nope`"), "{stderr}");
    let (code, _, stderr) = run(&[
        "explain",
        "tests/cases/tv-01-default-deny-ingress.yaml",
        "--from",
        "fe/web",
        "--to",
        "be/api",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing port in `be/api`"), "{stderr}");
    let (code, _, _) = run(&["explain", "tests/cases"]);
    assert_eq!(code, 2);
}

#[test]
fn json_outputs_are_documented_shapes() {
    let (code, stdout, _) = run(&[
        "flows",
        "tests/cases/tv-01-default-deny-ingress.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with(
        "{\n  \"schema\": \"policy-playground/flows/v1\",\n  \"cni\": \"generic\",\n  \"flows\": ["
    ));
    assert!(stdout.contains("\"decided_by\": \"np-ingress\""));
    assert!(stdout.contains("\"rule\": null"));
    let (code, stdout, _) = run(&[
        "explain",
        "tests/cases/tv-07-named-port.yaml",
        "--from",
        "fe/web",
        "--to",
        "be/api:8080",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"schema\": \"policy-playground/explain/v1\""));
    assert!(stdout.contains("\"rule\": \"spec.ingress[0]\""));
    assert!(stdout.contains("\"file\": \"tests/cases/tv-07-named-port.yaml\""));
    for format in ["csv", "md", "text"] {
        let (code, stdout, _) = run(&[
            "flows",
            "tests/cases/tv-07-named-port.yaml",
            "--format",
            format,
        ]);
        assert_eq!(code, 0);
        assert!(
            stdout.to_lowercase().contains("np-ingress"),
            "{format}: {stdout}"
        );
    }
}
