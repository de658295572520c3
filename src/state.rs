//! App state and its reducer. Pure: no web APIs, so it runs in a native `#[test]`.
//! Analysis is derived here whenever the text changes, so every component sees one
//! consistent snapshot (STYLE.md §5). Texts over [`ASYNC_BYTES`] are not analysed in the
//! reducer: the state keeps the previous analysis, marks itself `pending`, and the page's
//! driver (`analysis_job.rs`) runs the engine in slices and answers with
//! [`Action::AnalysisDone`] for that generation (an older generation's answer is dropped). Browser effects (URL, storage, clipboard) live in
//! `app.rs` and `storage.rs` and only read this state or dispatch actions.

use std::rc::Rc;

use engine::{Analysis, LineIndex, Source};
use yew::Reducible;

use crate::embed::EmbedFlags;
use crate::profiles::DEFAULT_PROFILE;
use crate::scenarios;
use crate::share::{normalize_newlines, Snapshot};

/// An `Rc` compared by pointer: props holding one re-render only when the value was replaced,
/// which the reducer does exactly when it re-analyses.
#[derive(Debug)]
pub struct Shared<T>(pub Rc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Name of the editor buffer in diagnostics.
pub const EDITOR_SOURCE: &str = "editor";

/// Texts longer than this (bytes) are analysed in slices by the page, not in the reducer.
pub const ASYNC_BYTES: usize = 64 * 1024;
/// Edits of texts longer than this (bytes) wait this long for the next keystroke first.
pub const DEBOUNCE_BYTES: usize = 200 * 1024;
pub const DEBOUNCE_MS: u32 = 150;

/// How many whole-text replacements Undo remembers.
pub const UNDO_DEPTH: usize = 50;

/// Analysis settings chosen in the Settings pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// CNI profile name (see `profiles.rs`).
    pub cni_profile: String,
    pub mesh: MeshOptions,
}

/// Mesh-wide options: the engine's (root namespace, trust domain, istiod flags), with upstream
/// defaults; kept in share links as `mesh.*` keys.
pub use engine::istio::MeshOptions;

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cni_profile: DEFAULT_PROFILE.to_string(),
            mesh: MeshOptions::default(),
        }
    }
}

/// A request to show a byte range of the editor text: select it and mark its lines.
/// `seq` makes two requests for the same range distinct, so the editor re-applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reveal {
    pub start: u32,
    pub end: u32,
    pub seq: u64,
}

/// What Undo restores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndoEntry {
    pub text: Rc<str>,
    pub scenario: Rc<str>,
    pub expectations: Rc<str>,
}

#[derive(Clone, Debug)]
pub struct State {
    pub text: Rc<str>,
    pub analysis: Shared<Analysis>,
    pub line_index: Shared<LineIndex>,
    /// Incremented on every analysis; the page shows it so tests can see a re-analysis.
    pub generation: u64,
    /// The analysis is of an earlier text or settings; the driver is computing this
    /// generation's (see the module header).
    pub pending: bool,
    /// The library scenario the text came from (may be edited since); empty if none.
    pub scenario: Rc<str>,
    pub selected_flow: Option<Rc<str>>,
    pub selected_node: Option<Rc<str>>,
    pub settings: Rc<Settings>,
    pub expectations: Rc<str>,
    pub embed: Rc<EmbedFlags>,
    pub undo: Rc<Vec<UndoEntry>>,
    pub reveal: Option<Reveal>,
    /// A message for the user (a link that could not be opened, a file that could not be read).
    pub notice: Option<Rc<str>>,
}

pub enum Action {
    /// The user typed: re-analyse; the textarea has its own undo for typing.
    Edit(String),
    /// Replace the whole text (a lint fix): undoable; the scenario stays the current one.
    Replace(String),
    /// Open a file (load button, drop): undoable; the text is no longer a library scenario.
    Open(String),
    Undo,
    LoadScenario(String),
    /// Back to the current scenario's text and expectations (undoable).
    Reset,
    /// Open a share link or an autosave.
    Restore(Snapshot),
    SelectFlow(Option<String>),
    SelectNode(Option<String>),
    SetProfile(String),
    /// Change the mesh-wide options (re-analyses).
    SetMesh(MeshOptions),
    SetExpectations(String),
    /// Select a byte range in the editor (a diagnostic, a rule of a trace).
    Reveal {
        start: u32,
        end: u32,
    },
    Notice(Option<String>),
    /// The sliced analysis of this generation finished (ignored when the state moved on).
    AnalysisDone(u64, Rc<Analysis>),
}

impl State {
    pub fn new(text: &str) -> State {
        State::with_embed(text, EmbedFlags::default())
    }

    pub fn with_embed(text: &str, embed: EmbedFlags) -> State {
        let scenario = scenarios::SCENARIOS
            .iter()
            .find(|s| s.yaml == text)
            .copied();
        let text: Rc<str> = Rc::from(text);
        let settings = Rc::new(Settings::default());
        State {
            analysis: Shared(Rc::new(analyze_text(&text, &settings))),
            line_index: Shared(Rc::new(LineIndex::new(&text))),
            text,
            generation: 0,
            pending: false,
            scenario: Rc::from(scenario.map_or("", |s| s.id)),
            selected_flow: None,
            selected_node: None,
            settings,
            expectations: Rc::from(scenario.map_or("", |s| s.expectations)),
            embed: Rc::new(embed),
            undo: Rc::new(Vec::new()),
            reveal: None,
            notice: None,
        }
    }

    /// What a share link or the autosave slot holds.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            yaml: self.text.to_string(),
            scenario: self.scenario.to_string(),
            profile: self.settings.cni_profile.clone(),
            flow: self.selected_flow.as_deref().map(str::to_string),
            node: self.selected_node.as_deref().map(str::to_string),
            expectations: self.expectations.to_string(),
            mesh: self.settings.mesh.clone(),
        }
    }

    /// The current scenario, if the text came from the library.
    pub fn current_scenario(&self) -> Option<&'static scenarios::Scenario> {
        scenarios::find(&self.scenario)
    }

    /// True when edits are not allowed (a read-only embed).
    pub fn readonly(&self) -> bool {
        self.embed.enabled && self.embed.readonly
    }

    fn with_text(&self, text: &str) -> State {
        let text: Rc<str> = Rc::from(text);
        let pending = text.len() > ASYNC_BYTES;
        State {
            analysis: if pending {
                self.analysis.clone()
            } else {
                Shared(Rc::new(analyze_text(&text, &self.settings)))
            },
            line_index: Shared(Rc::new(LineIndex::new(&text))),
            text,
            generation: self.generation + 1,
            pending,
            reveal: None,
            ..self.clone()
        }
    }

    fn undo_entry(&self) -> UndoEntry {
        UndoEntry {
            text: Rc::clone(&self.text),
            scenario: Rc::clone(&self.scenario),
            expectations: Rc::clone(&self.expectations),
        }
    }

    fn pushed_undo(&self) -> Rc<Vec<UndoEntry>> {
        let mut undo = (*self.undo).clone();
        undo.push(self.undo_entry());
        if undo.len() > UNDO_DEPTH {
            undo.remove(0);
        }
        Rc::new(undo)
    }

    fn load_scenario(&self, scenario: &scenarios::Scenario) -> State {
        State {
            scenario: Rc::from(scenario.id),
            expectations: Rc::from(scenario.expectations),
            selected_flow: None,
            selected_node: None,
            undo: self.pushed_undo(),
            notice: None,
            ..self.with_text(scenario.yaml)
        }
    }
}

impl Default for State {
    fn default() -> State {
        State::new(scenarios::default_scenario().yaml)
    }
}

/// The one place the app calls the engine. An unknown profile name falls back to the engine's
/// default (the Settings pane only offers names the engine knows). EXTENSION POINT: pass the
/// mesh options once the engine takes them.
pub fn analyze_text(text: &str, settings: &Settings) -> Analysis {
    engine::analyze_with(
        &[Source::new(EDITOR_SOURCE, text)],
        &analyze_options(settings),
    )
}

/// The flow options for a profile name: the engine's own mapping, else the profile table's
/// NetworkPolicy settings (`engine::profiles`), else the default.
fn flow_options(profile: &str) -> engine::flows::Options {
    engine::flows::Options::with_cni(profile)
        .or_else(|| {
            engine::profiles::profile(profile).map(|p| engine::flows::Options {
                np_profile: p.np_profile(),
                ..engine::flows::Options::default()
            })
        })
        .unwrap_or_default()
}

/// The engine options for these settings (also used to check expectations).
pub fn analyze_options(settings: &Settings) -> engine::AnalyzeOptions {
    engine::AnalyzeOptions {
        flows: true,
        flow_options: engine::flows::Options {
            mesh: settings.mesh.clone(),
            ..flow_options(&settings.cni_profile)
        },
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let editable = !self.readonly();
        match action {
            Action::Edit(text) if editable => {
                if *self.text == *text {
                    return self;
                }
                Rc::new(self.with_text(&text))
            }
            Action::Replace(text) if editable => {
                let text = normalize_newlines(&text);
                if *self.text == *text {
                    return self;
                }
                Rc::new(State {
                    undo: self.pushed_undo(),
                    ..self.with_text(&text)
                })
            }
            Action::Open(text) if editable => {
                let text = normalize_newlines(&text);
                Rc::new(State {
                    undo: self.pushed_undo(),
                    scenario: Rc::from(""),
                    selected_flow: None,
                    selected_node: None,
                    ..self.with_text(&text)
                })
            }
            Action::Undo if editable => {
                let mut undo = (*self.undo).clone();
                let Some(entry) = undo.pop() else {
                    return self;
                };
                Rc::new(State {
                    undo: Rc::new(undo),
                    scenario: entry.scenario,
                    expectations: entry.expectations,
                    ..self.with_text(&entry.text)
                })
            }
            Action::LoadScenario(id) => {
                let Some(scenario) = scenarios::find(&id) else {
                    return self;
                };
                Rc::new(self.load_scenario(scenario))
            }
            Action::Reset => {
                let scenario = self
                    .current_scenario()
                    .unwrap_or_else(scenarios::default_scenario);
                Rc::new(self.load_scenario(scenario))
            }
            Action::Restore(snapshot) => {
                let profile = if snapshot.profile.is_empty() {
                    DEFAULT_PROFILE.to_string()
                } else {
                    snapshot.profile
                };
                let settings = Rc::new(Settings {
                    cni_profile: profile,
                    mesh: snapshot.mesh,
                });
                let base = State {
                    settings,
                    ..(*self).clone()
                };
                let text = normalize_newlines(&snapshot.yaml);
                Rc::new(State {
                    scenario: Rc::from(snapshot.scenario.as_str()),
                    expectations: Rc::from(snapshot.expectations.as_str()),
                    selected_flow: snapshot.flow.map(Rc::from),
                    selected_node: snapshot.node.map(Rc::from),
                    ..base.with_text(&text)
                })
            }
            Action::SelectFlow(flow) => {
                if self.selected_flow.as_deref() == flow.as_deref() {
                    return self;
                }
                Rc::new(State {
                    selected_flow: flow.map(Rc::from),
                    ..(*self).clone()
                })
            }
            Action::SelectNode(node) => {
                if self.selected_node.as_deref() == node.as_deref() {
                    return self;
                }
                Rc::new(State {
                    selected_node: node.map(Rc::from),
                    ..(*self).clone()
                })
            }
            Action::SetProfile(name) if editable => {
                if self.settings.cni_profile == name {
                    return self;
                }
                let settings = Rc::new(Settings {
                    cni_profile: name,
                    ..(*self.settings).clone()
                });
                let next = State {
                    settings,
                    ..(*self).clone()
                };
                // The verdicts depend on the profile: analyse again.
                let text = Rc::clone(&next.text);
                Rc::new(next.with_text(&text))
            }
            Action::SetMesh(mesh) if editable => {
                if self.settings.mesh == mesh {
                    return self;
                }
                let settings = Rc::new(Settings {
                    mesh,
                    ..(*self.settings).clone()
                });
                let next = State {
                    settings,
                    ..(*self).clone()
                };
                let text = Rc::clone(&next.text);
                Rc::new(next.with_text(&text))
            }
            Action::SetExpectations(text) if editable => {
                if *self.expectations == *text {
                    return self;
                }
                Rc::new(State {
                    expectations: Rc::from(text.as_str()),
                    ..(*self).clone()
                })
            }
            Action::Reveal { start, end } => Rc::new(State {
                reveal: Some(Reveal {
                    start,
                    end,
                    seq: self.reveal.map_or(1, |r| r.seq + 1),
                }),
                ..(*self).clone()
            }),
            Action::AnalysisDone(generation, analysis) => {
                if !self.pending || generation != self.generation {
                    return self;
                }
                Rc::new(State {
                    analysis: Shared(analysis),
                    pending: false,
                    ..(*self).clone()
                })
            }
            Action::Notice(notice) => Rc::new(State {
                notice: notice.map(|n| Rc::from(n.as_str())),
                ..(*self).clone()
            }),
            // Edits in a read-only embed.
            Action::Edit(_)
            | Action::Replace(_)
            | Action::Open(_)
            | Action::Undo
            | Action::SetProfile(_)
            | Action::SetMesh(_)
            | Action::SetExpectations(_) => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(state: Rc<State>, action: Action) -> Rc<State> {
        state.reduce(action)
    }

    #[test]
    fn default_state_analyses_the_default_scenario() {
        let state = State::default();
        let names: Vec<_> = state
            .analysis
            .cluster
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert!(
            names.contains(&"np-test-1") && names.contains(&"np-test-2"),
            "{names:?}"
        );
        assert_eq!(state.analysis.cluster.network_policies.len(), 1);
        assert_eq!(&*state.scenario, "two-namespaces");
        assert!(state.expectations.contains("deny at np-ingress"));
    }

    #[test]
    fn edit_reanalyses_and_same_text_is_a_no_op() {
        let state = Rc::new(State::default());
        let same = state.clone().reduce(Action::Edit(state.text.to_string()));
        assert!(Rc::ptr_eq(&state, &same));
        let next = state.reduce(Action::Edit(
            "kind: Namespace\nmetadata: {name: a}\n".into(),
        ));
        assert_eq!(next.generation, 1);
        assert_eq!(next.analysis.cluster.namespaces.len(), 1);
        assert!(next.undo.is_empty(), "typing is not on the undo stack");
    }

    #[test]
    fn broken_yaml_gives_a_positioned_error() {
        let state =
            Rc::new(State::default()).reduce(Action::Edit("kind: Namespace\nmetadata: [\n".into()));
        let d = state.analysis.diagnostics.first().expect("a diagnostic");
        assert_eq!(d.severity, engine::Severity::Error);
        let pos = state.line_index.line_col(&state.text, d.span.start);
        assert!(pos.line >= 2, "{pos}");
    }

    #[test]
    fn replace_is_undoable_and_normalises_newlines() {
        let s0 = Rc::new(State::default());
        let original = s0.text.clone();
        let s1 = reduce(s0, Action::Replace("a: 1\r\nb: 2\r\n".into()));
        assert_eq!(&*s1.text, "a: 1\nb: 2\n");
        let s2 = reduce(s1, Action::Replace("c: 3\n".into()));
        assert_eq!(s2.undo.len(), 2);
        let s3 = reduce(s2, Action::Undo);
        assert_eq!(&*s3.text, "a: 1\nb: 2\n");
        let s4 = reduce(s3, Action::Undo);
        assert_eq!(s4.text, original);
        let s5 = reduce(s4.clone(), Action::Undo);
        assert!(Rc::ptr_eq(&s4, &s5), "empty undo stack is a no-op");
    }

    #[test]
    fn open_leaves_the_library_and_is_undoable() {
        let s0 = Rc::new(State::default());
        let s1 = reduce(
            s0.clone(),
            Action::Open("kind: Namespace\r\nmetadata: {name: f}\r\n".into()),
        );
        assert_eq!(&*s1.scenario, "");
        assert!(s1.current_scenario().is_none());
        assert_eq!(&*s1.text, "kind: Namespace\nmetadata: {name: f}\n");
        let s2 = reduce(s1, Action::Undo);
        assert_eq!(s2.text, s0.text);
        assert_eq!(s2.scenario, s0.scenario);
        // Reset from a file goes back to the default scenario.
        let s3 = reduce(reduce(s2, Action::Open("a: 1\n".into())), Action::Reset);
        assert_eq!(&*s3.scenario, scenarios::default_scenario().id);
    }

    #[test]
    fn undo_depth_is_bounded() {
        let mut s = Rc::new(State::default());
        for i in 0..(UNDO_DEPTH + 10) {
            s = reduce(s, Action::Replace(format!("n: {i}\n")));
        }
        assert_eq!(s.undo.len(), UNDO_DEPTH);
    }

    #[test]
    fn scenario_load_sets_expectations_and_reset_restores_it() {
        let s = reduce(
            Rc::new(State::default()),
            Action::LoadScenario("ambient-15008".into()),
        );
        assert_eq!(&*s.scenario, "ambient-15008");
        assert!(s.expectations.contains("demo/client"));
        let edited = reduce(
            s,
            Action::Edit("kind: Namespace\nmetadata: {name: z}\n".into()),
        );
        let edited = reduce(edited, Action::SetExpectations("mine".into()));
        let reset = reduce(edited, Action::Reset);
        assert_eq!(
            &*reset.text,
            scenarios::find("ambient-15008").map_or("", |s| s.yaml)
        );
        assert!(reset.expectations.contains("demo/client"));
        // Reset is undoable, and undo brings back the edited expectations too.
        let undone = reduce(reset, Action::Undo);
        assert_eq!(&*undone.expectations, "mine");
        let unknown = reduce(undone.clone(), Action::LoadScenario("nope".into()));
        assert!(Rc::ptr_eq(&undone, &unknown));
    }

    #[test]
    fn snapshot_restore_round_trip() {
        let s = reduce(
            Rc::new(State::default()),
            Action::LoadScenario("stray-dash".into()),
        );
        let s = reduce(s, Action::SetProfile("cilium".into()));
        let s = reduce(s, Action::SelectFlow(Some("flow-1".into())));
        let s = reduce(s, Action::SelectNode(Some("w:fe/web".into())));
        let s = reduce(s, Action::SetExpectations("x -> y:1 allow\n".into()));
        let snap = s.snapshot();
        let restored = reduce(Rc::new(State::default()), Action::Restore(snap.clone()));
        assert_eq!(restored.snapshot(), snap);
        assert_eq!(restored.settings.cni_profile, "cilium");
        assert_eq!(
            restored.analysis.cluster.namespaces.len(),
            s.analysis.cluster.namespaces.len()
        );
    }

    #[test]
    fn readonly_embed_ignores_edits_but_allows_selection() {
        let embed = EmbedFlags::from_query("embed=1&readonly=1");
        let s = Rc::new(State::with_embed(scenarios::default_scenario().yaml, embed));
        for action in [
            Action::Edit("x".into()),
            Action::Replace("x".into()),
            Action::Undo,
            Action::SetProfile("cilium".into()),
            Action::SetExpectations("x".into()),
        ] {
            let next = reduce(s.clone(), action);
            assert!(Rc::ptr_eq(&s, &next));
        }
        let next = reduce(s.clone(), Action::SelectNode(Some("w:a/b".into())));
        assert_eq!(next.selected_node.as_deref(), Some("w:a/b"));
        let next = reduce(next, Action::SelectFlow(Some("f".into())));
        assert_eq!(next.selected_flow.as_deref(), Some("f"));
    }

    #[test]
    fn reveal_requests_are_distinct() {
        let s = reduce(
            Rc::new(State::default()),
            Action::Reveal { start: 1, end: 4 },
        );
        let first = s.reveal.expect("reveal");
        let s = reduce(s, Action::Reveal { start: 1, end: 4 });
        assert_ne!(s.reveal, Some(first));
        // Editing clears the request (its offsets refer to the old text).
        let s = reduce(s, Action::Edit("a: 1\n".into()));
        assert!(s.reveal.is_none());
    }

    #[test]
    fn mesh_options_reanalyse_and_travel_in_snapshots() {
        let s = Rc::new(State::default());
        let mesh = MeshOptions {
            trust_domain: "example.org".into(),
            auto_allow_waypoint_policy: true,
            ..MeshOptions::default()
        };
        let s = reduce(s, Action::SetMesh(mesh.clone()));
        assert_eq!(s.generation, 1);
        assert_eq!(analyze_options(&s.settings).flow_options.mesh, mesh);
        let same = reduce(s.clone(), Action::SetMesh(mesh.clone()));
        assert!(Rc::ptr_eq(&s, &same));
        let restored = reduce(Rc::new(State::default()), Action::Restore(s.snapshot()));
        assert_eq!(restored.settings.mesh, mesh);
        // A snapshot without mesh options (an old link) restores the defaults.
        let old = crate::share::Snapshot {
            mesh: MeshOptions::default(),
            ..s.snapshot()
        };
        let restored = reduce(restored, Action::Restore(old));
        assert_eq!(restored.settings.mesh, MeshOptions::default());
    }

    #[test]
    fn large_edits_wait_for_the_driver_and_stale_results_are_dropped() {
        let s0 = Rc::new(State::default());
        let mut big = String::from("kind: Namespace\nmetadata: {name: big}\n");
        while big.len() <= ASYNC_BYTES {
            big.push_str("# padding padding padding padding padding padding padding\n");
        }
        let s1 = reduce(s0.clone(), Action::Edit(big.clone()));
        assert!(s1.pending);
        assert_eq!(s1.generation, 1);
        assert!(
            s1.analysis == s0.analysis,
            "the previous results stay visible"
        );
        let s2 = reduce(s1.clone(), Action::Edit(format!("{big}# more\n")));
        assert_eq!(s2.generation, 2);
        // The answer for generation 1 arrives late: ignored.
        let old = Rc::new(analyze_text(&big, &s1.settings));
        let same = reduce(s2.clone(), Action::AnalysisDone(1, old));
        assert!(Rc::ptr_eq(&s2, &same));
        let fresh = Rc::new(analyze_text(&s2.text, &s2.settings));
        let s3 = reduce(s2, Action::AnalysisDone(2, fresh));
        assert!(!s3.pending);
        assert_eq!(s3.analysis.cluster.namespaces[0].name, "big");
        // Done twice is a no-op; small edits analyse at once.
        let again = reduce(
            s3.clone(),
            Action::AnalysisDone(2, Rc::new(Analysis::default())),
        );
        assert!(Rc::ptr_eq(&s3, &again));
        let s4 = reduce(
            s3,
            Action::Edit("kind: Namespace\nmetadata: {name: s}\n".into()),
        );
        assert!(!s4.pending);
        assert_eq!(s4.analysis.cluster.namespaces[0].name, "s");
    }

    #[test]
    fn profile_change_reanalyses() {
        let s = Rc::new(State::default());
        let g = s.generation;
        let s = reduce(s, Action::SetProfile("flannel".into()));
        assert_eq!(s.generation, g + 1);
        let same = reduce(s.clone(), Action::SetProfile("flannel".into()));
        assert!(Rc::ptr_eq(&s, &same));
    }
}
