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
pub mod table;
pub mod verdict;
pub mod whatif;
pub mod yaml;

pub use diagnostics::{Diagnostic, Severity};
pub use source::{LineCol, LineIndex, Source, SourceId, Span};

/// Everything the engine found. Always present; never a `Result`.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub cluster: model::Cluster,
    /// Sorted by source, then position. Includes every lint as a diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    /// Every flow of the cluster with its verdict and per-layer decisions, compact
    /// ([`table::FlowTable`], the flows of [`flows::flow_matrix`] in its order); empty when
    /// [`AnalyzeOptions::flows`] is off. Details (legs, reasons, tool outputs) for one flow:
    /// [`Analysis::flow_detail`].
    pub table: table::FlowTable,
    /// The lints ([`lints::lint`], with the flow options' CNI profile and mesh settings).
    pub lints: Vec<lints::Lint>,
}

impl Analysis {
    /// The flow with this table id, judged in full by the reference evaluator.
    pub fn flow_detail(&self, id: usize, options: &flows::Options) -> Option<flows::Flow> {
        self.table.detail(&self.cluster, id, options)
    }
}

/// What [`analyze_with`] computes and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Enumerate and judge the flow table.
    pub flows: bool,
    /// How flows are judged (CNI profile, mesh options, …); the mesh options also decide the
    /// istiod status warnings, and both the lints.
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
    AnalysisJob::new(sources.to_vec(), options.clone()).finish()
}

/// The lint options that go with flow options.
pub fn lint_options(options: &flows::Options) -> lints::LintOptions {
    lints::LintOptions {
        cni: options.cni.name.to_string(),
        mesh: options.mesh.clone(),
    }
}

/// Parse, diagnostics and lints of one analysis (everything but the flow table).
fn parse_and_lint(
    sources: &[Source],
    options: &AnalyzeOptions,
) -> (model::Cluster, Vec<Diagnostic>, Vec<lints::Lint>) {
    let (cluster, mut diagnostics) = parse::parse(sources);
    let lints = lints::lint(sources, &cluster, &lint_options(&options.flow_options));
    // PP4005 / PP4006 quote istiod's status text and add advice and a fix: drop the plain
    // PP3101 warning on the same policy.
    let covered: std::collections::HashSet<(SourceId, u32)> = lints
        .iter()
        .filter(|l| l.code == "PP4005" || l.code == "PP4006")
        .map(|l| (l.span.source, l.span.start))
        .collect();
    let policy_spans: Vec<Span> = cluster
        .authorization_policies
        .iter()
        .map(|p| p.span)
        .filter(|s| {
            covered.iter().any(|(src, start)| {
                *src == s.source && s.start <= *start && *start <= s.end.max(s.start)
            })
        })
        .collect();
    diagnostics.extend(
        istio_status_diagnostics(&cluster, &options.flow_options.mesh)
            .into_iter()
            .filter(|d| !(d.code == "PP3101" && policy_spans.contains(&d.span))),
    );
    diagnostics.extend(lints.iter().map(lints::Lint::to_diagnostic));
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.span.end));
    (cluster, diagnostics, lints)
}

/// How far an [`AnalysisJob`] is: work units done of the (estimated) total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

impl Progress {
    /// Fraction done, 0.0..=1.0.
    pub fn fraction(self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        }
    }
}

#[allow(clippy::large_enum_variant, reason = "one per job; moved once")]
enum JobStage {
    Parse,
    Table {
        cluster: std::rc::Rc<model::Cluster>,
        job: Box<table::TableJob>,
    },
    Done(model::Cluster, table::FlowTable),
}

/// A resumable analysis for a page that must stay responsive: parse + lints (one step), then
/// the flow table in slices of about `budget` rows. [`AnalysisJob::finish`] completes whatever
/// is left; the result equals [`analyze_with`].
pub struct AnalysisJob {
    sources: Vec<Source>,
    options: AnalyzeOptions,
    stage: JobStage,
    diagnostics: Vec<Diagnostic>,
    lints: Vec<lints::Lint>,
    /// Units of the parse step (bytes of input / 64, at least 1).
    parse_units: usize,
}

impl AnalysisJob {
    pub fn new(sources: Vec<Source>, options: AnalyzeOptions) -> AnalysisJob {
        let parse_units = (sources.iter().map(|s| s.text.len()).sum::<usize>() / 64).max(1);
        AnalysisJob {
            sources,
            options,
            stage: JobStage::Parse,
            diagnostics: Vec::new(),
            lints: Vec::new(),
            parse_units,
        }
    }

    /// Do about `budget` units of work (a whole parse counts as one step; table rows are one
    /// unit each) and report progress.
    pub fn step(&mut self, budget: usize) -> Progress {
        match &mut self.stage {
            JobStage::Parse => {
                let (cluster, diagnostics, lints) = parse_and_lint(&self.sources, &self.options);
                self.diagnostics = diagnostics;
                self.lints = lints;
                if self.options.flows {
                    let cluster = std::rc::Rc::new(cluster);
                    let job = table::TableJob::new(
                        cluster.clone(),
                        std::rc::Rc::new(self.options.flow_options.clone()),
                    );
                    self.stage = JobStage::Table {
                        cluster,
                        job: Box::new(job),
                    };
                } else {
                    self.stage = JobStage::Done(cluster, table::FlowTable::default());
                }
            }
            JobStage::Table { job, .. } => {
                job.step(budget);
                if job.is_done() {
                    if let JobStage::Table { cluster, job } =
                        std::mem::replace(&mut self.stage, JobStage::Parse)
                    {
                        let table = job.finish();
                        let cluster =
                            std::rc::Rc::try_unwrap(cluster).unwrap_or_else(|rc| (*rc).clone());
                        self.stage = JobStage::Done(cluster, table);
                    }
                }
            }
            JobStage::Done(..) => {}
        }
        self.progress()
    }

    pub fn progress(&self) -> Progress {
        match &self.stage {
            JobStage::Parse => Progress {
                done: 0,
                total: self.parse_units * 2,
            },
            JobStage::Table { job, .. } => {
                let (done, total) = job.progress();
                Progress {
                    done: self.parse_units + done,
                    total: self.parse_units + total,
                }
            }
            JobStage::Done(_, table) => Progress {
                done: self.parse_units + table.len(),
                total: self.parse_units + table.len(),
            },
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.stage, JobStage::Done(..))
    }

    /// Complete the analysis.
    pub fn finish(mut self) -> Analysis {
        while !self.is_done() {
            self.step(usize::MAX);
        }
        match self.stage {
            JobStage::Done(cluster, table) => Analysis {
                cluster,
                diagnostics: self.diagnostics,
                table,
                lints: self.lints,
            },
            _ => Analysis::default(),
        }
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
