//! Lints: problems in a valid input that make the policies do something other than what their
//! author most likely meant, with stable codes `PP4001…` (like Istio's `IST0xxx` and Kiali's
//! `KIA`), a span, a one-line doc, and where possible a [`Fix`] that yields corrected YAML.
//!
//! What it is: [`lint`] reads the parsed [`Cluster`] and judges it through the public API of
//! `netpol` (wire legs at the CNI) and `istio` (leg planning, ztunnel conversion, enrolment),
//! and reads the sources again (`lints/edit.rs`) only to place fixes. Each lint is documented
//! in [`catalogue`] (ruff-style rustdoc, also rendered into `docs/lints.md` by
//! [`catalogue_markdown`]). What it is not: no verdicts of its own (a lint is backed by the
//! same evaluation the flows use), no prose outside this module tree, never a panic.
//!
//! Fixes: edits are non-overlapping and sorted; they insert rather than rewrite, keep the
//! document's indentation style, and re-parse without errors ([`apply_fix`]).

mod authz;
pub mod catalogue;
mod edit;
mod mesh_legs;
mod network;
mod references;

use std::collections::{BTreeSet, HashMap};

use crate::diagnostics::{Diagnostic, Severity};
use crate::istio::mesh::{self, DataPlane};
use crate::istio::MeshOptions;
use crate::model::{Cluster, Workload};
use crate::netpol::NpProfile;
use crate::profiles::CniProfile;
use crate::source::{Source, Span};

pub use catalogue::{LintInfo, CATALOGUE};

/// How to lint: the CNI profile (by name, as `flows::cni_profile` knows them) and the mesh
/// settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintOptions {
    /// CNI profile name or alias (`generic` by default).
    pub cni: String,
    pub mesh: MeshOptions,
}

impl Default for LintOptions {
    fn default() -> LintOptions {
        LintOptions {
            cni: "generic".to_string(),
            mesh: MeshOptions::default(),
        }
    }
}

impl LintOptions {
    /// Options with the named CNI profile; `None` for an unknown name.
    pub fn with_cni(name: &str) -> Option<LintOptions> {
        crate::flows::cni_profile(name).map(|_| LintOptions {
            cni: name.to_string(),
            ..LintOptions::default()
        })
    }
}

/// One lint finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lint {
    /// Stable code (`PP4001`…), see [`CATALOGUE`].
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub span: Span,
    /// One line: what this lint is about (the catalogue's summary).
    pub doc: &'static str,
    pub fix: Option<Fix>,
}

/// A correction: edits to one source that, applied together, fix the lint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    /// Sorted by position, non-overlapping, all in the lint's source.
    pub edits: Vec<TextEdit>,
}

/// Replace the text at `span` (empty span = insert) with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub replacement: String,
}

impl Lint {
    /// The lint as a diagnostic, so `analyze` callers can show it with the others. The fix
    /// title, when there is a fix, is appended to the help.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let help = match (&self.help, &self.fix) {
            (Some(h), Some(f)) => Some(format!("{h}; fix: {}", f.title)),
            (None, Some(f)) => Some(format!("fix: {}", f.title)),
            (h, None) => h.clone(),
        };
        Diagnostic {
            severity: self.severity,
            code: self.code,
            message: self.message.clone(),
            help,
            span: self.span,
        }
    }

    /// The catalogue entry of this lint's code.
    pub fn info(&self) -> Option<&'static LintInfo> {
        info(self.code)
    }
}

/// The catalogue entry of a code.
pub fn info(code: &str) -> Option<&'static LintInfo> {
    CATALOGUE.iter().find(|i| i.code == code)
}

/// Lint the parsed input. `sources` must be the sources `cluster` was parsed from (spans point
/// into them; fixes are computed from their text). Sorted by source, position, code.
pub fn lint(sources: &[Source], cluster: &Cluster, options: &LintOptions) -> Vec<Lint> {
    let mut linter = Linter::new(sources);
    while !linter.is_done() {
        linter.step(sources, cluster, options, usize::MAX);
    }
    linter.finish()
}

/// The rule families [`Linter`] runs, in order: the network families (the first, the mesh
/// legs, in steps of destinations and source classes), the AuthorizationPolicy rules (per
/// policy) and the reference checks (per policy).
const FAMILIES: usize = network::FAMILIES + 2;

/// Units of work per family in [`Linter::progress`].
const FAMILY_UNITS: usize = 1024;

/// An incremental [`lint`]: a [`Linter::step`] runs a bounded part of one rule family;
/// [`Linter::finish`] sorts. Every step must get the same `sources`, `cluster` and `options`;
/// the result then equals [`lint`].
pub struct Linter {
    /// Per source: the non-empty document roots of its YAML.
    roots: Vec<Vec<crate::yaml::Node>>,
    out: Vec<Lint>,
    family: usize,
    /// Next item of the current family.
    item: usize,
    /// The mesh legs family in progress.
    mesh_legs: Option<mesh_legs::MeshLegs>,
    /// Facts every family reads, computed by the first step.
    facts: Option<Facts>,
}

impl Linter {
    /// Parses the sources' YAML (for placing fixes).
    pub fn new(sources: &[Source]) -> Linter {
        let roots = sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (documents, _) =
                    crate::yaml::parse_documents(crate::parse::source_id(i), &s.text);
                documents.into_iter().filter_map(|d| d.root).collect()
            })
            .collect();
        Linter::with_roots(roots)
    }

    /// With the YAML already parsed: per source, the non-empty roots of
    /// [`crate::yaml::parse_documents`] of its text, in order.
    pub fn with_roots(roots: Vec<Vec<crate::yaml::Node>>) -> Linter {
        Linter {
            roots,
            out: Vec::new(),
            family: 0,
            item: 0,
            mesh_legs: None,
            facts: None,
        }
    }

    /// (units done, units in all); grows monotonically.
    pub fn progress(&self, cluster: &Cluster) -> (usize, usize) {
        let total = FAMILIES * FAMILY_UNITS;
        if self.is_done() {
            return (total, total);
        }
        let items = Self::items(self.family, cluster).max(1);
        let within = (self.item.min(items) * FAMILY_UNITS / items).min(FAMILY_UNITS - 1);
        (self.family * FAMILY_UNITS + within, total)
    }

    /// The items of a family (1 for a family that runs whole; the mesh legs: see
    /// [`mesh_legs::MeshLegs::units`]).
    fn items(family: usize, cluster: &Cluster) -> usize {
        match family {
            0 => mesh_legs::MeshLegs::units(cluster),
            f if f < network::FAMILIES => 1,
            f if f == network::FAMILIES => cluster.authorization_policies.len(),
            _ => cluster.network_policies.len() + cluster.authorization_policies.len(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.family >= FAMILIES
    }

    /// Run a part of the current rule family: about `budget` units of [`Linter::progress`]
    /// (at least one item: a policy, a destination or source of the mesh legs, or a whole small
    /// family; the very first step computes the facts every family shares).
    pub fn step(
        &mut self,
        sources: &[Source],
        cluster: &Cluster,
        options: &LintOptions,
        budget: usize,
    ) {
        if self.is_done() {
            return;
        }
        let family = self.family;
        let items = Self::items(family, cluster);
        let count = budget
            .saturating_mul(items)
            .checked_div(FAMILY_UNITS)
            .unwrap_or(0)
            .max(1);
        // The first step computes the shared facts only (a step of its own, like a family's
        // set-up).
        let Some(facts) = &self.facts else {
            self.facts = Some(Facts::new(cluster, options));
            return;
        };
        let mut cx = Cx::new(sources, &self.roots, cluster, options, facts);
        cx.out = std::mem::take(&mut self.out);
        let finished = match family {
            0 => {
                if !cx.np.enforces_network_policy {
                    true
                } else if let Some(legs) = &mut self.mesh_legs {
                    legs.step(&mut cx, count);
                    self.item = legs.position();
                    legs.is_done()
                } else {
                    let legs = mesh_legs::MeshLegs::new(&cx);
                    self.item = legs.position();
                    self.mesh_legs = Some(legs);
                    false
                }
            }
            f if f < network::FAMILIES => {
                network::check_family(&mut cx, f);
                true
            }
            f => {
                let end = self.item.saturating_add(count).min(items);
                while self.item < end {
                    if f == network::FAMILIES {
                        authz::check_item(&mut cx, self.item);
                    } else {
                        references::check_item(&mut cx, self.item);
                    }
                    self.item += 1;
                }
                self.item >= items
            }
        };
        self.out = cx.out;
        if finished {
            self.family += 1;
            self.item = 0;
            self.mesh_legs = None;
        }
    }

    /// The lints, sorted by source, position, code (call when done).
    pub fn finish(self) -> Vec<Lint> {
        let mut out = self.out;
        out.sort_by(|a, b| {
            (a.span.source, a.span.start, a.span.end, a.code).cmp(&(
                b.span.source,
                b.span.start,
                b.span.end,
                b.code,
            ))
        });
        out.dedup_by(|a, b| a.code == b.code && a.span == b.span && a.message == b.message);
        out
    }
}

/// Apply a fix's edits to `text` (the text of the source the fix is for). Edits that overlap an
/// earlier one, fall outside the text or off a char boundary are skipped; never panics.
pub fn apply_fix(text: &str, fix: &Fix) -> String {
    let mut edits: Vec<&TextEdit> = fix.edits.iter().collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0usize;
    for e in edits {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start < at || end < start || end > text.len() {
            continue;
        }
        let (Some(keep), true) = (text.get(at..start), text.is_char_boundary(end)) else {
            continue;
        };
        out.push_str(keep);
        out.push_str(&e.replacement);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// `docs/lints.md`: the catalogue rendered from the rules' rustdoc.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Lints\n\n<!-- Generated from crates/engine/src/lints/catalogue.rs by `engine::lints::catalogue_markdown`; \
         run `UPDATE_EXPECT=1 cargo test -p engine --test lints` to refresh. -->\n\n\
         Every lint has a stable code, a severity, a span and, where possible, a fix that yields corrected YAML.\n\n\
         | Code | Name | Severity | Summary |\n|---|---|---|---|\n",
    );
    for i in CATALOGUE {
        out.push_str(&format!(
            "| [{}](#{}) | `{}` | {} | {} |\n",
            i.code,
            i.code.to_ascii_lowercase(),
            i.name,
            i.severity.as_str(),
            i.summary.replace('|', "\\|")
        ));
    }
    for i in CATALOGUE {
        out.push_str(&format!(
            "\n## {}\n\n`{}` · {} · {}\n\n",
            i.code,
            i.name,
            i.severity.as_str(),
            i.summary
        ));
        for line in i.docs.lines() {
            let line = line.strip_prefix(' ').unwrap_or(line);
            // Rule sections become level-3 headings under the code.
            if let Some(rest) = line.strip_prefix("## ") {
                out.push_str("### ");
                out.push_str(rest);
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Shared context and facts
// ---------------------------------------------------------------------------------------------

/// Facts about the input that several checks read for every policy, computed once per lint
/// run (by [`Linter`]'s first step) instead of once per policy or per workload.
pub(crate) struct Facts {
    /// The data plane of each workload, by position in `cluster.workloads` (SEMANTICS.md §2.1,
    /// §3 rule 1; `mesh::dataplane`).
    planes: Vec<DataPlane>,
    /// Some workload besides the waypoints' own pods.
    has_workloads: bool,
    /// Namespaces the input knows (declared or used by a workload), plus the well-known ones
    /// and the mesh root namespace.
    known_namespaces: BTreeSet<String>,
    /// Positions of the workloads of each namespace, in order.
    by_namespace: HashMap<String, Vec<usize>>,
    /// The labels of every known namespace (an undeclared one has just
    /// `kubernetes.io/metadata.name`, SEMANTICS.md §1.3 rule 19).
    namespace_labels: HashMap<String, crate::selector::Labels>,
    /// (namespace, service account) of every workload.
    accounts: BTreeSet<(String, String)>,
    /// NetworkPolicy indices per namespace, in order.
    policies_by_namespace: HashMap<String, Vec<usize>>,
    /// AdminNetworkPolicy indices in evaluation order (SEMANTICS.md §1.6 rule 27).
    admin_order: Vec<usize>,
}

impl Facts {
    fn new(cluster: &Cluster, options: &LintOptions) -> Facts {
        let planes = cluster
            .workloads
            .iter()
            .map(|w| mesh::dataplane(cluster, w))
            .collect();
        let has_workloads = cluster
            .workloads
            .iter()
            .any(|w| !cluster.waypoints.iter().any(|wp| wp.workload == Some(w.id)));
        let mut known_namespaces: BTreeSet<String> =
            cluster.namespaces.iter().map(|n| n.name.clone()).collect();
        let mut by_namespace: HashMap<String, Vec<usize>> = HashMap::new();
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(cluster.workloads.len());
        for (i, w) in cluster.workloads.iter().enumerate() {
            match by_namespace.get_mut(&w.namespace) {
                Some(positions) => positions.push(i),
                None => {
                    by_namespace.insert(w.namespace.clone(), vec![i]);
                    known_namespaces.insert(w.namespace.clone());
                }
            }
            pairs.push((&w.namespace, &w.service_account));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let accounts: BTreeSet<(String, String)> = pairs
            .into_iter()
            .map(|(ns, sa)| (ns.to_string(), sa.to_string()))
            .collect();
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            known_namespaces.insert(ns.to_string());
        }
        known_namespaces.insert(options.mesh.root_namespace.clone());
        let namespace_labels = known_namespaces
            .iter()
            .map(|ns| (ns.clone(), mesh::namespace_labels(cluster, ns).into_owned()))
            .collect();
        let mut policies_by_namespace: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in cluster.network_policies.iter().enumerate() {
            policies_by_namespace
                .entry(p.namespace.clone())
                .or_default()
                .push(i);
        }
        Facts {
            planes,
            has_workloads,
            known_namespaces,
            by_namespace,
            namespace_labels,
            accounts,
            policies_by_namespace,
            admin_order: crate::anp::admin_order(&cluster.admin_network_policies),
        }
    }
}

/// What every check needs: the input, the profile, the documents for placing fixes, the output.
pub(crate) struct Cx<'a> {
    pub cluster: &'a Cluster,
    pub options: &'a LintOptions,
    pub np: NpProfile,
    pub cni: Option<CniProfile>,
    docs: Vec<edit::Doc<'a>>,
    facts: &'a Facts,
    pub out: Vec<Lint>,
}

impl<'a> Cx<'a> {
    fn new(
        sources: &'a [Source],
        roots: &'a [Vec<crate::yaml::Node>],
        cluster: &'a Cluster,
        options: &'a LintOptions,
        facts: &'a Facts,
    ) -> Cx<'a> {
        let docs = sources
            .iter()
            .zip(roots)
            .enumerate()
            .map(|(i, (s, roots))| {
                edit::Doc::with_roots(crate::parse::source_id(i), &s.text, roots)
            })
            .collect();
        Cx {
            cluster,
            options,
            np: crate::flows::cni_profile(&options.cni).unwrap_or_default(),
            cni: crate::profiles::profile(&options.cni),
            docs,
            facts,
            out: Vec::new(),
        }
    }

    pub fn mesh(&self) -> &'a MeshOptions {
        &self.options.mesh
    }

    /// The document set of the source a span points into.
    pub fn doc(&self, span: Span) -> Option<&edit::Doc<'a>> {
        self.docs.get(span.source.0 as usize)
    }

    /// The YAML node a model span points at.
    pub fn node(&self, span: Span) -> Option<&crate::yaml::Node> {
        self.doc(span)?.find(span)
    }

    pub fn push(
        &mut self,
        info: LintInfo,
        span: Span,
        message: String,
        help: Option<String>,
        fix: Option<Fix>,
    ) {
        self.push_with(info, info.severity, span, message, help, fix);
    }

    pub fn push_with(
        &mut self,
        info: LintInfo,
        severity: Severity,
        span: Span,
        message: String,
        help: Option<String>,
        fix: Option<Fix>,
    ) {
        // A fix whose edits leave the lint's source is dropped rather than shown wrong.
        let fix = fix.filter(|f| {
            !f.edits.is_empty() && f.edits.iter().all(|e| e.span.source == span.source)
        });
        self.out.push(Lint {
            code: info.code,
            severity,
            message,
            help,
            span,
            doc: info.summary,
            fix,
        });
    }

    /// The position of `w` in `cluster.workloads`, when `w` is that element.
    pub fn position(&self, w: &Workload) -> Option<usize> {
        let i = w.id.0 as usize;
        self.cluster
            .workloads
            .get(i)
            .is_some_and(|x| std::ptr::eq(x, w))
            .then_some(i)
    }

    /// The data plane of a workload (SEMANTICS.md §2.1, §3 rule 1), from [`Facts`].
    pub fn dataplane(&self, w: &Workload) -> DataPlane {
        match self.position(w).and_then(|i| self.facts.planes.get(i)) {
            Some(plane) => plane.clone(),
            None => mesh::dataplane(self.cluster, w),
        }
    }

    /// The data plane of the workload at a position (`None` past the end).
    pub fn plane_at(&self, position: usize) -> Option<&'a DataPlane> {
        self.facts.planes.get(position)
    }

    pub fn is_ambient(&self, w: &Workload) -> bool {
        match self.position(w).and_then(|i| self.facts.planes.get(i)) {
            Some(plane) => *plane == DataPlane::Ambient,
            None => mesh::dataplane(self.cluster, w) == DataPlane::Ambient,
        }
    }

    /// Does the input have any workload (besides the pods the engine adds for waypoints)?
    pub fn has_workloads(&self) -> bool {
        self.facts.has_workloads
    }

    /// Namespaces the input knows, plus the well-known ones (see [`Facts`]).
    pub fn known_namespaces(&self) -> &'a BTreeSet<String> {
        &self.facts.known_namespaces
    }

    /// Namespaces with workloads.
    pub fn workload_namespaces(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.facts.by_namespace.keys().map(String::as_str)
    }

    /// The labels of a namespace (as `mesh::namespace_labels`).
    pub fn namespace_labels(
        &self,
        namespace: &str,
    ) -> std::borrow::Cow<'a, crate::selector::Labels> {
        match self.facts.namespace_labels.get(namespace) {
            Some(labels) => std::borrow::Cow::Borrowed(labels),
            None => mesh::namespace_labels(self.cluster, namespace),
        }
    }

    /// The workloads of a namespace, in input order.
    pub fn workloads_in(&self, namespace: &str) -> impl Iterator<Item = &'a Workload> + 'a {
        let cluster = self.cluster;
        self.facts
            .by_namespace
            .get(namespace)
            .map_or(&[][..], |v| v.as_slice())
            .iter()
            .filter_map(move |&i| cluster.workloads.get(i))
    }

    /// (namespace, service account) of every workload.
    pub fn accounts(&self) -> &'a BTreeSet<(String, String)> {
        &self.facts.accounts
    }

    /// The NetworkPolicies isolating `w` in `direction`, in order: those of its namespace that
    /// select it and have the policy type (SEMANTICS.md §1.1 rules 1, 3); none for a
    /// hostNetwork pod treated as its node (§1.3 rule 18). As `netpol::is_isolated`.
    pub fn isolating(&self, w: &Workload, direction: crate::verdict::Direction) -> Vec<usize> {
        if w.host_network && self.np.host_network_is_node {
            return Vec::new();
        }
        let policies = &self.cluster.network_policies;
        self.facts
            .policies_by_namespace
            .get(&w.namespace)
            .map_or(&[][..], |v| v.as_slice())
            .iter()
            .copied()
            .filter(|&i| {
                policies.get(i).is_some_and(|p| {
                    (match direction {
                        crate::verdict::Direction::Ingress => p.policy_types.ingress,
                        crate::verdict::Direction::Egress => p.policy_types.egress,
                    }) && p.pod_selector.matches(&w.labels)
                })
            })
            .collect()
    }

    /// The AdminNetworkPolicies with rules in `direction` whose subject selects the pod `w`,
    /// in evaluation order (SEMANTICS.md §1.6 rule 27); none for a hostNetwork pod treated as
    /// its node.
    pub fn admin_subjects(&self, w: &Workload, direction: crate::verdict::Direction) -> Vec<usize> {
        if w.host_network && self.np.host_network_is_node {
            return Vec::new();
        }
        let anps = &self.cluster.admin_network_policies;
        if anps.is_empty() {
            return Vec::new();
        }
        let ns = self.namespace_labels(&w.namespace);
        self.facts
            .admin_order
            .iter()
            .copied()
            .filter(|&a| {
                anps.get(a).is_some_and(|p| {
                    !p.rules(direction).is_empty() && p.subject.selects(&ns, &w.labels)
                })
            })
            .collect()
    }
}

/// A fix of one edit.
pub(crate) fn fix(title: impl Into<String>, edits: Vec<TextEdit>) -> Option<Fix> {
    let mut edits = edits;
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    // Non-overlapping, or no fix at all.
    let ok = edits
        .windows(2)
        .all(|w| w[0].span.end <= w[1].span.start && w[0].span.source == w[1].span.source);
    (ok && !edits.is_empty()).then(|| Fix {
        title: title.into(),
        edits,
    })
}

/// `a`, `a` and `b`, `a`, `b` and 3 more.
pub(crate) fn list<I: IntoIterator<Item = String>>(items: I) -> String {
    let items: Vec<String> = items
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 | 3 => {
            let (last, rest) = items.split_last().unwrap_or((&items[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        n => format!("{} and {} more", items[..2].join(", "), n - 2),
    }
}

/// [`list`] of the names in backticks, without formatting every name first (a finding can name
/// hundreds of workloads and shows two): sorted and unique as the quoted strings are. Fastest
/// when `names` come in that order already.
pub(crate) fn quoted_list<'s, I: IntoIterator<Item = &'s str>>(names: I) -> String {
    let mut names: Vec<&str> = names.into_iter().collect();
    // `a` < `b` as quoted strings ⇔ a + "`" < b + "`" (same leading backtick).
    names.sort_unstable_by(|a, b| a.bytes().chain(Some(b'`')).cmp(b.bytes().chain(Some(b'`'))));
    names.dedup();
    match names.as_slice() {
        [first, second, _, _, ..] => {
            format!("`{first}`, `{second}` and {} more", names.len() - 2)
        }
        short => list(short.iter().map(|s| format!("`{s}`"))),
    }
}

/// Does a NetworkPolicy peer select `w` as a pod (SEMANTICS.md §1.3 rules 13–15)? `ipBlock`
/// peers select no pod here.
pub(crate) fn peer_selects(
    cluster: &Cluster,
    policy: &crate::netpol::NetworkPolicy,
    peer: &crate::netpol::PeerKind,
    w: &Workload,
) -> bool {
    match peer {
        crate::netpol::PeerKind::Pods {
            namespace_selector,
            pod_selector,
        } => {
            let ns_ok = match namespace_selector {
                None => w.namespace == policy.namespace,
                Some(sel) => sel.matches(&mesh::namespace_labels(cluster, &w.namespace)),
            };
            ns_ok && pod_selector.as_ref().is_none_or(|s| s.matches(&w.labels))
        }
        crate::netpol::PeerKind::IpBlock { .. } => false,
    }
}

/// `ns/name` in backticks.
pub(crate) fn qualified(namespace: &str, name: &str) -> String {
    format!("`{namespace}/{name}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    #[test]
    fn apply_fix_skips_bad_edits() {
        let e = |s: usize, t: usize, r: &str| TextEdit {
            span: Span::new(SourceId(0), s, t),
            replacement: r.to_string(),
        };
        let f = Fix {
            title: String::new(),
            edits: vec![e(4, 4, "X"), e(0, 2, "ab"), e(1, 3, "no"), e(9, 99, "no")],
        };
        assert_eq!(apply_fix("hello", &f), "abllXo");
    }

    #[test]
    fn catalogue_codes_are_unique_and_documented() {
        let codes: BTreeSet<_> = CATALOGUE.iter().map(|i| i.code).collect();
        assert_eq!(codes.len(), CATALOGUE.len());
        for i in CATALOGUE {
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix",
            ] {
                assert!(i.docs.contains(section), "{} lacks {section}", i.code);
            }
            assert!(!i.summary.contains('\n'));
        }
    }

    #[test]
    fn list_is_short() {
        assert_eq!(list(vec!["b".to_string(), "a".to_string()]), "a and b");
        assert_eq!(list((0..5).map(|i| i.to_string())), "0, 1 and 3 more");
    }

    #[test]
    fn quoted_list_is_list_of_quoted_names() {
        // Names whose order changes when quoted (`-` and `.` sort before the backtick, letters
        // after it), duplicates, and every length up to six.
        let pool = [
            "a/b", "a/b-c", "a/b.c", "a/bc", "a/b", "ns/x", "ns/x0", "n/x",
        ];
        for mask in 0u32..(1 << pool.len()) {
            let names: Vec<&str> = (0..pool.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| pool[i])
                .collect();
            let want = list(names.iter().map(|s| format!("`{s}`")));
            assert_eq!(quoted_list(names.iter().copied()), want, "{names:?}");
        }
    }
}
