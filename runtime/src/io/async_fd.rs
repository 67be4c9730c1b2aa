//! `AsyncFd`: any non-blocking file descriptor registered with the runtime's I/O driver
//! (tokio's `tokio::io::unix::AsyncFd`).

use super::poll_evented::current_io_handle;
use crate::task::coop;
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::{Ready, ReadyEvent, Registration};
use mio::unix::SourceFd;
use mio::Interest;
use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The resource kind of an [`AsyncFd`]'s registration.
const KIND: ResourceKind = ResourceKind::Custom("AsyncFd");

/// A file descriptor (anything [`AsRawFd`]: a socket, a pipe, an `eventfd`, a device)
/// registered with the runtime's I/O driver, whose readiness tasks can await.
///
/// The descriptor must be in non-blocking mode; `AsyncFd` does no I/O itself. The usual
/// loop waits for readiness, tries the operation, and on `WouldBlock` clears the
/// readiness and waits again; [`AsyncFdReadyGuard::try_io`] and [`AsyncFd::async_io`] do
/// the clearing. Readiness is edge-triggered: after an event, keep operating until
/// `WouldBlock`.
///
/// Each `AsyncFd` is one resource of kind `Custom("AsyncFd")`: `init` at creation (the
/// caller's location), a `before`/`after` around each driver dispatch that wakes its
/// waiters — a task woken by the descriptor sees `wake(task, by = this resource)` — and
/// `destroy` when it is dropped or [`into_inner`](AsyncFd::into_inner) deregisters it.
///
/// ```
/// use hookrt::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// # hookrt::runtime::Builder::new_current_thread().enable_io().build().unwrap().block_on(async {
/// let (a, mut b) = UnixStream::pair()?;
/// a.set_nonblocking(true)?;
/// let a = AsyncFd::new(a)?;
/// b.write_all(b"ping")?;
/// let mut buf = [0; 4];
/// let n = a.async_io(hookrt::io::Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    registration: Registration,
    /// `None` only inside `into_inner` (so `Drop` knows it was deregistered).
    inner: Option<T>,
}

/// The error of [`AsyncFd::try_new`] / [`AsyncFd::try_with_interest`]: the cause and the
/// descriptor owner, handed back.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

/// A readiness observation of an [`AsyncFd`] (from [`readable`](AsyncFd::readable),
/// [`writable`](AsyncFd::writable), [`ready`](AsyncFd::ready) or the `poll_*_ready`
/// methods). Dropping it keeps the readiness; [`clear_ready`](Self::clear_ready) (or
/// [`try_io`](Self::try_io) on `WouldBlock`) clears it, so the next wait really waits.
#[must_use = "dropping the guard without an operation keeps the readiness set"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// As [`AsyncFdReadyGuard`], with mutable access to the [`AsyncFd`] (from
/// [`readable_mut`](AsyncFd::readable_mut) and friends).
#[must_use = "dropping the guard without an operation keeps the readiness set"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// The operation passed to a guard's `try_io` would have blocked; the readiness was
/// cleared, so wait again.
#[derive(Debug)]
pub struct TryIoError(());

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor for reading and writing with the current runtime's
    /// I/O driver.
    ///
    /// # Errors
    ///
    /// When the driver refuses the descriptor (already registered, not pollable, driver
    /// shut down); `inner` is dropped then (see [`try_new`](Self::try_new)).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<Self> {
        Self::register(
            inner,
            Interest::READABLE | Interest::WRITABLE,
            Location::caller(),
        )
        .map_err(|e| e.cause)
    }

    /// As [`new`](Self::new), for the readiness in `interest` only.
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<Self> {
        Self::register(inner, interest, Location::caller()).map_err(|e| e.cause)
    }

    /// As [`new`](Self::new), handing `inner` back with the error.
    #[track_caller]
    pub fn try_new(inner: T) -> Result<Self, AsyncFdTryNewError<T>> {
        Self::register(
            inner,
            Interest::READABLE | Interest::WRITABLE,
            Location::caller(),
        )
    }

    /// As [`with_interest`](Self::with_interest), handing `inner` back with the error.
    #[track_caller]
    pub fn try_with_interest(inner: T, interest: Interest) -> Result<Self, AsyncFdTryNewError<T>> {
        Self::register(inner, interest, Location::caller())
    }

    #[track_caller]
    fn register(
        inner: T,
        interest: Interest,
        location: &'static Location<'static>,
    ) -> Result<Self, AsyncFdTryNewError<T>> {
        let handle = current_io_handle();
        let fd = inner.as_raw_fd();
        match handle.register_at(&mut SourceFd(&fd), interest, KIND, location) {
            Ok(registration) => Ok(AsyncFd {
                registration,
                inner: Some(inner),
            }),
            Err(cause) => Err(AsyncFdTryNewError { inner, cause }),
        }
    }

    /// The descriptor owner.
    pub fn get_ref(&self) -> &T {
        self.inner
            .as_ref()
            .expect("an AsyncFd holds its descriptor until dropped")
    }

    /// The descriptor owner, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner
            .as_mut()
            .expect("an AsyncFd holds its descriptor until dropped")
    }

    /// Deregisters the descriptor (the resource's `destroy` fires; tasks waiting on it
    /// are woken and see an error) and returns its owner.
    pub fn into_inner(mut self) -> T {
        let inner = self
            .inner
            .take()
            .expect("an AsyncFd holds its descriptor until dropped");
        let fd = inner.as_raw_fd();
        // Like tokio, a failed `deregister` (the fd was closed behind our back) is not
        // reported: the resource ends either way.
        let _ = self.registration.deregister(&mut SourceFd(&fd));
        inner
    }

    /// The resource's async id (what hooks see as its id, and as `by` in the `wake`
    /// events of tasks it wakes).
    pub fn async_id(&self) -> AsyncId {
        self.registration.id()
    }

    /// Polls for read readiness: `Ready` with a guard once the descriptor is readable
    /// (or read-closed, or in error). Only the last task to poll is woken (one waker per
    /// direction); use [`readable`](Self::readable) to wait from several tasks.
    ///
    /// # Errors
    ///
    /// Once the runtime's I/O driver has shut down.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_direction(cx, hookrt_io_driver::Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// As [`poll_read_ready`](Self::poll_read_ready), with a mutable guard.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_direction(cx, hookrt_io_driver::Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness (see [`poll_read_ready`](Self::poll_read_ready)).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_direction(cx, hookrt_io_driver::Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// As [`poll_write_ready`](Self::poll_write_ready), with a mutable guard.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_direction(cx, hookrt_io_driver::Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Waits for readiness matching `interest` (any number of tasks may wait at once).
    ///
    /// # Errors
    ///
    /// Once the descriptor is deregistered or the runtime's I/O driver has shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.readiness(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// As [`ready`](Self::ready), with a mutable guard.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the descriptor is readable (or read-closed, or in error).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// As [`readable`](Self::readable), with a mutable guard.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable (or write-closed, or in error).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// As [`writable`](Self::writable), with a mutable guard.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for readiness matching `interest` and runs `f` until it returns anything
    /// but `WouldBlock` (clearing the readiness after each `WouldBlock`).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event);
                }
                result => return result,
            }
        }
    }

    /// As [`async_io`](Self::async_io), with mutable access.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            match f(self.get_mut()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event);
                }
                result => return result,
            }
        }
    }

    /// Runs `f` now if readiness matching `interest` is set (otherwise returns
    /// `WouldBlock` without calling it), clearing the readiness if `f` reports
    /// `WouldBlock`.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.get_ref();
        self.registration.try_io(interest, || f(inner))
    }

    /// As [`try_io`](Self::try_io), with mutable access.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self
            .inner
            .as_mut()
            .expect("an AsyncFd holds its descriptor until dropped");
        self.registration.try_io(interest, || f(inner))
    }

    /// `poll_ready` of one direction, charging the cooperative budget.
    fn poll_direction(
        &self,
        cx: &mut Context<'_>,
        direction: hookrt_io_driver::Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let progress = ready!(coop::poll_proceed(cx));
        let polled = ready!(self.registration.poll_ready(cx, direction));
        progress.made_progress();
        Poll::Ready(polled)
    }

    /// A readiness wait for `interest`, charging the cooperative budget.
    async fn readiness(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut readiness = self.registration.readiness(interest);
        poll_fn(|cx| {
            let progress = ready!(coop::poll_proceed(cx));
            let polled = ready!(Pin::new(&mut readiness).poll(cx));
            progress.made_progress();
            Poll::Ready(polled)
        })
        .await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor belongs to `inner`, which `self` owns for at least the
        // borrow's lifetime; `T: AsRawFd` promises it is an open descriptor while `inner`
        // lives (tokio borrows it the same way).
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("id", &self.registration.id())
            .finish()
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // Deregister before `inner` (and so, usually, the descriptor) is dropped.
        if let Some(inner) = self.inner.as_ref() {
            let fd = inner.as_raw_fd();
            let _ = self.registration.deregister(&mut SourceFd(&fd));
        }
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// Clears the readiness this guard observed (unless a newer event arrived since), so
    /// the next wait waits for a new event. Call it after an operation hit `WouldBlock`.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Keeps the readiness set (what dropping the guard does): the next wait returns at
    /// once.
    pub fn retain_ready(&mut self) {
        // Nothing to do: readiness is only cleared explicitly.
    }

    /// The readiness observed (only the flags the wait was interested in).
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |e| e.ready())
    }

    /// Runs `f`; if it reports `WouldBlock`, clears the readiness and returns
    /// `Err(TryIoError)` (wait again), otherwise `Ok` with its outcome.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The descriptor owner.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// Clears the readiness this guard observed (see
    /// [`AsyncFdReadyGuard::clear_ready`]).
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Keeps the readiness set (what dropping the guard does).
    pub fn retain_ready(&mut self) {
        // Nothing to do: readiness is only cleared explicitly.
    }

    /// The readiness observed (only the flags the wait was interested in).
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |e| e.ready())
    }

    /// Runs `f`; if it reports `WouldBlock`, clears the readiness and returns
    /// `Err(TryIoError)` (wait again), otherwise `Ok` with its outcome.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The descriptor owner.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The descriptor owner, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", &self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T> AsyncFdTryNewError<T> {
    /// The descriptor owner and the cause.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    fn from(value: AsyncFdTryNewError<T>) -> io::Error {
        value.cause
    }
}
