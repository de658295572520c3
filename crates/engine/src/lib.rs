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
//! 4. `explain` turns verdicts into sentences; `expect` reads and checks expectations.
//!
//! The engine does no IO, has no web or CLI dependencies, and never panics on any input.

pub mod connlist;
pub mod diagnostics;
pub mod expect;
pub mod explain;
pub mod flows;
pub mod iprange;
pub mod istio;
pub mod model;
pub mod netpol;
pub mod npmatrix;
pub mod parse;
pub mod portset;
pub mod profiles;
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
    /// Every flow of the cluster with each layer's verdict ([`flows::flow_matrix`]); empty when
    /// [`AnalyzeOptions::flows`] is off.
    pub flows: Vec<flows::Flow>,
}

/// What [`analyze_with`] computes and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Enumerate and judge the flow matrix.
    pub flows: bool,
    /// How flows are judged (CNI profile, …).
    pub flow_options: flows::Options,
}

impl Default for AnalyzeOptions {
    fn default() -> AnalyzeOptions {
        AnalyzeOptions {
            flows: true,
            flow_options: flows::Options::default(),
        }
    }
}

/// Analyse a set of sources with the default options (generic CNI profile, all flows).
/// Never fails: problems are diagnostics.
pub fn analyze(sources: &[Source]) -> Analysis {
    analyze_with(sources, &AnalyzeOptions::default())
}

/// Analyse a set of sources. Never fails: problems are diagnostics.
pub fn analyze_with(sources: &[Source], options: &AnalyzeOptions) -> Analysis {
    let (cluster, mut diagnostics) = parse::parse(sources);
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.span.end));
    let flows = if options.flows {
        flows::flow_matrix(&cluster, &options.flow_options)
    } else {
        Vec::new()
    };
    Analysis {
        cluster,
        diagnostics,
        flows,
    }
}
