//! Policy Playground web app (Yew). Renders what the engine computes; no policy semantics
//! live here (ARCHITECTURE.md invariant). `state`, `share`, `embed`, `layout` and `highlight`
//! are pure and tested natively; `components` draw the state; `app` and `browser` are the only
//! places that touch the URL, storage, clipboard and files.

pub mod analysis_job;
pub mod app;
pub mod browser;
pub mod components;
pub mod embed;
pub mod flowview;
pub mod highlight;
pub mod layout;
pub mod profiles;
pub mod scenarios;
pub mod share;
pub mod state;

pub use app::App;
