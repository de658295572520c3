//! The flow matrix: sources by destination:port, each cell showing every layer's verdict and the
//! final one, filtered by flow kind and namespace; clicking a cell entry selects the flow.
//! Verdicts and names come from the engine; this file only arranges them.

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::flows::{Flow, FlowKind};
use engine::verdict::{Decision, Layer};
use engine::Analysis;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::flowview::{self, KINDS};
use crate::state::Shared;

#[derive(Properties, PartialEq)]
pub struct MatrixProps {
    pub analysis: Shared<Analysis>,
    #[prop_or_default]
    pub selected_flow: Option<Rc<str>>,
    #[prop_or_default]
    pub on_select: Callback<Option<String>>,
}

#[component]
pub fn FlowMatrix(props: &MatrixProps) -> Html {
    let kind_filter = use_state(|| None::<FlowKind>);
    let ns_filter = use_state(String::new);
    let cluster = &props.analysis.cluster;
    let all = props.analysis.table.shallow_flows();
    let flows: Vec<&Flow> = all
        .iter()
        .filter(|f| kind_filter.is_none_or(|k| f.kind == k))
        .filter(|f| {
            ns_filter.is_empty()
                || flowview::flow_namespaces(cluster, f).contains(&ns_filter.as_str())
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
    let verdicts = f.legs.iter().flat_map(|l| l.verdicts.iter());
    html! {
        <button type="button" class={classes!("cell", f.verdict.as_str(), selected.then_some("selected"))}
            title={title.clone()} aria-label={title} aria-pressed={selected.to_string()}
            data-flow={key} {onclick}>
            <span class="kind">{ f.kind.as_str() }</span>
            for v in verdicts {
                <span class={classes!("pip", v.decision.as_str())}>{ layer_letter(v.layer) }</span>
            }
            <span class={classes!("final", f.verdict.as_str())}>{ verdict_mark(f.verdict) }</span>
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
