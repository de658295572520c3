//! Policy Playground benchmarks: the synthetic cluster generator ([`synth`]) and the measurements
//! shared by the native `pp-bench` binary and the wasm benchmark in headless Chromium
//! ([`measure`]). No IO here; the clock is passed in (`Instant` does not exist in the browser).

pub mod measure;
pub mod synth;
