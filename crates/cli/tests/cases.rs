//! The scenario corpus `tests/cases/` (SEMANTICS.md §9 vectors) through the binary: for every
//! `<case>.yaml`, `check <case>.yaml --expect <case>.expect` must pass every expectation, and
//! `flows <case>.yaml` must equal the golden `<case>.flows.txt`.
//!
//! Directives in comment lines of an `.expect` file (tests/cases/README.md): `# cni: NAME` runs
//! `check` (and, for `<case>.expect`, the flows golden) under that profile; `# flags: …` adds
//! options; `# golden NAME: ARGS` runs `policy-playground ARGS` (`{yaml}` = the case file) and
//! compares with `<case>.NAME.txt`. Extra `<case>.<suffix>.expect` files check the same YAML
//! under their own directives (e.g. another CNI profile).
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

/// The directives of an `.expect` file.
#[derive(Default)]
struct Directives {
    /// `--cni NAME` and `# flags:` options, for `check` and the flows golden.
    options: Vec<String>,
    /// `(name, args)` of each `# golden NAME: ARGS`.
    goldens: Vec<(String, Vec<String>)>,
}

/// Words of a directive's arguments; `"…"` groups words.
fn split_args(text: &str) -> Vec<String> {
    let mut res = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    res.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        res.push(current);
    }
    res
}

fn directives(text: &str) -> Directives {
    let mut d = Directives::default();
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            continue;
        };
        let comment = comment.trim();
        if let Some(cni) = comment.strip_prefix("cni:") {
            d.options.push("--cni".into());
            d.options.push(cni.trim().to_string());
        } else if let Some(flags) = comment.strip_prefix("flags:") {
            d.options.extend(split_args(flags));
        } else if let Some(rest) = comment.strip_prefix("golden ") {
            if let Some((name, args)) = rest.split_once(':') {
                d.goldens.push((name.trim().to_string(), split_args(args)));
            }
        }
    }
    d
}

/// `<case>.expect` first, then `<case>.<suffix>.expect` sorted.
fn expect_files(case: &str) -> Vec<String> {
    let dir = repo_root().join("tests/cases");
    let mut extra: Vec<String> = fs::read_dir(&dir)
        .expect("tests/cases exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| {
            n.strip_prefix(case)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| rest.ends_with(".expect") && rest != "expect")
        })
        .collect();
    extra.sort();
    let mut res = vec![format!("{case}.expect")];
    res.extend(extra);
    res
}

fn compare_golden(case: &str, name: &str, actual: &str, failures: &mut Vec<String>) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let golden = repo_root().join(format!("tests/cases/{case}.{name}.txt"));
    let expected = fs::read_to_string(&golden).unwrap_or_default();
    if actual != expected {
        if update {
            fs::write(&golden, actual).expect("golden is writable");
        } else {
            failures.push(format!(
                "{case}: `{name}` differs from {} (UPDATE_EXPECT=1 to update)\n--- expected\n{expected}--- actual\n{actual}",
                golden.display()
            ));
        }
    }
}

#[test]
fn every_case_meets_its_expectations() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "expected the §9 vectors and the seeds, found {cases:?}"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let yaml = format!("tests/cases/{case}.yaml");
        for file in expect_files(case) {
            let expect = format!("tests/cases/{file}");
            let text = fs::read_to_string(repo_root().join(&expect)).unwrap_or_default();
            let d = directives(&text);
            let mut args: Vec<&str> = vec!["check", &yaml, "--expect", &expect];
            args.extend(d.options.iter().map(String::as_str));
            let (code, stdout, stderr) = run(&args);
            if code != 0 || !stdout.contains(" passed, 0 failed") {
                failures.push(format!("{file}: exit {code}\n{stdout}{stderr}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_case_matches_its_goldens() {
    let mut failures = Vec::new();
    for case in cases() {
        let yaml = format!("tests/cases/{case}.yaml");
        let text = fs::read_to_string(repo_root().join(format!("tests/cases/{case}.expect")))
            .unwrap_or_default();
        let d = directives(&text);
        let mut args: Vec<&str> = vec!["flows", &yaml];
        args.extend(d.options.iter().map(String::as_str));
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{case}: flows failed\n{stderr}");
        compare_golden(&case, "flows", &stdout, &mut failures);
        for (name, golden_args) in &d.goldens {
            let args: Vec<String> = golden_args
                .iter()
                .map(|a| a.replace("{yaml}", &yaml))
                .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, stdout, stderr) = run(&args);
            if code != 0 {
                failures.push(format!("{case}: golden {name} exit {code}\n{stderr}"));
                continue;
            }
            compare_golden(&case, name, &stdout, &mut failures);
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
        "{\n  \"schema\": \"policy-playground/flows/v2\",\n  \"cni\": \"generic\",\n  \"mesh\": {\n    \"root_namespace\": \"istio-system\","
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
    assert!(stdout.contains("\"schema\": \"policy-playground/explain/v2\""));
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
