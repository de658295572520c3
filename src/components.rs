//! The app's components. Each is a function of its props; none holds policy logic.

pub mod diagnostics;
pub mod editor;
pub mod summary;
