//! The flow matrix: sources by destination:port, each cell showing every layer's verdict and the
//! final one, filtered by flow kind and namespace; clicking a cell entry selects the flow.
//! Verdicts and names come from the engine; this file only arranges them.
//!
//! At scale (more than [`GRID_CAP`] flows) the matrix is aggregated: namespace × namespace
//! cells with allow/deny/unknown counts; a click drills down into that pair's flows, listed
//! one per row in a virtualised list (fixed row height, only the visible rows are in the
//! DOM); the search box filters sources and destinations by name.

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::flows::{Flow, FlowKind};
use engine::verdict::{Decision, Layer};
use engine::Analysis;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::flowview::{self, FlowIndex, KINDS};
use crate::state::Shared;

/// More flows than this and the matrix is aggregated by namespace.
pub const GRID_CAP: usize = 400;
/// Height of one row of the virtualised list (px; CSS `.vrow` agrees).
pub const ROW_H: f64 = 26.0;
/// Height of the virtualised list's viewport (px).
pub const LIST_H: f64 = 364.0;
/// Rows drawn above and below the viewport.
const OVERSCAN: usize = 6;

#[derive(Properties, PartialEq)]
pub struct MatrixProps {
    pub analysis: Shared<Analysis>,
    pub index: Shared<FlowIndex>,
    #[prop_or_default]
    pub selected_flow: Option<Rc<str>>,
    #[prop_or_default]
    pub on_select: Callback<Option<String>>,
}

#[component]
pub fn FlowMatrix(props: &MatrixProps) -> Html {
    let search = use_state(String::new);
    let on_search = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| {
            search.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            );
        })
    };
    let search_box = html! {
        <label class="search">{ "Search " }
            <input type="search" id="matrix-search" placeholder="source or destination"
                aria-label="Filter flows by source or destination name"
                value={(*search).clone()} oninput={on_search} />
        </label>
    };
    if props.analysis.table.len() > GRID_CAP {
        return html! {
            <AggregatedMatrix analysis={props.analysis.clone()} index={props.index.clone()}
                selected_flow={props.selected_flow.clone()} on_select={props.on_select.clone()}
                search={AttrValue::from((*search).clone())} search_box={search_box} />
        };
    }
    let kind_filter = use_state(|| None::<FlowKind>);
    let ns_filter = use_state(String::new);
    let cluster = &props.analysis.cluster;
    let all = props.analysis.table.shallow_flows();
    let needle = search.trim().to_lowercase();
    let flows: Vec<&Flow> = all
        .iter()
        .filter(|f| kind_filter.is_none_or(|k| f.kind == k))
        .filter(|f| {
            ns_filter.is_empty()
                || flowview::flow_namespaces(cluster, f).contains(&ns_filter.as_str())
        })
        .filter(|f| {
            needle.is_empty()
                || props.index.rows.get(f.id).is_some_and(|r| {
                    props
                        .index
                        .lower
                        .get(r.src_name as usize)
                        .is_some_and(|n| n.contains(&needle))
                        || props
                            .index
                            .lower
                            .get(r.dst_name as usize)
                            .is_some_and(|n| n.contains(&needle))
                })
        })
        .collect();

    // Rows and columns in first-seen order (the engine's order is meaningful and stable).
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(usize, usize), Vec<&Flow>> = BTreeMap::new();
    for f in &flows {
        let r = flowview::row_key(cluster, f);
        let c = flowview::column_key(cluster, f);
        let ri = rows.iter().position(|x| *x == r).unwrap_or_else(|| {
            rows.push(r);
            rows.len() - 1
        });
        let ci = cols.iter().position(|x| *x == c).unwrap_or_else(|| {
            cols.push(c);
            cols.len() - 1
        });
        cells.entry((ri, ci)).or_default().push(f);
    }

    let on_kind = {
        let kind_filter = kind_filter.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            kind_filter.set(KINDS.into_iter().find(|k| k.as_str() == value));
        })
    };
    let on_ns = {
        let ns_filter = ns_filter.clone();
        Callback::from(move |e: Event| {
            ns_filter.set(e.target_unchecked_into::<HtmlSelectElement>().value());
        })
    };
    let counts = |d: Decision| flows.iter().filter(|f| f.verdict == d).count();

    html! {
        <div class="matrix" id="matrix">
            <div class="filters">
                <label>{ "Kind " }
                    <select id="matrix-kind" onchange={on_kind} aria-label="Filter flows by kind">
                        <option value="" selected={kind_filter.is_none()}>{ "all" }</option>
                        for k in KINDS {
                            <option value={k.as_str()} selected={*kind_filter == Some(k)}>{ k.as_str() }</option>
                        }
                    </select>
                </label>
                <label>{ "Namespace " }
                    <select id="matrix-ns" onchange={on_ns} aria-label="Filter flows by namespace">
                        <option value="" selected={ns_filter.is_empty()}>{ "all" }</option>
                        for ns in cluster.namespaces.iter() {
                            <option value={ns.name.clone()} selected={*ns_filter == ns.name}>{ &ns.name }</option>
                        }
                    </select>
                </label>
                { search_box }
                <span class="counts" aria-live="polite">
                    <span class="v allow">{ format!("{} allow", counts(Decision::Allow)) }</span>
                    <span class="v deny">{ format!("{} deny", counts(Decision::Deny)) }</span>
                    <span class="v unknown">{ format!("{} unknown", counts(Decision::Unknown)) }</span>
                </span>
            </div>
            if flows.is_empty() {
                <p class="muted">{ "No flows: the matrix needs workloads with container ports or probes." }</p>
            } else {
                <div class="matrix-scroll">
                    <table aria-label="Flow matrix: sources by destination and port">
                        <thead>
                            <tr>
                                <th scope="col" class="corner">{ "source ╲ destination:port" }</th>
                                for c in cols.iter() { <th scope="col" class="col">{ c }</th> }
                            </tr>
                        </thead>
                        <tbody>
                            for (ri, r) in rows.iter().enumerate() {
                                <tr>
                                    <th scope="row">{ r }</th>
                                    for ci in 0..cols.len() {
                                        <td>
                                            if let Some(list) = cells.get(&(ri, ci)) {
                                                for f in list.iter() { { cell_entry(props, f) } }
                                            }
                                        </td>
                                    }
                                </tr>
                            }
                        </tbody>
                    </table>
                </div>
                <p class="legend muted">
                    { "Each entry: the layers met in order (E np-egress, I np-ingress, Z ztunnel, W waypoint, S sidecar), then the final verdict. Click an entry for its trace." }
                </p>
            }
        </div>
    }
}

fn cell_entry(props: &MatrixProps, f: &Flow) -> Html {
    let cluster = &props.analysis.cluster;
    let key = flowview::flow_key(cluster, f);
    let selected = props.selected_flow.as_deref() == Some(key.as_str());
    let title = format!(
        "{}: {}",
        engine::explain::flow_title(cluster, f),
        engine::explain::verdict_text(f.verdict, f.decided_by)
    );
    let onclick = {
        let on_select = props.on_select.clone();
        let key = key.clone();
        move |_| on_select.emit(Some(key.clone()))
    };
    let layers = props
        .analysis
        .table
        .get(f.id)
        .map(|r| r.layers)
        .unwrap_or_default();
    html! {
        <button type="button" class={classes!("cell", f.verdict.as_str(), selected.then_some("selected"))}
            title={title.clone()} aria-label={title} aria-pressed={selected.to_string()}
            data-flow={key} {onclick}>
            <span class="kind">{ f.kind.as_str() }</span>
            { layer_pips(layers) }
            <span class={classes!("final", f.verdict.as_str())}>{ verdict_mark(f.verdict) }</span>
        </button>
    }
}

/// The letters of the layers a flow met (E I Z W S), coloured by each layer's decision. The
/// compact table keeps the worst decision per layer, in [`Layer::ALL`] order.
pub fn layer_pips(layers: engine::table::Layers) -> Html {
    html! {
        for (layer, d) in layers.iter().filter_map(|(l, d)| d.decision().map(|d| (l, d))) {
            <span class={classes!("pip", d.as_str())}>{ layer_letter(layer) }</span>
        }
    }
}

#[derive(Properties, PartialEq)]
struct AggregatedProps {
    analysis: Shared<Analysis>,
    index: Shared<FlowIndex>,
    selected_flow: Option<Rc<str>>,
    on_select: Callback<Option<String>>,
    search: AttrValue,
    search_box: Html,
}

/// Namespace × namespace counts with drill-down into a virtualised list of flows.
#[component]
fn AggregatedMatrix(props: &AggregatedProps) -> Html {
    let drill = use_state(|| None::<(u32, u32)>);
    let scroll = use_state(|| 0.0f64);
    let analysis = &props.analysis;
    let index = &props.index;
    let agg = use_memo((analysis.clone(), props.index.clone()), |(a, i)| {
        i.aggregate(&a.table)
    });
    let selected_ids = use_memo(
        (props.index.clone(), *drill, props.search.clone()),
        |(i, cell, search)| i.select(*cell, search),
    );
    let totals = agg.values().fold(flowview::Counts::default(), |mut t, c| {
        t.allow += c.allow;
        t.deny += c.deny;
        t.unknown += c.unknown;
        t
    });
    // Only groups that have flows, in the index's order.
    let used = |src: bool| -> Vec<u32> {
        let mut v: Vec<u32> = agg.keys().map(|(s, d)| if src { *s } else { *d }).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (srcs, dsts) = (used(true), used(false));
    let name = |g: u32| index.groups.get(g as usize).cloned().unwrap_or_default();
    let onscroll = {
        let scroll = scroll.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::Element = e.target_unchecked_into();
            scroll.set(f64::from(el.scroll_top()));
        })
    };
    let n = selected_ids.len();
    let first = ((*scroll / ROW_H) as usize).saturating_sub(OVERSCAN).min(n);
    let last = (first + (LIST_H / ROW_H) as usize + 2 * OVERSCAN).min(n);
    let drill_label = match *drill {
        Some((s, d)) => format!("{} → {}", name(s), name(d)),
        None => "all namespaces".to_string(),
    };
    let clear = {
        let drill = drill.clone();
        let scroll = scroll.clone();
        Callback::from(move |_: MouseEvent| {
            drill.set(None);
            scroll.set(0.0);
        })
    };
    html! {
        <div class="matrix aggregated" id="matrix">
            <div class="filters">
                { props.search_box.clone() }
                <span class="counts" aria-live="polite">
                    <span class="v allow">{ format!("{} allow", totals.allow) }</span>
                    <span class="v deny">{ format!("{} deny", totals.deny) }</span>
                    <span class="v unknown">{ format!("{} unknown", totals.unknown) }</span>
                </span>
            </div>
            <p class="muted">{ format!("{} flows: aggregated by namespace. Click a cell to list its flows.", analysis.table.len()) }</p>
            <div class="matrix-scroll">
                <table id="matrix-agg" aria-label="Flows by source and destination namespace">
                    <thead>
                        <tr>
                            <th scope="col" class="corner">{ "from ╲ to" }</th>
                            for d in dsts.iter() { <th scope="col" class="col">{ name(*d) }</th> }
                        </tr>
                    </thead>
                    <tbody>
                        for s in srcs.iter() {
                            <tr>
                                <th scope="row">{ name(*s) }</th>
                                for d in dsts.iter() {
                                    <td>{ agg_cell(&agg, &drill, &scroll, *s, *d, &name) }</td>
                                }
                            </tr>
                        }
                    </tbody>
                </table>
            </div>
            <div class="drill-head">
                <strong id="matrix-drill">{ format!("{n} flows · {drill_label}") }</strong>
                if drill.is_some() {
                    <button type="button" onclick={clear}>{ "all namespaces" }</button>
                }
            </div>
            <div class="vlist" id="matrix-list" role="list" aria-label="Flows" {onscroll}
                style={format!("height:{LIST_H}px")}>
                <div class="vspace" style={format!("height:{}px", n as f64 * ROW_H)}>
                    for pos in first..last {
                        { list_row(props, selected_ids.get(pos).copied().unwrap_or(usize::MAX), pos) }
                    }
                </div>
            </div>
            <p class="legend muted">
                { "Each entry: the layers met in order (E np-egress, I np-ingress, Z ztunnel, W waypoint, S sidecar), then the final verdict. Click an entry for its trace." }
            </p>
        </div>
    }
}

fn agg_cell(
    agg: &BTreeMap<(u32, u32), flowview::Counts>,
    drill: &UseStateHandle<Option<(u32, u32)>>,
    scroll: &UseStateHandle<f64>,
    s: u32,
    d: u32,
    name: &dyn Fn(u32) -> String,
) -> Html {
    let Some(c) = agg.get(&(s, d)) else {
        return html! {};
    };
    let selected = **drill == Some((s, d));
    let onclick = {
        let drill = drill.clone();
        let scroll = scroll.clone();
        move |_: MouseEvent| {
            drill.set(Some((s, d)));
            scroll.set(0.0);
        }
    };
    let label = format!(
        "{} → {}: {} allow, {} deny, {} unknown",
        name(s),
        name(d),
        c.allow,
        c.deny,
        c.unknown
    );
    html! {
        <button type="button" class={classes!("agg", c.verdict(), selected.then_some("selected"))}
            title={label.clone()} aria-label={label} aria-pressed={selected.to_string()} {onclick}>
            if c.allow > 0 { <span class="v allow">{ format!("{}✓", c.allow) }</span> }
            if c.deny > 0 { <span class="v deny">{ format!("{}✕", c.deny) }</span> }
            if c.unknown > 0 { <span class="v unknown">{ format!("{}?", c.unknown) }</span> }
        </button>
    }
}

/// One flow of the virtualised list, absolutely placed at its position `pos`.
fn list_row(props: &AggregatedProps, id: usize, pos: usize) -> Html {
    let analysis = &props.analysis;
    let (Some(row), Some(ir)) = (analysis.table.get(id), props.index.rows.get(id)) else {
        return html! {};
    };
    let key = analysis
        .table
        .shallow(id)
        .map(|f| flowview::flow_key(&analysis.cluster, &f))
        .unwrap_or_default();
    let selected = props.selected_flow.as_deref() == Some(key.as_str());
    let title = format!(
        "{} → {}:{}/{}: {}",
        props.index.name(ir.src_name),
        props.index.name(ir.dst_name),
        row.port,
        row.protocol.as_str(),
        engine::explain::verdict_text(row.verdict, row.decided_by)
    );
    let onclick = {
        let on_select = props.on_select.clone();
        let key = key.clone();
        move |_| on_select.emit(Some(key.clone()))
    };
    html! {
        <button type="button" role="listitem"
            class={classes!("vrow", "cell", row.verdict.as_str(), selected.then_some("selected"))}
            style={format!("top:{}px", pos as f64 * ROW_H)} title={title.clone()} aria-label={title}
            data-flow={key} {onclick}>
            <span class="kind">{ row.kind.as_str() }</span>
            <span class="ends">
                { props.index.name(ir.src_name) }{ " → " }{ props.index.name(ir.dst_name) }
                { format!(":{}/{}", row.port, row.protocol.as_str()) }
            </span>
            { layer_pips(row.layers) }
            <span class={classes!("final", row.verdict.as_str())}>{ verdict_mark(row.verdict) }</span>
        </button>
    }
}

pub fn layer_letter(layer: Layer) -> &'static str {
    match layer {
        Layer::NpEgress => "E",
        Layer::NpIngress => "I",
        Layer::Ztunnel => "Z",
        Layer::Waypoint => "W",
        Layer::Sidecar => "S",
    }
}

pub fn verdict_mark(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "✓",
        Decision::Deny => "✕",
        Decision::Unknown => "?",
    }
}
