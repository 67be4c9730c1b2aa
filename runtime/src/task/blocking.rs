//! `spawn_blocking` and `block_in_place`: running blocking code without stalling tasks.

use super::{spawn::panic_outside_runtime, JoinHandle, TaskMeta};
use std::panic::Location;

/// Runs `func` on the runtime's blocking pool and returns a handle to its result.
///
/// The job is a resource of kind `Blocking`: hooks see its `init` before this returns
/// (trigger: the current execution; location: the caller), a `before`/`after` around
/// the closure's run on a pool thread, and its `destroy` after. The closure runs in the
/// caller's async context. Aborting the handle before the job starts cancels it; a job
/// that already runs always finishes.
///
/// # Panics
///
/// Outside a runtime.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sum = hookrt::task::spawn_blocking(|| (1..=10u32).sum::<u32>()).await.unwrap();
/// assert_eq!(sum, 55);
/// # });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(func: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let meta = TaskMeta::here(None, Location::caller());
    crate::runtime::context::with_current_handle(|h| h.blocking_pool().spawn(func, meta))
        .unwrap_or_else(|| panic_outside_runtime("task::spawn_blocking"))
}

/// Runs blocking code on the current worker thread, after handing the worker's queue to
/// a new thread so that other tasks keep running meanwhile.
///
/// On a thread that is not a runtime worker (a `block_on` thread of the multi-thread
/// runtime, or outside any runtime) `func` simply runs.
///
/// # Panics
///
/// On the current-thread runtime, which has no other thread to hand its tasks to: use
/// [`spawn_blocking`] there.
#[track_caller]
pub fn block_in_place<F, R>(func: F) -> R
where
    F: FnOnce() -> R,
{
    crate::runtime::multi_thread::block_in_place(func)
}
