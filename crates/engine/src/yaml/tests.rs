//! Unit tests for the spanned YAML tree.

use super::*;
use crate::diagnostics::Severity;
use crate::source::LineIndex;

fn docs(text: &str) -> (Vec<Document>, Vec<Diagnostic>) {
    parse_documents(SourceId(0), text)
}

fn root(text: &str) -> Node {
    let (d, diags) = docs(text);
    assert!(diags.is_empty(), "{diags:?}");
    d.into_iter()
        .next()
        .and_then(|d| d.root)
        .unwrap_or_else(|| Node {
            value: Value::Null,
            span: Span::default(),
            style: None,
        })
}

fn slice(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("<bad span>")
}

#[test]
fn scalars_resolve_with_core_schema_and_quotes_stay_strings() {
    let text = "a: 80\nb: \"80\"\nc: '80'\nd: true\ne: ~\nf: 1.5\ng: 0x1F\nh: web\ni: |\n  80\nj: 99999999999999999999\n";
    let r = root(text);
    assert_eq!(r.get("a").map(|n| &n.value), Some(&Value::Int(80)));
    assert_eq!(r.get("b").map(|n| &n.value), Some(&Value::Str("80".into())));
    assert_eq!(r.get("b").and_then(|n| n.style), Some(Style::DoubleQuoted));
    assert_eq!(r.get("c").map(|n| &n.value), Some(&Value::Str("80".into())));
    assert_eq!(r.get("d").map(|n| &n.value), Some(&Value::Bool(true)));
    assert_eq!(r.get("e").map(|n| &n.value), Some(&Value::Null));
    assert_eq!(r.get("f").map(|n| &n.value), Some(&Value::Float(1.5)));
    assert_eq!(r.get("g").map(|n| &n.value), Some(&Value::Int(31)));
    assert_eq!(
        r.get("h").map(|n| &n.value),
        Some(&Value::Str("web".into()))
    );
    assert_eq!(
        r.get("i").map(|n| &n.value),
        Some(&Value::Str("80\n".into()))
    );
    assert!(matches!(
        r.get("j").map(|n| &n.value),
        Some(Value::Float(_))
    ));
    assert_eq!(r.get("g").and_then(|n| n.scalar_text(text)), Some("0x1F"));
}

#[test]
fn spans_are_byte_ranges_even_after_multibyte_text() {
    let text = "# çé ünïcode\nkey: välue\nport: 80\n";
    let r = root(text);
    let value = r.get("key").map(|n| n.span).unwrap_or_default();
    assert_eq!(slice(text, value), "välue");
    let port = r.get("port").map(|n| n.span).unwrap_or_default();
    assert_eq!(slice(text, port), "80");
    let idx = LineIndex::new(text);
    assert_eq!(idx.line_col(text, port.start).to_string(), "3:7");
}

#[test]
fn collection_spans_cover_their_content() {
    let text = "spec:\n  ports: [80, 443]\n  sel: {a: b}\n";
    let r = root(text);
    let spec = r.get("spec").cloned().unwrap_or_else(|| r.clone());
    assert_eq!(
        spec.get("ports").map(|n| slice(text, n.span)),
        Some("[80, 443]")
    );
    assert_eq!(spec.get("sel").map(|n| slice(text, n.span)), Some("{a: b}"));
    assert!(slice(text, spec.span).starts_with("ports"));
}

#[test]
fn syntax_error_has_line_and_col_and_other_documents_survive() {
    let text = "kind: A\n---\nkind: B\n  bad: indent\n---\nkind: C\n";
    let (d, diags) = docs(text);
    let kinds: Vec<_> = d
        .iter()
        .filter_map(|d| d.root.as_ref()?.get("kind")?.as_str())
        .collect();
    assert_eq!(kinds, ["A", "C"]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let diag = &diags[0];
    assert_eq!(diag.code, "PP1001");
    assert_eq!(diag.severity, Severity::Error);
    let lc = LineIndex::new(text).line_col(text, diag.span.start);
    assert_eq!(lc.line, 4, "{diag:?}");
}

#[test]
fn upstream_bad_token_error_is_on_the_right_line() {
    // netpol-analyzer malformed-pod-example-5: `@` cannot start a token.
    let text = "apiVersion: v1\nkind: Pod\n---\n@apiVersion: v1\nkind: Pod\n";
    let (d, diags) = docs(text);
    assert_eq!(d.len(), 1);
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].message.contains("unexpected character"),
        "{}",
        diags[0].message
    );
    assert_eq!(
        LineIndex::new(text)
            .line_col(text, diags[0].span.start)
            .to_string(),
        "4:1"
    );
}

#[test]
fn tabs_are_reported_not_fatal() {
    let text = "a:\n\tb: 1\n---\nc: 2\n";
    let (d, diags) = docs(text);
    assert!(diags.iter().any(|d| d.code == "PP1001"), "{diags:?}");
    assert!(d
        .iter()
        .any(|d| d.root.as_ref().and_then(|r| r.get("c")).is_some()));
}

#[test]
fn document_split_rules() {
    let text = "a: 1\n---\nb: 2\n...\nc: 3\n--- # comment\nd: 4\n---x: 5\n";
    let (d, diags) = docs(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(d.len(), 4);
    // `---x` is not a marker: it is a key of the last document.
    assert!(d[3].root.as_ref().and_then(|r| r.get("---x")).is_some());
    assert_eq!(slice(text, d[1].span), "---\nb: 2\n...\n");
}

#[test]
fn directives_stay_with_their_document() {
    let (d, diags) = docs("%YAML 1.2\n---\na: 1\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(d.len(), 1);
}

#[test]
fn empty_documents_have_no_root() {
    let (d, diags) = docs("---\n# only a comment\n---\n");
    assert!(diags.is_empty());
    assert!(d.iter().all(|d| d.root.is_none()));
    let (d, _) = docs("");
    assert!(d.iter().all(|d| d.root.is_none()));
}

#[test]
fn json_objects_and_arrays() {
    let text = r#"{"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "1"}}, "n": 80}"#;
    let r = root(text);
    assert_eq!(r.get("kind").and_then(Node::as_str), Some("Pod"));
    assert_eq!(r.get("n").map(|n| &n.value), Some(&Value::Int(80)));
    let labels = r
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get("a"))
        .map(|n| n.value.clone());
    assert_eq!(labels, Some(Value::Str("1".into())));
    let arr = root("[{\"a\": 1}, {\"b\": 2}]");
    assert_eq!(arr.as_seq().map(<[Node]>::len), Some(2));
}

#[test]
fn duplicate_keys_warn_and_last_wins() {
    let text = "a: 1\nb: 2\na: 3\n";
    let (d, diags) = docs(text);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Warning);
    assert_eq!(diags[0].code, "PP1006");
    assert_eq!(slice(text, diags[0].span), "a");
    let r = d[0].root.clone().unwrap_or_else(|| Node {
        value: Value::Null,
        span: Span::default(),
        style: None,
    });
    assert_eq!(r.get("a").map(|n| &n.value), Some(&Value::Int(3)));
    assert_eq!(r.as_map().map(<[(Node, Node)]>::len), Some(2));
}

#[test]
fn aliases_are_copied_and_merge_keys_apply() {
    let text = "base: &b {app: web, tier: fe}\nuse: *b\nmerged:\n  <<: *b\n  tier: be\n";
    let r = root(text);
    assert_eq!(
        r.get("use")
            .and_then(|u| u.get("app"))
            .and_then(Node::as_str),
        Some("web")
    );
    let merged = r.get("merged").cloned().unwrap_or_else(|| r.clone());
    assert_eq!(merged.get("tier").and_then(Node::as_str), Some("be"));
    assert_eq!(merged.get("app").and_then(Node::as_str), Some("web"));
    assert!(merged.get("<<").is_none());
}

#[test]
fn unknown_alias_is_reported() {
    let (_, diags) = docs("a: *nope\n");
    assert!(
        diags
            .iter()
            .any(|d| d.code == "PP1008" || d.code == "PP1001"),
        "{diags:?}"
    );
}

#[test]
fn billion_laughs_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (d, diags) = docs(&text);
    assert_eq!(d.len(), 1);
    assert!(diags.iter().any(|d| d.code == "PP1008"), "{diags:?}");
}

#[test]
fn deep_nesting_is_capped() {
    let depth = MAX_DEPTH + 50;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let (_, diags) = docs(&text);
    assert!(!diags.is_empty());
    let block: String = (0..depth)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let (d, diags) = docs(&block);
    assert!(diags.iter().any(|d| d.code == "PP1007"), "{diags:?}");
    assert_eq!(d.len(), 1);
}

#[test]
fn plain_resolution_table() {
    let rows: &[(&str, Value)] = &[
        ("null", Value::Null),
        ("True", Value::Bool(true)),
        ("-12", Value::Int(-12)),
        ("+7", Value::Int(7)),
        ("0o17", Value::Int(15)),
        ("1e3", Value::Float(1000.0)),
        (".5", Value::Float(0.5)),
        ("yes", Value::Str("yes".into())),
        ("1.2.3", Value::Str("1.2.3".into())),
        ("0x", Value::Str("0x".into())),
        ("10.0.0.0/8", Value::Str("10.0.0.0/8".into())),
    ];
    for (text, expected) in rows {
        assert_eq!(&resolve_plain(text), expected, "{text}");
    }
}

#[test]
fn unindented_quoted_continuation_is_accepted_like_kubectl() {
    let text = "data:\n  conf: '\nevents {\n}\n'\n  after: x\n";
    let (d, diags) = docs(text);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["PP1018"],
        "{diags:?}"
    );
    assert_eq!(slice(text, diags[0].span), "'");
    let data = d[0].root.as_ref().and_then(|r| r.get("data")).cloned();
    let data = data.unwrap_or_else(|| Node {
        value: Value::Null,
        span: Span::default(),
        style: None,
    });
    assert_eq!(
        data.get("conf").and_then(Node::as_str),
        Some(" events { } ")
    );
    // Spans after the patched scalar still point into the original text.
    assert_eq!(data.get("after").map(|n| slice(text, n.span)), Some("x"));
}
