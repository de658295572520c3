//! netpol-analyzer's error corpus (`conformance/netpol-analyzer-errors`, all categories: `netpol`,
//! `parse`, `anp`, `banp`): every case must yield the diagnostic for the condition upstream
//! detects.
//!
//! Not a wording check: upstream's messages differ from ours. Each case maps to the code we emit
//! and its severity. Fatal cases are errors, except where upstream refuses input that Kubernetes
//! accepts and the engine can model (listed in `EXPECTED` with the reason).
//!
//! The corpus is read from `$PP_CONFORMANCE_DIR` or `../../../shared/conformance` relative to this
//! crate. If it is missing the test prints so, and fails only when `CI=true`.

use std::path::{Path, PathBuf};

use engine::diagnostics::Severity;
use engine::{Diagnostic, Source};

enum Expect {
    /// A diagnostic with this code and severity.
    Diag(&'static str, Severity),
    /// Not applicable to the engine; the reason is printed.
    NotApplicable(&'static str),
}

use Expect::{Diag, NotApplicable};

const EXPECTED: &[(&str, Expect)] = &[
    ("bad_netpols__subdir1", Diag("PP2008", Severity::Error)), // ipBlock cidr `A`
    ("bad_netpols__subdir2", Diag("PP2005", Severity::Error)), // label key `app@b`
    ("bad_netpols__subdir7", Diag("PP2005", Severity::Error)), // label value `$backendservice`
    ("bad_netpols__subdir3", Diag("PP2006", Severity::Error)), // ipBlock + podSelector
    ("bad_netpols__subdir4", Diag("PP2007", Severity::Error)), // `from: [{}]`
    // The API server accepts a named port next to an ipBlock peer; the port just never matches an
    // external address (SEMANTICS.md §1.5 rule 24). Upstream refuses; we warn.
    ("bad_netpols__subdir6", Diag("PP2014", Severity::Warning)),
    // Pods of one owner with different labels: valid Kubernetes (e.g. a DaemonSet mid-rollout).
    // Upstream cannot model it when a selector separates them; we model separate workloads and warn.
    (
        "semanticDiff-same-topologies-illegal-podlist",
        Diag("PP1014", Severity::Warning),
    ),
    (
        "example_pods_w_same_owner_and_labels_gap_with_bad_match_expression",
        Diag("PP1014", Severity::Warning),
    ),
    ("np_bad_path_test_1", Diag("PP1011", Severity::Error)), // two NetworkPolicies `default/backend-netpol`
    ("np_bad_path_test_2", Diag("PP2012", Severity::Error)), // endPort with a named port
    (
        "np_test_with_empty_port_range",
        Diag("PP2013", Severity::Error),
    ), // port range 10-1
    (
        "bad_path_namespace_with_same_name",
        Diag("PP1011", Severity::Error),
    ), // Namespace `blue` twice
    (
        "bad_yamls__subdir2",
        NotApplicable("choosing files by extension is the CLI's job; the engine gets no source"),
    ),
    ("malformed-pod-example-4", Diag("PP1002", Severity::Error)), // `kindt`
    (
        "bad_yamls__irrelevant_k8s_resources",
        Diag("PP1015", Severity::Warning),
    ), // no workloads
    (
        "no_netpols_dir",
        NotApplicable("no NetworkPolicy is a normal playground input; the engine does not warn"),
    ),
    ("malformed_pod_example", Diag("PP1009", Severity::Error)), // containerPort: []
    ("malformed-pod-example-2", Diag("PP1009", Severity::Error)), // ports: {}
    ("onlineboutique", Diag("PP1005", Severity::Warning)), // connlist_output.json is a JSON array
    ("malformed-pod-example-5", Diag("PP1001", Severity::Error)), // `@apiVersion`
    // --- AdminNetworkPolicy (SEMANTICS.md §1.6) ---------------------------------------------
    // As the netpol variant above: valid Kubernetes, modelled as separate workloads.
    (
        "example_w_err_pods_w_same_owner_and_labels_gap_anp",
        Diag("PP1014", Severity::Warning),
    ),
    // Same priority: the API server accepts it and Kubernetes leaves the order undefined
    // (§1.6 rule 27). Upstream refuses; we warn and order by name.
    ("anp_bad_path_test_1", Diag("PP2113", Severity::Warning)),
    ("anp_bad_path_test_2", Diag("PP2101", Severity::Error)), // priority 1001
    ("anp_bad_path_test_3", Diag("PP1011", Severity::Error)), // two ANPs `same-name`
    ("anp_bad_path_test_4", Diag("PP2103", Severity::Error)), // empty subject
    ("anp_bad_path_test_5", Diag("PP2103", Severity::Error)), // subject with two fields
    ("anp_bad_path_test_6", Diag("PP2105", Severity::Error)), // `to:` empty
    ("anp_bad_path_test_7", Diag("PP2104", Severity::Error)), // egress peer with two fields
    ("anp_bad_path_test_8", Diag("PP2107", Severity::Error)), // port with two fields
    ("anp_bad_path_test_9", Diag("PP2106", Severity::Error)), // action `Accept`
    ("anp_bad_path_test_10", Diag("PP2105", Severity::Error)), // `to` missing
    ("anp_bad_path_test_12", Diag("PP2102", Severity::Error)), // `action` missing
    ("anp_bad_path_test_14", Diag("PP2105", Severity::Error)), // `from` missing
    ("anp_bad_path_test_15", Diag("PP2105", Severity::Error)), // `from:` empty
    ("anp_bad_path_test_16", Diag("PP2104", Severity::Error)), // ingress peer with two fields
    ("anp_bad_path_test_17", Diag("PP2107", Severity::Error)), // port with two fields
    (
        "anp_test_with_empty_port_range",
        Diag("PP2108", Severity::Error),
    ), // portRange 10-1
    ("anp_bad_path_test_18", Diag("PP2106", Severity::Error)), // unknown ingress action
    ("anp_bad_path_test_19", Diag("PP2109", Severity::Error)), // networks `zc00::/8`
    ("anp_bad_path_test_20", Diag("PP2101", Severity::Error)), // priority 1001
    // --- BaselineAdminNetworkPolicy ---------------------------------------------------------
    ("banp_bad_path_test_1", Diag("PP1011", Severity::Error)), // two BANPs `default`
    ("banp_bad_path_test_2", Diag("PP2112", Severity::Error)), // named `banp-name`
    ("banp_bad_path_test_3", Diag("PP2103", Severity::Error)), // empty subject
    ("banp_bad_path_test_4", Diag("PP2103", Severity::Error)), // subject with two fields
    ("banp_bad_path_test_5", Diag("PP2105", Severity::Error)), // `to:` empty
    ("banp_bad_path_test_6", Diag("PP2105", Severity::Error)), // `to` missing
    ("banp_bad_path_test_7", Diag("PP2104", Severity::Error)), // egress peer with two fields
    ("banp_bad_path_test_8", Diag("PP2106", Severity::Error)), // `Pass` in a BANP
    ("banp_bad_path_test_9", Diag("PP2107", Severity::Error)), // port with two fields
    ("banp_bad_path_test_10", Diag("PP2105", Severity::Error)), // `from` missing
    ("banp_bad_path_test_11", Diag("PP2105", Severity::Error)), // `from:` empty
    ("banp_bad_path_test_12", Diag("PP2104", Severity::Error)), // ingress peer with two fields
    ("banp_bad_path_test_13", Diag("PP2107", Severity::Error)), // port with two fields
    ("banp_bad_path_test_14", Diag("PP2106", Severity::Error)), // unknown ingress action
    ("banp_bad_path_test_15", Diag("PP2109", Severity::Error)), // networks `zc00::/8`
];

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PP_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
}

/// The manifests of a case folder, as upstream's directory reader picks them.
fn sources(dir: &Path) -> Vec<Source> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some(Source::new(p.file_name()?.to_string_lossy(), text))
        })
        .collect()
}

#[test]
fn netpol_and_parse_error_cases() {
    let root = corpus_dir().join("netpol-analyzer-errors");
    let Ok(tsv) = std::fs::read_to_string(root.join("cases.tsv")) else {
        println!("conformance corpus missing at {}", root.display());
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the conformance corpus is required in CI"
        );
        return;
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(case), Some(severity), Some(result), Some(category)) =
            (cols.first(), cols.get(3), cols.get(4), cols.get(7))
        else {
            continue;
        };
        if !matches!(*category, "netpol" | "parse" | "anp" | "banp") {
            println!("FAIL {case}: unknown category `{category}`");
            failed += 1;
            continue;
        }
        let Some((_, expect)) = EXPECTED.iter().find(|(name, _)| name == case) else {
            println!("FAIL {case}: no expectation listed");
            failed += 1;
            continue;
        };
        let (code, want) = match expect {
            NotApplicable(reason) => {
                println!("n/a  {case}: {reason}");
                skipped += 1;
                continue;
            }
            Diag(code, want) => (*code, *want),
        };
        let analysis = engine::analyze(&sources(&root.join(case)));
        let found = analysis
            .diagnostics
            .iter()
            .any(|d: &Diagnostic| d.code == code && d.severity == want);
        // Upstream's non-fatal cases keep going; ours always do. Check the model survives too.
        let model_ok = *result != "non-empty" || !analysis.cluster.workloads.is_empty();
        if found && model_ok {
            println!("ok   {case} ({severity}): {code} {}", want.as_str());
            passed += 1;
        } else {
            let got: Vec<_> = analysis
                .diagnostics
                .iter()
                .map(|d| format!("{} {} {}", d.code, d.severity.as_str(), d.message))
                .collect();
            println!(
                "FAIL {case}: expected {code} {} (model ok: {model_ok}); got {got:#?}",
                want.as_str()
            );
            failed += 1;
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} not applicable");
    assert_eq!(failed, 0, "{failed} error-corpus cases failed");
    assert!(passed > 0, "no case was checked");
}

/// Errors in the positive corpus that are right: upstream decodes JSON field names
/// case-insensitively, the API server does not.
const KNOWN_ERRORS: &[(&str, &str)] = &[
    // `containerport: 3535` (lowercase): the API server requires `containerPort`.
    ("netpol_named_port_test_2", "PP1010"),
];

/// The valid inputs of the positive corpora (`conformance/netpol-analyzer` and
/// `conformance/netpol-analyzer-anp`) read without errors.
#[test]
fn positive_corpus_has_no_errors() {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for folder in ["netpol-analyzer", "netpol-analyzer-anp"] {
        let root = corpus_dir().join(folder);
        let Ok(entries) = std::fs::read_dir(&root) else {
            println!("conformance corpus missing at {}", root.display());
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the conformance corpus is required in CI"
            );
            return;
        };
        dirs.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir()),
        );
    }
    dirs.sort();
    let mut failed = Vec::new();
    for dir in &dirs {
        // Output files of upstream (`*.json` connlists) are not inputs.
        let inputs: Vec<Source> = sources(dir)
            .into_iter()
            .filter(|s| !s.name.contains("output"))
            .collect();
        let analysis = engine::analyze(&inputs);
        let errors: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .filter(|d| {
                !KNOWN_ERRORS
                    .iter()
                    .any(|(case, code)| dir.ends_with(case) && d.code == *code)
            })
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        if !errors.is_empty() {
            failed.push(format!("{}: {errors:?}", dir.display()));
        }
    }
    println!("{} cases, {} with errors", dirs.len(), failed.len());
    assert!(failed.is_empty(), "{failed:#?}");
}
