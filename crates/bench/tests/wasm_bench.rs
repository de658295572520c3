//! The benchmark inside headless Chromium (wasm32): the same generator and measurements as
//! `pp-bench`, timed with `performance.now()`, printed with `console_log!`: the full analysis
//! (`engine::analyze_with`: parse, lints and the flow table, what the page runs) for S, M and L,
//! median of 5 after warm-up runs (at least one; more until 300 ms have passed). Prints numbers; asserts nothing about time.
//!
//! `WASM_BINDGEN_TEST_WEBDRIVER_JSON=/work/main/webdriver.json cargo test -p bench --release \
//!   --target wasm32-unknown-unknown -- --nocapture`
#![cfg(target_arch = "wasm32")]

use bench::measure::{self, Method};
use bench::synth::{self, Size};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[wasm_bindgen_test]
fn wasm_bench() {
    for (method, sizes) in [(Method::Analyze, &[Size::S, Size::M, Size::L][..])] {
        let rows: Vec<_> = sizes
            .iter()
            .map(|&size| measure::run(size.name(), &synth::generate_size(size), 5, method, &now))
            .collect();
        console_log!(
            "wasm benchmark (headless Chromium, median of 5)\nAnalysis: {}.\n\n{}",
            method.describe(),
            measure::markdown_table(&rows)
        );
    }
}
