//! A spanned YAML tree, built from `saphyr-parser` events.
//!
//! What it is: [`parse_documents`] splits one source into documents and gives each a [`Node`]
//! tree whose every node carries a byte-range [`Span`]. Plain scalars are resolved with the
//! YAML 1.2 core schema (`null`, `true`, `42`, `0x1F`, `1.5`); quoted and block scalars always stay
//! strings, so `"80"` is a string and `80` an integer. JSON is read as YAML flow syntax.
//!
//! What it is not: it knows nothing about Kubernetes (see `parse`), does no schema checks and
//! never fails. Problems become diagnostics:
//! - syntax errors (PP1001) — the text is split at lines that start with `---` or `...` *before*
//!   parsing, so an error in one document never hides the others; a document with a syntax error
//!   is reported and dropped;
//! - duplicate mapping keys (warning; the last value wins, as in `sigs.k8s.io/yaml`);
//! - nesting deeper than [`MAX_DEPTH`] (the subtree becomes `null`);
//! - aliases are resolved by copying the anchored node; an unknown alias or an expansion larger
//!   than [`MAX_ALIAS_NODES`] nodes (a "billion laughs" document) is an error and becomes `null`;
//! - merge keys `<<` (a mapping or a list of mappings) are applied; explicit keys win.
//!
//! Spans: saphyr reports positions as *char* indices; they are converted to byte offsets here.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostics::Diagnostic;
use crate::parse::messages;
use crate::source::{SourceId, Span};

/// Collections nested deeper than this are replaced by `null` with a diagnostic.
pub const MAX_DEPTH: usize = 256;

/// Upper bound on nodes created by alias expansion in one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// One YAML document of a source.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// `None` for an empty document (only comments, or a bare `---`).
    pub root: Option<Node>,
    /// The document's text, including its `---` line.
    pub span: Span,
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// How a scalar was written; `None` for collections.
    pub style: Option<Style>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in written order; duplicate keys were already collapsed (last wins).
    Map(Vec<(Node, Node)>),
}

/// Scalar styles, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Value {
    /// `a string`, `a mapping`, ... for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The value of `key` in a mapping (the last one if repeated); `None` for non-mappings.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::Seq(_) | Value::Map(_))
    }
    /// The text a scalar was written with (`0x1F`, `true`), taken from the source by span.
    /// For quoted strings, the unquoted value.
    pub fn scalar_text<'a>(&'a self, source_text: &'a str) -> Option<&'a str> {
        match &self.value {
            Value::Str(s) => Some(s),
            Value::Seq(_) | Value::Map(_) => None,
            _ => source_text.get(self.span.range()),
        }
    }
    /// Number of nodes in this subtree (used to bound alias expansion).
    fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
}

/// Split `text` into documents and parse each one. Never fails, never panics.
pub fn parse_documents(source: SourceId, text: &str) -> (Vec<Document>, Vec<Diagnostic>) {
    let mut documents = Vec::new();
    let mut diagnostics = Vec::new();
    for range in split_documents(text) {
        parse_range(source, text, range, &mut documents, &mut diagnostics);
    }
    (documents, diagnostics)
}

/// Parse one range of `text` (one of [`split_documents`]) into `documents` and `diagnostics`,
/// exactly as [`parse_documents`] does for that range. An invalid range is skipped.
pub fn parse_range(
    source: SourceId,
    text: &str,
    (start, end): (usize, usize),
    documents: &mut Vec<Document>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(slice) = text.get(start..end) {
        parse_segment(source, slice, start, documents, diagnostics);
    }
}

/// Byte ranges of the documents of `text`. A new document starts at every line that begins
/// with `---` followed by a space, tab or end of line; a line `...` (same rule) ends one.
/// A segment holding only directives (`%YAML`), comments and blank lines is glued to the next.
pub fn split_documents(text: &str) -> Vec<(usize, usize)> {
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut seg_start = 0;
    let mut line_start = 0;
    let bytes = text.as_bytes();
    while line_start < bytes.len() {
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| line_start + i + 1);
        let line = &bytes[line_start..line_end];
        if is_marker(line, b"---") {
            if line_start > seg_start && !only_directives(&text[seg_start..line_start]) {
                cuts.push((seg_start, line_start));
                seg_start = line_start;
            }
        } else if is_marker(line, b"...") {
            cuts.push((seg_start, line_end));
            seg_start = line_end;
        }
        line_start = line_end;
    }
    if seg_start < bytes.len() || cuts.is_empty() {
        cuts.push((seg_start, bytes.len()));
    }
    cuts
}

fn is_marker(line: &[u8], marker: &[u8; 3]) -> bool {
    line.starts_with(marker) && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn only_directives(segment: &str) -> bool {
    let mut any_directive = false;
    for line in segment.lines() {
        let line = line.trim();
        if line.starts_with('%') {
            any_directive = true;
        } else if !(line.is_empty() || line.starts_with('#')) {
            return false;
        }
    }
    any_directive
}

/// Char index (saphyr) → byte offset in the whole source, through any lenient patches.
struct Offsets {
    base: usize,
    /// `None` when the parsed text is ASCII (char index = byte index).
    table: Option<Vec<u32>>,
    len: usize,
    /// Spaces inserted by [`indent_quoted_scalar`]: (offset in the parsed text, count), ascending.
    insertions: Vec<(usize, usize)>,
}

impl Offsets {
    fn new(parsed: &str, base: usize, insertions: Vec<(usize, usize)>) -> Offsets {
        let table = if parsed.is_ascii() {
            None
        } else {
            Some(parsed.char_indices().map(|(i, _)| i as u32).collect())
        };
        Offsets {
            base,
            table,
            len: parsed.len(),
            insertions,
        }
    }
    fn byte(&self, char_index: usize) -> usize {
        let local = match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).map_or(self.len, |&b| b as usize),
        };
        self.base + original_offset(local, &self.insertions)
    }
}

/// Offset in the patched text → offset in the original text.
fn original_offset(patched: usize, insertions: &[(usize, usize)]) -> usize {
    let mut removed = 0;
    for &(at, count) in insertions {
        if at >= patched {
            break;
        }
        removed += count.min(patched - at);
    }
    patched - removed
}

/// Mappings with at least this many entries get a key index for duplicate detection.
const MAP_INDEX_MIN: usize = 16;

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        /// Key → entry position, built only for large mappings (small ones are scanned).
        index: Option<HashMap<String, usize>>,
        key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

struct Builder<'d> {
    source: SourceId,
    offsets: Offsets,
    stack: Vec<Frame>,
    /// >0 while skipping a too-deep subtree.
    skip: usize,
    skip_start: usize,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    root: Option<Node>,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// At most this many lenient re-parses per document.
const MAX_PATCHES: usize = 32;

fn parse_segment(
    source: SourceId,
    slice: &str,
    base: usize,
    documents: &mut Vec<Document>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut text = std::borrow::Cow::Borrowed(slice);
    let mut insertions: Vec<(usize, usize)> = Vec::new();
    let mut lenient: Vec<Diagnostic> = Vec::new();
    let mut last_patch = None;
    for _ in 0..MAX_PATCHES {
        let mut docs = Vec::new();
        let mut diags = Vec::new();
        let offsets = Offsets::new(&text, base, insertions.clone());
        let error = parse_once(source, &text, slice.len(), offsets, &mut docs, &mut diags);
        let Some((info, at_char)) = error else {
            diagnostics.extend(lenient);
            diagnostics.extend(diags);
            documents.extend(docs);
            return;
        };
        // libyaml (and so `kubectl`) accepts continuation lines of a quoted scalar that are less
        // indented than the mapping around it; saphyr does not. Re-indent them and parse again.
        let at = Offsets::new(&text, 0, Vec::new()).byte(at_char);
        if info == "invalid indentation in quoted scalar" && last_patch != Some(at) {
            last_patch = Some(at);
            if let Some(patched) = indent_quoted_scalar(&text, at, &mut insertions) {
                let original = base + original_offset(at, &insertions);
                let end = slice
                    .get(original - base..)
                    .and_then(|s| s.chars().next())
                    .map_or(original, |c| original + c.len_utf8());
                lenient.push(messages::yaml_quoted_indent(Span::new(
                    source, original, end,
                )));
                text = std::borrow::Cow::Owned(patched);
                continue;
            }
        }
        let original = base + original_offset(at, &insertions);
        let end = slice
            .get(original.saturating_sub(base)..)
            .and_then(|s| s.chars().next())
            .map_or(original, |c| original + c.len_utf8());
        diagnostics.extend(lenient);
        diagnostics.extend(diags);
        diagnostics.push(messages::yaml_syntax(
            &info,
            Span::new(source, original, end),
        ));
        // The document is dropped; later documents of the source are still read.
        return;
    }
}

/// Insert spaces after every line break inside the quoted scalar that starts at byte `quote`,
/// so its continuation lines are indented past the quote's column. `None` if it is not a quote
/// or is not closed.
fn indent_quoted_scalar(
    text: &str,
    quote: usize,
    insertions: &mut Vec<(usize, usize)>,
) -> Option<String> {
    let bytes = text.as_bytes();
    let q = *bytes.get(quote)?;
    if q != b'\'' && q != b'"' {
        return None;
    }
    let line_start = text.get(..quote)?.rfind('\n').map_or(0, |i| i + 1);
    let pad = text.get(line_start..quote)?.chars().count() + 1;
    // Find the closing quote.
    let mut i = quote + 1;
    let close = loop {
        match bytes.get(i) {
            None => return None,
            Some(b'\\') if q == b'"' => i += 2,
            Some(b'\'') if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            Some(&b) if b == q => break i,
            Some(_) => i += 1,
        }
    };
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(text.get(..quote)?);
    for ch in text.get(quote..close)?.chars() {
        out.push(ch);
        if ch == '\n' {
            insertions.push((out.len(), pad));
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.push_str(text.get(close..)?);
    Some(out)
}

/// One parse of a (possibly patched) segment. Returns the first syntax error (info, char index).
fn parse_once(
    source: SourceId,
    text: &str,
    original_len: usize,
    offsets: Offsets,
    documents: &mut Vec<Document>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(String, usize)> {
    let doc_span = Span::new(source, offsets.base, offsets.base + original_len);
    let mut builder = Builder {
        source,
        offsets,
        stack: Vec::new(),
        skip: 0,
        skip_start: 0,
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        diagnostics,
    };
    let mut parser = Parser::new_from_str(text);
    let mut in_document = false;
    loop {
        match parser.next_event() {
            None => break,
            Some(Err(err)) => return Some((err.info().to_owned(), err.marker().index())),
            Some(Ok((event, span))) => {
                let start = builder.offsets.byte(span.start.index());
                let end = builder.offsets.byte(span.end.index()).max(start);
                match event {
                    Event::StreamEnd => break,
                    Event::DocumentStart(_) => {
                        in_document = true;
                        builder.reset();
                    }
                    Event::DocumentEnd => {
                        if in_document {
                            documents.push(Document {
                                root: builder.take_root(),
                                span: doc_span,
                            });
                        }
                        in_document = false;
                    }
                    other => builder.event(other, start, end),
                }
            }
        }
    }
    if in_document {
        documents.push(Document {
            root: builder.take_root(),
            span: doc_span,
        });
    }
    None
}

impl Builder<'_> {
    /// The finished root; an empty document (an implicit empty `null`) has none.
    fn take_root(&mut self) -> Option<Node> {
        self.root
            .take()
            .filter(|n| !(n.is_null() && n.span.start == n.span.end))
    }

    fn reset(&mut self) {
        self.stack.clear();
        self.skip = 0;
        self.anchors.clear();
        self.alias_nodes = 0;
        self.root = None;
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end.max(start))
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) {
        if self.skip > 0 {
            match event {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skip += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    self.skip -= 1;
                    if self.skip == 0 {
                        let node = Node {
                            value: Value::Null,
                            span: self.span(self.skip_start, end),
                            style: None,
                        };
                        self.finish(node, 0);
                    }
                }
                _ => {}
            }
            return;
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let non_specific = tag
                    .as_ref()
                    .is_some_and(|t| t.handle == "!" && t.suffix.is_empty());
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let value = if style == Style::Plain && !non_specific && !str_tag {
                    resolve_plain(&text)
                } else {
                    Value::Str(text.into_owned())
                };
                let node = Node {
                    value,
                    span: self.span(start, end),
                    style: Some(style),
                };
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _)
                if self.stack.len() >= MAX_DEPTH =>
            {
                let _ = anchor;
                self.diagnostics
                    .push(messages::yaml_too_deep(MAX_DEPTH, self.span(start, end)));
                self.skip = 1;
                self.skip_start = start;
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                start,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                index: None,
                key: None,
                start,
                anchor,
            }),
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                }) = self.stack.pop()
                {
                    let last = items.last().map_or(start, |n| n.span.end as usize);
                    let node = Node {
                        value: Value::Seq(items),
                        span: self.span(start, end.max(last)),
                        style: None,
                    };
                    self.finish(node, anchor);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    entries,
                    key,
                    start,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    let mut entries = entries;
                    if let Some(key) = key {
                        // A key without a value (should not happen with saphyr; be safe).
                        let span = key.span;
                        entries.push((
                            key,
                            Node {
                                value: Value::Null,
                                span,
                                style: None,
                            },
                        ));
                    }
                    let entries = apply_merge_keys(entries);
                    let last = entries.last().map_or(start, |(_, v)| v.span.end as usize);
                    let node = Node {
                        value: Value::Map(entries),
                        span: self.span(start, end.max(last)),
                        style: None,
                    };
                    self.finish(node, anchor);
                }
            }
            Event::Alias(id) => {
                let span = self.span(start, end);
                let node = match self.anchors.get(&id) {
                    Some(anchored) => {
                        let size = anchored.size();
                        if self.alias_nodes.saturating_add(size) > MAX_ALIAS_NODES {
                            self.diagnostics
                                .push(messages::yaml_alias_too_large(MAX_ALIAS_NODES, span));
                            Node {
                                value: Value::Null,
                                span,
                                style: None,
                            }
                        } else {
                            self.alias_nodes += size;
                            anchored.clone()
                        }
                    }
                    None => {
                        self.diagnostics.push(messages::yaml_unknown_alias(span));
                        Node {
                            value: Value::Null,
                            span,
                            style: None,
                        }
                    }
                };
                self.finish(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
    }

    /// A complete node: record its anchor and attach it to its parent.
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                index,
                key,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let found = k.as_str().and_then(|name| {
                        if index.is_none() && entries.len() >= MAP_INDEX_MIN {
                            let mut built = HashMap::new();
                            for (i, (o, _)) in entries.iter().enumerate() {
                                if let Some(n) = o.as_str() {
                                    built.entry(n.to_owned()).or_insert(i);
                                }
                            }
                            *index = Some(built);
                        }
                        match index {
                            Some(index) => index.get(name).copied(),
                            None => entries.iter().position(|(o, _)| o.as_str() == Some(name)),
                        }
                    });
                    match found {
                        Some(i) => {
                            self.diagnostics.push(messages::yaml_duplicate_key(
                                k.as_str().unwrap_or(""),
                                k.span,
                            ));
                            if let Some(slot) = entries.get_mut(i) {
                                *slot = (k, node);
                            }
                        }
                        None => {
                            if let (Some(n), Some(index)) = (k.as_str(), index.as_mut()) {
                                index.insert(n.to_owned(), entries.len());
                            }
                            entries.push((k, node));
                        }
                    }
                }
            },
        }
    }
}

/// `<<: *base` / `<<: [*a, *b]`: add the merged mappings' keys that are not set explicitly.
fn apply_merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    if !entries.iter().any(|(k, _)| is_merge_key(k)) {
        return entries;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|(k, _)| is_merge_key(k));
    for (_, value) in merges {
        let sources: Vec<Node> = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            _ => Vec::new(),
        };
        for source in sources {
            if let Value::Map(merged) = source.value {
                for (k, v) in merged {
                    let present = k
                        .as_str()
                        .is_some_and(|name| own.iter().any(|(o, _)| o.as_str() == Some(name)));
                    if !present {
                        own.push((k, v));
                    }
                }
            }
        }
    }
    own
}

fn is_merge_key(key: &Node) -> bool {
    key.style == Some(Style::Plain) && key.as_str() == Some("<<")
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return i64::from_str_radix(hex, 16)
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Int);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return i64::from_str_radix(oct, 8)
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Int);
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => text
                .parse::<f64>()
                .map_or_else(|_| Value::Str(text.to_owned()), Value::Float),
        };
    }
    if is_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (sign already stripped).
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests;
