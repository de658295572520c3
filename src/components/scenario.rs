//! The scenario library pane: what the current scenario is about (title, what to look at) and
//! every scenario of the library with its one-paragraph explanation, each loadable.

use yew::prelude::*;

use crate::scenarios::{self, SCENARIOS};

#[derive(Properties, PartialEq)]
pub struct ScenarioProps {
    /// The current scenario id (may be empty or unknown).
    pub current: AttrValue,
    /// True when the text differs from the scenario's.
    #[prop_or_default]
    pub modified: bool,
    #[prop_or_default]
    pub on_load: Callback<String>,
}

#[component]
pub fn ScenarioPane(props: &ScenarioProps) -> Html {
    let current = scenarios::find(&props.current);
    html! {
        <div class="scenario" id="scenario-info">
            if let Some(s) = current {
                <h3 id="scenario-title">{ s.title }{ if props.modified { " (edited)" } else { "" } }</h3>
                <p class="scenario-summary">{ s.summary }</p>
            } else {
                <h3 id="scenario-title">{ "Your own input" }</h3>
                <p class="muted">{ "Not from the library. Pick a scenario to start from one." }</p>
            }
            <h3>{ "Library" }</h3>
            <ul class="library">
                for s in SCENARIOS.iter() {
                    <li class={classes!(current.is_some_and(|c| c.id == s.id).then_some("current"))}>
                        <button type="button" class="link" data-scenario={s.id}
                            onclick={
                                let on_load = props.on_load.clone();
                                let id = s.id.to_string();
                                move |_| on_load.emit(id.clone())
                            }>{ s.title }</button>
                        <p class="muted">{ s.summary }</p>
                    </li>
                }
            </ul>
        </div>
    }
}
