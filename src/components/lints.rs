//! The lints pane: every `engine::lints` finding with its stable code, severity, message, doc
//! line and `line:col` (a button that selects the span in the editor, as diagnostics do), and,
//! when the engine offers one, a "Fix: <title>" button that hands the corrected text up (the app
//! dispatches it as an undoable `Action::Replace`, so re-analysis shows the lint gone).
//! The findings and fixes are the engine's (`Analysis::lints`, computed with the analysis's CNI
//! profile and mesh options); this file only lists them.

use std::rc::Rc;

use engine::lints::{self, Lint};
use engine::{Analysis, LineIndex};
use yew::prelude::*;

use crate::state::Shared;

/// The text after applying a lint's fix (unchanged when the lint has none).
pub fn fixed_text(text: &str, lint: &Lint) -> String {
    match &lint.fix {
        Some(fix) => lints::apply_fix(text, fix),
        None => text.to_string(),
    }
}

#[derive(Properties, PartialEq)]
pub struct LintsProps {
    pub analysis: Shared<Analysis>,
    pub text: Rc<str>,
    pub line_index: Shared<LineIndex>,
    #[prop_or_default]
    pub readonly: bool,
    /// Byte range to reveal in the editor.
    #[prop_or_default]
    pub on_reveal: Callback<(u32, u32)>,
    /// The whole corrected text (an undoable replacement).
    #[prop_or_default]
    pub on_fix: Callback<String>,
}

#[component]
pub fn LintsPane(props: &LintsProps) -> Html {
    let lints = &props.analysis.lints;
    let n_fix = lints.iter().filter(|l| l.fix.is_some()).count();
    html! {
        <div class="lints" id="lints" aria-live="polite">
            if lints.is_empty() {
                <p class="ok">{ "No lints: the policies do what they appear to do." }</p>
            } else {
                <p class="lint-count muted">
                    { format!("{} lint{}, {} with a fix. Fixes are undoable (Undo in the toolbar).",
                        lints.len(), if lints.len() == 1 { "" } else { "s" }, n_fix) }
                </p>
                <ul class="lint-list">
                    for lint in lints.iter() { { lint_item(props, lint) } }
                </ul>
            }
        </div>
    }
}

fn lint_item(props: &LintsProps, lint: &Lint) -> Html {
    let pos = props.line_index.line_col(&props.text, lint.span.start);
    let reveal = {
        let on_reveal = props.on_reveal.clone();
        let (start, end) = (lint.span.start, lint.span.end);
        Callback::from(move |_: MouseEvent| on_reveal.emit((start, end)))
    };
    let fix = lint.fix.as_ref().map(|fix| {
        let title = format!("Fix: {}", fix.title);
        let on_fix = props.on_fix.clone();
        let text = Rc::clone(&props.text);
        let owned = lint.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            let next = fixed_text(&text, &owned);
            if *next != *text {
                on_fix.emit(next);
            }
        });
        html! {
            <button type="button" class="lint-fix" data-code={lint.code}
                disabled={props.readonly} {onclick}
                title="Apply this fix to the editor text (undoable)">
                { title }
            </button>
        }
    });
    html! {
        <li class={classes!("lint", lint.severity.as_str())} data-code={lint.code}>
            <button type="button" class="lint-jump" onclick={reveal}
                title="Select this span in the editor">
                <span class="pos">{ pos.to_string() }</span>
                <span class="sev">{ lint.severity.as_str() }</span>
                <span class="lint-code">{ lint.code }</span>
                <span class="msg">{ &lint.message }</span>
            </button>
            <p class="lint-doc">{ lint.doc }</p>
            if let Some(help) = &lint.help {
                <p class="help">{ help }</p>
            }
            if let Some(fix) = fix { { fix } }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::SCENARIOS;
    use crate::state::{analyze_options, Settings, EDITOR_SOURCE};
    use engine::Source;

    fn analyse(text: &str, settings: &Settings) -> Analysis {
        engine::analyze_with(
            &[Source::new(EDITOR_SOURCE, text)],
            &analyze_options(settings),
        )
    }

    /// Every fix offered on a library scenario removes its lint and re-parses without new errors.
    #[test]
    fn every_scenario_fix_removes_its_lint() {
        let settings = Settings::default();
        for s in SCENARIOS {
            let analysis = analyse(s.yaml, &settings);
            for lint in analysis.lints.iter() {
                if lint.fix.is_none() {
                    continue;
                }
                let fixed = fixed_text(s.yaml, lint);
                assert_ne!(fixed, s.yaml, "{} {}", s.id, lint.code);
                let after = analyse(&fixed, &settings);
                let errors = after
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == engine::Severity::Error)
                    .count();
                assert_eq!(errors, 0, "{} {}: {fixed}", s.id, lint.code);
                let again = &after.lints;
                assert!(
                    !again
                        .iter()
                        .any(|l| l.code == lint.code && l.message == lint.message),
                    "{} {} still there after its fix",
                    s.id,
                    lint.code
                );
            }
        }
    }

    /// ambient-15008: the HBONE lint's fix flips the mesh flow from deny to allow.
    #[test]
    fn hbone_fix_changes_the_mesh_flow_verdict() {
        let settings = Settings::default();
        let yaml = crate::scenarios::find("ambient-15008").map_or("", |s| s.yaml);
        let analysis = analyse(yaml, &settings);
        let lint = analysis
            .lints
            .iter()
            .find(|l| l.code == "PP4001" && l.fix.is_some())
            .expect("PP4001 with a fix");
        let fixed = fixed_text(yaml, lint);
        assert!(fixed.contains("15008"));
        let after = analyse(&fixed, &settings);
        let verdict = |a: &Analysis| {
            (0..a.table.len())
                .filter_map(|id| a.table.shallow(id))
                .find(|f| {
                    f.kind == engine::flows::FlowKind::App
                        && engine::explain::flow_title(&a.cluster, f)
                            .starts_with("demo/client[Deployment] → demo/my-app[Deployment]:9090")
                })
                .map(|f| f.verdict)
        };
        assert_eq!(verdict(&analysis), Some(engine::verdict::Decision::Deny));
        assert_eq!(verdict(&after), Some(engine::verdict::Decision::Allow));
    }
}
