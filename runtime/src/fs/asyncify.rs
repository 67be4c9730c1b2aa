//! One file-system call as a `Blocking` resource: spawning it with an explicit name and
//! location, awaiting its handle, and the lazy future the free functions return.

use crate::runtime::context;
use crate::task::{coop, spawn::panic_outside_runtime, JoinHandle, TaskMeta};
use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Spawns `func` on the current runtime's blocking pool as a `Blocking` resource named
/// `name`, triggered by the current execution (in its context), created at `location`.
///
/// # Panics
///
/// Outside a runtime.
pub(super) fn spawn_op<F, R>(
    name: &'static str,
    location: &'static Location<'static>,
    func: F,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let meta = TaskMeta::here(Some(name.into()), location);
    context::with_current_handle(|handle| handle.blocking_pool().spawn(func, meta))
        .unwrap_or_else(|| panic_outside_runtime(&format!("{name} (called at {location})")))
}

/// As [`spawn_op`], for a job that must run even if the runtime shuts down before it
/// started (a buffered file write: losing it would silently lose data).
pub(super) fn spawn_mandatory_op<F, R>(
    name: &'static str,
    location: &'static Location<'static>,
    func: F,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let meta = TaskMeta::here(Some(name.into()), location);
    context::with_current_handle(|handle| handle.blocking_pool().spawn_mandatory(func, meta))
        .unwrap_or_else(|| panic_outside_runtime(&format!("{name} (called at {location})")))
}

/// Polls the handle of a job spawned by [`spawn_op`], charging the cooperative budget
/// as awaiting a `JoinHandle` does in tokio. A failed job (panicked, or cancelled by
/// shutdown) becomes an `io::Error`.
pub(super) fn poll_op<R>(handle: &mut JoinHandle<R>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
    let progress = ready!(coop::poll_proceed(cx));
    let polled = Pin::new(handle).poll(cx);
    if polled.is_ready() {
        progress.made_progress();
    }
    polled.map_err(io::Error::from)
}

/// The future of one fallible blocking call: spawned on the first poll (nothing happens
/// before, as with tokio's `async fn`s), then awaited.
pub(super) struct Asyncify<F, R> {
    name: &'static str,
    location: &'static Location<'static>,
    func: Option<F>,
    handle: Option<JoinHandle<io::Result<R>>>,
}

impl<F, R> Asyncify<F, R>
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    pub(super) fn new(name: &'static str, location: &'static Location<'static>, func: F) -> Self {
        Asyncify {
            name,
            location,
            func: Some(func),
            handle: None,
        }
    }
}

// The closure is never pinned: it is moved out before it is used.
impl<F, R> Unpin for Asyncify<F, R> {}

impl<F, R> Future for Asyncify<F, R>
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    type Output = io::Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let me = &mut *self;
        if let Some(func) = me.func.take() {
            me.handle = Some(spawn_op(me.name, me.location, func));
        }
        let handle = me
            .handle
            .as_mut()
            .expect("an fs future polled after it completed");
        let out = ready!(poll_op(handle, cx));
        me.handle = None;
        Poll::Ready(out.and_then(|res| res))
    }
}

/// `Asyncify` for the public functions: a future for `func`, named `name`, located at
/// the caller.
#[track_caller]
pub(super) fn asyncify<F, R>(
    name: &'static str,
    func: F,
) -> impl Future<Output = io::Result<R>> + Send + 'static
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    Asyncify::new(name, Location::caller(), func)
}
