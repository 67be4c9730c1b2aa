//! `task::Builder`: spawn a task with a name.

use super::{spawn::panic_outside_runtime, JoinHandle, TaskMeta};
use crate::runtime::Handle;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;

/// Configures a task before it is spawned. The name reaches every hook as
/// [`Resource::name`](crate::hooks::Resource::name).
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let handle = hookrt::task::Builder::new()
///     .name("fetch-user")
///     .spawn(async { 1 })
///     .unwrap();
/// assert_eq!(handle.await.unwrap(), 1);
/// # });
/// ```
#[derive(Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// Names the task.
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Spawns the task on the current runtime. Returns an error only for tokio
    /// compatibility; today it always succeeds.
    ///
    /// # Panics
    ///
    /// Outside a runtime, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta(Location::caller());
        let join =
            crate::runtime::context::with_current_handle(|handle| handle.spawn_task(future, meta))
                .unwrap_or_else(|| panic_outside_runtime("task::Builder::spawn"));
        Ok(join)
    }

    /// Spawns the task on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta(Location::caller());
        Ok(handle.inner.spawn_task(future, meta))
    }

    /// Spawns a named blocking job on the current runtime's blocking pool (see
    /// [`spawn_blocking`](super::spawn_blocking)).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, func: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = self.meta(Location::caller());
        let join = crate::runtime::context::with_current_handle(|handle| {
            handle.blocking_pool().spawn(func, meta)
        })
        .unwrap_or_else(|| panic_outside_runtime("task::Builder::spawn_blocking"));
        Ok(join)
    }

    /// Spawns a named `!Send` task on the current [`LocalSet`](super::LocalSet) (see
    /// [`spawn_local`](super::spawn_local)).
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet`.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let meta = self.meta(Location::caller());
        Ok(super::local_set::spawn_local_with_meta(future, meta))
    }

    /// Spawns a named `!Send` task on `local_set`.
    #[track_caller]
    pub fn spawn_local_on<F>(
        self,
        future: F,
        local_set: &super::LocalSet,
    ) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let meta = self.meta(Location::caller());
        Ok(local_set.spawn_with_meta(future, meta))
    }

    fn meta(&self, location: &'static Location<'static>) -> TaskMeta {
        TaskMeta::here(self.name.map(Box::from), location)
    }
}

impl fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("name", &self.name).finish()
    }
}
