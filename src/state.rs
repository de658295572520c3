//! App state and its reducer. Pure: no web APIs, so it runs in a native `#[test]`.
//! Analysis is derived here whenever the text changes, so every component sees one
//! consistent snapshot (STYLE.md §5).

use std::rc::Rc;

use engine::{Analysis, LineIndex, Source};
use yew::Reducible;

use crate::scenarios;

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

#[derive(Clone, Debug)]
pub struct State {
    pub text: Rc<str>,
    pub analysis: Shared<Analysis>,
    pub line_index: Shared<LineIndex>,
    /// Incremented on every analysis; the page shows it so tests can see a re-analysis.
    pub generation: u64,
}

pub enum Action {
    Edit(String),
    LoadScenario(&'static str),
}

impl State {
    pub fn new(text: &str) -> State {
        let text: Rc<str> = Rc::from(text);
        State {
            analysis: Shared(Rc::new(analyze_text(&text))),
            line_index: Shared(Rc::new(LineIndex::new(&text))),
            text,
            generation: 0,
        }
    }
}

impl Default for State {
    fn default() -> State {
        State::new(scenarios::default_scenario().yaml)
    }
}

fn analyze_text(text: &str) -> Analysis {
    engine::analyze(&[Source::new(EDITOR_SOURCE, text)])
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::Edit(text) => {
                if *self.text == *text {
                    return self;
                }
                let mut next = State::new(&text);
                next.generation = self.generation + 1;
                Rc::new(next)
            }
            Action::LoadScenario(id) => {
                let Some(scenario) = scenarios::SCENARIOS.iter().find(|s| s.id == id) else {
                    return self;
                };
                let mut next = State::new(scenario.yaml);
                next.generation = self.generation + 1;
                Rc::new(next)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
