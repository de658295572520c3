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
//! (`flowview::flow_key`) and arranges them. The profile and mesh comparisons are computed only
//! while the pane is visible, in slices of about `analysis_job::SLICE_MS` with a progress note
//! ([`ProfileJob`], [`MeshJob`], [`run_sliced`]); over [`LAZY_FLOWS`] flows each one waits for
//! its section's "Compare" button, and only the first [`PROFILE_CAP`] flows are compared (the
//! pane says so).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use engine::flows::{self, Flow};
use engine::model::Cluster;
use engine::verdict::{Decision, Layer};
use engine::Analysis;
use gloo::timers::callback::Timeout;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use engine::whatif::{with_mesh_mode, MeshMode};

use crate::analysis_job::SLICE_MS;
use crate::components::matrix::verdict_mark;
use crate::flowview;
use crate::profiles;
use crate::state::{analyze_options, Settings, Shared};

/// At most this many flows are judged twice for the profile comparison.
pub const PROFILE_CAP: usize = 2000;
/// Over this many flows, each comparison runs only when its "Compare" button is pressed.
pub const LAZY_FLOWS: usize = 400;
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

/// Work that runs a few flows at a time (see [`run_sliced`]).
pub trait Sliced {
    /// Judge up to `budget` more units of work.
    fn step(&mut self, budget: usize);
    /// (units done, units in all).
    fn progress(&self) -> (usize, usize);
    fn is_done(&self) -> bool {
        let (done, total) = self.progress();
        done >= total
    }
}

/// The profile comparison, a few flows at a time.
pub struct ProfileJob {
    analysis: Shared<Analysis>,
    options_a: flows::Options,
    options_b: flows::Options,
    next: usize,
    result: ProfileComparison,
}

impl ProfileJob {
    pub fn new(analysis: Shared<Analysis>, a: &Settings, b: &Settings, cap: usize) -> ProfileJob {
        let result = ProfileComparison {
            compared: analysis.table.len().min(cap),
            total: analysis.table.len(),
            differences: Vec::new(),
            flags: flag_differences(&a.cni_profile, &b.cni_profile),
        };
        ProfileJob {
            options_a: analyze_options(a).flow_options,
            options_b: analyze_options(b).flow_options,
            analysis,
            next: 0,
            result,
        }
    }

    pub fn finish(self) -> ProfileComparison {
        self.result
    }
}

impl Sliced for ProfileJob {
    fn step(&mut self, budget: usize) {
        let cluster = &self.analysis.cluster;
        let table = &self.analysis.table;
        let end = self.next.saturating_add(budget).min(self.result.compared);
        for id in self.next..end {
            let Some(spec) = table.spec(id) else {
                continue;
            };
            let fa = flows::evaluate(cluster, id, spec.clone(), &self.options_a);
            let fb = flows::evaluate(cluster, id, spec, &self.options_b);
            if fa.verdict != fb.verdict {
                self.result.differences.push(Difference {
                    key: flowview::flow_key(cluster, &fa),
                    before: Outcome::of(cluster, &fa),
                    after: Outcome::of(cluster, &fb),
                });
            }
        }
        self.next = end;
    }

    fn progress(&self) -> (usize, usize) {
        (self.next, self.result.compared)
    }
}

/// Every flow of `analysis` (up to `cap`) judged under both settings; the differing ones.
pub fn compare_profiles(
    analysis: &Shared<Analysis>,
    a: &Settings,
    b: &Settings,
    cap: usize,
) -> ProfileComparison {
    let mut job = ProfileJob::new(analysis.clone(), a, b, cap);
    job.step(usize::MAX);
    job.finish()
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

/// The mesh-mode comparison, a few units at a time: first the four rewritten clusters (one
/// unit each), then one unit per flow.
pub struct MeshJob {
    analysis: Shared<Analysis>,
    options: flows::Options,
    clusters: Vec<Cluster>,
    next: usize,
    result: MeshComparison,
}

impl MeshJob {
    pub fn new(analysis: Shared<Analysis>, settings: &Settings, cap: usize) -> MeshJob {
        let result = MeshComparison {
            compared: analysis.table.len().min(cap),
            total: analysis.table.len(),
            rows: Vec::new(),
        };
        MeshJob {
            options: analyze_options(settings).flow_options,
            analysis,
            clusters: Vec::with_capacity(MeshMode::ALL.len()),
            next: 0,
            result,
        }
    }

    pub fn finish(self) -> MeshComparison {
        self.result
    }
}

impl Sliced for MeshJob {
    fn step(&mut self, mut budget: usize) {
        let cluster = &self.analysis.cluster;
        let table = &self.analysis.table;
        while budget > 0 && self.clusters.len() < MeshMode::ALL.len() {
            let Some(mode) = MeshMode::ALL.get(self.clusters.len()) else {
                break;
            };
            self.clusters.push(with_mesh_mode(cluster, *mode));
            budget -= 1;
        }
        let end = self.next.saturating_add(budget).min(self.result.compared);
        for id in self.next..end {
            let Some(spec) = table.spec(id) else {
                continue;
            };
            let outcomes: Vec<Outcome> = self
                .clusters
                .iter()
                .map(|c| Outcome::of(c, &flows::evaluate(c, id, spec.clone(), &self.options)))
                .collect();
            let differs = outcomes.windows(2).any(|w| w[0].verdict != w[1].verdict);
            let Some(shallow) = table.shallow(id) else {
                continue;
            };
            self.result.rows.push(MeshRow {
                key: flowview::flow_key(cluster, &shallow),
                title: engine::explain::flow_title(cluster, &shallow),
                outcomes,
                differs,
            });
        }
        self.next = end;
    }

    fn progress(&self) -> (usize, usize) {
        (
            self.clusters.len() + self.next,
            MeshMode::ALL.len() + self.result.compared,
        )
    }
}

/// Every flow of `analysis` (up to `cap`) judged with the cluster rewritten to each mesh mode.
/// Existing workloads keep their ids in the rewrite, so the same flow spec is judged each time.
pub fn compare_mesh_modes(
    analysis: &Shared<Analysis>,
    settings: &Settings,
    cap: usize,
) -> MeshComparison {
    let mut job = MeshJob::new(analysis.clone(), settings, cap);
    job.step(usize::MAX);
    job.finish()
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Runs `job` in slices of about [`SLICE_MS`] with a `setTimeout(0)` between them (as
/// `analysis_job` does), reporting the percentage done after each slice and the job when
/// finished. Stops silently once `token` no longer holds `run`. The first slice runs at once,
/// so a small job finishes in the calling event.
fn run_sliced<J: Sliced + 'static>(
    mut job: J,
    token: Rc<Cell<u64>>,
    run: u64,
    on_progress: Callback<u8>,
    on_done: Callback<J>,
) {
    if token.get() != run {
        return;
    }
    let start = now();
    while !job.is_done() && now() - start < SLICE_MS {
        job.step(1);
    }
    if job.is_done() {
        on_done.emit(job);
    } else {
        let (done, total) = job.progress();
        let pct = (done.saturating_mul(100) / total.max(1)).min(99) as u8;
        on_progress.emit(pct);
        Timeout::new(0, move || run_sliced(job, token, run, on_progress, on_done)).forget();
    }
}

/// The state of one lazily computed, sliced comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Lazy<T> {
    /// Not asked for (large input, the section's "Compare" not pressed, or the tab hidden).
    Idle,
    /// Running; percent done.
    Running(u8),
    Done(Rc<T>),
}

/// Runs the job `make` builds whenever `deps` change and `wanted` holds, in slices; cancels a
/// running one when they change again or the component goes away.
#[hook]
fn use_sliced<D, J, T, F>(deps: D, wanted: bool, make: F) -> Lazy<T>
where
    D: PartialEq + Clone + 'static,
    J: Sliced + 'static,
    T: Clone + 'static,
    F: FnOnce(&D) -> J + 'static,
    J: Into<T>,
{
    let state = use_state(|| Lazy::<T>::Idle);
    let token = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    let token = Rc::clone(&token.borrow());
    {
        let state = state.clone();
        use_effect_with((deps, wanted), move |(deps, wanted)| {
            let run = token.get().wrapping_add(1);
            token.set(run);
            if *wanted {
                state.set(Lazy::Running(0));
                let on_progress = {
                    let state = state.clone();
                    Callback::from(move |p: u8| state.set(Lazy::Running(p)))
                };
                let on_done = {
                    let state = state.clone();
                    Callback::from(move |job: J| state.set(Lazy::Done(Rc::new(job.into()))))
                };
                run_sliced(make(deps), Rc::clone(&token), run, on_progress, on_done);
            } else {
                state.set(Lazy::Idle);
            }
            move || token.set(token.get().wrapping_add(1))
        });
    }
    (*state).clone()
}

impl From<ProfileJob> for ProfileComparison {
    fn from(job: ProfileJob) -> ProfileComparison {
        job.finish()
    }
}

impl From<MeshJob> for MeshComparison {
    fn from(job: MeshJob) -> MeshComparison {
        job.finish()
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
    let large = props.analysis.table.len() > LAZY_FLOWS;
    let want_profiles = use_state_eq(|| false);
    let want_mesh = use_state_eq(|| false);
    let comparison: Lazy<ProfileComparison> = use_sliced(
        (
            props.analysis.clone(),
            a.clone(),
            b.clone(),
            props.settings.mesh.clone(),
        ),
        props.active && (!large || *want_profiles),
        |(analysis, a, b, mesh)| {
            let settings = |name: &str| Settings {
                cni_profile: name.to_string(),
                mesh: mesh.clone(),
            };
            ProfileJob::new(analysis.clone(), &settings(a), &settings(b), PROFILE_CAP)
        },
    );
    let show_all_modes = use_state(|| false);
    let mesh_comparison: Lazy<MeshComparison> = use_sliced(
        (props.analysis.clone(), props.settings.clone()),
        props.active && (!large || *want_mesh),
        |(analysis, settings)| MeshJob::new(analysis.clone(), settings, PROFILE_CAP),
    );
    let ask = |state: &UseStateHandle<bool>| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.set(true))
    };
    let idle = |id: &'static str, what: String, onclick: Callback<MouseEvent>| {
        if large && props.active {
            html! {
                <p class="muted">
                    { format!("Large input ({} flows): {what} ", props.analysis.table.len()) }
                    <button type="button" {id} {onclick}>{ "Compare" }</button>
                </p>
            }
        } else {
            html! { <p class="muted">{ "Open this tab to compare." }</p> }
        }
    };
    let running = |p: u8| html! { <p class="muted compare-progress" aria-live="polite">{ format!("comparing… {p}%") }</p> };
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

    let profile_section = match &comparison {
        Lazy::Idle => idle(
            "compare-profiles-run",
            format!("judges up to {PROFILE_CAP} flows under both profiles, a few at a time."),
            ask(&want_profiles),
        ),
        Lazy::Running(p) => running(*p),
        Lazy::Done(c) => html! {
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
    let mesh_section = match &mesh_comparison {
        Lazy::Idle => idle(
            "compare-mesh-run",
            format!("judges up to {PROFILE_CAP} flows under the four mesh modes, a few at a time."),
            ask(&want_mesh),
        ),
        Lazy::Running(p) => running(*p),
        Lazy::Done(c) => {
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

    fn analyse(id: &str, profile: &str) -> Shared<Analysis> {
        let yaml = scenarios::find(id).map_or("", |s| s.yaml);
        let settings = Settings {
            cni_profile: profile.to_string(),
            ..Settings::default()
        };
        Shared(Rc::new(engine::analyze_with(
            &[engine::Source::new("editor", yaml)],
            &analyze_options(&settings),
        )))
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
    fn sliced_jobs_match_the_one_shot_comparisons() {
        let a = analyse("ambient-probes", "generic");
        let other = Settings {
            cni_profile: "calico-iptables".into(),
            ..Settings::default()
        };
        let mut job = ProfileJob::new(a.clone(), &Settings::default(), &other, PROFILE_CAP);
        let mut steps = 0;
        while !job.is_done() {
            job.step(1);
            steps += 1;
        }
        assert_eq!(steps, a.table.len());
        assert_eq!(
            job.finish(),
            compare_profiles(&a, &Settings::default(), &other, PROFILE_CAP)
        );
        let mut job = MeshJob::new(a.clone(), &Settings::default(), PROFILE_CAP);
        assert_eq!(job.progress(), (0, MeshMode::ALL.len() + a.table.len()));
        while !job.is_done() {
            job.step(3);
        }
        assert_eq!(
            job.finish(),
            compare_mesh_modes(&a, &Settings::default(), PROFILE_CAP)
        );
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
