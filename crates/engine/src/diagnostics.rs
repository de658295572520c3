//! Diagnostics: every problem the engine finds in its input, with a span.
//! Message constructors live here so the wording stays in one voice (STYLE.md house rule 4):
//! lowercase, no final period, user input in backticks, advice in `help`.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something the engine skipped on purpose (an unmodelled kind).
    Info,
    /// The input is accepted but probably not what the author meant.
    Warning,
    /// The input is invalid (the API server or Istio would reject it, or it cannot be read).
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem in the input. Always has a span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code: `PP1xxx` input/parse, `PP2xxx` NetworkPolicy, `PP3xxx` Istio, `PP4xxx` lints.
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub span: Span,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            help: None,
            span,
        }
    }
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message, span)
    }
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message, span)
    }
    pub fn info(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Info, code, message, span)
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}
