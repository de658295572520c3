//! The expectations pane: the `check` format, one flow per line, editable, each line turning
//! green (pass) or red (fail, with the engine's message) live. Parsing and checking are
//! `engine::expect`'s; this file only shows the results next to the lines.

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::{Analysis, LineIndex, SourceId};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::flowview;
use crate::state::{analyze_options, Settings, Shared};

#[derive(Properties, PartialEq)]
pub struct ExpectationsProps {
    pub analysis: Shared<Analysis>,
    pub settings: Rc<Settings>,
    pub text: Rc<str>,
    #[prop_or_default]
    pub readonly: bool,
    #[prop_or_default]
    pub on_change: Callback<String>,
    #[prop_or_default]
    pub on_select_flow: Callback<Option<String>>,
}

/// The outcome of one line.
#[derive(Clone, Debug, PartialEq)]
enum LineStatus {
    Pass,
    Fail(String),
    Error(String),
}

#[component]
pub fn Expectations(props: &ExpectationsProps) -> Html {
    let results = use_memo(
        (
            props.analysis.clone(),
            Rc::clone(&props.text),
            Rc::clone(&props.settings),
        ),
        |(analysis, text, settings)| check(analysis, text, settings),
    );
    let oninput = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: InputEvent| {
            on_change.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value());
        })
    };
    let (statuses, first_flows) = &*results;
    let n_pass = statuses
        .values()
        .filter(|s| **s == LineStatus::Pass)
        .count();
    let n_errors = statuses
        .values()
        .filter(|s| matches!(s, LineStatus::Error(_)))
        .count();
    let n_total = statuses.len() - n_errors;
    html! {
        <div class="expectations" id="expectations">
            <p class="muted">
                { "One flow per line: " }<code>{ "SRC -> DST:PORT[/PROTO] [METHOD PATH] allow|deny|unknown [at LAYER]" }</code>
            </p>
            <textarea id="expectations-text" class="expect-text" spellcheck="false" wrap="off"
                aria-label="Expectations" readonly={props.readonly} rows="6"
                value={props.text.to_string()} {oninput} />
            <p class="expect-score" aria-live="polite">
                { format!("{n_pass} of {n_total} expectations pass") }
                if n_errors > 0 {
                    <span class="muted">{ format!(" · {n_errors} line(s) not understood") }</span>
                }
            </p>
            <ol class="expect-results">
                for (i, line) in props.text.split('\n').enumerate() {
                    {{
                        let line_no = i as u32 + 1;
                        let status = statuses.get(&line_no);
                        let class = match status {
                            Some(LineStatus::Pass) => "pass",
                            Some(LineStatus::Fail(_)) => "fail",
                            Some(LineStatus::Error(_)) => "error",
                            None if line.trim().is_empty() => "blank",
                            None => "comment",
                        };
                        let flow = first_flows.get(&line_no).cloned();
                        let onclick = {
                            let on_select_flow = props.on_select_flow.clone();
                            let flow = flow.clone();
                            move |_| if flow.is_some() { on_select_flow.emit(flow.clone()) }
                        };
                        html! {
                            if class != "blank" {
                                <li class={classes!("expect-line", class)} value={line_no.to_string()}
                                    onclick={onclick} title={flow.is_some().then_some("Select this flow")}>
                                    <span class="mark" aria-hidden="true">{ match class {
                                        "pass" => "✓", "fail" => "✕", "error" => "!", _ => "#" } }</span>
                                    <span class="sr-only">{ class }</span>
                                    <code>{ line }</code>
                                    if let Some(LineStatus::Fail(m) | LineStatus::Error(m)) = status {
                                        <span class="why">{ m }</span>
                                    }
                                </li>
                            }
                        }
                    }}
                }
            </ol>
        </div>
    }
}

/// Per 1-based line: its status, and the key of the first flow it resolved to.
fn check(
    analysis: &Analysis,
    text: &str,
    settings: &Settings,
) -> (BTreeMap<u32, LineStatus>, BTreeMap<u32, String>) {
    let (expectations, diagnostics) = engine::expect::parse(SourceId(1), text);
    let options = analyze_options(settings).flow_options;
    let results = engine::expect::check(&analysis.cluster, &expectations, &options);
    let index = LineIndex::new(text);
    let mut statuses = BTreeMap::new();
    let mut flows = BTreeMap::new();
    for d in diagnostics {
        let line = index.line_col(text, d.span.start).line;
        let message = match d.help {
            Some(help) => format!("{} ({help})", d.message),
            None => d.message,
        };
        statuses.insert(line, LineStatus::Error(message));
    }
    for r in results {
        let line = r.expectation.line;
        if let Some(f) = r.flows.first() {
            flows.insert(line, flowview::flow_key(&analysis.cluster, f));
        }
        let status = if r.pass {
            LineStatus::Pass
        } else {
            LineStatus::Fail(r.message.unwrap_or_else(|| "failed".to_string()))
        };
        statuses.insert(line, status);
    }
    (statuses, flows)
}
