//! Settings: the CNI profile (names the engine models are selectable; documented ones it does
//! not model yet are listed disabled) with a one-line explanation each, and the mesh options.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::profiles;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub profile: AttrValue,
    #[prop_or_default]
    pub readonly: bool,
    #[prop_or_default]
    pub on_profile: Callback<String>,
}

#[component]
pub fn SettingsPane(props: &SettingsProps) -> Html {
    let onchange = {
        let on_profile = props.on_profile.clone();
        Callback::from(move |e: Event| {
            on_profile.emit(e.target_unchecked_into::<HtmlSelectElement>().value());
        })
    };
    let choices = profiles::choices();
    html! {
        <div class="settings" id="settings">
            <label class="field">
                <span class="field-name">{ "CNI profile" }</span>
                <select id="cni-profile" {onchange} disabled={props.readonly}
                    aria-describedby="cni-profile-help">
                    for (name, available) in choices.iter() {
                        <option value={*name} selected={props.profile.as_str() == *name}
                            disabled={!available}>
                            { if *available { name.to_string() } else { format!("{name} (not modelled yet)") } }
                        </option>
                    }
                </select>
            </label>
            <p class="help" id="cni-profile-help">{ profiles::explanation(&props.profile) }</p>
            <details class="profile-list">
                <summary>{ "What each profile means" }</summary>
                <dl>
                    for (name, available) in choices.iter() {
                        <dt>{ *name }{ if *available { "" } else { " (not modelled yet)" } }</dt>
                        <dd>{ profiles::explanation(name) }</dd>
                    }
                </dl>
            </details>
            <h3>{ "Mesh options" }</h3>
            <p class="muted">{ "Mesh-wide options (probe SNAT address, waypoint auto-allow, …) appear here once the engine's Istio layers take them." }</p>
        </div>
    }
}
