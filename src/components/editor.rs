//! The YAML editor: a textarea with a line-number gutter that marks lines with diagnostics.
//! Re-analysis happens on every input event; the textarea keeps its caret because Yew only
//! writes `value` when it differs from what the user typed.

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::{Analysis, LineIndex, Severity};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::state::Shared;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: Rc<str>,
    pub diagnostics: Shared<Analysis>,
    pub line_index: Shared<LineIndex>,
    pub on_edit: Callback<String>,
}

#[component]
pub fn Editor(props: &EditorProps) -> Html {
    let gutter_ref = use_node_ref();
    let oninput = {
        let on_edit = props.on_edit.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_edit.emit(area.value());
        })
    };
    let onscroll = {
        let gutter_ref = gutter_ref.clone();
        Callback::from(move |e: Event| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(gutter) = gutter_ref.cast::<web_sys::HtmlElement>() {
                gutter.set_scroll_top(area.scroll_top());
            }
        })
    };

    // Worst severity per 1-based line.
    let mut marks: BTreeMap<u32, Severity> = BTreeMap::new();
    for d in &props.diagnostics.diagnostics {
        let line = props.line_index.line_col(&props.text, d.span.start).line;
        let e = marks.entry(line).or_insert(d.severity);
        *e = (*e).max(d.severity);
    }
    let n_lines = props.line_index.line_count() as u32;

    html! {
        <div class="editor">
            <div class="gutter" ref={gutter_ref} aria-hidden="true">
                for line in 1..=n_lines {
                    <div class={classes!("ln", marks.get(&line).map(|s| s.as_str()))}>{ line }</div>
                }
            </div>
            <textarea id="yaml" class="yaml" spellcheck="false" autocomplete="off"
                aria-label="Kubernetes and Istio YAML"
                value={props.text.to_string()} {oninput} {onscroll} />
        </div>
    }
}
