//! The Policy Playground engine.
//!
//! Input: YAML/JSON manifests ([`Source`]s). Output: an [`Analysis`], plain data with public
//! fields: the cluster model, every diagnostic (with spans), and (later stages) the flows with
//! a verdict per enforcement layer.
//!
//! Pipeline:
//! 1. `yaml` splits each source into documents and builds a spanned node tree (never fails;
//!    syntax errors become diagnostics and the other documents are still read).
//! 2. `parse` turns documents into typed objects ([`model::Cluster`], [`netpol::NetworkPolicy`]),
//!    reporting bad fields with their spans.
//! 3. `netpol` judges wire legs at the CNI layer; `flows` enumerates flows and composes layers.
//!
//! The engine does no IO, has no web or CLI dependencies, and never panics on any input.

pub mod connlist;
pub mod diagnostics;
pub mod iprange;
pub mod model;
pub mod netpol;
pub mod parse;
pub mod portset;
pub mod selector;
pub mod source;
pub mod verdict;
pub mod yaml;

pub use diagnostics::{Diagnostic, Severity};
pub use source::{LineCol, LineIndex, Source, SourceId, Span};

/// Everything the engine found. Always present; never a `Result`.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub cluster: model::Cluster,
    /// Sorted by source, then position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyse a set of sources. Never fails: problems are diagnostics.
pub fn analyze(sources: &[Source]) -> Analysis {
    let (cluster, mut diagnostics) = parse::parse(sources);
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.span.end));
    Analysis {
        cluster,
        diagnostics,
    }
}
