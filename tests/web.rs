//! Component tests in headless Chromium (`cargo test --target wasm32-unknown-unknown`):
//! the real `App` rendered into the page, driven through the DOM.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlTextAreaElement, InputEvent, InputEventInit};
use yew::platform::time::sleep;

wasm_bindgen_test_configure!(run_in_browser);

fn mount() -> web_sys::Element {
    // Each test starts from the default scenario, not from another test's autosave.
    if let Ok(Some(storage)) = gloo_utils::window().local_storage() {
        let _ = storage.clear();
    }
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

fn element(root: &web_sys::Element, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no element {selector}"))
        .dyn_into()
        .expect("an HTML element")
}

#[wasm_bindgen_test]
async fn topology_draws_cards_and_selects_on_click() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let cards = root
        .query_selector_all("#topology-svg g.node")
        .expect("cards");
    // Two workloads and at least one node card.
    assert!(cards.length() >= 3, "{} cards", cards.length());
    let svg = text_of(&root, "#topology-svg");
    assert!(
        svg.contains("np-test-nginx-1") && svg.contains("sidecar"),
        "{svg}"
    );
    let card = root
        .query_selector("#topology-svg g.node[data-key^='w:np-test-1/']")
        .ok()
        .flatten()
        .expect("card of np-test-nginx-1");
    let event = web_sys::MouseEvent::new("click").expect("event");
    card.dispatch_event(&event).expect("click");
    sleep(Duration::from_millis(50)).await;
    assert_eq!(card.get_attribute("aria-pressed").as_deref(), Some("true"));
    // Edges are drawn for flows, denied ones marked with their layer.
    assert!(svg.contains("np-ingress"), "{svg}");
    root.remove();
}

#[wasm_bindgen_test]
async fn matrix_cell_selects_a_flow_and_trace_reveals_its_rule() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let cell = element(&root, "#matrix button.cell.deny");
    cell.click();
    sleep(Duration::from_millis(50)).await;
    let trace = text_of(&root, "#trace");
    assert!(
        trace.contains("np-ingress") && trace.contains("deny"),
        "{trace}"
    );
    let rule = element(&root, "#trace button.rule-ref");
    assert!(rule
        .text_content()
        .unwrap_or_default()
        .contains("deny-all-ingress-using-networkpolicy"));
    rule.click();
    sleep(Duration::from_millis(50)).await;
    let area: HtmlTextAreaElement = element(&root, "#yaml").dyn_into().expect("textarea");
    let start = area.selection_start().ok().flatten().unwrap_or(0) as usize;
    let end = area.selection_end().ok().flatten().unwrap_or(0) as usize;
    let value: Vec<u16> = area.value().encode_utf16().collect();
    let selected = String::from_utf16_lossy(&value[start..end]);
    assert!(
        selected.contains("deny-all-ingress-using-networkpolicy"),
        "{selected}"
    );
    assert!(root
        .query_selector(".overlay .line.focus")
        .ok()
        .flatten()
        .is_some());
    root.remove();
}

#[wasm_bindgen_test]
async fn diagnostic_click_selects_its_span_in_utf16() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    // A non-ASCII comment before the error shifts UTF-16 offsets away from byte offsets.
    type_into(
        &root,
        "# ünïcödé 🚀🚀\nkind: Namespace\nmetadata: {name: [\n",
    )
    .await;
    element(&root, "#diagnostics .diag.error .diag-jump").click();
    sleep(Duration::from_millis(50)).await;
    let area: HtmlTextAreaElement = element(&root, "#yaml").dyn_into().expect("textarea");
    let start = area.selection_start().ok().flatten().unwrap_or(0);
    let value = area.value();
    let prefix: String = String::from_utf16_lossy(
        &value
            .encode_utf16()
            .take(start as usize)
            .collect::<Vec<_>>(),
    );
    assert!(prefix.starts_with("# ünïcödé 🚀🚀\nkind"), "{prefix:?}");
    root.remove();
}

#[wasm_bindgen_test]
async fn expectations_turn_green_and_red_live() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let results = text_of(&root, "#expectations");
    assert!(results.contains("3 of 3 expectations pass"), "{results}");
    let area: HtmlTextAreaElement = element(&root, "#expectations-text")
        .dyn_into()
        .expect("textarea");
    area.set_value("np-test-1/np-test-nginx-1 -> np-test-2/np-test-nginx-2:80 allow\nbogus line\n");
    let init = InputEventInit::new();
    init.set_bubbles(true);
    let event = InputEvent::new_with_event_init_dict("input", &init).expect("event");
    area.dispatch_event(&event).expect("dispatch");
    sleep(Duration::from_millis(50)).await;
    assert!(root
        .query_selector("#expectations .expect-line.fail")
        .ok()
        .flatten()
        .is_some());
    assert!(root
        .query_selector("#expectations .expect-line.error")
        .ok()
        .flatten()
        .is_some());
    assert!(text_of(&root, "#expectations").contains("0 of 1 expectations pass"));
    root.remove();
}

#[wasm_bindgen_test]
async fn settings_list_profiles_and_scenarios_load() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let settings = text_of(&root, "#settings");
    assert!(
        settings.contains("generic") && settings.contains("cilium"),
        "{settings}"
    );
    element(
        &root,
        "#scenario-info button[data-scenario='ambient-15008']",
    )
    .click();
    sleep(Duration::from_millis(50)).await;
    assert!(text_of(&root, "#scenario-title").contains("15008"));
    assert!(text_of(&root, "#topology-svg").contains("ambient"));
    element(&root, "#undo").click();
    sleep(Duration::from_millis(50)).await;
    assert!(text_of(&root, "#summary").contains("np-test-1"));
    root.remove();
}
