//! The app's components. Each is a function of its props; none holds policy logic.

pub mod compare;
pub mod diagnostics;
pub mod editor;
pub mod expectations;
pub mod lints;
pub mod matrix;
pub mod scenario;
pub mod settings;
pub mod share;
pub mod summary;
pub mod topology;
pub mod trace;
