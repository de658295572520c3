//! Settings: the CNI profile (names the engine models are selectable; documented ones it does
//! not model yet are listed disabled) with its one-line explanation and its flags table (value,
//! evidence grade V/R/I/U and source, all from `engine::profiles`), and the mesh-wide options
//! (`engine::istio::MeshOptions`: root namespace, trust domain, istiod flags), each with a
//! one-line explanation. Changing any of them re-analyses (the reducer does it).

use std::rc::Rc;

use engine::istio::MeshOptions;
use engine::verdict::Evidence;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::profiles;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub profile: AttrValue,
    /// The mesh-wide options in effect.
    #[prop_or_default]
    pub mesh: Rc<MeshOptions>,
    #[prop_or_default]
    pub readonly: bool,
    #[prop_or_default]
    pub on_profile: Callback<String>,
    #[prop_or_default]
    pub on_mesh: Callback<MeshOptions>,
}

/// A boolean mesh option: id, name as upstream spells it, one-line explanation, getter, setter.
struct FlagOption {
    id: &'static str,
    name: &'static str,
    help: &'static str,
    get: fn(&MeshOptions) -> bool,
    set: fn(&mut MeshOptions, bool),
}

const FLAG_OPTIONS: &[FlagOption] = &[
    FlagOption {
        id: "mesh-auto-allow-waypoint",
        name: "PILOT_AUTO_ALLOW_WAYPOINT_POLICY",
        help:
            "istiod adds a synthetic ztunnel ALLOW for the waypoint's identity on every workload \
               that uses it; with no other ALLOW policy, in-mesh traffic that skips the waypoint \
               is then denied (SEMANTICS §2.5 rule 19; upstream default off).",
        get: |m| m.auto_allow_waypoint_policy,
        set: |m, v| m.auto_allow_waypoint_policy = v,
    },
    FlagOption {
        id: "mesh-ambient-dry-run",
        name: "AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY",
        help: "istiod sends dry-run AuthorizationPolicies to ztunnel (logged, not enforced); off, \
               such policies are not sent at all and istiod reports it (upstream default off).",
        get: |m| m.ambient_dry_run,
        set: |m, v| m.ambient_dry_run = v,
    },
    FlagOption {
        id: "mesh-layered-waypoint",
        name: "ENABLE_LAYERED_WAYPOINT_AUTHORIZATION_POLICIES",
        help: "Selector policies are also enforced at ztunnel in front of a waypoint; its details \
               are unverified, so ztunnel verdicts behind a waypoint become unknown (upstream \
               default off).",
        get: |m| m.layered_waypoint_policies,
        set: |m, v| m.layered_waypoint_policies = v,
    },
    FlagOption {
        id: "mesh-sending-hbone",
        name: "PILOT_ENABLE_SENDING_HBONE",
        help:
            "Sidecars send HBONE (TCP 15008) to ambient pods instead of mTLS on the target port, \
               so NetworkPolicy sees 15008 (upstream default on when ambient is enabled).",
        get: |m| m.sending_hbone,
        set: |m, v| m.sending_hbone = v,
    },
    FlagOption {
        id: "mesh-cni-nftables",
        name: "istio-cni nftables mode",
        help: "The probe SNAT to 169.254.7.127 matches only the kubelet's uid instead of any \
               node-local socket (SEMANTICS §2.6 rule 20; default iptables mode).",
        get: |m| m.cni_nftables,
        set: |m, v| m.cni_nftables = v,
    },
    FlagOption {
        id: "mesh-rewrite-probers",
        name: "sidecar.istio.io/rewriteAppHTTPProbers",
        help:
            "The sidecar injector rewrites HTTP probes to the agent's port 15020, so the kubelet \
               reaches the pod on 15020 from the node (SEMANTICS §3 rule 4; upstream default on).",
        get: |m| m.rewrite_app_probers,
        set: |m, v| m.rewrite_app_probers = v,
    },
];

/// The full word of an evidence grade (the table shows the letter).
pub fn evidence_word(e: Evidence) -> &'static str {
    match e {
        Evidence::Verified => "verified: primary source read",
        Evidence::Reported => "reported: issue, PR or vendor doc, not checked in code",
        Evidence::Inferred => "inferred: follows from verified facts",
        Evidence::Unverified => "unverified",
    }
}

/// The profile's one-line explanation: the engine's summary, then (when it says more) the
/// playground's sentence about what the profile means for ambient probes and ipBlock.
pub fn profile_line(name: &str) -> String {
    let summary = profiles::explanation(name);
    match profiles::find(name).map(|p| p.explanation) {
        Some(more) if more != summary => format!("{}. {more}", summary.trim_end_matches('.')),
        _ => summary.to_string(),
    }
}

fn flag_value(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    }
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
    let profile = engine::profiles::profile(&props.profile);
    let text_option = |id: &'static str,
                       name: &'static str,
                       value: &str,
                       help: &'static str,
                       set: fn(&mut MeshOptions, String)| {
        let onchange = {
            let on_mesh = props.on_mesh.clone();
            let mesh = Rc::clone(&props.mesh);
            Callback::from(move |e: Event| {
                let value = e.target_unchecked_into::<HtmlInputElement>().value();
                let value = value.trim();
                if value.is_empty() {
                    return;
                }
                let mut next = (*mesh).clone();
                set(&mut next, value.to_string());
                on_mesh.emit(next);
            })
        };
        let help_id = format!("{id}-help");
        html! {
            <li class="mesh-option">
                <label class="field">
                    <span class="field-name">{ name }</span>
                    <input type="text" id={id} value={value.to_string()} {onchange}
                        disabled={props.readonly} spellcheck="false"
                        aria-describedby={help_id.clone()} />
                </label>
                <p class="help" id={help_id}>{ help }</p>
            </li>
        }
    };
    let defaults = MeshOptions::default();
    let changed = *props.mesh != defaults;
    let reset_mesh = {
        let on_mesh = props.on_mesh.clone();
        Callback::from(move |_: MouseEvent| on_mesh.emit(MeshOptions::default()))
    };
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
            <p class="help" id="cni-profile-help">{ profile_line(&props.profile) }</p>
            if let Some(p) = &profile {
                <p class="help node-exemption">
                    <span class="field-name">{ "Node exemption: " }</span>{ p.node_exemption }
                </p>
                if !p.cells.is_empty() {
                    <div class="table-scroll">
                        <table class="flags" id="profile-flags"
                            aria-label={format!("Flags of the {} profile", p.name)}>
                            <thead>
                                <tr>
                                    <th scope="col">{ "flag" }</th>
                                    <th scope="col">{ "value" }</th>
                                    <th scope="col"><abbr title="evidence grade: V verified, R reported, I inferred, U unverified">{ "grade" }</abbr></th>
                                    <th scope="col">{ "source" }</th>
                                </tr>
                            </thead>
                            <tbody>
                                for cell in p.cells.iter() {
                                    <tr class={classes!("flag-row", format!("grade-{}", cell.evidence.letter()))}>
                                        <td class="flag"><code>{ cell.flag.as_str() }</code></td>
                                        <td class={classes!("value", flag_value(cell.value))}>{ flag_value(cell.value) }</td>
                                        <td class="grade" title={evidence_word(cell.evidence)}>
                                            <span class={classes!("grade-badge", format!("grade-{}", cell.evidence.letter()))}>
                                                { cell.evidence.letter().to_string() }
                                            </span>
                                        </td>
                                        <td class="source">{ cell.source }</td>
                                    </tr>
                                }
                            </tbody>
                        </table>
                    </div>
                    <p class="muted legend">
                        { "Grades: V verified (primary source read), R reported (issue, PR or vendor doc), I inferred, U unverified. Traces say when a verdict rests on an R, I or U flag." }
                    </p>
                }
            }
            <details class="profile-list">
                <summary>{ "What each profile means" }</summary>
                <dl>
                    for (name, available) in choices.iter() {
                        <dt>{ *name }{ if *available { "" } else { " (not modelled yet)" } }</dt>
                        <dd>{ profile_line(name) }</dd>
                    }
                </dl>
            </details>
            <div class="mesh-head">
                <h3>{ "Mesh-wide options" }</h3>
                <button type="button" id="mesh-defaults" onclick={reset_mesh}
                    disabled={props.readonly || !changed}>{ "Upstream defaults" }</button>
            </div>
            <ul class="mesh-options" id="mesh-options">
                { text_option("mesh-root-namespace", "rootNamespace", &props.mesh.root_namespace,
                    "meshConfig: AuthorizationPolicies in this namespace apply to the whole mesh (upstream default istio-system).",
                    |m, v| m.root_namespace = v) }
                { text_option("mesh-trust-domain", "trustDomain", &props.mesh.trust_domain,
                    "meshConfig: the first part of every workload identity, <trust domain>/ns/<ns>/sa/<sa>, that principals must match (upstream default cluster.local).",
                    |m, v| m.trust_domain = v) }
                for opt in FLAG_OPTIONS.iter() {
                    { flag_option(opt, &props.mesh, props.readonly, &props.on_mesh) }
                }
            </ul>
        </div>
    }
}

fn flag_option(
    opt: &FlagOption,
    mesh: &Rc<MeshOptions>,
    readonly: bool,
    on_mesh: &Callback<MeshOptions>,
) -> Html {
    let checked = (opt.get)(mesh);
    let is_default = checked == (opt.get)(&MeshOptions::default());
    let onchange = {
        let on_mesh = on_mesh.clone();
        let mesh = Rc::clone(mesh);
        let set = opt.set;
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlInputElement>().checked();
            let mut next = (*mesh).clone();
            set(&mut next, value);
            on_mesh.emit(next);
        })
    };
    let help_id = format!("{}-help", opt.id);
    html! {
        <li class="mesh-option">
            <label class="field">
                <input type="checkbox" id={opt.id} {checked} {onchange} disabled={readonly}
                    aria-describedby={help_id.clone()} />
                <code class="field-name">{ opt.name }</code>
                if !is_default { <span class="badge">{ "changed" }</span> }
            </label>
            <p class="help" id={help_id}>{ opt.help }</p>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_option_round_trips_through_its_setter() {
        for opt in FLAG_OPTIONS {
            let mut m = MeshOptions::default();
            let before = (opt.get)(&m);
            (opt.set)(&mut m, !before);
            assert_eq!((opt.get)(&m), !before, "{}", opt.name);
            assert_ne!(m, MeshOptions::default(), "{}", opt.name);
        }
    }
}
