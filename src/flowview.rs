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

fn rows(cluster: &Cluster, flows: &[Flow]) -> Vec<Row> {
    flows
        .iter()
        .map(|f| Row {
            kind: f.kind.as_str(),
            src: explain::source_name(cluster, &f.src),
            dst: explain::target_name(cluster, &f.dst),
            port: format!("{}/{}", f.port, f.protocol.as_str()),
            layers: Layer::ALL
                .iter()
                .map(|l| {
                    f.layer_verdict(*l)
                        .map_or("", |v| v.decision.as_str())
                        .to_string()
                })
                .collect(),
            verdict: f.verdict.as_str(),
            decided_by: f
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
pub fn export_csv(cluster: &Cluster, flows: &[Flow]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = header().join(",");
    out.push_str("\r\n");
    for r in rows(cluster, flows) {
        let line: Vec<String> = cells(&r).into_iter().map(quote).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A JSON array of objects with the CSV's columns (empty layers omitted).
pub fn export_json(cluster: &Cluster, flows: &[Flow]) -> String {
    let h = header();
    let mut out = String::from("[\n");
    let rows = rows(cluster, flows);
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
pub fn export_markdown(cluster: &Cluster, flows: &[Flow]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('|', "\\|");
    let h = header();
    let mut out = format!("| {} |\n", h.join(" | "));
    out.push_str(&format!("|{}\n", " --- |".repeat(h.len())));
    for r in rows(cluster, flows) {
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
        let csv = export_csv(&a.cluster, &a.table.shallow_flows());
        assert_eq!(csv.lines().count(), a.table.len() + 1);
        assert!(csv.starts_with("kind,source,destination,port,np-egress"));
        let md = export_markdown(&a.cluster, &a.table.shallow_flows());
        assert_eq!(md.lines().count(), a.table.len() + 2);
        let json = export_json(&a.cluster, &a.table.shallow_flows());
        assert_eq!(json.matches("\"kind\"").count(), a.table.len());
    }
}
