//! Policy Playground web app (Yew). Renders what the engine computes; no policy semantics
//! live here (ARCHITECTURE.md invariant). `state` is pure and tested natively; `components`
//! draw it.

pub mod app;
pub mod components;
pub mod scenarios;
pub mod state;

pub use app::App;
