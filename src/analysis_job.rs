//! The page's analysis driver: when the state is `pending` (a text over
//! [`state::ASYNC_BYTES`](crate::state::ASYNC_BYTES)), run [`engine::AnalysisJob`] in slices of
//! about [`SLICE_MS`] with a `setTimeout(0)` between slices, so the page keeps painting and
//! taking input; report progress; answer with [`Action::AnalysisDone`] for the generation it
//! started from. A newer generation cancels the running job (each slice checks the latest
//! generation first). Edits of texts over [`DEBOUNCE_BYTES`] wait [`DEBOUNCE_MS`] first. The
//! first slice runs at once, so a job that fits in one slice finishes in the same event.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use engine::{AnalysisJob, Source};
use gloo::timers::callback::Timeout;
use yew::prelude::*;

use crate::state::{analyze_options, Action, State, DEBOUNCE_BYTES, DEBOUNCE_MS, EDITOR_SOURCE};

/// Target length of one slice (ms).
pub const SLICE_MS: f64 = 8.0;
/// Target length of one `step` call inside a slice (ms).
const STEP_MS: f64 = 2.0;

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Upper bound of the units one `step` call may get (see `slice`).
const MAX_BUDGET: f64 = 256.0;

/// What a running job shares with its timers.
struct Run {
    generation: u64,
    latest: Rc<Cell<u64>>,
    job: RefCell<Option<AnalysisJob>>,
    /// Table rows per `step` call; adapted so a step takes about a millisecond.
    budget: Cell<usize>,
    dispatcher: UseReducerDispatcher<State>,
    progress: UseStateHandle<Option<u8>>,
}

/// One slice; schedules the next one unless finished or cancelled.
fn slice(run: Rc<Run>) {
    if run.latest.get() != run.generation {
        return;
    }
    let start = now();
    let done = {
        let mut guard = run.job.borrow_mut();
        let Some(job) = guard.as_mut() else {
            return;
        };
        loop {
            let t = now();
            let before = job.progress().done;
            let progress = job.step(run.budget.get());
            let took = now() - t;
            // Aim at steps of about STEP_MS from the measured cost per unit.
            let units = progress.done.saturating_sub(before).max(1) as f64;
            let per_unit = (took / units).max(1e-4);
            // The job's units differ between stages (YAML bytes, lint families, table rows), so a
            // budget learnt in a cheap stage must not be spent at once in an expensive one: keep
            // it small and let the loop run more steps within the slice.
            let next = (STEP_MS / per_unit).clamp(1.0, MAX_BUDGET) as usize;
            run.budget.set(next.min(run.budget.get().saturating_mul(4)));
            if job.is_done() {
                break true;
            }
            if now() - start >= SLICE_MS {
                let pct = (progress.fraction() * 100.0).floor().clamp(0.0, 99.0) as u8;
                run.progress.set(Some(pct));
                break false;
            }
        }
    };
    if done {
        let job = run.job.borrow_mut().take();
        if let Some(job) = job {
            let analysis = Rc::new(job.finish());
            run.progress.set(None);
            run.dispatcher
                .dispatch(Action::AnalysisDone(run.generation, analysis));
        }
    } else {
        Timeout::new(0, move || slice(run)).forget();
    }
}

/// Runs pending analyses for `state`; returns the progress in percent while one runs.
#[hook]
pub fn use_analysis_job(state: &UseReducerHandle<State>) -> Option<u8> {
    let progress = use_state_eq(|| None::<u8>);
    let latest = use_mut_ref(|| Rc::new(Cell::new(0u64)));
    let latest = Rc::clone(&latest.borrow());
    {
        let state = state.clone();
        let progress = progress.clone();
        use_effect_with(
            (state.generation, state.pending),
            move |&(generation, pending)| {
                latest.set(generation);
                if pending {
                    progress.set(Some(0));
                    let text = Rc::clone(&state.text);
                    let options = analyze_options(&state.settings);
                    let run = Rc::new(Run {
                        generation,
                        latest: Rc::clone(&latest),
                        job: RefCell::new(None),
                        budget: Cell::new(16),
                        dispatcher: state.dispatcher(),
                        progress,
                    });
                    let start = move || {
                        if run.latest.get() != run.generation {
                            return;
                        }
                        *run.job.borrow_mut() = Some(AnalysisJob::new(
                            vec![Source::new(EDITOR_SOURCE, text.to_string())],
                            options,
                        ));
                        slice(run);
                    };
                    if state.text.len() > DEBOUNCE_BYTES {
                        Timeout::new(DEBOUNCE_MS, start).forget();
                    } else {
                        start();
                    }
                } else {
                    progress.set(None);
                }
            },
        );
    }
    *progress
}
