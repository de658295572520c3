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

// A test helper: a missing element fails the test with its selector.
#[allow(clippy::panic)]
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

async fn load_scenario(root: &web_sys::Element, id: &str) {
    element(
        root,
        &format!("#scenario-info button[data-scenario='{id}']"),
    )
    .click();
    sleep(Duration::from_millis(50)).await;
}

fn editor_value(root: &web_sys::Element) -> String {
    let area: HtmlTextAreaElement = element(root, "#yaml").dyn_into().expect("textarea");
    area.value()
}

fn change(root: &web_sys::Element, selector: &str) {
    // An InputEvent typed `change` (InputEventInit is the init dictionary we have): bubbles to
    // Yew's delegated listener like the real one.
    let init = InputEventInit::new();
    init.set_bubbles(true);
    let event = InputEvent::new_with_event_init_dict("change", &init).expect("event");
    element(root, selector)
        .dispatch_event(&event)
        .expect("dispatch");
}

#[wasm_bindgen_test]
async fn lints_pane_lists_reveals_fixes_and_undo_restores() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    load_scenario(&root, "ambient-15008").await;
    let lints = text_of(&root, "#lints");
    assert!(
        lints.contains("PP4001") && lints.contains("15008"),
        "{lints}"
    );
    assert!(text_of(&root, "#tab-lints").contains('1'), "count badge");
    // The lint's line is marked in the gutter.
    assert!(root
        .query_selector(".gutter .ln.lint[data-lint='PP4001']")
        .ok()
        .flatten()
        .is_some());
    // Clicking the lint selects its span in the editor.
    element(&root, "#lints .lint[data-code='PP4001'] .lint-jump").click();
    sleep(Duration::from_millis(50)).await;
    let area: HtmlTextAreaElement = element(&root, "#yaml").dyn_into().expect("textarea");
    let start = area.selection_start().ok().flatten().unwrap_or(0);
    let end = area.selection_end().ok().flatten().unwrap_or(0);
    assert!(end > start, "a span is selected");
    assert!(root
        .query_selector(".overlay .line.focus")
        .ok()
        .flatten()
        .is_some());
    // The fix adds 15008; the lint is gone; the mesh flow now passes np-ingress.
    let before = editor_value(&root);
    let fix = element(&root, "#lints .lint-fix[data-code='PP4001']");
    assert!(fix.text_content().unwrap_or_default().starts_with("Fix: "));
    fix.click();
    sleep(Duration::from_millis(50)).await;
    let after = editor_value(&root);
    assert!(after.contains("15008") && after != before);
    assert!(!text_of(&root, "#lints").contains("PP4001"));
    assert!(root
        .query_selector(".gutter .ln.lint[data-lint='PP4001']")
        .ok()
        .flatten()
        .is_none());
    // Undo restores the text and the lint.
    element(&root, "#undo").click();
    sleep(Duration::from_millis(50)).await;
    assert_eq!(editor_value(&root), before);
    assert!(text_of(&root, "#lints").contains("PP4001"));
    root.remove();
}

#[wasm_bindgen_test]
async fn settings_show_profile_flags_and_mesh_options_reanalyse() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    let select: web_sys::HtmlSelectElement =
        element(&root, "#cni-profile").dyn_into().expect("select");
    select.set_value("calico-iptables");
    change(&root, "#cni-profile");
    sleep(Duration::from_millis(50)).await;
    let flags = text_of(&root, "#profile-flags");
    assert!(flags.contains("probeSnatCountsAsNode"), "{flags}");
    assert!(flags.contains("calico"), "sources are shown: {flags}");
    assert!(root
        .query_selector("#profile-flags .grade-badge.grade-I")
        .ok()
        .flatten()
        .is_some());
    let settings = text_of(&root, "#settings");
    for name in [
        "rootNamespace",
        "trustDomain",
        "PILOT_AUTO_ALLOW_WAYPOINT_POLICY",
        "AMBIENT_ENABLE_DRY_RUN_AUTHORIZATION_POLICY",
    ] {
        assert!(settings.contains(name), "{name}: {settings}");
    }
    let generation: u64 = text_of(&root, "#generation").parse().unwrap_or(0);
    let checkbox: web_sys::HtmlInputElement = element(&root, "#mesh-auto-allow-waypoint")
        .dyn_into()
        .expect("checkbox");
    assert!(!checkbox.checked());
    checkbox.click();
    sleep(Duration::from_millis(50)).await;
    let next: u64 = text_of(&root, "#generation").parse().unwrap_or(0);
    assert_eq!(next, generation + 1, "a mesh option re-analyses");
    assert!(text_of(&root, "#mesh-options").contains("changed"));
    let td: web_sys::HtmlInputElement = element(&root, "#mesh-trust-domain")
        .dyn_into()
        .expect("input");
    assert_eq!(td.value(), "cluster.local");
    td.set_value("example.org");
    change(&root, "#mesh-trust-domain");
    sleep(Duration::from_millis(50)).await;
    let td: web_sys::HtmlInputElement = element(&root, "#mesh-trust-domain")
        .dyn_into()
        .expect("input");
    assert_eq!(td.value(), "example.org");
    element(&root, "#mesh-defaults").click();
    sleep(Duration::from_millis(50)).await;
    let td: web_sys::HtmlInputElement = element(&root, "#mesh-trust-domain")
        .dyn_into()
        .expect("input");
    assert_eq!(td.value(), "cluster.local");
    root.remove();
}

#[wasm_bindgen_test]
async fn compare_tab_lists_profile_differences_and_baseline_changes() {
    let root = mount();
    sleep(Duration::from_millis(50)).await;
    load_scenario(&root, "ambient-probes").await;
    element(&root, "#tab-compare").click();
    sleep(Duration::from_millis(50)).await;
    let status = text_of(&root, "#compare-profiles-status");
    assert!(
        status.contains("between generic and calico-iptables"),
        "{status}"
    );
    assert!(text_of(&root, "#compare-profiles").contains("kubelet"));
    element(&root, "#set-baseline").click();
    sleep(Duration::from_millis(50)).await;
    assert!(text_of(&root, "#compare-baseline-status").contains("0 flows changed verdict"));
    let select: web_sys::HtmlSelectElement =
        element(&root, "#cni-profile").dyn_into().expect("select");
    select.set_value("calico-iptables");
    change(&root, "#cni-profile");
    sleep(Duration::from_millis(50)).await;
    let status = text_of(&root, "#compare-baseline-status");
    assert!(!status.contains(" 0 flows changed"), "{status}");
    assert!(text_of(&root, "#compare-baseline").contains("kubelet"));
    root.remove();
}
