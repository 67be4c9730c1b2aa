//! `Handle`: a cloneable reference to a runtime, for spawning from anywhere.

use super::context;
use super::scheduler::SchedulerHandle;
use crate::task::{spawn::panic_outside_runtime_handle, JoinHandle, TaskMeta};
use std::fmt;
use std::future::Future;
use std::panic::Location;

/// A handle to a runtime: spawn onto it from any thread, or enter it so that
/// [`spawn`](crate::spawn) works on a thread it does not drive.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: SchedulerHandle,
}

/// Returned by [`Handle::try_current`] outside any runtime.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no hookrt runtime on this thread (call from inside a runtime, or enter one with `Handle::enter`)")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread works for.
    ///
    /// # Panics
    ///
    /// Outside a runtime; use [`try_current`](Self::try_current) where that can happen.
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|_| panic_outside_runtime_handle())
    }

    /// The handle of the runtime this thread works for, or an error outside any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current_handle()
            .map(|inner| Handle { inner })
            .ok_or(TryCurrentError(()))
    }

    /// Spawns a task on this runtime (see [`spawn`](crate::spawn)).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = TaskMeta::here(None, Location::caller());
        self.inner.spawn_task(future, meta)
    }

    /// Runs `future` to completion on the calling thread (see [`Runtime::block_on`](super::Runtime::block_on)).
    ///
    /// # Panics
    ///
    /// When the calling thread already drives a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(future)
    }

    /// Makes this runtime the current one on this thread until the guard is dropped, so
    /// that [`spawn`](crate::spawn) and [`Handle::current`] work here.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_current(&self.inner),
            _handle: std::marker::PhantomData,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("scheduler", &self.inner)
            .finish()
    }
}

/// Keeps a runtime entered on this thread; returned by [`Handle::enter`] and
/// [`Runtime::enter`](super::Runtime::enter).
#[must_use = "the runtime is left as soon as the guard is dropped"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _handle: std::marker::PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
