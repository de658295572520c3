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
#[cfg(not(target_arch = "wasm32"))]
mod workers;
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

/// [`yaml::parse_range`] of every range in order, the ranges split between the cores (the
/// documents and diagnostics are the same as one thread's, in the same order).
#[cfg(not(target_arch = "wasm32"))]
fn parse_ranges_parallel(
    id: SourceId,
    text: &str,
    ranges: &[(usize, usize)],
    documents: &mut Vec<yaml::Document>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let parse = |part: &[(usize, usize)], documents: &mut Vec<_>, diagnostics: &mut Vec<_>| {
        for &range in part {
            yaml::parse_range(id, text, range, documents, diagnostics);
        }
    };
    if threads < 2 || ranges.len() < 2 * threads || text.len() < 256 * 1024 {
        parse(ranges, documents, diagnostics);
        return;
    }
    // Chunks of about equal bytes.
    let per = text.len().div_ceil(threads);
    let mut parts: Vec<&[(usize, usize)]> = Vec::with_capacity(threads);
    let mut rest = ranges;
    for t in 1..threads {
        let cut = rest.partition_point(|r| r.0 < t * per);
        let (part, tail) = rest.split_at(cut.min(rest.len()));
        parts.push(part);
        rest = tail;
    }
    parts.push(rest);
    let owned = |part: &[(usize, usize)]| {
        let (mut docs, mut diags) = (Vec::new(), Vec::new());
        parse(part, &mut docs, &mut diags);
        (docs, diags)
    };
    let outputs: Vec<(Vec<yaml::Document>, Vec<Diagnostic>)> = std::thread::scope(|scope| {
        // A part whose thread cannot be started is parsed here afterwards.
        let handles: Vec<_> = parts
            .iter()
            .skip(1)
            .map(|&part| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || owned(part))
                    .map_err(|_| part)
            })
            .collect();
        if let Some(first) = parts.first() {
            parse(first, documents, diagnostics);
        }
        workers::join_in_order(handles, owned)
    });
    for (docs, diags) in outputs {
        documents.extend(docs);
        diagnostics.extend(diags);
    }
}

/// The lint options that go with flow options.
pub fn lint_options(options: &flows::Options) -> lints::LintOptions {
    lints::LintOptions {
        cni: options.cni.name.to_string(),
        mesh: options.mesh.clone(),
    }
}

/// The diagnostics of one analysis: the parser's, istiod's status warnings
/// ([`istio_status_diagnostics`]) and the lints, sorted.
fn merge_diagnostics(
    cluster: &model::Cluster,
    mut diagnostics: Vec<Diagnostic>,
    statuses: Vec<Diagnostic>,
    lints: &[lints::Lint],
) -> Vec<Diagnostic> {
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
        statuses
            .into_iter()
            .filter(|d| !(d.code == "PP3101" && policy_spans.contains(&d.span))),
    );
    diagnostics.extend(lints.iter().map(lints::Lint::to_diagnostic));
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.span.end));
    diagnostics
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
    /// YAML trees of source `source`, document range `next` of `ranges` onwards.
    Yaml {
        source: usize,
        ranges: Vec<(usize, usize)>,
        next: usize,
    },
    /// Reading document `document` of source `source` into the parser.
    Read {
        source: usize,
        document: usize,
    },
    /// Defaults and grouping ([`parse::Parser::finish`]).
    Build,
    /// One lint rule family per step.
    Lint {
        cluster: model::Cluster,
        linter: lints::Linter,
    },
    /// istiod's status warnings (of AuthorizationPolicy `next` onwards), then sort the
    /// diagnostics.
    Merge {
        cluster: model::Cluster,
        lints: Vec<lints::Lint>,
        statuses: Vec<Diagnostic>,
        next: usize,
    },
    /// The table job's set-up (its indexes).
    TableSetup(model::Cluster),
    Table {
        cluster: std::sync::Arc<model::Cluster>,
        job: Box<table::TableJob>,
    },
    Done(model::Cluster, table::FlowTable),
}

/// A resumable analysis for a page that must stay responsive. Stages, each in small steps:
/// YAML trees (a few documents per step, about `budget * 64` bytes), reading them into the model
/// (same), building the cluster (one step), the lints (one rule family per step), istiod's status
/// warnings (one step), the table job's set-up (one step), then the flow table in slices of about
/// `budget` rows. [`AnalysisJob::finish`] completes whatever is left; the result equals
/// [`analyze_with`].
pub struct AnalysisJob {
    sources: Vec<Source>,
    options: AnalyzeOptions,
    stage: JobStage,
    /// Per source read so far: its documents and YAML diagnostics.
    trees: Vec<(Vec<yaml::Document>, Vec<Diagnostic>)>,
    parser: parse::Parser,
    diagnostics: Vec<Diagnostic>,
    lints: Vec<lints::Lint>,
    /// Units of the YAML stage and of the read stage each (bytes of input / 64, at least 1).
    parse_units: usize,
    /// Units done before the table (monotonic).
    pre_done: usize,
    /// The flow table, when it was built alongside the lints (native, all at once).
    ready_table: Option<table::FlowTable>,
}

/// Bytes of YAML per work unit.
const BYTES_PER_UNIT: usize = 64;

impl AnalysisJob {
    pub fn new(sources: Vec<Source>, options: AnalyzeOptions) -> AnalysisJob {
        let parse_units =
            (sources.iter().map(|s| s.text.len()).sum::<usize>() / BYTES_PER_UNIT).max(1);
        let ranges = sources
            .first()
            .map(|s| yaml::split_documents(&s.text))
            .unwrap_or_default();
        AnalysisJob {
            sources,
            options,
            stage: JobStage::Yaml {
                source: 0,
                ranges,
                next: 0,
            },
            trees: Vec::new(),
            parser: parse::Parser::new(),
            diagnostics: Vec::new(),
            lints: Vec::new(),
            parse_units,
            pre_done: 0,
            ready_table: None,
        }
    }

    /// Units of the build step, of each lint family and of the merge step.
    fn small_units(&self) -> usize {
        (self.parse_units / 8).max(1)
    }

    /// Units of the lints (as many as the YAML stage).
    fn lint_units(&self) -> usize {
        self.parse_units
    }

    /// Units of all the work before the table: YAML, read, build, lints, merge, table set-up.
    fn pre_total(&self) -> usize {
        2 * self.parse_units + self.lint_units() + 3 * self.small_units()
    }

    fn advance(&mut self, units: usize) {
        self.pre_done = (self.pre_done + units).min(self.pre_total());
    }

    /// Do about `budget` units of work (64 bytes of YAML or one table row per unit; the build,
    /// each lint family and the table set-up are one step each) and report progress.
    pub fn step(&mut self, budget: usize) -> Progress {
        let budget_bytes = budget.max(1).saturating_mul(BYTES_PER_UNIT);
        let stage = std::mem::replace(&mut self.stage, JobStage::Build);
        self.stage = match stage {
            JobStage::Yaml {
                source,
                ranges,
                mut next,
            } => {
                let id = parse::source_id(source);
                let mut bytes = 0;
                if let Some(text) = self.sources.get(source).map(|s| s.text.as_str()) {
                    if self.trees.len() <= source {
                        self.trees.resize_with(source + 1, Default::default);
                    }
                    let (documents, diagnostics) = &mut self.trees[source];
                    // A caller that wants everything at once gets every core (native only).
                    #[cfg(not(target_arch = "wasm32"))]
                    if budget == usize::MAX && next == 0 {
                        bytes = text.len();
                        next = ranges.len();
                        parse_ranges_parallel(id, text, &ranges, documents, diagnostics);
                    }
                    while let Some(&range) = ranges.get(next) {
                        if bytes > 0 && bytes >= budget_bytes {
                            break;
                        }
                        yaml::parse_range(id, text, range, documents, diagnostics);
                        bytes += range.1.saturating_sub(range.0);
                        next += 1;
                    }
                }
                self.advance(bytes / BYTES_PER_UNIT);
                if next < ranges.len() {
                    JobStage::Yaml {
                        source,
                        ranges,
                        next,
                    }
                } else if let Some(s) = self.sources.get(source + 1) {
                    JobStage::Yaml {
                        source: source + 1,
                        ranges: yaml::split_documents(&s.text),
                        next: 0,
                    }
                } else {
                    self.trees.resize_with(self.sources.len(), Default::default);
                    self.pre_done = self.pre_done.max(self.parse_units);
                    JobStage::Read {
                        source: 0,
                        document: 0,
                    }
                }
            }
            JobStage::Read {
                mut source,
                mut document,
            } => {
                let mut bytes = 0;
                while let (Some(src), Some((documents, yaml_diagnostics))) =
                    (self.sources.get(source), self.trees.get_mut(source))
                {
                    if bytes > 0 && bytes >= budget_bytes {
                        break;
                    }
                    if document == 0 {
                        self.parser.diagnostics(std::mem::take(yaml_diagnostics));
                    }
                    match documents.get(document) {
                        Some(d) => {
                            self.parser.read_document(&src.text, d);
                            bytes += (d.span.end.saturating_sub(d.span.start) as usize).max(1);
                            document += 1;
                        }
                        None => {
                            source += 1;
                            document = 0;
                        }
                    }
                }
                self.advance(bytes / BYTES_PER_UNIT);
                if source < self.sources.len() {
                    JobStage::Read { source, document }
                } else {
                    self.pre_done = self.pre_done.max(2 * self.parse_units);
                    JobStage::Build
                }
            }
            JobStage::Build => {
                let (cluster, diagnostics) = std::mem::take(&mut self.parser).finish();
                self.diagnostics = diagnostics;
                let roots = std::mem::take(&mut self.trees)
                    .into_iter()
                    .map(|(documents, _)| documents.into_iter().filter_map(|d| d.root).collect())
                    .collect();
                self.advance(self.small_units());
                JobStage::Lint {
                    cluster,
                    linter: lints::Linter::with_roots(roots),
                }
            }
            // A caller that wants everything at once: the lints on one thread while the flow
            // table is built on the others (native only; the same lints and table).
            #[cfg(not(target_arch = "wasm32"))]
            JobStage::Lint { cluster, linter }
                if budget == usize::MAX
                    && self.options.flows
                    && linter.progress(&cluster).0 == 0 =>
            {
                let options = lint_options(&self.options.flow_options);
                let cluster = std::sync::Arc::new(cluster);
                let flow_options = std::sync::Arc::new(self.options.flow_options.clone());
                let sources = &self.sources;
                let run_lints = |mut linter: lints::Linter| {
                    while !linter.is_done() {
                        linter.step(sources, &cluster, &options, usize::MAX);
                    }
                    linter.finish()
                };
                // The linter waits in a slot so that it can still run here when its thread
                // cannot be started.
                let slot = std::sync::Mutex::new(Some(linter));
                let take = || slot.lock().ok().and_then(|mut s| s.take());
                let (lints, table) = std::thread::scope(|scope| {
                    let lints = std::thread::Builder::new()
                        .spawn_scoped(scope, || take().map(run_lints).unwrap_or_default());
                    let table = table::TableJob::new(cluster.clone(), flow_options).finish();
                    let lints = match lints {
                        Ok(h) => h
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                        Err(_) => take().map(run_lints).unwrap_or_default(),
                    };
                    (lints, table)
                });
                self.ready_table = Some(table);
                let cluster = std::sync::Arc::try_unwrap(cluster).unwrap_or_else(|a| (*a).clone());
                JobStage::Merge {
                    cluster,
                    lints,
                    statuses: Vec::new(),
                    next: 0,
                }
            }
            JobStage::Lint {
                cluster,
                mut linter,
            } => {
                let options = lint_options(&self.options.flow_options);
                let (_, linter_total) = linter.progress(&cluster);
                let linter_budget = budget
                    .saturating_mul(linter_total)
                    .checked_div(self.lint_units())
                    .unwrap_or(usize::MAX);
                linter.step(&self.sources, &cluster, &options, linter_budget);
                let (done, total) = linter.progress(&cluster);
                let base = 2 * self.parse_units + self.small_units();
                let lint_done = done
                    .saturating_mul(self.lint_units())
                    .checked_div(total)
                    .unwrap_or(0);
                self.pre_done = self.pre_done.max(base + lint_done).min(self.pre_total());
                if linter.is_done() {
                    JobStage::Merge {
                        cluster,
                        lints: linter.finish(),
                        statuses: Vec::new(),
                        next: 0,
                    }
                } else {
                    JobStage::Lint { cluster, linter }
                }
            }
            JobStage::Merge {
                cluster,
                lints,
                mut statuses,
                mut next,
            } => {
                let policies = cluster.authorization_policies.len();
                let count = budget
                    .saturating_mul(policies)
                    .checked_div(self.small_units())
                    .unwrap_or(usize::MAX)
                    .max(1);
                let end = next.saturating_add(count).min(policies);
                let mesh = &self.options.flow_options.mesh;
                statuses
                    .extend((next..end).filter_map(|i| istio_status_diagnostic(&cluster, mesh, i)));
                self.advance(
                    end.saturating_sub(next)
                        .saturating_mul(self.small_units())
                        .checked_div(policies)
                        .unwrap_or(0),
                );
                next = end;
                if next < policies {
                    JobStage::Merge {
                        cluster,
                        lints,
                        statuses,
                        next,
                    }
                } else {
                    self.diagnostics = merge_diagnostics(
                        &cluster,
                        std::mem::take(&mut self.diagnostics),
                        statuses,
                        &lints,
                    );
                    self.lints = lints;
                    let merged = 2 * self.parse_units + self.lint_units() + 2 * self.small_units();
                    self.pre_done = self.pre_done.max(merged).min(self.pre_total());
                    if self.options.flows {
                        JobStage::TableSetup(cluster)
                    } else {
                        self.pre_done = self.pre_total();
                        JobStage::Done(cluster, table::FlowTable::default())
                    }
                }
            }
            JobStage::TableSetup(cluster) if self.ready_table.is_some() => {
                self.pre_done = self.pre_total();
                JobStage::Done(cluster, self.ready_table.take().unwrap_or_default())
            }
            JobStage::TableSetup(cluster) => {
                let cluster = std::sync::Arc::new(cluster);
                let job = table::TableJob::new(
                    cluster.clone(),
                    std::sync::Arc::new(self.options.flow_options.clone()),
                );
                self.pre_done = self.pre_total();
                JobStage::Table {
                    cluster,
                    job: Box::new(job),
                }
            }
            JobStage::Table { cluster, mut job } => {
                job.step(budget);
                if job.is_done() {
                    let table = job.finish();
                    let cluster =
                        std::sync::Arc::try_unwrap(cluster).unwrap_or_else(|rc| (*rc).clone());
                    JobStage::Done(cluster, table)
                } else {
                    JobStage::Table { cluster, job }
                }
            }
            done @ JobStage::Done(..) => done,
        };
        self.progress()
    }

    pub fn progress(&self) -> Progress {
        let pre = self.pre_total();
        match &self.stage {
            JobStage::Table { job, .. } => {
                let (done, total) = job.progress();
                Progress {
                    done: pre + done,
                    total: pre + total,
                }
            }
            JobStage::Done(_, table) => Progress {
                done: pre + table.len(),
                total: pre + table.len(),
            },
            _ => Progress {
                done: self.pre_done,
                total: if self.options.flows { pre * 2 } else { pre },
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
    (0..cluster.authorization_policies.len())
        .filter_map(|index| istio_status_diagnostic(cluster, mesh, index))
        .collect()
}

/// [`istio_status_diagnostics`] of AuthorizationPolicy `index` alone.
fn istio_status_diagnostic(
    cluster: &model::Cluster,
    mesh: &istio::MeshOptions,
    index: usize,
) -> Option<Diagnostic> {
    use istio::model::Target;
    let policy = cluster.authorization_policies.get(index)?;
    {
        let in_scope = |w: &model::Workload| {
            let ns = policy.namespace == w.namespace || policy.namespace == mesh.root_namespace;
            ns && match &policy.target {
                Target::Namespace => true,
                Target::Selector(labels) => labels.iter().all(|(k, v)| w.labels.get(k) == Some(v)),
                Target::TargetRefs(_) => false,
            }
        };
        // The scope test first: it is cheap, the data plane is not.
        let ambient = cluster.workloads.iter().any(|w| {
            in_scope(w) && istio::mesh::dataplane(cluster, w) == istio::mesh::DataPlane::Ambient
        });
        if !ambient {
            return None;
        }
        let conversion = istio::ztunnel::convert(policy, index, cluster, mesh);
        let status = conversion.status?;
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
        Some(
            Diagnostic::warning(
                code,
                format!(
                    "istiod status on AuthorizationPolicy {}/{} ({}): {}",
                    policy.namespace, policy.name, status.reason, status.message
                ),
                policy.span,
            )
            .with_help(help),
        )
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// The native parallel YAML pass gives the documents and diagnostics of the sequential one,
    /// in order (a 300 KB input, over the size where the split starts, with syntax errors and
    /// documents of different sizes spread through it).
    #[test]
    fn parallel_yaml_equals_sequential() {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 300 * 1024 {
            text.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\n  labels: {{app: a{}}}\n",
                i % 7,
                i % 13
            ));
            if i % 97 == 0 {
                text.push_str("  bad: [unclosed\n");
            }
            for k in 0..(i % 5) {
                text.push_str(&format!("  # padding {k}\n"));
            }
            text.push_str("---\n");
            i += 1;
        }
        let id = parse::source_id(0);
        let ranges = yaml::split_documents(&text);
        assert!(ranges.len() > 1000);
        let (mut docs, mut diags) = (Vec::new(), Vec::new());
        for &range in &ranges {
            yaml::parse_range(id, &text, range, &mut docs, &mut diags);
        }
        let (mut pdocs, mut pdiags) = (Vec::new(), Vec::new());
        parse_ranges_parallel(id, &text, &ranges, &mut pdocs, &mut pdiags);
        assert!(!diags.is_empty());
        assert_eq!(format!("{pdocs:?}"), format!("{docs:?}"));
        assert_eq!(pdiags, diags);
    }
}
