//! `App`: owns the reducer, lays out the panes, wires intents to actions.

use std::rc::Rc;

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::diagnostics::DiagnosticsList;
use crate::components::editor::Editor;
use crate::components::summary::Summary;
use crate::scenarios::SCENARIOS;
use crate::state::{Action, State};

#[component]
pub fn App() -> Html {
    let state = use_reducer(State::default);

    let on_edit = {
        let dispatcher = state.dispatcher();
        Callback::from(move |text: String| dispatcher.dispatch(Action::Edit(text)))
    };
    let on_scenario = {
        let dispatcher = state.dispatcher();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let value = select.value();
            if let Some(s) = SCENARIOS.iter().find(|s| s.id == value) {
                dispatcher.dispatch(Action::LoadScenario(s.id));
            }
        })
    };

    let analysis = state.analysis.clone();
    html! {
        <div class="app">
            <header class="topbar">
                <h1>{ "Policy Playground" }</h1>
                <label class="scenario-picker">
                    { "Scenario " }
                    <select id="scenario" onchange={on_scenario} aria-label="Load a scenario">
                        for s in SCENARIOS.iter() {
                            <option value={s.id}>{ s.title }</option>
                        }
                    </select>
                </label>
                <span class="generation" id="generation" aria-hidden="true">{ state.generation }</span>
            </header>
            <main class="panes">
                <section class="pane editor-pane" aria-label="Manifests">
                    <Editor text={Rc::clone(&state.text)} diagnostics={analysis.clone()}
                        line_index={state.line_index.clone()} on_edit={on_edit} />
                    <DiagnosticsList analysis={analysis.clone()} text={Rc::clone(&state.text)}
                        line_index={state.line_index.clone()} />
                </section>
                <section class="pane results-pane" aria-label="What the engine found">
                    <Summary analysis={analysis} />
                </section>
            </main>
        </div>
    }
}
