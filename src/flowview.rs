//! Presentation helpers over the engine's judged flows: stable keys (so a selection survives
//! re-analysis), matrix rows and columns, topology node keys and aggregated edges, and the
//! matrix exports (CSV, JSON, Markdown). Pure; all names and sentences come from
//! `engine::explain`, all verdicts from `engine::flows`. No policy semantics here.

use std::collections::BTreeMap;

use engine::explain;
use engine::flows::{Flow, FlowKind, FlowSource, FlowTarget};
use engine::model::Cluster;
use engine::verdict::{Decision, Layer};

/// A key for a flow that stays the same when the text is edited elsewhere.
pub fn flow_key(cluster: &Cluster, flow: &Flow) -> String {
    format!(
        "{}|{}",
        flow.kind.as_str(),
        explain::flow_title(cluster, flow)
    )
}

/// The matrix row of a flow: its source by name.
pub fn row_key(cluster: &Cluster, flow: &Flow) -> String {
    explain::source_name(cluster, &flow.src)
}

/// The matrix column of a flow: `destination:port/PROTO`.
pub fn column_key(cluster: &Cluster, flow: &Flow) -> String {
    format!(
        "{}:{}/{}",
        explain::target_name(cluster, &flow.dst),
        flow.port,
        flow.protocol.as_str()
    )
}

/// The namespaces a flow touches (for the namespace filter).
pub fn flow_namespaces<'c>(cluster: &'c Cluster, flow: &Flow) -> Vec<&'c str> {
    let mut res = Vec::new();
    if let FlowSource::Workload(id) = flow.src {
        if let Some(w) = cluster.workloads.iter().find(|w| w.id == id) {
            res.push(w.namespace.as_str());
        }
    }
    let dst = match flow.dst {
        FlowTarget::Workload(id) | FlowTarget::Service { endpoint: id, .. } => Some(id),
        FlowTarget::External(_) => None,
    };
    if let Some(w) = dst.and_then(|id| cluster.workloads.iter().find(|w| w.id == id)) {
        res.push(w.namespace.as_str());
    }
    res
}

/// Topology key of a workload card.
pub fn workload_node_key(display_name: &str) -> String {
    format!("w:{display_name}")
}

/// Topology key of a node card (node + kubelet).
pub fn node_node_key(name: &str) -> String {
    format!("node:{name}")
}

/// Topology key of an external range card.
pub fn external_node_key(label: &str) -> String {
    format!("ext:{label}")
}

/// Topology card a flow starts from.
pub fn source_node(cluster: &Cluster, flow: &Flow) -> String {
    match flow.src {
        FlowSource::Workload(id) => workload_node_key(&explain::workload_name(cluster, id)),
        FlowSource::Kubelet(node) | FlowSource::Node(node) => {
            node_node_key(&explain::node_name(cluster, node))
        }
        FlowSource::External(_) => external_node_key(&explain::source_name(cluster, &flow.src)),
    }
}

/// Topology card a flow ends at (the endpoint pod for Service traffic).
pub fn target_node(cluster: &Cluster, flow: &Flow) -> String {
    match flow.dst {
        FlowTarget::Workload(id) | FlowTarget::Service { endpoint: id, .. } => {
            workload_node_key(&explain::workload_name(cluster, id))
        }
        FlowTarget::External(_) => external_node_key(&explain::target_name(cluster, &flow.dst)),
    }
}

/// One topology edge: all flows between two cards, summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopoEdge {
    pub from: String,
    pub to: String,
    /// `allow`, `deny`, `unknown`, or `mixed` when the flows differ.
    pub verdict: &'static str,
    /// The layer that blocked most of the denied flows.
    pub blocked_at: Option<Layer>,
    /// Keys of the flows drawn by this edge.
    pub flows: Vec<String>,
    /// Hover text: one line per flow.
    pub title: String,
}

/// Aggregates flows into one edge per (source card, target card), in a stable order.
pub fn topology_edges(cluster: &Cluster, flows: &[Flow]) -> Vec<TopoEdge> {
    let mut groups: BTreeMap<(String, String), Vec<&Flow>> = BTreeMap::new();
    for flow in flows {
        groups
            .entry((source_node(cluster, flow), target_node(cluster, flow)))
            .or_default()
            .push(flow);
    }
    groups
        .into_iter()
        .map(|((from, to), flows)| {
            let all = |d: Decision| flows.iter().all(|f| f.verdict == d);
            let verdict = if all(Decision::Allow) {
                "allow"
            } else if all(Decision::Deny) {
                "deny"
            } else if all(Decision::Unknown) {
                "unknown"
            } else {
                "mixed"
            };
            let mut by_layer: BTreeMap<Layer, usize> = BTreeMap::new();
            for f in flows.iter().filter(|f| f.verdict != Decision::Allow) {
                if let Some(l) = f.decided_by {
                    *by_layer.entry(l).or_default() += 1;
                }
            }
            let blocked_at = by_layer
                .iter()
                .max_by_key(|(l, n)| (**n, std::cmp::Reverse(**l)))
                .map(|(l, _)| *l);
            let title = flows
                .iter()
                .map(|f| {
                    format!(
                        "{}  {}",
                        explain::flow_title(cluster, f),
                        explain::verdict_text(f.verdict, f.decided_by)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            TopoEdge {
                from,
                to,
                verdict,
                blocked_at,
                flows: flows.iter().map(|f| flow_key(cluster, f)).collect(),
                title,
            }
        })
        .collect()
}

/// Pseudo-namespace of node and kubelet ends.
pub const NODES_GROUP: &str = "(nodes)";
/// Pseudo-namespace of addresses outside the cluster.
pub const EXTERNAL_GROUP: &str = "(external)";

/// One flow of the table, as indices (cheap at 100,000s of flows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexRow {
    /// Index into [`FlowIndex::groups`].
    pub src_group: u32,
    pub dst_group: u32,
    /// Index into [`FlowIndex::names`].
    pub src_name: u32,
    pub dst_name: u32,
}

/// Verdict counts of a set of flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub allow: usize,
    pub deny: usize,
    pub unknown: usize,
}

impl Counts {
    pub fn add(&mut self, d: Decision) {
        match d {
            Decision::Allow => self.allow += 1,
            Decision::Deny => self.deny += 1,
            Decision::Unknown => self.unknown += 1,
        }
    }
    pub fn total(&self) -> usize {
        self.allow + self.deny + self.unknown
    }
    /// `allow`, `deny`, `unknown` or `mixed`.
    pub fn verdict(&self) -> &'static str {
        match (self.allow, self.deny, self.unknown) {
            (_, 0, 0) => "allow",
            (0, _, 0) => "deny",
            (0, 0, _) => "unknown",
            _ => "mixed",
        }
    }
}

/// The flow table by namespace: every row's source and destination namespace (or
/// [`NODES_GROUP`] / [`EXTERNAL_GROUP`]) and end names, computed once per analysis, so the
/// matrix can aggregate, search and draw only visible rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowIndex {
    /// Namespaces in cluster order, then the pseudo groups that occur.
    pub groups: Vec<String>,
    pub names: Vec<String>,
    /// Lower-case names, for the search box.
    pub lower: Vec<String>,
    /// One per table row, same order.
    pub rows: Vec<IndexRow>,
}

impl FlowIndex {
    pub fn new(cluster: &Cluster, table: &engine::table::FlowTable) -> FlowIndex {
        use std::collections::HashMap;
        let mut groups: Vec<String> = cluster.namespaces.iter().map(|n| n.name.clone()).collect();
        let mut group_of: HashMap<String, u32> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect();
        let mut group = |name: &str| -> u32 {
            if let Some(i) = group_of.get(name) {
                return *i;
            }
            groups.push(name.to_string());
            group_of.insert(name.to_string(), (groups.len() - 1) as u32);
            (groups.len() - 1) as u32
        };
        let ns_of: HashMap<engine::model::WorkloadId, u32> = cluster
            .workloads
            .iter()
            .map(|w| (w.id, group(&w.namespace)))
            .collect();
        let mut names: Vec<String> = Vec::new();
        let mut src_names: HashMap<FlowSource, (u32, u32)> = HashMap::new();
        let mut dst_names: HashMap<FlowTarget, (u32, u32)> = HashMap::new();
        let mut rows = Vec::with_capacity(table.len());
        for (_, row) in table.iter() {
            let src = table.source(row);
            let dst = table.target(row);
            let (src_group, src_name) = *src_names.entry(src).or_insert_with(|| {
                let g = match src {
                    FlowSource::Workload(id) => ns_of.get(&id).copied(),
                    FlowSource::Kubelet(_) | FlowSource::Node(_) => None,
                    FlowSource::External(_) => None,
                };
                let g = g.unwrap_or_else(|| match src {
                    FlowSource::External(_) => group(EXTERNAL_GROUP),
                    _ => group(NODES_GROUP),
                });
                names.push(explain::source_name(cluster, &src));
                (g, (names.len() - 1) as u32)
            });
            let (dst_group, dst_name) = *dst_names.entry(dst).or_insert_with(|| {
                let g = match dst {
                    FlowTarget::Workload(id) | FlowTarget::Service { endpoint: id, .. } => {
                        ns_of.get(&id).copied()
                    }
                    FlowTarget::External(_) => None,
                };
                let g = g.unwrap_or_else(|| group(EXTERNAL_GROUP));
                names.push(explain::target_name(cluster, &dst));
                (g, (names.len() - 1) as u32)
            });
            rows.push(IndexRow {
                src_group,
                dst_group,
                src_name,
                dst_name,
            });
        }
        let lower = names.iter().map(|n| n.to_lowercase()).collect();
        FlowIndex {
            groups,
            names,
            lower,
            rows,
        }
    }

    /// Verdict counts per (source group, destination group).
    pub fn aggregate(&self, table: &engine::table::FlowTable) -> BTreeMap<(u32, u32), Counts> {
        let mut res: BTreeMap<(u32, u32), Counts> = BTreeMap::new();
        for (r, (_, row)) in self.rows.iter().zip(table.iter()) {
            res.entry((r.src_group, r.dst_group))
                .or_default()
                .add(row.verdict);
        }
        res
    }

    /// Row ids in a (source group, destination group) cell (all when `None`) whose source or
    /// destination name contains `search` (case-insensitive; empty matches all).
    pub fn select(&self, cell: Option<(u32, u32)>, search: &str) -> Vec<usize> {
        let needle = search.trim().to_lowercase();
        let mut hits: Vec<bool> = Vec::new();
        if !needle.is_empty() {
            hits = self.lower.iter().map(|n| n.contains(&needle)).collect();
        }
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| cell.is_none_or(|(s, d)| r.src_group == s && r.dst_group == d))
            .filter(|(_, r)| {
                needle.is_empty()
                    || hits.get(r.src_name as usize) == Some(&true)
                    || hits.get(r.dst_name as usize) == Some(&true)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The table row whose [`flow_key`] is `key`, comparing names first (no formatting for
    /// rows whose kind, source or destination cannot match). `None` when the index does not
    /// belong to `table`.
    pub fn find_key(
        &self,
        cluster: &Cluster,
        table: &engine::table::FlowTable,
        key: &str,
    ) -> Option<usize> {
        if self.rows.len() != table.len() {
            return None;
        }
        let (kind, title) = key.split_once('|')?;
        self.rows
            .iter()
            .zip(table.iter())
            .filter(|(r, (_, row))| {
                row.kind.as_str() == kind
                    && title
                        .strip_prefix(self.name(r.src_name))
                        .and_then(|rest| rest.strip_prefix(" → "))
                        .is_some_and(|rest| rest.starts_with(self.name(r.dst_name)))
            })
            .map(|(_, (id, _))| id)
            .find(|&id| {
                table
                    .shallow(id)
                    .is_some_and(|f| flow_key(cluster, &f) == key)
            })
    }

    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }
}

/// Topology edges between namespace cards (`ns-card:<name>`), one per pair of distinct
/// namespaces with at least one allowed flow (a picture of 20 namespaces with every denied
/// pair drawn is unreadable; the matrix has the counts), for pictures with too many workloads
/// to draw one by one. Node and external ends are left out. An edge selects its first flow.
pub fn namespace_edges(
    cluster: &Cluster,
    table: &engine::table::FlowTable,
    index: &FlowIndex,
) -> Vec<TopoEdge> {
    let mut groups: BTreeMap<(u32, u32), (Counts, usize)> = BTreeMap::new();
    let real = cluster.namespaces.len() as u32;
    for (r, (id, row)) in index.rows.iter().zip(table.iter()) {
        if r.src_group >= real || r.dst_group >= real {
            continue;
        }
        groups
            .entry((r.src_group, r.dst_group))
            .or_insert_with(|| (Counts::default(), id))
            .0
            .add(row.verdict);
    }
    groups
        .into_iter()
        .filter(|((s, d), (counts, _))| s != d && counts.allow > 0)
        .map(|((s, d), (counts, first))| {
            let from = index.groups.get(s as usize).cloned().unwrap_or_default();
            let to = index.groups.get(d as usize).cloned().unwrap_or_default();
            let key = table
                .shallow(first)
                .map(|f| flow_key(cluster, &f))
                .unwrap_or_default();
            TopoEdge {
                title: format!(
                    "{from} → {to}: {} flows, {} allow, {} deny, {} unknown",
                    counts.total(),
                    counts.allow,
                    counts.deny,
                    counts.unknown
                ),
                from: namespace_node_key(&from),
                to: namespace_node_key(&to),
                verdict: counts.verdict(),
                // Counts are in the title and the matrix; no per-layer label on summaries.
                blocked_at: None,
                flows: vec![key],
            }
        })
        .collect()
}

/// Topology key of an aggregated namespace card.
pub fn namespace_node_key(namespace: &str) -> String {
    format!("ns-card:{namespace}")
}

/// More workloads than this and the topology draws one card per namespace.
pub const TOPOLOGY_AGGREGATE: usize = 40;

/// Every flow kind, for the filter (the engine's list, UDP included).
pub const KINDS: [FlowKind; 6] = FlowKind::ALL;

/// One export row: the columns of CSV/JSON/Markdown.
struct Row {
    kind: &'static str,
    src: String,
    dst: String,
    port: String,
    layers: Vec<String>,
    verdict: &'static str,
    decided_by: String,
}

/// The export rows of a table: names from `explain`, per-layer decisions from each row's
/// [`engine::table::Layers`] (empty when the flow did not meet the layer).
fn rows(cluster: &Cluster, table: &engine::table::FlowTable) -> Vec<Row> {
    use engine::table::LayerDecision;
    table
        .iter()
        .map(|(_, r)| Row {
            kind: r.kind.as_str(),
            src: explain::source_name(cluster, &table.source(r)),
            dst: explain::target_name(cluster, &table.target(r)),
            port: format!("{}/{}", r.port, r.protocol.as_str()),
            layers: r
                .layers
                .iter()
                .map(|(_, d)| match d {
                    LayerDecision::NotApplicable => String::new(),
                    d => d.as_str().to_string(),
                })
                .collect(),
            verdict: r.verdict.as_str(),
            decided_by: r
                .decided_by
                .map_or(String::new(), |l| l.as_str().to_string()),
        })
        .collect()
}

fn header() -> Vec<&'static str> {
    let mut h = vec!["kind", "source", "destination", "port"];
    h.extend(Layer::ALL.iter().map(|l| l.as_str()));
    h.extend(["verdict", "decided_by"]);
    h
}

fn cells(r: &Row) -> Vec<&str> {
    let mut c = vec![r.kind, r.src.as_str(), r.dst.as_str(), r.port.as_str()];
    c.extend(r.layers.iter().map(String::as_str));
    c.extend([r.verdict, r.decided_by.as_str()]);
    c
}

/// RFC 4180 CSV, one flow per line.
pub fn export_csv(cluster: &Cluster, table: &engine::table::FlowTable) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = header().join(",");
    out.push_str("\r\n");
    for r in rows(cluster, table) {
        let line: Vec<String> = cells(&r).into_iter().map(quote).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A JSON array of objects with the CSV's columns (empty layers omitted).
pub fn export_json(cluster: &Cluster, table: &engine::table::FlowTable) -> String {
    let h = header();
    let mut out = String::from("[\n");
    let rows = rows(cluster, table);
    for (i, r) in rows.iter().enumerate() {
        let fields: Vec<String> = h
            .iter()
            .zip(cells(r))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    engine::connlist::json_string(k),
                    engine::connlist::json_string(v)
                )
            })
            .collect();
        out.push_str("  {");
        out.push_str(&fields.join(", "));
        out.push('}');
        if i + 1 < rows.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push(']');
    out.push('\n');
    out
}

/// A Markdown table (pipes and backslashes escaped).
pub fn export_markdown(cluster: &Cluster, table: &engine::table::FlowTable) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('|', "\\|");
    let h = header();
    let mut out = format!("| {} |\n", h.join(" | "));
    out.push_str(&format!("|{}\n", " --- |".repeat(h.len())));
    for r in rows(cluster, table) {
        let c: Vec<String> = cells(&r).into_iter().map(esc).collect();
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis() -> engine::Analysis {
        engine::analyze(&[engine::Source::new(
            "t",
            crate::scenarios::default_scenario().yaml,
        )])
    }

    #[test]
    fn flow_index_aggregates_by_namespace_and_searches() {
        let a = analysis();
        let index = FlowIndex::new(&a.cluster, &a.table);
        assert_eq!(index.rows.len(), a.table.len());
        let agg = index.aggregate(&a.table);
        let total: usize = agg.values().map(Counts::total).sum();
        assert_eq!(total, a.table.len());
        assert!(index.groups.iter().any(|g| g == "np-test-1"));
        let all = index.select(None, "");
        assert_eq!(all.len(), a.table.len());
        let some = index.select(None, "NP-TEST-2");
        assert!(!some.is_empty() && some.len() < all.len());
        let (cell, counts) = agg.iter().next().map(|(k, v)| (*k, *v)).unwrap_or_default();
        assert_eq!(index.select(Some(cell), "").len(), counts.total());
        for id in [0, a.table.len() - 1] {
            let key = a
                .table
                .shallow(id)
                .map(|f| flow_key(&a.cluster, &f))
                .unwrap_or_default();
            assert_eq!(index.find_key(&a.cluster, &a.table, &key), Some(id));
        }
        assert_eq!(index.find_key(&a.cluster, &a.table, "app|nope"), None);
        let edges = namespace_edges(&a.cluster, &a.table, &index);
        assert!(edges.iter().all(|e| e.from.starts_with("ns-card:")));
    }

    #[test]
    fn keys_are_stable_across_reanalysis() {
        let a = analysis();
        let b = analysis();
        let ka: Vec<_> = a
            .table
            .shallow_flows()
            .iter()
            .map(|f| flow_key(&a.cluster, f))
            .collect();
        let kb: Vec<_> = b
            .table
            .shallow_flows()
            .iter()
            .map(|f| flow_key(&b.cluster, f))
            .collect();
        assert_eq!(ka, kb);
        assert!(!ka.is_empty());
    }

    #[test]
    fn edges_cover_every_flow_once() {
        let a = analysis();
        let edges = topology_edges(&a.cluster, &a.table.shallow_flows());
        let n: usize = edges.iter().map(|e| e.flows.len()).sum();
        assert_eq!(n, a.table.len());
        // The default scenario denies into np-test-2 at the NetworkPolicy ingress layer.
        assert!(
            edges
                .iter()
                .any(|e| e.verdict == "deny" && e.blocked_at == Some(Layer::NpIngress)),
            "{edges:?}"
        );
    }

    #[test]
    fn exports_have_one_row_per_flow() {
        let a = analysis();
        let csv = export_csv(&a.cluster, &a.table);
        assert_eq!(csv.lines().count(), a.table.len() + 1);
        assert!(csv.starts_with("kind,source,destination,port,np-egress"));
        let md = export_markdown(&a.cluster, &a.table);
        assert_eq!(md.lines().count(), a.table.len() + 2);
        let json = export_json(&a.cluster, &a.table);
        assert_eq!(json.matches("\"kind\"").count(), a.table.len());
    }

    #[test]
    fn exports_carry_the_per_layer_decisions() {
        let yaml = crate::scenarios::find("two-namespaces-authz").map_or("", |s| s.yaml);
        let a = engine::analyze(&[engine::Source::new("t", yaml)]);
        let header: Vec<&str> = header();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or(usize::MAX);
        let csv = export_csv(&a.cluster, &a.table);
        let lines: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        // A flow denied by the sidecar layer has `deny` in the sidecar column, and the
        // NetworkPolicy layers it met are filled in too.
        let denied = lines
            .iter()
            .find(|c| c.get(col("decided_by")) == Some(&"sidecar"));
        assert!(denied.is_some(), "no sidecar deny in\n{csv}");
        let denied = denied.cloned().unwrap_or_default();
        assert_eq!(denied.get(col("sidecar")), Some(&"deny"), "{csv}");
        assert_eq!(denied.get(col("verdict")), Some(&"deny"), "{csv}");
        assert!(
            denied.get(col("np-ingress")).is_some_and(|v| !v.is_empty()),
            "{csv}"
        );
        // Every allowed flow's layers that were met are `allow`.
        for c in lines
            .iter()
            .filter(|c| c.get(col("verdict")) == Some(&"allow"))
        {
            for l in Layer::ALL {
                assert!(
                    matches!(c.get(col(l.as_str())), Some(&"allow") | Some(&"")),
                    "{c:?}"
                );
            }
        }
        let json = export_json(&a.cluster, &a.table);
        assert!(json.contains("\"sidecar\": \"deny\""), "{json}");
        let md = export_markdown(&a.cluster, &a.table);
        assert!(
            md.lines().any(|l| l.ends_with("| deny | deny | sidecar |")),
            "{md}"
        );
    }
}
