//! The topology picture: namespaces as boxes, workloads as cards (name, ports, mesh badge),
//! the nodes with their kubelets, external ranges, and flow edges coloured by verdict with the
//! blocking layer marked. Geometry comes from `layout.rs`; this file only builds the layout
//! input from engine data and turns boxes into SVG. Hover shows details (`<title>`), click or
//! Enter selects a card or an edge. All text is rendered as text nodes.

use std::collections::BTreeSet;
use std::rc::Rc;

use engine::flows::{FlowSource, FlowTarget};
use engine::model::Cluster;
use engine::Analysis;
use yew::prelude::*;

use crate::flowview::{self, TopoEdge};
use crate::layout::{self, GroupKind, GroupSpec, Layout, NodeSpec};
use crate::state::Shared;

/// Most external cards drawn (the rest are summarised in the group title).
const MAX_EXTERNAL: usize = 8;

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub analysis: Shared<Analysis>,
    /// Flow edges (already aggregated per pair of cards).
    pub edges: Rc<Vec<TopoEdge>>,
    #[prop_or_default]
    pub selected_node: Option<Rc<str>>,
    #[prop_or_default]
    pub selected_flow: Option<Rc<str>>,
    #[prop_or_default]
    pub on_select_node: Callback<Option<String>>,
    #[prop_or_default]
    pub on_select_flow: Callback<Option<String>>,
    /// Narrower rows (for embeds).
    #[prop_or_default]
    pub compact: bool,
}

#[component]
pub fn Topology(props: &TopologyProps) -> Html {
    let layout = use_memo(
        (props.analysis.clone(), props.compact),
        |(analysis, compact)| {
            let width = if *compact {
                620.0
            } else {
                layout::MAX_ROW_WIDTH
            };
            layout::layout_within(&groups(&analysis.cluster, analysis), width)
        },
    );
    let selected = props.selected_node.as_deref();
    let w = layout.width;
    let h = layout.height;
    html! {
        <div class="topology" id="topology">
            if layout.nodes.is_empty() {
                <p class="muted">{ "No workloads yet: add a Pod or a Deployment to the YAML." }</p>
            }
            <svg id="topology-svg" xmlns="http://www.w3.org/2000/svg"
                viewBox={format!("0 0 {w:.0} {h:.0}")}
                style={format!("min-width:{:.0}px;max-width:{:.0}px", w * 0.7, w * 1.25)}
                role="group" aria-label="Topology: namespaces, workloads, nodes and flows">
                <style>{ SVG_STYLE }</style>
                <defs>
                    for v in ["allow", "deny", "unknown", "mixed"] {
                        <marker id={format!("arrow-{v}")} class={classes!("arrow", v)}
                            viewBox="0 0 10 10" refX="9" refY="5"
                            markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" />
                        </marker>
                    }
                </defs>
                for g in layout.groups.iter() {
                    <g class={classes!("group", group_class(g.kind))}>
                        <rect x={fmt(g.rect.x)} y={fmt(g.rect.y)} width={fmt(g.rect.w)}
                            height={fmt(g.rect.h)} rx="8" />
                        <text class="group-title" x={fmt(g.rect.x + 10.0)} y={fmt(g.rect.y + 16.0)}>
                            { &g.title }
                        </text>
                    </g>
                }
                { edges_view(props, &layout, selected) }
                for n in layout.nodes.iter() {
                    { node_view(props, n, selected) }
                }
            </svg>
        </div>
    }
}

fn edges_view(props: &TopologyProps, layout: &Layout, selected: Option<&str>) -> Html {
    let pairs: BTreeSet<(&str, &str)> = props
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    html! {
        for e in props.edges.iter() {
            {{
                // Opposite edges between the same pair take different lanes.
                let lane = usize::from(e.from > e.to && pairs.contains(&(e.to.as_str(), e.from.as_str())));
                match layout.edge(&e.from, &e.to, lane) {
                    Some(geom) => {
                        let dim = selected.is_some_and(|s| s != e.from && s != e.to);
                        let is_selected = props.selected_flow.as_deref().is_some_and(|f| e.flows.iter().any(|k| k == f));
                        let first = e.flows.first().cloned();
                        let onclick = {
                            let on_select_flow = props.on_select_flow.clone();
                            let first = first.clone();
                            move |_| on_select_flow.emit(first.clone())
                        };
                        html! {
                            <g class={classes!("edge", e.verdict, dim.then_some("dim"), is_selected.then_some("selected"))}
                                {onclick}>
                                <title>{ &e.title }</title>
                                <path class="hit" d={geom.d.clone()} />
                                <path class="line" d={geom.d.clone()} marker-end={format!("url(#arrow-{})", e.verdict)} />
                                if let Some(layer) = e.blocked_at {
                                    <text class="edge-label" x={fmt(geom.label_x)} y={fmt(geom.label_y - 4.0)}
                                        text-anchor="middle">{ format!("✕ {}", layer.as_str()) }</text>
                                }
                            </g>
                        }
                    }
                    None => html! {},
                }
            }}
        }
    }
}

fn node_view(props: &TopologyProps, n: &layout::NodeBox, selected: Option<&str>) -> Html {
    let is_selected = selected == Some(n.key.as_str());
    let toggle = {
        let on_select_node = props.on_select_node.clone();
        let key = n.key.clone();
        move || on_select_node.emit((!is_selected).then(|| key.clone()))
    };
    let onclick = {
        let toggle = toggle.clone();
        Callback::from(move |_: MouseEvent| toggle())
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            toggle();
        }
    });
    let r = n.rect;
    let badge_w = n.badge.chars().count() as f64 * 6.2 + 10.0;
    html! {
        <g class={classes!("node", is_selected.then_some("selected"))} tabindex="0" role="button"
            aria-pressed={is_selected.to_string()}
            aria-label={format!("{} {} {}", n.label, n.detail, n.badge)}
            data-key={n.key.clone()} {onclick} {onkeydown}>
            <title>{ format!("{}\n{}{}", n.label, n.detail,
                if n.badge.is_empty() { String::new() } else { format!("\nmesh: {}", n.badge) }) }</title>
            <rect class="card" x={fmt(r.x)} y={fmt(r.y)} width={fmt(r.w)} height={fmt(r.h)} rx="6" />
            <text class="label" x={fmt(r.x + 9.0)} y={fmt(r.y + 22.0)}>{ &n.short_label }</text>
            <text class="detail" x={fmt(r.x + 9.0)} y={fmt(r.y + 42.0)}>{ &n.short_detail }</text>
            if !n.badge.is_empty() {
                <g class={classes!("badge", format!("mesh-{}", n.badge))}>
                    <rect x={fmt(r.right() - badge_w - 6.0)} y={fmt(r.y + 8.0)} width={fmt(badge_w)}
                        height="17" rx="8" />
                    <text x={fmt(r.right() - badge_w / 2.0 - 6.0)} y={fmt(r.y + 20.5)}
                        text-anchor="middle">{ &n.badge }</text>
                </g>
            }
        </g>
    }
}

/// The layout input: one group per namespace, then the nodes, then external ranges. Over
/// [`flowview::TOPOLOGY_AGGREGATE`] workloads, one card per namespace (with counts) instead.
fn groups(cluster: &Cluster, analysis: &Analysis) -> Vec<GroupSpec> {
    if cluster.workloads.len() > flowview::TOPOLOGY_AGGREGATE {
        return namespace_cards(cluster);
    }
    let mut res: Vec<GroupSpec> = cluster
        .namespaces
        .iter()
        .map(|ns| GroupSpec {
            key: format!("ns:{}", ns.name),
            title: ns.name.clone(),
            kind: GroupKind::Namespace,
            nodes: cluster
                .workloads
                .iter()
                .filter(|w| w.namespace == ns.name)
                .map(|w| {
                    let mut ports: Vec<String> = w
                        .container_ports()
                        .map(|p| format!("{}/{}", p.port, p.protocol.as_str()))
                        .collect();
                    ports.dedup();
                    let replicas = if w.replicas > 1 {
                        format!(" ×{}", w.replicas)
                    } else {
                        String::new()
                    };
                    NodeSpec {
                        key: flowview::workload_node_key(&w.display_name()),
                        label: w.name.clone(),
                        detail: format!(
                            "{}{replicas} · {}",
                            w.kind,
                            if ports.is_empty() {
                                "no ports".to_string()
                            } else {
                                ports.join(" ")
                            }
                        ),
                        badge: mesh_badge(cluster, w).to_string(),
                    }
                })
                .collect(),
        })
        .collect();
    if !cluster.nodes.is_empty() {
        res.push(GroupSpec {
            key: "infra".into(),
            title: "nodes".into(),
            kind: GroupKind::Infra,
            nodes: cluster
                .nodes
                .iter()
                .map(|n| NodeSpec {
                    key: flowview::node_node_key(&n.name),
                    label: format!("{} + kubelet", n.name),
                    detail: n.ip.to_string(),
                    badge: String::new(),
                })
                .collect(),
        });
    }
    let mut external: Vec<String> = Vec::new();
    for (_, row) in analysis.table.iter() {
        let (src, dst) = (analysis.table.source(row), analysis.table.target(row));
        if let FlowSource::External(_) = src {
            external.push(engine::explain::source_name(cluster, &src));
        }
        if let FlowTarget::External(_) = dst {
            external.push(engine::explain::target_name(cluster, &dst));
        }
    }
    external.sort();
    external.dedup();
    if !external.is_empty() {
        let more = external.len().saturating_sub(MAX_EXTERNAL);
        res.push(GroupSpec {
            key: "external".into(),
            title: if more > 0 {
                format!("outside the cluster (+{more} more ranges)")
            } else {
                "outside the cluster".into()
            },
            kind: GroupKind::External,
            nodes: external
                .iter()
                .take(MAX_EXTERNAL)
                .map(|label| NodeSpec {
                    key: flowview::external_node_key(label),
                    label: label.clone(),
                    detail: "external addresses".into(),
                    badge: String::new(),
                })
                .collect(),
        });
    }
    res
}

/// One card per namespace: workloads, pods and the most common mesh badge.
fn namespace_cards(cluster: &Cluster) -> Vec<GroupSpec> {
    let nodes = cluster
        .namespaces
        .iter()
        .filter_map(|ns| {
            let members: Vec<_> = cluster
                .workloads
                .iter()
                .filter(|w| w.namespace == ns.name)
                .collect();
            if members.is_empty() {
                return None;
            }
            let pods: u64 = members.iter().map(|w| u64::from(w.replicas.max(1))).sum();
            let mut badges: Vec<&str> = members.iter().map(|w| mesh_badge(cluster, w)).collect();
            badges.sort_unstable();
            let mut best = ("", 0usize);
            for b in badges.chunk_by(|a, b| a == b) {
                if b.len() > best.1 {
                    best = (b[0], b.len());
                }
            }
            Some(NodeSpec {
                key: flowview::namespace_node_key(&ns.name),
                label: ns.name.clone(),
                detail: format!("{} workloads · {pods} pods", members.len()),
                badge: best.0.to_string(),
            })
        })
        .collect();
    vec![GroupSpec {
        key: "namespaces".into(),
        title: format!(
            "{} workloads in {} namespaces (one card per namespace; edges summarise the flows)",
            cluster.workloads.len(),
            cluster.namespaces.len()
        ),
        kind: GroupKind::Namespace,
        nodes,
    }]
}

/// The mesh badge of a workload (none, sidecar, ambient, waypoint), as the engine derives it
/// from labels and annotations.
fn mesh_badge(cluster: &Cluster, workload: &engine::model::Workload) -> &'static str {
    engine::istio::mesh::dataplane(cluster, workload).as_str()
}

fn group_class(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Namespace => "ns",
        GroupKind::Infra => "infra",
        GroupKind::External => "external",
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Styles inside the SVG, so a downloaded picture looks like the page (colours fall back to
/// the light theme outside it).
const SVG_STYLE: &str = "
text { font: 12px ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace; fill: var(--fg, #1d1f23); }
.group rect { fill: var(--group, #f2f4f8); stroke: var(--border, #d8dce3); }
.group.infra rect { stroke-dasharray: 5 3; }
.group.external rect { fill: none; stroke-dasharray: 2 3; }
.group-title { font-weight: 600; fill: var(--muted, #5d6470); }
.node { cursor: pointer; }
.node .card { fill: var(--panel, #fff); stroke: var(--border, #b9c0cc); stroke-width: 1.2; }
.node:hover .card { stroke: var(--accent, #2457c5); }
.node.selected .card { stroke: var(--accent, #2457c5); stroke-width: 2.5; }
.node:focus { outline: none; }
.node:focus-visible .card { stroke: var(--accent, #2457c5); stroke-width: 3; stroke-dasharray: 4 2; }
.node .label { font-weight: 700; }
.node .detail { fill: var(--muted, #5d6470); font-size: 11px; }
.badge rect { fill: var(--badge-bg, #eef1f6); stroke: var(--border, #b9c0cc); }
.badge text { font-size: 10px; fill: var(--muted, #5d6470); }
.badge.mesh-ambient rect { fill: #e6f4ea; stroke: #1a7f37; }
.badge.mesh-sidecar rect { fill: #e8effd; stroke: #2457c5; }
.badge.mesh-waypoint rect { fill: #f3e8fd; stroke: #8250df; }
.edge { cursor: pointer; }
.edge .hit { stroke: transparent; stroke-width: 10; fill: none; }
.edge .line { fill: none; stroke-width: 1.6; }
.edge.allow .line { stroke: var(--allow, #1a7f37); }
.edge.deny .line { stroke: var(--deny, #c4302b); stroke-dasharray: 5 3; }
.edge.unknown .line { stroke: var(--unknown, #9a6700); stroke-dasharray: 2 3; }
.edge.mixed .line { stroke: var(--unknown, #9a6700); }
.edge.dim { opacity: .15; }
.edge.selected .line { stroke-width: 3.5; }
.edge:hover .line { stroke-width: 3; }
.edge-label { font-size: 10px; font-weight: 700; fill: var(--deny, #c4302b); paint-order: stroke; stroke: var(--bg, #fff); stroke-width: 3px; }
.arrow.allow path { fill: var(--allow, #1a7f37); }
.arrow.deny path { fill: var(--deny, #c4302b); }
.arrow.unknown path, .arrow.mixed path { fill: var(--unknown, #9a6700); }
";
