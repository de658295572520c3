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
//!    The Istio layers (`istio`) plan the wire legs and judge each leg's terminating proxy.
//! 4. `explain` turns verdicts into sentences; `expect` reads and checks expectations.
//! 5. istiod's status messages on AuthorizationPolicies that ztunnel enforces become warnings
//!    (`PP3101`…`PP3103`, [`istio_status_diagnostics`]).
//!
//! The engine does no IO, has no web or CLI dependencies, and never panics on any input.

pub mod anp;
pub mod connlist;
pub mod diagnostics;
pub mod expect;
pub mod explain;
pub mod flows;
pub mod iprange;
pub mod istio;
pub mod lints;
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
    /// How flows are judged (CNI profile, mesh options, …); the mesh options also decide the
    /// istiod status warnings.
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
    diagnostics.extend(istio_status_diagnostics(
        &cluster,
        &options.flow_options.mesh,
    ));
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

/// istiod's status messages (reason `UnsupportedValue`, SEMANTICS.md §5.1, §6.5) on every
/// AuthorizationPolicy that applies to at least one ambient workload (where ztunnel enforces
/// it), as warnings on the policy's span, the message verbatim:
/// - `PP3101` HTTP attributes at ztunnel (`ztunnel does not support HTTP attributes (found: …)…`);
/// - `PP3102` an action ztunnel does not support (`ztunnel does not support the CUSTOM action`);
/// - `PP3103` a dry-run policy without `AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY`.
pub fn istio_status_diagnostics(
    cluster: &model::Cluster,
    mesh: &istio::MeshOptions,
) -> Vec<Diagnostic> {
    use istio::model::Target;
    let mut res = Vec::new();
    for (index, policy) in cluster.authorization_policies.iter().enumerate() {
        let in_scope = |w: &model::Workload| {
            let ns = policy.namespace == w.namespace || policy.namespace == mesh.root_namespace;
            ns && match &policy.target {
                Target::Namespace => true,
                Target::Selector(labels) => labels.iter().all(|(k, v)| w.labels.get(k) == Some(v)),
                Target::TargetRefs(_) => false,
            }
        };
        let ambient = cluster.workloads.iter().any(|w| {
            istio::mesh::dataplane(cluster, w) == istio::mesh::DataPlane::Ambient && in_scope(w)
        });
        if !ambient {
            continue;
        }
        let conversion = istio::ztunnel::convert(policy, index, cluster, mesh);
        let Some(status) = conversion.status else {
            continue;
        };
        let (code, help) = match conversion.not_sent {
            Some(verdict::AuthzIgnored::UnsupportedActionAtZtunnel) => (
                "PP3102",
                "istiod does not send this policy to ztunnel; only a waypoint (with `targetRefs`) or a sidecar enforces it",
            ),
            Some(verdict::AuthzIgnored::DryRunNotSent) => (
                "PP3103",
                "set AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY on istiod, or remove the annotation",
            ),
            _ => (
                "PP3101",
                "enforce HTTP rules at a waypoint: deploy one and attach the policy with `targetRefs`",
            ),
        };
        res.push(
            Diagnostic::warning(
                code,
                format!(
                    "istiod status on AuthorizationPolicy {}/{} ({}): {}",
                    policy.namespace, policy.name, status.reason, status.message
                ),
                policy.span,
            )
            .with_help(help),
        );
    }
    res
}
