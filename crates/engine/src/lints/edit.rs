//! Text edits for lint fixes: find the YAML node a model span points at, and insert or replace
//! text so the document stays valid YAML and keeps its own indentation style (mapping step,
//! whether sequences are indented under their key, flow versus block). Inserts rather than
//! rewrites wherever it can. No policy semantics here.

use crate::source::{SourceId, Span};
use crate::yaml::{Node, Value};

use super::TextEdit;

/// A small YAML value to render into the source: what a fix inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Y {
    /// A plain scalar (the caller makes sure it reads back as a string or as meant).
    Plain(String),
    /// A double-quoted string.
    Quoted(String),
    Int(i64),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    pub(crate) fn map<K: Into<String>>(entries: Vec<(K, Y)>) -> Y {
        Y::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    pub(crate) fn plain(s: impl Into<String>) -> Y {
        Y::Plain(s.into())
    }
    /// `{matchLabels: {k: v, ...}}`.
    pub(crate) fn match_labels(labels: &[(&str, &str)]) -> Y {
        Y::map(vec![(
            "matchLabels",
            Y::map(labels.iter().map(|(k, v)| (*k, scalar(v))).collect()),
        )])
    }
}

/// A string as a scalar: plain when that reads back as the same string, else double-quoted.
pub(crate) fn scalar(s: &str) -> Y {
    if plain_safe(s) {
        Y::Plain(s.to_string())
    } else {
        Y::Quoted(s.to_string())
    }
}

fn plain_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-'))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !matches!(
            s,
            "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "Null" | "NULL"
        )
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Flow style: `{port: 15008, protocol: TCP}`.
pub(crate) fn flow(y: &Y) -> String {
    match y {
        Y::Plain(s) => s.clone(),
        Y::Quoted(s) => quote(s),
        Y::Int(i) => i.to_string(),
        Y::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Y::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn key_text(k: &str) -> String {
    if plain_safe(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

/// How a document indents: the mapping step, and how far a block sequence under a key is
/// indented (`key:\n  - a` is 2, `key:\n- a` is 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Style {
    pub step: usize,
    pub seq_pad: usize,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            step: 2,
            seq_pad: 0,
        }
    }
}

/// Block style, as lines relative to the node's content column. Scalars and empty collections
/// are one line.
pub(crate) fn block(y: &Y, style: Style) -> Vec<String> {
    match y {
        Y::Seq(items) if !items.is_empty() => {
            let mut out = Vec::new();
            for item in items {
                for (i, line) in block(item, style).into_iter().enumerate() {
                    out.push(if i == 0 {
                        format!("- {line}")
                    } else {
                        format!("  {line}")
                    });
                }
            }
            out
        }
        Y::Map(entries) if !entries.is_empty() => {
            let mut out = Vec::new();
            for (k, v) in entries {
                out.extend(entry_lines(k, v, style));
            }
            out
        }
        other => vec![flow(other)],
    }
}

/// `key: value` as block lines relative to the key's column.
fn entry_lines(k: &str, v: &Y, style: Style) -> Vec<String> {
    let k = key_text(k);
    match v {
        Y::Seq(items) if !items.is_empty() => {
            let pad = style.seq_pad;
            let mut out = vec![format!("{k}:")];
            out.extend(
                block(v, style)
                    .into_iter()
                    .map(|l| format!("{}{l}", " ".repeat(pad))),
            );
            out
        }
        Y::Map(entries) if !entries.is_empty() => {
            let mut out = vec![format!("{k}:")];
            out.extend(
                block(v, style)
                    .into_iter()
                    .map(|l| format!("{}{l}", " ".repeat(style.step))),
            );
            out
        }
        other => vec![format!("{k}: {}", flow(other))],
    }
}

/// One source's YAML documents, for locating nodes by span.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub source: SourceId,
    roots: std::borrow::Cow<'a, [Node]>,
}

impl<'a> Doc<'a> {
    #[cfg(test)]
    pub(crate) fn new(source: SourceId, text: &'a str) -> Doc<'a> {
        let (documents, _) = crate::yaml::parse_documents(source, text);
        Doc {
            text,
            source,
            roots: std::borrow::Cow::Owned(documents.into_iter().filter_map(|d| d.root).collect()),
        }
    }

    /// A document set over roots already parsed (the non-empty roots of
    /// [`crate::yaml::parse_documents`] of `text`, in order).
    pub(crate) fn with_roots(source: SourceId, text: &'a str, roots: &'a [Node]) -> Doc<'a> {
        Doc {
            text,
            source,
            roots: std::borrow::Cow::Borrowed(roots),
        }
    }

    /// The mapping (or, failing that, any node) whose span is exactly `span`.
    pub(crate) fn find(&self, span: Span) -> Option<&Node> {
        if span.source != self.source {
            return None;
        }
        let mut fallback = None;
        // Roots are disjoint and in text order: skip those that end before `span` (find_in
        // would reject them) and stop at the first that starts after it.
        let first = self.roots.partition_point(|r| r.span.end < span.start);
        let roots = self.roots.get(first..).unwrap_or_default();
        for root in roots.iter().take_while(|r| r.span.start <= span.end) {
            if let Some(n) = find_in(root, span, &mut fallback) {
                return Some(n);
            }
        }
        fallback
    }

    /// The indentation style of the document that contains `node` (defaults: step 2,
    /// sequences not indented).
    pub(crate) fn style_near(&self, node: &Node) -> Style {
        // Roots are disjoint and in text order (see `find`).
        let first = self.roots.partition_point(|r| r.span.end < node.span.start);
        let root = self
            .roots
            .get(first..)
            .unwrap_or_default()
            .iter()
            .find(|r| r.span.start <= node.span.start && node.span.start <= r.span.end);
        let mut style = Style::default();
        if let Some(root) = root {
            let mut step = None;
            let mut seq = None;
            detect(self.text, root, &mut step, &mut seq);
            style.step = step.unwrap_or(2);
            style.seq_pad = seq.unwrap_or(0);
        }
        style
    }

    fn col(&self, offset: usize) -> usize {
        offset - line_start(self.text, offset)
    }

    fn is_flow(&self, node: &Node) -> bool {
        matches!(
            self.text.as_bytes().get(node.span.start as usize),
            Some(b'[' | b'{')
        )
    }

    /// Byte offset just past the last character of `node`'s content.
    fn content_end(&self, node: &Node) -> usize {
        if self.is_flow(node) {
            return node.span.end as usize;
        }
        match &node.value {
            Value::Seq(items) => items
                .last()
                .map_or(node.span.end as usize, |n| self.content_end(n)),
            Value::Map(entries) => entries.last().map_or(node.span.end as usize, |(k, v)| {
                if v.is_null() && v.span.start == v.span.end {
                    k.span.end as usize + 1
                } else {
                    self.content_end(v)
                }
            }),
            _ => node.span.end as usize,
        }
    }

    /// Offset of the start of the line after the one holding `offset` (or the text's end).
    fn next_line(&self, offset: usize) -> usize {
        self.text
            .get(offset..)
            .and_then(|rest| rest.find('\n'))
            .map_or(self.text.len(), |i| offset + i + 1)
    }

    fn edit(&self, start: usize, end: usize, replacement: String) -> TextEdit {
        TextEdit {
            span: Span::new(self.source, start, end),
            replacement,
        }
    }

    /// Insert `lines` (relative lines) as new lines after the line holding `after`, each
    /// prefixed by `col` spaces.
    fn insert_lines(&self, after: usize, col: usize, lines: &[String]) -> TextEdit {
        let at = self.next_line(after);
        let mut text = String::new();
        if at == self.text.len() && !self.text.ends_with('\n') && !self.text.is_empty() {
            text.push('\n');
        }
        for line in lines {
            text.push_str(&" ".repeat(col));
            text.push_str(line);
            text.push('\n');
        }
        self.edit(at, at, text)
    }

    /// Append `item` to a sequence node.
    pub(crate) fn append_item(&self, seq: &Node, item: &Y) -> Option<TextEdit> {
        let items = seq.as_seq()?;
        if self.is_flow(seq) {
            let end = seq.span.end as usize;
            return Some(if items.is_empty() {
                self.edit(seq.span.start as usize, end, format!("[{}]", flow(item)))
            } else {
                let close = end.checked_sub(1)?;
                self.edit(close, close, format!(", {}", flow(item)))
            });
        }
        let first = items.first()?;
        let start = first.span.start as usize;
        let dash = self.dash_before(start)?;
        let gap = start - dash;
        let style = self.style_near(seq);
        let last = items.last()?;
        let lines: Vec<String> = block(item, style)
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    format!("-{}{l}", " ".repeat(gap.saturating_sub(1)))
                } else {
                    format!("{}{l}", " ".repeat(gap))
                }
            })
            .collect();
        Some(self.insert_lines(self.content_end(last), self.col(dash), &lines))
    }

    /// The offset of the `-` that introduces the block sequence item starting at `start`, if
    /// only spaces separate them and only spaces precede the dash on its line.
    pub(crate) fn dash_before(&self, start: usize) -> Option<usize> {
        let before = self.text.get(..start)?;
        let trimmed = before.trim_end_matches(' ');
        if !trimmed.ends_with('-') {
            return None;
        }
        let dash = trimmed.len() - 1;
        let ls = line_start(self.text, dash);
        self.text
            .get(ls..dash)
            .filter(|s| s.bytes().all(|b| b == b' '))
            .map(|_| dash)
    }

    /// Add `key: value` to a mapping (after its last entry, at its key column).
    pub(crate) fn insert_entry(&self, map: &Node, key: &str, value: &Y) -> Option<TextEdit> {
        let entries = map.as_map()?;
        if self.is_flow(map) {
            let end = map.span.end as usize;
            let text = format!("{}: {}", key_text(key), flow(value));
            return Some(if entries.is_empty() {
                self.edit(map.span.start as usize, end, format!("{{{text}}}"))
            } else {
                let close = end.checked_sub(1)?;
                self.edit(close, close, format!(", {text}"))
            });
        }
        let (first_key, _) = entries.first()?;
        let col = self.col(first_key.span.start as usize);
        let style = self.style_near(map);
        Some(self.insert_lines(self.content_end(map), col, &entry_lines(key, value, style)))
    }

    /// Make `map[key]` a list holding (also) `item`: append to an existing list, fill an empty
    /// value, or add the key.
    pub(crate) fn add_to_list(&self, map: &Node, key: &str, item: &Y) -> Option<TextEdit> {
        let entry = map
            .as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key));
        let Some((k, v)) = entry else {
            return self.insert_entry(map, key, &Y::Seq(vec![item.clone()]));
        };
        match &v.value {
            Value::Seq(items) if !items.is_empty() || self.is_flow(v) => self.append_item(v, item),
            Value::Null if v.span.start == v.span.end => {
                // `key:` with nothing after it: a block list on the next lines.
                let style = self.style_near(map);
                let col = self.col(k.span.start as usize) + style.seq_pad;
                Some(self.insert_lines(
                    k.span.end as usize,
                    col,
                    &block(&Y::Seq(vec![item.clone()]), style),
                ))
            }
            Value::Null => Some(self.edit(
                v.span.start as usize,
                v.span.end as usize,
                flow(&Y::Seq(vec![item.clone()])),
            )),
            _ => None,
        }
    }

    /// Replace the entry `key: ...` of a mapping by `new_key: value`.
    pub(crate) fn replace_entry(
        &self,
        map: &Node,
        key: &str,
        new_key: &str,
        value: &Y,
    ) -> Option<TextEdit> {
        let (k, v) = map
            .as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))?;
        let start = k.span.start as usize;
        if self.is_flow(map) {
            let end = v.span.end.max(k.span.end) as usize;
            return Some(self.edit(
                start,
                end,
                format!("{}: {}", key_text(new_key), flow(value)),
            ));
        }
        let end = if v.is_null() && v.span.start == v.span.end {
            k.span.end as usize + 1
        } else {
            self.content_end(v)
        };
        let col = self.col(start);
        let lines = entry_lines(new_key, value, self.style_near(map));
        let text = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    l.clone()
                } else {
                    format!("{}{l}", " ".repeat(col))
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        Some(self.edit(start, end.min(self.text.len()), text))
    }

    /// Replace a scalar node's text, keeping its quoting style.
    pub(crate) fn replace_scalar(&self, node: &Node, value: &str) -> Option<TextEdit> {
        if !node.is_scalar() {
            return None;
        }
        let original = self.text.get(node.span.range())?;
        let text = if original.starts_with('"') {
            quote(value)
        } else if original.starts_with('\'') {
            format!("'{}'", value.replace('\'', "''"))
        } else {
            flow(&scalar(value))
        };
        Some(self.edit(node.span.start as usize, node.span.end as usize, text))
    }

    /// Merge the block (or flow) mapping `second` into `first`, its predecessor in the same
    /// sequence: remove the second item's dash and re-indent its lines to the first item's
    /// content column. `None` when the layout is not one this can do safely.
    pub(crate) fn merge_items(&self, first: &Node, second: &Node) -> Option<Vec<TextEdit>> {
        first.as_map()?;
        second.as_map()?;
        if self.is_flow(first) || self.is_flow(second) {
            // `[{a: 1}, {b: 2}]` → `[{a: 1, b: 2}]`.
            let close = (first.span.end as usize).checked_sub(1)?;
            let open = second.span.start as usize;
            let between = self.text.get(close..=open)?;
            let inner = between.get(1..between.len().checked_sub(1)?)?;
            if !(between.starts_with('}')
                && between.ends_with('{')
                && inner.trim() == ","
                && self.is_flow(first)
                && self.is_flow(second))
            {
                return None;
            }
            return Some(vec![self.edit(close, open + 1, ", ".to_string())]);
        }
        let s1 = first.span.start as usize;
        let s2 = second.span.start as usize;
        let d1 = self.dash_before(s1)?;
        let d2 = self.dash_before(s2)?;
        if self.col(d1) != self.col(d2) {
            return None;
        }
        let c1 = self.col(s1);
        let c2 = self.col(s2);
        let mut edits = vec![self.edit(line_start(self.text, d2), s2, " ".repeat(c1))];
        let end = self.content_end(second);
        let mut at = self.next_line(s2);
        while at < end {
            let line_end = self.next_line(at);
            let line = self.text.get(at..line_end)?;
            let indent = line.len() - line.trim_start_matches(' ').len();
            let blank = line.trim().is_empty();
            if !blank {
                if c1 > c2 {
                    edits.push(self.edit(at, at, " ".repeat(c1 - c2)));
                } else if c2 > c1 {
                    if indent < c2 - c1 {
                        return None;
                    }
                    edits.push(self.edit(at, at + (c2 - c1), String::new()));
                }
            }
            at = line_end;
        }
        Some(edits)
    }

    /// A new YAML document at the end of the source.
    pub(crate) fn append_document(&self, y: &Y) -> TextEdit {
        let end = self.text.len();
        let mut text = String::new();
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("---\n");
        for line in block(y, Style::default()) {
            text.push_str(&line);
            text.push('\n');
        }
        self.edit(end, end, text)
    }
}

fn find_in<'n>(node: &'n Node, span: Span, fallback: &mut Option<&'n Node>) -> Option<&'n Node> {
    if node.span.start > span.end || node.span.end < span.start {
        return None;
    }
    if node.span == span {
        if matches!(node.value, Value::Map(_)) {
            return Some(node);
        }
        fallback.get_or_insert(node);
    }
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| find_in(k, span, fallback).or_else(|| find_in(v, span, fallback))),
        Value::Seq(items) => items.iter().find_map(|n| find_in(n, span, fallback)),
        _ => None,
    }
}

/// The first block mapping step and the first block sequence placement found in `node`.
fn detect(text: &str, node: &Node, step: &mut Option<usize>, seq: &mut Option<usize>) {
    if step.is_some() && seq.is_some() {
        return;
    }
    let col = |offset: usize| offset - line_start(text, offset);
    let flow_at = |n: &Node| {
        matches!(
            text.as_bytes().get(n.span.start as usize),
            Some(b'[' | b'{')
        )
    };
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let kc = col(k.span.start as usize);
                match &v.value {
                    Value::Map(inner) if !flow_at(v) => {
                        if let Some((ik, _)) = inner.first() {
                            let ic = col(ik.span.start as usize);
                            if step.is_none() && ic > kc {
                                *step = Some(ic - kc);
                            }
                        }
                    }
                    Value::Seq(items) if !flow_at(v) => {
                        if let Some(first) = items.first() {
                            let doc = text.get(..first.span.start as usize).unwrap_or("");
                            let trimmed = doc.trim_end_matches(' ');
                            if trimmed.ends_with('-') && seq.is_none() {
                                *seq = Some(col(trimmed.len() - 1).saturating_sub(kc));
                            }
                        }
                    }
                    _ => {}
                }
                detect(text, v, step, seq);
            }
        }
        Value::Seq(items) => {
            for item in items {
                detect(text, item, step, seq);
            }
        }
        _ => {}
    }
}

/// Offset of the start of the line holding `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1)
}

/// Every scalar below `node` whose string value is `value` (for pointing at one list entry).
pub(crate) fn find_scalar<'n>(node: &'n Node, value: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Str(s) if s == value => Some(node),
        Value::Map(entries) => entries.iter().find_map(|(_, v)| find_scalar(v, value)),
        Value::Seq(items) => items.iter().find_map(|n| find_scalar(n, value)),
        _ => None,
    }
}

/// The key node of `map[key]`.
pub(crate) fn key_node<'n>(map: &'n Node, key: &str) -> Option<&'n Node> {
    map.as_map()?
        .iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Doc<'_> {
        Doc::new(SourceId(0), text)
    }

    fn apply(text: &str, edits: &[TextEdit]) -> String {
        crate::lints::apply_fix(
            text,
            &crate::lints::Fix {
                title: String::new(),
                edits: edits.to_vec(),
            },
        )
    }

    fn port() -> Y {
        Y::map(vec![("port", Y::Int(15008)), ("protocol", Y::plain("TCP"))])
    }

    #[test]
    fn append_to_block_and_flow_lists() {
        let text =
            "spec:\n  ingress:\n  - ports:\n    - port: 9090\n      protocol: TCP\n  # end\n";
        let d = doc(text);
        let root = &d.roots[0];
        let ports = root
            .get("spec")
            .and_then(|s| s.get("ingress"))
            .and_then(|i| i.as_seq())
            .and_then(|i| i[0].get("ports"))
            .expect("ports");
        let e = d.append_item(ports, &port()).expect("edit");
        assert_eq!(
            apply(text, &[e]),
            "spec:\n  ingress:\n  - ports:\n    - port: 9090\n      protocol: TCP\n    - port: 15008\n      protocol: TCP\n  # end\n"
        );
        let text = "spec:\n  ingress:\n  - ports: [{port: 9090}]\n";
        let d = doc(text);
        let ports = d.roots[0]
            .get("spec")
            .and_then(|s| s.get("ingress"))
            .and_then(|i| i.as_seq())
            .and_then(|i| i[0].get("ports"))
            .expect("ports");
        let e = d.append_item(ports, &port()).expect("edit");
        assert_eq!(
            apply(text, &[e]),
            "spec:\n  ingress:\n  - ports: [{port: 9090}, {port: 15008, protocol: TCP}]\n"
        );
    }

    #[test]
    fn add_missing_key_and_fill_empty_value() {
        let text = "spec:\n    podSelector: {}\n    policyTypes:\n      - Ingress";
        let d = doc(text);
        let spec = d.roots[0].get("spec").expect("spec");
        let rule = Y::map(vec![(
            "from",
            Y::Seq(vec![Y::map(vec![(
                "ipBlock",
                Y::map(vec![("cidr", Y::plain("169.254.7.127/32"))]),
            )])]),
        )]);
        let e = d.add_to_list(spec, "ingress", &rule).expect("edit");
        assert_eq!(
            apply(text, &[e]),
            "spec:\n    podSelector: {}\n    policyTypes:\n      - Ingress\n    ingress:\n      - from:\n          - ipBlock:\n                cidr: 169.254.7.127/32\n"
        );
        let text = "spec:\n  ingress:\n  podSelector: {}\n";
        let d = doc(text);
        let spec = d.roots[0].get("spec").expect("spec");
        let e = d.add_to_list(spec, "ingress", &rule).expect("edit");
        assert_eq!(
            apply(text, &[e]),
            "spec:\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 169.254.7.127/32\n  podSelector: {}\n"
        );
    }

    #[test]
    fn merge_two_items() {
        let text = "from:\n- namespaceSelector:\n    matchLabels:\n      team: fe\n-   podSelector:\n      matchLabels:\n        app: web\n";
        let d = doc(text);
        let items = d.roots[0]
            .get("from")
            .and_then(|f| f.as_seq())
            .expect("items");
        let edits = d.merge_items(&items[0], &items[1]).expect("edits");
        assert_eq!(
            apply(text, &edits),
            "from:\n- namespaceSelector:\n    matchLabels:\n      team: fe\n  podSelector:\n    matchLabels:\n      app: web\n"
        );
        let text = "from: [{namespaceSelector: {}}, {podSelector: {}}]\n";
        let d = doc(text);
        let items = d.roots[0]
            .get("from")
            .and_then(|f| f.as_seq())
            .expect("items");
        let edits = d.merge_items(&items[0], &items[1]).expect("edits");
        assert_eq!(
            apply(text, &edits),
            "from: [{namespaceSelector: {}, podSelector: {}}]\n"
        );
    }

    #[test]
    fn replace_selector_entry() {
        let text = "spec:\n  selector:\n    matchLabels:\n      app: api\n  action: ALLOW\n";
        let d = doc(text);
        let spec = d.roots[0].get("spec").expect("spec");
        let refs = Y::Seq(vec![Y::map(vec![
            ("kind", Y::plain("Service")),
            ("group", Y::Quoted(String::new())),
            ("name", Y::plain("api")),
        ])]);
        let e = d
            .replace_entry(spec, "selector", "targetRefs", &refs)
            .expect("edit");
        assert_eq!(
            apply(text, &[e]),
            "spec:\n  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: api\n  action: ALLOW\n"
        );
    }
}
