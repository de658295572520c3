//! Turning engine data into terminal text: diagnostics in the rustc style
//! (`error[PP1001]: message`, ` --> file:line:col`, the source line and a caret underline).

use std::fmt::Write as _;

use engine::{Diagnostic, LineIndex, Source};

/// Line indexes for every source, built once.
pub struct Files<'a> {
    pub sources: &'a [Source],
    indexes: Vec<LineIndex>,
}

impl<'a> Files<'a> {
    pub fn new(sources: &'a [Source]) -> Files<'a> {
        Files {
            sources,
            indexes: sources.iter().map(|s| LineIndex::new(&s.text)).collect(),
        }
    }

    /// `(file name, line, col)` of a span's start; `("?", 0, 0)` for an unknown source.
    pub fn position(&self, span: engine::Span) -> (&str, u32, u32) {
        let i = span.source.0 as usize;
        match (self.sources.get(i), self.indexes.get(i)) {
            (Some(source), Some(index)) => {
                let lc = index.line_col(&source.text, span.start);
                (source.name.as_str(), lc.line, lc.col)
            }
            _ => ("?", 0, 0),
        }
    }

    /// The text of the 1-based line `line` of the span's source, without its newline.
    fn line_text(&self, span: engine::Span, line: u32) -> &str {
        let i = span.source.0 as usize;
        let (Some(source), Some(index)) = (self.sources.get(i), self.indexes.get(i)) else {
            return "";
        };
        let start = index.line_start(line) as usize;
        let rest = source.text.get(start..).unwrap_or("");
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }
}

pub fn diagnostic_text(files: &Files<'_>, d: &Diagnostic) -> String {
    let (name, line, col) = files.position(d.span);
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
    let _ = writeln!(out, "  --> {name}:{line}:{col}");
    if line > 0 {
        let text = files.line_text(d.span, line);
        let width = line.to_string().len();
        let (_, end_line, end_col) = files.position(engine::Span {
            start: d.span.end,
            ..d.span
        });
        let underline = if end_line == line && end_col > col {
            (end_col - col) as usize
        } else {
            1
        };
        let _ = writeln!(out, "{:width$} |", "");
        let _ = writeln!(out, "{line} | {text}");
        let _ = writeln!(
            out,
            "{:width$} | {}{}",
            "",
            " ".repeat(col.saturating_sub(1) as usize),
            "^".repeat(underline.max(1))
        );
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

/// JSON string literal (RFC 8259 escaping).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `lint --format json` contract (docs/cli-json.md): an array of
/// `{severity, code, message, help, file, line, column, start, end}`.
pub fn diagnostics_json(files: &Files<'_>, diagnostics: &[Diagnostic]) -> String {
    let items: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            let (name, line, col) = files.position(d.span);
            format!(
                "{{\"severity\":{},\"code\":{},\"message\":{},\"help\":{},\"file\":{},\"line\":{line},\"column\":{col},\"start\":{},\"end\":{}}}",
                json_str(d.severity.as_str()),
                json_str(d.code),
                json_str(&d.message),
                d.help.as_deref().map_or("null".to_string(), json_str),
                json_str(name),
                d.span.start,
                d.span.end
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}
