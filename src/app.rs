//! `App`: owns the reducer, decides the start state (share link, autosave or scenario), runs
//! the browser effects (autosave, downloads, clipboard) and lays out the panes, full page or
//! embedded. Wires intents to actions; draws nothing itself beyond the frame.
//!
//! Invariant: in embed mode nothing here reads or writes browser storage.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::analysis_job::use_analysis_job;
use crate::browser;
use crate::components::compare::ComparePane;
use crate::components::diagnostics::DiagnosticsList;
use crate::components::editor::Editor;
use crate::components::expectations::Expectations;
use crate::components::lints::LintsPane;
use crate::components::matrix::FlowMatrix;
use crate::components::scenario::ScenarioPane;
use crate::components::settings::SettingsPane;
use crate::components::share::ShareBar;
use crate::components::summary::Summary;
use crate::components::topology::Topology;
use crate::components::trace::Trace;
use crate::embed::{self, EmbedFlags, Pane};
use crate::flowview;
use crate::scenarios::{self, SCENARIOS};
use crate::share;
use crate::state::{Action, State};

/// The tabs under the topology in the full page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Flows,
    Lints,
    Compare,
    Expectations,
    Scenario,
    Settings,
    Model,
}

impl Tab {
    const ALL: [Tab; 7] = [
        Tab::Flows,
        Tab::Lints,
        Tab::Compare,
        Tab::Expectations,
        Tab::Scenario,
        Tab::Settings,
        Tab::Model,
    ];
    fn label(self) -> &'static str {
        match self {
            Tab::Flows => "Flows",
            Tab::Lints => "Lints",
            Tab::Compare => "Compare",
            Tab::Expectations => "Expectations",
            Tab::Scenario => "Scenario",
            Tab::Settings => "Settings",
            Tab::Model => "Model",
        }
    }
    fn id(self) -> &'static str {
        match self {
            Tab::Flows => "tab-flows",
            Tab::Lints => "tab-lints",
            Tab::Compare => "tab-compare",
            Tab::Expectations => "tab-expectations",
            Tab::Scenario => "tab-scenario",
            Tab::Settings => "tab-settings",
            Tab::Model => "tab-model",
        }
    }
}

/// The start state: a share link in the fragment wins, then (outside embed mode) the autosave,
/// then `?scenario=`, then the default scenario.
fn initial_state() -> State {
    let embed = EmbedFlags::from_query(&browser::location_search());
    let embedded = embed.enabled;
    let scenario = embed.scenario.clone();
    let mut state = Rc::new(State::with_embed(scenarios::default_scenario().yaml, embed));
    if let Some(id) = scenario {
        state = state.reduce(Action::LoadScenario(id));
    }
    let hash = browser::location_hash();
    let mut opened_link = false;
    if share::is_share_fragment(&hash) {
        match share::decode(&hash) {
            Ok(snapshot) => {
                state = state.reduce(Action::Restore(snapshot));
                opened_link = true;
                if !embedded {
                    // Later edits autosave; a reload should show them, not the link again.
                    browser::clear_hash();
                }
            }
            Err(e) => {
                state = state.reduce(Action::Notice(Some(format!(
                    "This link could not be opened: {e}."
                ))));
            }
        }
    }
    if !opened_link && !embedded {
        if let Some(snapshot) = browser::load_autosave().and_then(|s| share::decode(&s).ok()) {
            let notice = state.notice.clone();
            state = state.reduce(Action::Restore(snapshot));
            state = state.reduce(Action::Notice(notice.map(|n| n.to_string())));
        }
    }
    let mut res = Rc::try_unwrap(state).unwrap_or_else(|rc| (*rc).clone());
    // Restoring is not an edit the user can undo.
    res.undo = Rc::new(Vec::new());
    res
}

/// Quiet time after the last change before the autosave (ms).
const AUTOSAVE_MS: u32 = 400;

#[component]
pub fn App() -> Html {
    let state = use_reducer(initial_state);
    let progress = use_analysis_job(&state);
    let tab = use_state_eq(|| Tab::Flows);
    let file_ref = use_node_ref();
    let embed = Rc::clone(&state.embed);

    // Autosave (never in embed mode): AUTOSAVE_MS after the last change, and at once when the
    // page is hidden or left (`pagehide`), so typing does not encode and store the whole text
    // on every keystroke.
    {
        let embedded = embed.enabled;
        let unsaved = use_mut_ref(|| None::<crate::share::Snapshot>);
        let timer = use_mut_ref(|| None::<gloo::timers::callback::Timeout>);
        {
            let unsaved = Rc::clone(&unsaved);
            use_effect_with(embedded, move |&embedded| {
                let listener = (!embedded).then(web_sys::window).flatten().map(|w| {
                    gloo::events::EventListener::new(&w, "pagehide", move |_| {
                        if let Some(snapshot) = unsaved.borrow_mut().take() {
                            browser::save_autosave(&share::encode(&snapshot));
                        }
                    })
                });
                move || drop(listener)
            });
        }
        use_effect_with(state.snapshot(), move |snapshot| {
            if !embedded {
                *unsaved.borrow_mut() = Some(snapshot.clone());
                let unsaved = Rc::clone(&unsaved);
                // Replacing the handle cancels the previous timer.
                *timer.borrow_mut() = Some(gloo::timers::callback::Timeout::new(
                    AUTOSAVE_MS,
                    move || {
                        if let Some(snapshot) = unsaved.borrow_mut().take() {
                            browser::save_autosave(&share::encode(&snapshot));
                        }
                    },
                ));
            }
        });
    }

    let dispatcher = state.dispatcher();
    let cb = |make: fn(String) -> Action| {
        let d = dispatcher.clone();
        Callback::from(move |v: String| d.dispatch(make(v)))
    };
    let on_edit = cb(Action::Edit);
    let on_expectations = cb(Action::SetExpectations);
    let on_profile = cb(Action::SetProfile);
    let on_fix = cb(Action::Replace);
    let on_mesh = {
        let d = dispatcher.clone();
        Callback::from(move |m| d.dispatch(Action::SetMesh(m)))
    };
    let on_load_scenario = cb(Action::LoadScenario);
    let on_select_node = {
        let d = dispatcher.clone();
        Callback::from(move |k: Option<String>| d.dispatch(Action::SelectNode(k)))
    };
    let on_select_flow = {
        let d = dispatcher.clone();
        let tab = tab.clone();
        Callback::from(move |k: Option<String>| {
            if k.is_some() {
                tab.set(Tab::Flows);
            }
            d.dispatch(Action::SelectFlow(k))
        })
    };
    let on_reveal = {
        let d = dispatcher.clone();
        Callback::from(move |(start, end): (u32, u32)| d.dispatch(Action::Reveal { start, end }))
    };
    let on_file = {
        let d = dispatcher.clone();
        Callback::from(move |file: web_sys::File| {
            let d = d.clone();
            browser::read_file(file, move |res| match res {
                Ok(text) => d.dispatch(Action::Open(text)),
                Err(e) => d.dispatch(Action::Notice(Some(e))),
            });
        })
    };
    let on_scenario_select = {
        let d = dispatcher.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            if scenarios::find(&value).is_some() {
                d.dispatch(Action::LoadScenario(value));
            }
        })
    };
    let make_link = {
        let state = state.clone();
        Callback::from(move |()| {
            format!(
                "{}{}#{}",
                browser::page_url(),
                share_query(&state.embed),
                share::encode(&state.snapshot())
            )
        })
    };
    let make_snippet = {
        let state = state.clone();
        Callback::from(move |()| {
            let title = state.current_scenario().map_or("scenario", |s| s.title);
            let flags = EmbedFlags::from_query("embed=1&panes=editor,topology,matrix&readonly=1");
            embed::iframe_snippet(
                &browser::page_url(),
                &flags,
                &share::encode(&state.snapshot()),
                title,
            )
        })
    };
    let index = crate::state::Shared(use_memo(state.analysis.clone(), |analysis| {
        flowview::FlowIndex::new(&analysis.cluster, &analysis.table)
    }));
    let edges = use_memo(
        (state.analysis.clone(), index.clone()),
        |(analysis, index)| {
            if analysis.cluster.workloads.len() > flowview::TOPOLOGY_AGGREGATE {
                flowview::namespace_edges(&analysis.cluster, &analysis.table, index)
            } else {
                flowview::topology_edges(&analysis.cluster, &analysis.table.shallow_flows())
            }
        },
    );
    let progress_view = match (state.pending, progress) {
        (true, p) => {
            let pct = p.unwrap_or(0);
            html! {
                <span class="analysis-progress" id="analysis-progress" role="status">
                    <progress max="100" value={pct.to_string()} aria-label="Analysis progress" />
                    { format!("analysing… {pct}%") }
                </span>
            }
        }
        (false, _) => html! {},
    };

    let analysis = state.analysis.clone();
    let readonly = state.readonly();
    let modified = state
        .current_scenario()
        .is_some_and(|s| s.yaml != &*state.text);

    let editor = html! {
        <section class="pane editor-pane" aria-label="Manifests">
            <Editor text={Rc::clone(&state.text)} diagnostics={analysis.clone()}
                line_index={state.line_index.clone()} on_edit={on_edit}
                reveal={state.reveal} readonly={readonly} on_file={on_file.clone()} />
            if !embed.enabled || embed.shows(Pane::Diagnostics) {
                <DiagnosticsList analysis={analysis.clone()} text={Rc::clone(&state.text)}
                    line_index={state.line_index.clone()} on_reveal={on_reveal.clone()} />
            }
        </section>
    };
    let topology = html! {
        <Topology analysis={analysis.clone()} edges={edges.clone()}
            selected_node={state.selected_node.clone()} selected_flow={state.selected_flow.clone()}
            on_select_node={on_select_node} on_select_flow={on_select_flow.clone()}
            compact={embed.enabled} />
    };
    let matrix = html! {
        <FlowMatrix analysis={analysis.clone()} index={index.clone()} selected_flow={state.selected_flow.clone()}
            on_select={on_select_flow.clone()} />
    };
    let trace = html! {
        <Trace analysis={analysis.clone()} index={Some(index.clone())} text={Rc::clone(&state.text)}
            settings={Rc::clone(&state.settings)} selected_flow={state.selected_flow.clone()} on_reveal={on_reveal.clone()} />
    };
    let expectations = html! {
        <Expectations analysis={analysis.clone()} settings={Rc::clone(&state.settings)}
            text={Rc::clone(&state.expectations)} readonly={readonly}
            on_change={on_expectations} on_select_flow={on_select_flow.clone()} />
    };
    let scenario = html! {
        <ScenarioPane current={AttrValue::from(state.scenario.to_string())} modified={modified}
            on_load={on_load_scenario} />
    };
    let settings = html! {
        <SettingsPane profile={AttrValue::from(state.settings.cni_profile.clone())}
            mesh={Rc::new(state.settings.mesh.clone())}
            readonly={readonly} on_profile={on_profile} on_mesh={on_mesh} />
    };
    let lints_pane = html! {
        <LintsPane analysis={analysis.clone()} text={Rc::clone(&state.text)}
            line_index={state.line_index.clone()} readonly={readonly}
            on_reveal={on_reveal.clone()} on_fix={on_fix} />
    };
    let summary = html! { <Summary analysis={analysis.clone()} /> };
    let generation = html! {
        <span class="generation" id="generation" aria-hidden="true">{ state.generation }</span>
    };

    if embed.enabled {
        let open_full = {
            let state = state.clone();
            Callback::from(move |_: MouseEvent| {
                let url = format!(
                    "{}#{}",
                    browser::page_url(),
                    share::encode(&state.snapshot())
                );
                if let Some(w) = web_sys::window() {
                    let _ = w.open_with_url_and_target(&url, "_blank");
                }
            })
        };
        let title = state
            .current_scenario()
            .map_or("Policy Playground", |s| s.title);
        let side: Vec<(Pane, &str, Html)> = [
            (Pane::Topology, "Topology", topology),
            (Pane::Matrix, "Flows", matrix),
            (Pane::Trace, "Trace", trace),
            (Pane::Expectations, "Expectations", expectations),
            (Pane::Scenario, "Scenario", scenario),
            (Pane::Settings, "Settings", settings),
            (Pane::Summary, "Model", summary),
        ]
        .into_iter()
        .filter(|(p, _, _)| embed.shows(*p))
        .collect();
        let with_editor = embed.shows(Pane::Editor);
        return html! {
            <div class={classes!("app", "embed", readonly.then_some("readonly"))}>
                <header class="embed-bar">
                    <span class="embed-title">{ title }</span>
                    if readonly { <span class="badge">{ "read-only" }</span> }
                    <button type="button" class="link" id="open-full" onclick={open_full}>
                        { "Open in Policy Playground ↗" }
                    </button>
                    { progress_view.clone() }
                    { generation }
                </header>
                { notice_view(&state, &dispatcher) }
                <main class={classes!("embed-panes", (with_editor && !side.is_empty()).then_some("two"))}>
                    if with_editor { { editor } }
                    if !side.is_empty() {
                        <div class="embed-side">
                            for (pane, label, body) in side {
                                <section class={classes!("pane", format!("pane-{}", pane.as_str()))} aria-label={label}>
                                    <h2 class="pane-title">{ label }</h2>
                                    { body }
                                </section>
                            }
                        </div>
                    }
                </main>
            </div>
        };
    }

    let open_file = {
        let file_ref = file_ref.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = file_ref.cast::<HtmlInputElement>() {
                input.set_value("");
                input.click();
            }
        })
    };
    let on_file_input = {
        let on_file = on_file.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_file.emit(file);
            }
        })
    };
    let download_yaml = {
        let text = Rc::clone(&state.text);
        Callback::from(move |_: MouseEvent| {
            browser::download("policy-playground.yaml", "application/yaml", &text);
        })
    };
    let download_svg = Callback::from(|_: MouseEvent| {
        if let Some(svg) = browser::outer_html("topology-svg") {
            let file = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n");
            browser::download("topology.svg", "image/svg+xml", &file);
        }
    });
    let export =
        |name: &'static str,
         mime: &'static str,
         f: fn(&engine::model::Cluster, &engine::table::FlowTable) -> String| {
            let analysis = analysis.clone();
            Callback::from(move |_: MouseEvent| {
                browser::download(name, mime, &f(&analysis.cluster, &analysis.table));
            })
        };
    let undo = {
        let d = dispatcher.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Undo))
    };
    let reset = {
        let d = dispatcher.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Reset))
    };
    let n_lints = analysis.lints.len();
    let tab_button = |t: Tab| {
        let tab = tab.clone();
        html! {
            <button type="button" role="tab" id={t.id()} aria-selected={(*tab == t).to_string()}
                class={classes!("tab", (*tab == t).then_some("active"))}
                onclick={move |_| tab.set(t)}>{ t.label() }
                if t == Tab::Lints && n_lints > 0 {
                    <span class="tab-count" aria-label={format!("{n_lints} lints")}>{ n_lints }</span>
                }
            </button>
        }
    };
    let panel = |t: Tab, body: Html| {
        html! {
            <div role="tabpanel" class="tabpanel" aria-labelledby={t.id()} hidden={*tab != t}>
                { body }
            </div>
        }
    };
    let n_flows = analysis.table.len();
    let compare = html! {
        <ComparePane analysis={analysis.clone()} settings={Rc::clone(&state.settings)}
            generation={state.generation} active={*tab == Tab::Compare}
            selected_flow={state.selected_flow.clone()} on_select={on_select_flow.clone()} />
    };

    html! {
        <div class="app">
            <header class="topbar">
                <h1>{ "Policy Playground" }</h1>
                <label class="scenario-picker">
                    <span>{ "Scenario" }</span>
                    <select id="scenario" onchange={on_scenario_select} aria-label="Load a scenario">
                        if state.current_scenario().is_none() {
                            <option value="" selected=true>{ "— your own input —" }</option>
                        }
                        for s in SCENARIOS.iter() {
                            <option value={s.id} selected={*state.scenario == *s.id}>{ s.title }</option>
                        }
                    </select>
                </label>
                <div class="actions" role="toolbar" aria-label="Editor actions">
                    <button type="button" id="undo" onclick={undo} disabled={state.undo.is_empty()}
                        title="Undo the last load, reset or fix">{ "Undo" }</button>
                    <button type="button" id="reset" onclick={reset}
                        title="Back to the scenario's original YAML and expectations">{ "Reset" }</button>
                    <button type="button" id="load-file" onclick={open_file}
                        title="Load a YAML file (or drop one on the editor)">{ "Load file…" }</button>
                    <input type="file" id="file-input" ref={file_ref} class="visually-hidden"
                        accept=".yaml,.yml,.json,.txt,text/yaml,application/json" tabindex="-1"
                        aria-hidden="true" onchange={on_file_input} />
                    <button type="button" id="download-yaml" onclick={download_yaml}>{ "Download YAML" }</button>
                </div>
                <ShareBar make_link={make_link} make_snippet={make_snippet} />
                { progress_view }
                { generation }
            </header>
            { notice_view(&state, &dispatcher) }
            <main class="panes">
                { editor }
                <section class="pane results-pane" aria-label="What the engine found">
                    <div class="topo-wrap">
                        <div class="pane-head">
                            <h2>{ "Topology" }</h2>
                            <span class="muted legend-inline">
                                <span class="v allow">{ "— allow" }</span>
                                <span class="v deny">{ "- - deny ✕ layer" }</span>
                                <span class="v unknown">{ "mixed / unknown" }</span>
                            </span>
                            <button type="button" id="download-svg" onclick={download_svg}>{ "Download SVG" }</button>
                        </div>
                        { topology }
                    </div>
                    <div class="tabs" role="tablist" aria-label="Panels">
                        for t in Tab::ALL { { tab_button(t) } }
                    </div>
                    { panel(Tab::Flows, html! {
                        <>
                            <div class="pane-head">
                                <h2>{ format!("Flow matrix ({n_flows})") }</h2>
                                <span class="exports">{ "Export " }
                                    <button type="button" onclick={export("flows.csv", "text/csv", flowview::export_csv)}>{ "CSV" }</button>
                                    <button type="button" onclick={export("flows.json", "application/json", flowview::export_json)}>{ "JSON" }</button>
                                    <button type="button" onclick={export("flows.md", "text/markdown", flowview::export_markdown)}>{ "Markdown" }</button>
                                </span>
                            </div>
                            { matrix }
                            <h2 class="trace-head">{ "Trace" }</h2>
                            { trace }
                        </>
                    }) }
                    { panel(Tab::Lints, lints_pane) }
                    { panel(Tab::Compare, compare) }
                    { panel(Tab::Expectations, expectations) }
                    { panel(Tab::Scenario, scenario) }
                    { panel(Tab::Settings, settings) }
                    { panel(Tab::Model, summary) }
                </section>
            </main>
        </div>
    }
}

/// The query a share link keeps: none outside embed mode, the embed flags inside it.
fn share_query(flags: &EmbedFlags) -> String {
    if flags.enabled {
        flags.to_query()
    } else {
        String::new()
    }
}

fn notice_view(state: &State, dispatcher: &UseReducerDispatcher<State>) -> Html {
    let Some(notice) = state.notice.clone() else {
        return html! {};
    };
    let dismiss = {
        let d = dispatcher.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Notice(None)))
    };
    html! {
        <div class="notice" role="alert" id="notice">
            <span>{ notice.to_string() }</span>
            <button type="button" onclick={dismiss} aria-label="Dismiss">{ "×" }</button>
        </div>
    }
}
