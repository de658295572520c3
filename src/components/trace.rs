//! The trace of the selected flow: its wire legs, each layer's decision in order with the
//! engine's sentences, and the policies and rules that decided, as buttons that reveal (select)
//! the rule's text in the editor. All prose comes from `engine::explain`.

use std::rc::Rc;

use engine::explain::{self, Locator};
use engine::Analysis;
use engine::Source;
use yew::prelude::*;

use crate::components::matrix::verdict_mark;
use crate::flowview;
use crate::state::{Shared, EDITOR_SOURCE};

#[derive(Properties, PartialEq)]
pub struct TraceProps {
    pub analysis: Shared<Analysis>,
    pub text: Rc<str>,
    /// The analysis settings (the trace judges the selected flow in full with them).
    #[prop_or_default]
    pub settings: Option<Rc<crate::state::Settings>>,
    #[prop_or_default]
    pub selected_flow: Option<Rc<str>>,
    /// The analysis' flow index (finds the selected row without formatting every key).
    #[prop_or_default]
    pub index: Option<Shared<flowview::FlowIndex>>,
    #[prop_or_default]
    pub on_reveal: Callback<(u32, u32)>,
}

#[component]
pub fn Trace(props: &TraceProps) -> Html {
    let cluster = &props.analysis.cluster;
    let Some(key) = props.selected_flow.as_deref() else {
        return html! {
            <div class="trace" id="trace">
                <p class="muted">{ "Select a flow in the matrix or an edge in the topology to see its trace." }</p>
            </div>
        };
    };
    // The table holds verdicts only: find the selected row by its key, then judge it in full
    // (legs, reasons, tool outputs) with the reference evaluator.
    let table = &props.analysis.table;
    let options = props.settings.as_deref().map_or_else(
        || engine::AnalyzeOptions::default().flow_options,
        |s| crate::state::analyze_options(s).flow_options,
    );
    let found = props
        .index
        .as_ref()
        .and_then(|index| index.find_key(cluster, table, key))
        .or_else(|| {
            (0..table.len()).find(|&id| {
                table
                    .shallow(id)
                    .is_some_and(|f| flowview::flow_key(cluster, &f) == key)
            })
        })
        .and_then(|id| props.analysis.flow_detail(id, &options));
    let Some(flow) = found.as_ref() else {
        return html! {
            <div class="trace" id="trace">
                <p class="muted">{ "The selected flow no longer exists in this input." }</p>
            </div>
        };
    };
    let sources = [Source::new(EDITOR_SOURCE, props.text.to_string())];
    let locator = Locator::new(&sources);
    let ex = explain::explain(cluster, flow, Some(&locator));
    let n = ex.legs.len();
    html! {
        <div class="trace" id="trace" aria-live="polite">
            <h3 class="trace-title">{ &ex.title }</h3>
            <p class={classes!("trace-summary", ex.verdict.as_str())}>
                <span class="final">{ verdict_mark(ex.verdict) }</span>{ " " }{ &ex.summary }
            </p>
            for (i, leg) in ex.legs.iter().enumerate() {
                <section class="leg" aria-label={format!("leg {} of {n}", i + 1)}>
                    <h4>{ format!("leg {}/{n}: ", i + 1) }<code>{ &leg.tuple }</code></h4>
                    <p class="muted">{ &leg.description }</p>
                    <ol class="steps">
                        for step in leg.steps.iter() {
                            <li class={classes!("step", step.decision.as_str())}>
                                <span class="layer">{ step.layer.as_str() }</span>
                                <span class={classes!("decision", step.decision.as_str())}>{ step.decision.as_str() }</span>
                                <div class="sentences">
                                    for s in step.sentences.iter() { <p>{ s }</p> }
                                    if !step.refs.is_empty() {
                                        <p class="refs">
                                            for r in step.refs.iter() {
                                                <button type="button" class="rule-ref"
                                                    title="Highlight this rule in the editor"
                                                    onclick={
                                                        let on_reveal = props.on_reveal.clone();
                                                        let (start, end) = (r.span.start, r.span.end);
                                                        move |_| on_reveal.emit((start, end))
                                                    }>
                                                    { format!("{}/{}", r.namespace, r.name) }
                                                    if let Some((dir, idx)) = r.rule {
                                                        { format!(" {}", explain::rule_path(dir, idx)) }
                                                    }
                                                    if let Some(pos) = &r.position {
                                                        <span class="pos">{ format!(" ({pos})") }</span>
                                                    }
                                                </button>
                                            }
                                        </p>
                                    }
                                    for a in step.assumptions.iter() { <p class="assumption">{ format!("assumes {a}") }</p> }
                                </div>
                            </li>
                        }
                    </ol>
                    if !leg.tools.is_empty() {
                        <ul class="tool-lines" aria-label="what the tools print">
                            for t in leg.tools.iter() {
                                <li class="tool-line"><span class="tool">{ t.tool }</span>{ " " }<code>{ &t.text }</code></li>
                            }
                        </ul>
                    }
                </section>
            }
            if !ex.assumptions.is_empty() {
                <p class="assumption">{ format!("CNI profile assumptions: {}", ex.assumptions.join(", ")) }</p>
            }
        </div>
    }
}
