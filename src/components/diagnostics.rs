//! The diagnostics list: severity, `line:col`, message and help, in source order.

use std::rc::Rc;

use engine::{Analysis, LineIndex};
use yew::prelude::*;

use crate::state::Shared;

#[derive(Properties, PartialEq)]
pub struct DiagnosticsProps {
    pub analysis: Shared<Analysis>,
    pub text: Rc<str>,
    pub line_index: Shared<LineIndex>,
}

#[component]
pub fn DiagnosticsList(props: &DiagnosticsProps) -> Html {
    let diagnostics = &props.analysis.diagnostics;
    html! {
        <div class="diagnostics" id="diagnostics" aria-live="polite">
            if diagnostics.is_empty() {
                <p class="ok">{ "No problems found in the input." }</p>
            } else {
                <ul>
                    for d in diagnostics.iter() {
                        <li class={classes!("diag", d.severity.as_str())}>
                            <span class="pos">{ props.line_index.line_col(&props.text, d.span.start).to_string() }</span>
                            <span class="sev">{ d.severity.as_str() }</span>
                            <span class="code">{ d.code }</span>
                            <span class="msg">{ &d.message }</span>
                            if let Some(help) = &d.help {
                                <span class="help">{ help }</span>
                            }
                        </li>
                    }
                </ul>
            }
        </div>
    }
}
