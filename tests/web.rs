//! Component tests in headless Chromium (`cargo test --target wasm32-unknown-unknown`):
//! the real `App` rendered into the page, driven through the DOM.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlTextAreaElement, InputEvent, InputEventInit};
use yew::platform::time::sleep;

wasm_bindgen_test_configure!(run_in_browser);

fn mount() -> web_sys::Element {
    let document = gloo_utils::document();
    let root = document.create_element("div").expect("div");
    document
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<playground::App>::with_root(root.clone()).render();
    root
}

fn text_of(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

async fn type_into(root: &web_sys::Element, value: &str) {
    let area: HtmlTextAreaElement = root
        .query_selector("#yaml")
        .ok()
        .flatten()
        .expect("editor")
        .dyn_into()
        .expect("textarea");
    area.set_value(value);
    let init = InputEventInit::new();
    init.set_bubbles(true);
    let event = InputEvent::new_with_event_init_dict("input", &init).expect("event");
    area.dispatch_event(&event).expect("dispatch");
    sleep(Duration::from_millis(50)).await;
}

#[wasm_bindgen_test]
async fn default_scenario_is_analysed_in_the_browser() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let summary = text_of(&root, "#summary");
    assert!(
        summary.contains("np-test-1") && summary.contains("np-test-2"),
        "{summary}"
    );
    assert!(
        summary.contains("np-test-2/deny-all-ingress-using-networkpolicy"),
        "{summary}"
    );
    assert!(summary.contains("Workloads (2)"), "{summary}");
    root.remove();
}

#[wasm_bindgen_test]
async fn typing_reanalyses_and_reports_yaml_errors_with_position() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    type_into(
        &root,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: typed-ns\n",
    )
    .await;
    assert!(text_of(&root, "#summary").contains("typed-ns"));
    assert_eq!(text_of(&root, "#generation"), "1");

    type_into(&root, "kind: Namespace\nmetadata: {name: [\n").await;
    let diags = text_of(&root, "#diagnostics");
    assert!(diags.contains("error"), "{diags}");
    assert!(
        diags.contains("3:") || diags.contains("2:"),
        "expected a line:col, got {diags}"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn hostile_label_renders_as_text() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    type_into(&root, "kind: Namespace\nmetadata:\n  name: x\n  labels:\n    evil: \"<img src=x onerror=alert(1)>\"\n").await;
    assert!(text_of(&root, "#summary").contains("<img src=x onerror=alert(1)>"));
    assert!(
        root.query_selector("#summary img").ok().flatten().is_none(),
        "no element injected"
    );
    root.remove();
}
