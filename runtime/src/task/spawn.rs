//! `spawn`: the free function every tokio user knows.

use super::{JoinHandle, TaskMeta};
use hookrt_hooks::{execution_async_id, AsyncId, Context};
use std::future::Future;
use std::panic::Location;

/// Spawns a task on the current runtime and returns a handle to await its output.
///
/// The task is a resource of kind `Task`: hooks see its `init` before `spawn` returns,
/// with the current execution as trigger and the caller's source location. It starts in
/// the caller's async context.
///
/// # Panics
///
/// When called outside a hookrt runtime; use [`Handle::spawn`](crate::runtime::Handle::spawn)
/// or enter one first.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let answer = hookrt::spawn(async { 42 }).await.unwrap();
/// assert_eq!(answer, 42);
/// # });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let meta = TaskMeta::here(None, Location::caller());
    crate::runtime::context::with_current_handle(|handle| handle.spawn_task(future, meta))
        .unwrap_or_else(|| panic_outside_runtime("spawn"))
}

/// The misuse message for a spawn outside any runtime.
#[track_caller]
pub(crate) fn panic_outside_runtime(what: &str) -> ! {
    panic!(
        "hookrt::{what} called outside a hookrt runtime: call it from code running on a \
         runtime (inside `Runtime::block_on` or `#[hookrt::main]`), or enter one first with \
         `let _guard = handle.enter();`, or use `handle.spawn(..)`"
    )
}

impl TaskMeta {
    /// The metadata of a task created now, by the current execution.
    pub(crate) fn here(name: Option<Box<str>>, location: &'static Location<'static>) -> TaskMeta {
        TaskMeta {
            id: AsyncId::allocate(),
            trigger_id: execution_async_id(),
            context: Context::current(),
            location,
            name,
        }
    }
}

/// The misuse message for `Handle::current` outside any runtime.
#[track_caller]
pub(crate) fn panic_outside_runtime_handle() -> ! {
    panic!(
        "hookrt::runtime::Handle::current() called outside a hookrt runtime: call it from \
         code running on a runtime, or use `Handle::try_current()`"
    )
}
