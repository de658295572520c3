//! Compare modes (PRODUCT.md): (a) the same YAML under two CNI profiles side by side, listing
//! the flows whose verdict differs, with the profile flags that differ; (b) before/after an
//! edit: "Set baseline" remembers every flow's verdict, and the pane then lists exactly which
//! flows changed verdict since (and which appeared or disappeared).
//!
//! (c) mesh modes: the same YAML as no mesh / sidecar / ambient / ambient + waypoint
//! (`engine::whatif::with_mesh_mode`), each flow's verdict under the four, differences marked.
//!
//! Verdicts come from the engine (`engine::flows::evaluate` with each profile's options, the
//! same options the analysis uses); this file only pairs flows by their stable key
//! (`flowview::flow_key`) and arranges them. The profile comparison is computed only while the
//! pane is visible, and for large inputs only the first [`PROFILE_CAP`] flows are compared
//! (the pane says so).

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::flows::{self, Flow};
use engine::model::Cluster;
use engine::verdict::{Decision, Layer};
use engine::Analysis;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use engine::whatif::{with_mesh_mode, MeshMode};

use crate::components::matrix::verdict_mark;
use crate::flowview;
use crate::profiles;
use crate::state::{analyze_options, Settings, Shared};

/// At most this many flows are judged twice for the profile comparison.
pub const PROFILE_CAP: usize = 2000;
/// At most this many rows are drawn per table.
pub const ROW_CAP: usize = 300;

/// A flow's outcome, enough to compare two runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub title: String,
    pub verdict: Decision,
    pub decided_by: Option<Layer>,
}

impl Outcome {
    fn of(cluster: &Cluster, flow: &Flow) -> Outcome {
        Outcome {
            title: engine::explain::flow_title(cluster, flow),
            verdict: flow.verdict,
            decided_by: flow.decided_by,
        }
    }
    /// `allow`, or `deny at np-ingress`.
    pub fn text(&self) -> String {
        engine::explain::verdict_text(self.verdict, self.decided_by)
    }
}

/// One flow whose verdict differs between two runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The flow key (selects the flow in the matrix and trace).
    pub key: String,
    pub before: Outcome,
    pub after: Outcome,
}

/// The result of judging the same flows under two profiles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileComparison {
    /// Flows judged under both profiles.
    pub compared: usize,
    /// Flows in the input (more than `compared` when capped).
    pub total: usize,
    pub differences: Vec<Difference>,
    /// Flags whose value differs between the two profiles: (flag, value in a, value in b).
    pub flags: Vec<(&'static str, String, String)>,
}

/// Every flow of `analysis` (up to `cap`) judged under both settings; the differing ones.
pub fn compare_profiles(
    analysis: &Analysis,
    a: &Settings,
    b: &Settings,
    cap: usize,
) -> ProfileComparison {
    let cluster = &analysis.cluster;
    let table = &analysis.table;
    let compared = table.len().min(cap);
    let options_a = analyze_options(a).flow_options;
    let options_b = analyze_options(b).flow_options;
    let mut differences = Vec::new();
    for id in 0..compared {
        let Some(spec) = table.spec(id) else {
            continue;
        };
        let fa = flows::evaluate(cluster, id, spec.clone(), &options_a);
        let fb = flows::evaluate(cluster, id, spec, &options_b);
        if fa.verdict != fb.verdict {
            differences.push(Difference {
                key: flowview::flow_key(cluster, &fa),
                before: Outcome::of(cluster, &fa),
                after: Outcome::of(cluster, &fb),
            });
        }
    }
    ProfileComparison {
        compared,
        total: table.len(),
        differences,
        flags: flag_differences(&a.cni_profile, &b.cni_profile),
    }
}

/// One flow under the four mesh modes ([`MeshMode::ALL`] order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshRow {
    pub key: String,
    pub title: String,
    pub outcomes: Vec<Outcome>,
    /// True when the verdicts are not all the same.
    pub differs: bool,
}

/// The result of judging the same flows under every mesh mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeshComparison {
    pub compared: usize,
    pub total: usize,
    pub rows: Vec<MeshRow>,
}

/// Every flow of `analysis` (up to `cap`) judged with the cluster rewritten to each mesh mode.
/// Existing workloads keep their ids in the rewrite, so the same flow spec is judged each time.
pub fn compare_mesh_modes(analysis: &Analysis, settings: &Settings, cap: usize) -> MeshComparison {
    let cluster = &analysis.cluster;
    let table = &analysis.table;
    let compared = table.len().min(cap);
    let options = analyze_options(settings).flow_options;
    let clusters: Vec<Cluster> = MeshMode::ALL
        .iter()
        .map(|m| with_mesh_mode(cluster, *m))
        .collect();
    let mut rows = Vec::with_capacity(compared);
    for id in 0..compared {
        let Some(spec) = table.spec(id) else {
            continue;
        };
        let outcomes: Vec<Outcome> = clusters
            .iter()
            .map(|c| Outcome::of(c, &flows::evaluate(c, id, spec.clone(), &options)))
            .collect();
        let differs = outcomes.windows(2).any(|w| w[0].verdict != w[1].verdict);
        let Some(shallow) = table.shallow(id) else {
            continue;
        };
        rows.push(MeshRow {
            key: flowview::flow_key(cluster, &shallow),
            title: engine::explain::flow_title(cluster, &shallow),
            outcomes,
            differs,
        });
    }
    MeshComparison {
        compared,
        total: table.len(),
        rows,
    }
}

/// The profile-table flags whose values differ between two profiles (engine data).
pub fn flag_differences(a: &str, b: &str) -> Vec<(&'static str, String, String)> {
    let (Some(pa), Some(pb)) = (engine::profiles::profile(a), engine::profiles::profile(b)) else {
        return Vec::new();
    };
    let show = |c: Option<&engine::profiles::Cell>| {
        c.map_or_else(
            || "—".to_string(),
            |c| {
                let v = match c.value {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "n/a",
                };
                format!("{v} ({})", c.evidence.letter())
            },
        )
    };
    let mut flags: Vec<_> = pa.cells.iter().map(|c| c.flag).collect();
    for c in &pb.cells {
        if !flags.contains(&c.flag) {
            flags.push(c.flag);
        }
    }
    flags
        .into_iter()
        .filter(|f| pa.cell(*f).and_then(|c| c.value) != pb.cell(*f).and_then(|c| c.value))
        .map(|f| (f.as_str(), show(pa.cell(f)), show(pb.cell(f))))
        .collect()
}

/// Every flow's outcome by key (a baseline).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The analysis generation it was taken at.
    pub generation: u64,
    pub profile: String,
    pub outcomes: BTreeMap<String, Outcome>,
}

impl Baseline {
    pub fn of(analysis: &Analysis, generation: u64, profile: &str) -> Baseline {
        let cluster = &analysis.cluster;
        Baseline {
            generation,
            profile: profile.to_string(),
            outcomes: (0..analysis.table.len())
                .filter_map(|id| analysis.table.shallow(id))
                .map(|f| (flowview::flow_key(cluster, &f), Outcome::of(cluster, &f)))
                .collect(),
        }
    }
}

/// What changed between a baseline and now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaselineDiff {
    /// Flows in both whose verdict differs, in the current analysis's order.
    pub changed: Vec<Difference>,
    /// Flows that exist only now / only in the baseline (their outcomes).
    pub added: Vec<(String, Outcome)>,
    pub removed: Vec<(String, Outcome)>,
    /// Flows in both with the same verdict.
    pub unchanged: usize,
}

pub fn diff_baseline(baseline: &Baseline, now: &Baseline) -> BaselineDiff {
    let mut res = BaselineDiff::default();
    for (key, after) in &now.outcomes {
        match baseline.outcomes.get(key) {
            Some(before) if before.verdict != after.verdict => res.changed.push(Difference {
                key: key.clone(),
                before: before.clone(),
                after: after.clone(),
            }),
            Some(_) => res.unchanged += 1,
            None => res.added.push((key.clone(), after.clone())),
        }
    }
    for (key, before) in &baseline.outcomes {
        if !now.outcomes.contains_key(key) {
            res.removed.push((key.clone(), before.clone()));
        }
    }
    res
}

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub analysis: Shared<Analysis>,
    pub settings: Rc<Settings>,
    /// The analysis generation (a baseline remembers it).
    pub generation: u64,
    /// Computed only while visible.
    #[prop_or_default]
    pub active: bool,
    #[prop_or_default]
    pub selected_flow: Option<Rc<str>>,
    #[prop_or_default]
    pub on_select: Callback<Option<String>>,
}

/// The second profile offered by default: the first one that is not `current`, preferring
/// `calico-iptables` (the §10.0 split against `generic`).
fn other_profile(current: &str) -> String {
    let names = profiles::choices();
    ["calico-iptables", "cilium"]
        .into_iter()
        .find(|n| *n != current && names.iter().any(|(m, ok)| m == n && *ok))
        .or_else(|| {
            names
                .iter()
                .find(|(n, ok)| *ok && *n != current)
                .map(|(n, _)| *n)
        })
        .unwrap_or(current)
        .to_string()
}

#[component]
pub fn ComparePane(props: &CompareProps) -> Html {
    // Empty = the current profile (follows Settings).
    let profile_a = use_state(String::new);
    let profile_b = use_state(String::new);
    let baseline = use_state(|| None::<Shared<Baseline>>);
    let current = props.settings.cni_profile.clone();
    let a = if profile_a.is_empty() {
        current.clone()
    } else {
        (*profile_a).clone()
    };
    let b = if profile_b.is_empty() {
        other_profile(&a)
    } else {
        (*profile_b).clone()
    };
    let comparison = use_memo(
        (
            props.analysis.clone(),
            a.clone(),
            b.clone(),
            props.settings.mesh.clone(),
            props.active,
        ),
        |(analysis, a, b, mesh, active)| {
            active.then(|| {
                let settings = |name: &str| Settings {
                    cni_profile: name.to_string(),
                    mesh: mesh.clone(),
                };
                compare_profiles(analysis, &settings(a), &settings(b), PROFILE_CAP)
            })
        },
    );
    let show_all_modes = use_state(|| false);
    let mesh_comparison = use_memo(
        (props.analysis.clone(), props.settings.clone(), props.active),
        |(analysis, settings, active)| {
            active.then(|| compare_mesh_modes(analysis, settings, PROFILE_CAP))
        },
    );
    let baseline_diff = use_memo(
        (props.analysis.clone(), (*baseline).clone(), props.active),
        |(analysis, baseline, active)| match (baseline, active) {
            (Some(base), true) => Some(diff_baseline(base, &Baseline::of(analysis, 0, ""))),
            _ => None,
        },
    );

    let choices = profiles::choices();
    let select = |id: &'static str,
                  label: &'static str,
                  value: &str,
                  state: UseStateHandle<String>| {
        let onchange = Callback::from(move |e: Event| {
            state.set(e.target_unchecked_into::<HtmlSelectElement>().value());
        });
        html! {
            <label class="field">
                <span class="field-name">{ label }</span>
                <select {id} {onchange}>
                    for (name, ok) in choices.iter().filter(|(_, ok)| *ok) {
                        <option value={*name} selected={value == *name} disabled={!ok}>{ *name }</option>
                    }
                </select>
            </label>
        }
    };
    let set_baseline = {
        let baseline = baseline.clone();
        let analysis = props.analysis.clone();
        let generation = props.generation;
        let profile = current.clone();
        Callback::from(move |_: MouseEvent| {
            baseline.set(Some(Shared(Rc::new(Baseline::of(
                &analysis, generation, &profile,
            )))));
        })
    };
    let clear_baseline = {
        let baseline = baseline.clone();
        Callback::from(move |_: MouseEvent| baseline.set(None))
    };

    let profile_section = match comparison.as_ref() {
        None => html! { <p class="muted">{ "Open this tab to compare." }</p> },
        Some(c) => html! {
            <>
                <p class="compare-status" id="compare-profiles-status">
                    { format!("{} of {} flows differ between {a} and {b}.", c.differences.len(), c.compared) }
                    if c.compared < c.total {
                        <span class="capped">{ format!(" Large input: only the first {} of {} flows were compared (use the CLI's --compare-cni for all).", c.compared, c.total) }</span>
                    }
                </p>
                if !c.flags.is_empty() {
                    <details class="flag-diff">
                        <summary>{ format!("{} profile flags differ", c.flags.len()) }</summary>
                        <table class="compare-table">
                            <thead><tr><th scope="col">{ "flag" }</th><th scope="col">{ a.clone() }</th><th scope="col">{ b.clone() }</th></tr></thead>
                            <tbody>
                                for (flag, va, vb) in c.flags.iter() {
                                    <tr><td><code>{ *flag }</code></td><td>{ va }</td><td>{ vb }</td></tr>
                                }
                            </tbody>
                        </table>
                    </details>
                }
                { difference_table(props, "compare-profiles", &a, &b, &c.differences) }
            </>
        },
    };
    let baseline_section = match (baseline.as_ref(), baseline_diff.as_ref()) {
        (Some(base), Some(d)) => html! {
            <>
                <p class="compare-status" id="compare-baseline-status">
                    { format!(
                        "Since the baseline (analysis #{}, profile {}): {} flow{} changed verdict, {} unchanged, {} new, {} gone.",
                        base.generation, base.profile, d.changed.len(),
                        if d.changed.len() == 1 { "" } else { "s" },
                        d.unchanged, d.added.len(), d.removed.len()) }
                </p>
                { difference_table(props, "compare-baseline", "baseline", "now", &d.changed) }
                if !d.added.is_empty() || !d.removed.is_empty() {
                    <details class="flag-diff">
                        <summary>{ format!("{} new and {} gone flows", d.added.len(), d.removed.len()) }</summary>
                        <ul class="flow-list">
                            for (key, o) in d.added.iter().take(ROW_CAP) {
                                <li>{ flow_button(props, key, &o.title) }{ format!(" new: {}", o.text()) }</li>
                            }
                            for (_, o) in d.removed.iter().take(ROW_CAP) {
                                <li><span class="flow-name">{ &o.title }</span>{ format!(" gone (was {})", o.text()) }</li>
                            }
                        </ul>
                    </details>
                }
            </>
        },
        (Some(_), None) => html! { <p class="muted">{ "Open this tab to compare." }</p> },
        (None, _) => html! {
            <p class="muted" id="compare-baseline-status">
                { "No baseline yet. Set one, edit the YAML or the settings, and this lists exactly which flows changed verdict." }
            </p>
        },
    };

    let toggle_all = {
        let show_all_modes = show_all_modes.clone();
        Callback::from(move |_: Event| show_all_modes.set(!*show_all_modes))
    };
    let mesh_section = match mesh_comparison.as_ref() {
        None => html! { <p class="muted">{ "Open this tab to compare." }</p> },
        Some(c) => {
            let differing = c.rows.iter().filter(|r| r.differs).count();
            let shown: Vec<&MeshRow> = c
                .rows
                .iter()
                .filter(|r| *show_all_modes || r.differs)
                .take(ROW_CAP)
                .collect();
            html! {
                <>
                    <p class="compare-status" id="compare-mesh-status">
                        { format!("{differing} of {} flows change verdict between mesh modes.", c.compared) }
                        if c.compared < c.total {
                            <span class="capped">{ format!(" Large input: only the first {} of {} flows were compared.", c.compared, c.total) }</span>
                        }
                    </p>
                    <label class="field-inline">
                        <input type="checkbox" id="compare-mesh-all" checked={*show_all_modes} onchange={toggle_all} />
                        { " show unchanged flows too" }
                    </label>
                    if !shown.is_empty() {
                        <table class="compare-table" id="compare-mesh">
                            <thead><tr>
                                <th scope="col">{ "flow" }</th>
                                for m in MeshMode::ALL { <th scope="col">{ m.as_str() }</th> }
                            </tr></thead>
                            <tbody>
                                for r in shown.iter() {
                                    <tr class={classes!(r.differs.then_some("differs"))}>
                                        <td>{ flow_button(props, &r.key, &r.title) }</td>
                                        for o in r.outcomes.iter() { { outcome_cell(o) } }
                                    </tr>
                                }
                            </tbody>
                        </table>
                    }
                    if shown.len() == ROW_CAP {
                        <p class="muted">{ format!("Showing the first {ROW_CAP} rows.") }</p>
                    }
                </>
            }
        }
    };

    html! {
        <div class="compare" id="compare">
            <section class="compare-part" aria-labelledby="compare-profiles-title">
                <h3 id="compare-profiles-title">{ "Same YAML, two CNI profiles" }</h3>
                <div class="compare-controls">
                    { select("compare-a", "Left", &a, profile_a.clone()) }
                    { select("compare-b", "Right", &b, profile_b.clone()) }
                </div>
                { profile_section }
            </section>
            <section class="compare-part" aria-labelledby="compare-baseline-title">
                <h3 id="compare-baseline-title">{ "Before / after an edit" }</h3>
                <div class="compare-controls">
                    <button type="button" id="set-baseline" onclick={set_baseline}
                        title="Remember every flow's verdict now">{ "Set baseline" }</button>
                    if baseline.is_some() {
                        <button type="button" id="clear-baseline" onclick={clear_baseline}>{ "Clear baseline" }</button>
                    }
                </div>
                { baseline_section }
            </section>
            <section class="compare-part" aria-labelledby="compare-mesh-title">
                <h3 id="compare-mesh-title">{ "Same YAML, four mesh modes" }</h3>
                <p class="muted">{ "Every application namespace enrolled as no mesh, sidecar (istio-injection), ambient (istio.io/dataplane-mode), or ambient with a waypoint per namespace (istio.io/use-waypoint); policies unchanged." }</p>
                { mesh_section }
            </section>
        </div>
    }
}

fn flow_button(props: &CompareProps, key: &str, title: &str) -> Html {
    let selected = props.selected_flow.as_deref() == Some(key);
    let onclick = {
        let on_select = props.on_select.clone();
        let key = key.to_string();
        Callback::from(move |_: MouseEvent| on_select.emit(Some(key.clone())))
    };
    html! {
        <button type="button" class={classes!("link", "flow-name", selected.then_some("selected"))}
            data-flow={key.to_string()} title="Show this flow's trace" {onclick}>{ title }</button>
    }
}

fn outcome_cell(o: &Outcome) -> Html {
    html! {
        <td class={classes!("verdict", o.verdict.as_str())}>
            <span class={classes!("final", o.verdict.as_str())}>{ verdict_mark(o.verdict) }</span>
            { format!(" {}", o.text()) }
        </td>
    }
}

fn difference_table(
    props: &CompareProps,
    id: &'static str,
    left: &str,
    right: &str,
    differences: &[Difference],
) -> Html {
    if differences.is_empty() {
        return html! { <p class="ok" {id}>{ "No flow changes verdict." }</p> };
    }
    html! {
        <div class="table-scroll">
            <table class="compare-table" {id}>
                <thead>
                    <tr>
                        <th scope="col">{ "flow" }</th>
                        <th scope="col">{ left.to_string() }</th>
                        <th scope="col">{ right.to_string() }</th>
                    </tr>
                </thead>
                <tbody>
                    for d in differences.iter().take(ROW_CAP) {
                        <tr data-flow={d.key.clone()}>
                            <td>{ flow_button(props, &d.key, &d.before.title) }</td>
                            { outcome_cell(&d.before) }
                            { outcome_cell(&d.after) }
                        </tr>
                    }
                </tbody>
            </table>
            if differences.len() > ROW_CAP {
                <p class="muted">{ format!("… and {} more.", differences.len() - ROW_CAP) }</p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios;

    fn analyse(id: &str, profile: &str) -> Analysis {
        let yaml = scenarios::find(id).map_or("", |s| s.yaml);
        let settings = Settings {
            cni_profile: profile.to_string(),
            ..Settings::default()
        };
        engine::analyze_with(
            &[engine::Source::new("editor", yaml)],
            &analyze_options(&settings),
        )
    }

    #[test]
    fn probes_differ_between_generic_and_calico_iptables() {
        let analysis = analyse("ambient-probes", "generic");
        let a = Settings::default();
        let b = Settings {
            cni_profile: "calico-iptables".into(),
            ..Settings::default()
        };
        let c = compare_profiles(&analysis, &a, &b, PROFILE_CAP);
        assert_eq!(c.compared, c.total);
        assert!(
            c.differences.iter().any(|d| d.key.starts_with("probe|")
                && d.before.verdict == Decision::Deny
                && d.after.verdict == Decision::Allow),
            "{:?}",
            c.differences
        );
        assert!(c
            .flags
            .iter()
            .any(|(f, _, _)| *f == "probeSnatCountsAsNode"));
        // The same profile on both sides: nothing differs.
        assert!(compare_profiles(&analysis, &a, &a, PROFILE_CAP)
            .differences
            .is_empty());
        // The cap is honoured and reported through `compared`.
        let capped = compare_profiles(&analysis, &a, &b, 2);
        assert_eq!(capped.compared, 2);
        assert!(capped.total > 2);
    }

    #[test]
    fn mesh_modes_show_the_ambient_15008_flip() {
        let a = analyse("ambient-15008", "generic");
        let c = compare_mesh_modes(&a, &Settings::default(), PROFILE_CAP);
        assert_eq!(c.compared, a.table.len());
        let flip = c.rows.iter().find(|r| {
            r.differs
                && r.outcomes[0].verdict == Decision::Allow
                && r.outcomes[2].verdict == Decision::Deny
                && r.outcomes[2].decided_by == Some(Layer::NpIngress)
        });
        assert!(
            flip.is_some(),
            "{:#?}",
            c.rows.iter().filter(|r| r.differs).collect::<Vec<_>>()
        );
        let capped = compare_mesh_modes(&a, &Settings::default(), 2);
        assert_eq!((capped.compared, capped.rows.len()), (2, 2));
    }

    #[test]
    fn baseline_diff_lists_exactly_the_changed_flows() {
        let before = analyse("ambient-probes", "generic");
        let after = analyse("ambient-probes", "calico-iptables");
        let base = Baseline::of(&before, 3, "generic");
        let d = diff_baseline(&base, &Baseline::of(&after, 4, "calico-iptables"));
        assert!(!d.changed.is_empty());
        assert!(d
            .changed
            .iter()
            .all(|c| c.before.verdict != c.after.verdict));
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.changed.len() + d.unchanged, before.table.len());
        let same = diff_baseline(&base, &Baseline::of(&before, 5, "generic"));
        assert!(same.changed.is_empty());
        // A different input: flows appear and disappear.
        let other = analyse("two-namespaces", "generic");
        let d = diff_baseline(&base, &Baseline::of(&other, 6, "generic"));
        assert!(!d.added.is_empty() && !d.removed.is_empty());
    }
}
