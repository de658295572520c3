//! The YAML editor: a transparent textarea over a coloured copy of the same text (text nodes
//! only, never HTML), with a line-number gutter that marks lines with diagnostics and lints (a
//! lint line also gets the `lint` class) and lines a trace, lint or diagnostic asked to reveal. Re-analysis happens on every input event; the textarea
//! keeps its caret and scroll because Yew only writes `value` when it differs from what the user
//! typed. A file dropped on the editor is handed up (`on_file`); paste is the textarea's own.

use std::collections::BTreeMap;
use std::rc::Rc;

use engine::{Analysis, LineIndex, Severity};
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::highlight::{line_range, tokenize_line, utf16_offset};
use crate::state::{Reveal, Shared};

/// Above this size there is no coloured overlay (the textarea shows its own text) to stay fast.
const HIGHLIGHT_LIMIT: usize = 64_000;
/// Above this many lines the gutter is one text node plus absolutely placed marks (at most
/// [`MAX_MARKS`]), so a long input does not put one element per line in the page.
const GUTTER_LIMIT: u32 = 1500;
const MAX_MARKS: usize = 500;
/// Lines the overlay draws from the first line in view (more than a tall editor shows), and
/// the margin above and below.
const OVERLAY_LINES: u32 = 80;
const OVERLAY_MARGIN: u32 = 20;
/// Must match `.editor` line-height in `style.css` (13px × 1.5).
const LINE_HEIGHT_PX: f64 = 19.5;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: Rc<str>,
    pub diagnostics: Shared<Analysis>,
    pub line_index: Shared<LineIndex>,
    pub on_edit: Callback<String>,
    #[prop_or_default]
    pub reveal: Option<Reveal>,
    #[prop_or_default]
    pub readonly: bool,
    #[prop_or_default]
    pub on_file: Callback<web_sys::File>,
}

#[component]
pub fn Editor(props: &EditorProps) -> Html {
    let gutter_ref = use_node_ref();
    let overlay_ref = use_node_ref();
    let area_ref = use_node_ref();
    let dragging = use_state_eq(|| false);
    // The first line in view: the coloured overlay draws only the lines around it.
    let first_line = use_state_eq(|| 0u32);

    let sync_scroll = {
        let gutter_ref = gutter_ref.clone();
        let overlay_ref = overlay_ref.clone();
        let area_ref = area_ref.clone();
        let first_line = first_line.clone();
        move || {
            let Some(area) = area_ref.cast::<HtmlTextAreaElement>() else {
                return;
            };
            first_line.set((f64::from(area.scroll_top()) / LINE_HEIGHT_PX).max(0.0) as u32);
            if let Some(gutter) = gutter_ref.cast::<HtmlElement>() {
                gutter.set_scroll_top(area.scroll_top());
            }
            if let Some(overlay) = overlay_ref.cast::<HtmlElement>() {
                overlay.set_scroll_top(area.scroll_top());
                overlay.set_scroll_left(area.scroll_left());
            }
        }
    };
    let oninput = {
        let on_edit = props.on_edit.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_edit.emit(area.value());
        })
    };
    let onscroll = {
        let sync_scroll = sync_scroll.clone();
        Callback::from(move |_: Event| sync_scroll())
    };
    // After every render the overlay follows the textarea (new text may change its size), in
    // the next animation frame: reading the textarea's scroll position right after the render
    // would force a layout of the page inside the input event's task.
    let frame = use_mut_ref(|| None::<gloo::render::AnimationFrame>);
    {
        let sync_scroll = sync_scroll.clone();
        use_effect(move || {
            *frame.borrow_mut() = Some(gloo::render::request_animation_frame(move |_| {
                sync_scroll();
            }));
        });
    }
    // Reveal requests: select the range (UTF-16 offsets) and scroll its line into view.
    {
        let area_ref = area_ref.clone();
        let text = Rc::clone(&props.text);
        let sync_scroll = sync_scroll.clone();
        use_effect_with(props.reveal, move |reveal| {
            if let (Some(r), Some(area)) = (reveal, area_ref.cast::<HtmlTextAreaElement>()) {
                let start = utf16_offset(&text, r.start as usize);
                let end = utf16_offset(&text, r.end as usize);
                let _ = area.focus();
                let _ = area.set_selection_range(start, end);
                let (line, _) = line_range(&text, r.start as usize, r.end as usize);
                let top = (f64::from(line) - 3.0).max(0.0) * LINE_HEIGHT_PX;
                area.set_scroll_top(top as i32);
                sync_scroll();
            }
        });
    }

    let ondragover = {
        let dragging = dragging.clone();
        let readonly = props.readonly;
        Callback::from(move |e: DragEvent| {
            if !readonly {
                e.prevent_default();
                dragging.set(true);
            }
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let ondrop = {
        let dragging = dragging.clone();
        let on_file = props.on_file.clone();
        let readonly = props.readonly;
        Callback::from(move |e: DragEvent| {
            dragging.set(false);
            if readonly {
                return;
            }
            let file = e
                .data_transfer()
                .and_then(|dt| dt.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                e.prevent_default();
                on_file.emit(file);
            }
        })
    };

    // Worst severity per 1-based line, and the revealed lines.
    let mut marks: BTreeMap<u32, Severity> = BTreeMap::new();
    for d in &props.diagnostics.diagnostics {
        let line = props.line_index.line_col(&props.text, d.span.start).line;
        let e = marks.entry(line).or_insert(d.severity);
        *e = (*e).max(d.severity);
    }
    // Lints are also diagnostics (severity marks above); their lines get the `lint` class too.
    let mut lint_lines: BTreeMap<u32, &'static str> = BTreeMap::new();
    for l in &props.diagnostics.lints {
        let line = props.line_index.line_col(&props.text, l.span.start).line;
        let e = marks.entry(line).or_insert(l.severity);
        *e = (*e).max(l.severity);
        lint_lines.entry(line).or_insert(l.code);
    }
    let focus = props
        .reveal
        .map(|r| line_range(&props.text, r.start as usize, r.end as usize));
    let in_focus = |line: u32| focus.is_some_and(|(a, b)| (a..=b).contains(&line));
    let n_lines = props.line_index.line_count() as u32;

    // The lines drawn (0-based start, exclusive end): those in view plus a margin.
    let window = (
        first_line.saturating_sub(OVERLAY_MARGIN),
        first_line
            .saturating_add(OVERLAY_LINES + OVERLAY_MARGIN)
            .min(n_lines),
    );
    // A large text is shown by the textarea itself (class `plain`), without an overlay copy.
    // Otherwise the overlay draws the lines in view plus a margin (style and layout of every
    // line on every keystroke cost more than a frame), between spacers as tall as the lines
    // left out and as wide as the longest line, so it scrolls exactly like the textarea.
    let plain = props.text.len() > HIGHLIGHT_LIMIT;
    let overlay = if plain {
        html! {}
    } else {
        let (from, to) = window;
        let widest = props
            .text
            .split('\n')
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        // In `em` (line-height 1.5), so it holds at the embed's smaller font size too.
        let spacer = |lines: u32| format!("height:{}em;width:{widest}ch", f64::from(lines) * 1.5);
        html! {
            <>
            <div class="spacer" style={spacer(from)}></div>
            for (i, line) in props.text.split('\n').enumerate().skip(from as usize).take(to.saturating_sub(from) as usize) {
                <div class={classes!("line", in_focus(i as u32 + 1).then_some("focus"))}>
                    for (class, piece) in tokenize_line(line) {
                        <span class={class.css()}>{ piece }</span>
                    }
                    // Keeps empty lines one line tall.
                    { "\u{200b}" }
                </div>
            }
            <div class="spacer" style={spacer(n_lines.saturating_sub(to))}></div>
            </>
        }
    };

    html! {
        <div class={classes!("editor", (*dragging).then_some("dragging"))}
            {ondragover} {ondragleave} {ondrop}>
            if n_lines > GUTTER_LIMIT {
                <div class="gutter compact" ref={gutter_ref} aria-hidden="true">
                    // Only the numbers in view (+ margin), between spacers: a text node of
                    // every number of a long input costs a long layout on paste.
                    <div style={format!("height:{}em", f64::from(window.0) * 1.5)}></div>
                    <div class="numbers">{ (window.0 + 1..=window.1).map(|l| l.to_string()).collect::<Vec<_>>().join("\n") }</div>
                    <div style={format!("height:{}em", f64::from(n_lines.saturating_sub(window.1)) * 1.5)}></div>
                    for (line, sev) in marks.iter().take(MAX_MARKS) {
                        <div class={classes!("ln", "mark", sev.as_str(), lint_lines.contains_key(line).then_some("lint"))}
                            style={format!("top:{:.1}px", f64::from(line - 1) * LINE_HEIGHT_PX)}
                            data-lint={lint_lines.get(line).copied()}>{ line }</div>
                    }
                </div>
            } else {
            <div class="gutter" ref={gutter_ref} aria-hidden="true">
                for line in 1..=n_lines {
                    <div class={classes!("ln", marks.get(&line).map(|s| s.as_str()),
                        lint_lines.contains_key(&line).then_some("lint"),
                        in_focus(line).then_some("focus"))}
                        data-lint={lint_lines.get(&line).copied()}>{ line }</div>
                }
            </div>
            }
            <div class="code">
                <div class="overlay" ref={overlay_ref} aria-hidden="true">{ overlay }</div>
                <textarea id="yaml" class={classes!("yaml", plain.then_some("plain"))} ref={area_ref} spellcheck="false"
                    autocomplete="off" wrap="off"
                    aria-label="Kubernetes and Istio YAML"
                    readonly={props.readonly}
                    value={props.text.to_string()} {oninput} {onscroll} />
            </div>
            if *dragging {
                <div class="drop-hint" aria-hidden="true">{ "Drop a YAML file to load it" }</div>
            }
        </div>
    }
}
