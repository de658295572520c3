//! The diagnostics list: severity, `line:col`, code, message and help, in source order. Each
//! entry is a button that reveals (selects) its span in the editor. Lints (`PP4xxx`) are listed
//! in the Lints pane only (with their fixes), not here.

use std::rc::Rc;

use engine::{Analysis, LineIndex};
use yew::prelude::*;

use crate::state::Shared;

#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    pub analysis: Shared<Analysis>,
    pub text: Rc<str>,
    pub line_index: Shared<LineIndex>,
    /// Byte range to reveal in the editor.
    #[prop_or_default]
    pub on_reveal: Callback<(u32, u32)>,
}

#[component]
pub fn DiagnosticsList(props: &DiagnosticsProps) -> Html {
    let diagnostics: Vec<&engine::Diagnostic> = props
        .analysis
        .diagnostics
        .iter()
        .filter(|d| !d.code.starts_with("PP4"))
        .collect();
    html! {
        <div class="diagnostics" id="diagnostics" aria-live="polite" aria-label="Problems">
            if diagnostics.is_empty() {
                <p class="ok">{ "No problems found in the input." }</p>
            } else {
                <ul>
                    for d in diagnostics.iter().copied() {
                        <li class={classes!("diag", d.severity.as_str())}>
                            <button type="button" class="diag-jump"
                                title="Select this span in the editor"
                                onclick={
                                    let on_reveal = props.on_reveal.clone();
                                    let (start, end) = (d.span.start, d.span.end);
                                    move |_| on_reveal.emit((start, end))
                                }>
                                <span class="pos">{ props.line_index.line_col(&props.text, d.span.start).to_string() }</span>
                                <span class="sev">{ d.severity.as_str() }</span>
                                <span class="code">{ d.code }</span>
                                <span class="msg">{ &d.message }</span>
                                if let Some(help) = &d.help {
                                    <span class="help">{ help }</span>
                                }
                            </button>
                        </li>
                    }
                </ul>
            }
        </div>
    }
}
