//! The runtime: `Builder`, `Runtime` and `Handle`, with tokio's names.

mod block_on;
mod blocking;
mod builder;
pub(crate) mod context;
mod current_thread;
mod driver;
mod handle;
pub(crate) mod multi_thread;
mod park;
pub(crate) mod scheduler;

pub use builder::Builder;
pub use handle::{EnterGuard, Handle, TryCurrentError};

use std::fmt;
use std::future::Future;

/// An async runtime: a scheduler with its tasks, and the hooks that observe them.
///
/// Dropping the runtime cancels every task: each future is dropped on the dropping
/// thread, inside the task's own execution frame, so every `destroy` event fires.
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime { handle }
    }

    /// Runs `future` to completion on the calling thread, running the runtime's tasks
    /// meanwhile. The future is a `Task` resource named `"block_on"`.
    ///
    /// # Panics
    ///
    /// When the calling thread already drives a runtime (inside a task or another
    /// `block_on`): use `.await` there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }
}

impl Runtime {
    /// Shuts the runtime down, waiting at most `timeout` for tasks to be cancelled and
    /// worker threads to stop. Whatever is still running after that is left behind
    /// (it finishes or is dropped later, on its own thread).
    pub fn shutdown_timeout(self, timeout: std::time::Duration) {
        let mut this = std::mem::ManuallyDrop::new(self);
        this.handle.inner.shutdown(Some(timeout));
        // SAFETY: `this` is never used again; dropping its fields once is what `Drop`
        // would have done, minus the unbounded wait.
        unsafe { std::ptr::drop_in_place(&mut this.handle) };
    }

    /// Shuts the runtime down without waiting: tasks are cancelled by the runtime's own
    /// threads as they notice.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(std::time::Duration::ZERO);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.handle.inner.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}
