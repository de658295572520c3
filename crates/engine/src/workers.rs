//! Native only: the join side of the engine's scoped worker threads (the YAML pass and the
//! flow table split between the cores, `lib.rs` and `table.rs`).

use std::thread::ScopedJoinHandle;

/// The workers' results in order: each started worker joined (its panic resumed here), each
/// part whose thread could not be started (`Err(part)`) run on the calling thread by `run`.
pub(crate) fn join_in_order<'scope, T, P>(
    handles: Vec<Result<ScopedJoinHandle<'scope, T>, P>>,
    mut run: impl FnMut(P) -> T,
) -> Vec<T> {
    handles
        .into_iter()
        .map(|h| match h {
            Ok(h) => h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(part) => run(part),
        })
        .collect()
}
