//! `Registration`: the owner side of one registered source, held by a socket type
//! (`TcpStream`, `TcpListener`, `UdpSocket`, `AsyncFd`, ...).

use crate::handle::IoHandle;
use crate::loom::sync::Arc;
use crate::scheduled_io::ScheduledIo;
use crate::{Direction, Readiness, Ready, ReadyEvent};
use hookrt_hooks::{AsyncId, ResourceKind};
use mio::event::Source;
use mio::Interest;
use std::fmt;
use std::io;
use std::task::{Context, Poll};

/// One source registered with an [`IoDriver`](crate::IoDriver), and one resource:
/// `init` at [`IoHandle::register`], a `before`/`after` pair around each dispatch that
/// wakes its waiters, `destroy` at [`deregister`](Registration::deregister) or drop.
///
/// The usual shape of an operation (what [`poll_io`](Registration::poll_io) does):
/// wait for readiness, try the non-blocking call, and on `WouldBlock` clear the
/// readiness and wait again. Readiness is edge-triggered: it stays set until an
/// operation reports `WouldBlock`, so callers drain (read, write, accept) until then.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use hookrt_hooks::{HookSet, ResourceKind};
/// use hookrt_io_driver::{Direction, IoDriver};
/// use mio::{net::TcpListener, Interest};
/// use std::task::{Context, Poll, Waker};
///
/// let (mut driver, handle) = IoDriver::new(HookSet::empty())?;
/// let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
/// let mut registration =
///     handle.register(&mut listener, Interest::READABLE, ResourceKind::TcpListener)?;
/// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
///
/// let mut cx = Context::from_waker(Waker::noop());
/// let accepted = loop {
///     match registration.poll_io(&mut cx, Direction::Read, || listener.accept()) {
///         Poll::Ready(result) => break result?,
///         Poll::Pending => {
///             driver.turn(None)?;
///         }
///     }
/// };
/// drop(accepted);
/// registration.deregister(&mut listener)?;
/// # Ok(()) }
/// ```
pub struct Registration {
    shared: Arc<ScheduledIo>,
    handle: IoHandle,
    /// Set by `deregister`; the resource is then closed and destroyed.
    deregistered: bool,
}

impl Registration {
    pub(crate) fn new(shared: Arc<ScheduledIo>, handle: IoHandle) -> Registration {
        Registration {
            shared,
            handle,
            deregistered: false,
        }
    }

    /// The resource's async id.
    pub fn id(&self) -> AsyncId {
        self.shared.id()
    }

    /// The resource kind given at registration.
    pub fn kind(&self) -> ResourceKind {
        self.shared.kind()
    }

    /// The handle of the driver this source is registered with.
    pub fn handle(&self) -> &IoHandle {
        &self.handle
    }

    /// `Ready` with the readiness of `direction` (see [`Direction::mask`]), or an error
    /// once the registration is deregistered or its driver shut down; otherwise stores
    /// `cx`'s waker in the direction's slot (replacing the previous one: one reader and
    /// one writer at a time) and returns `Pending`.
    ///
    /// Only readiness the source was registered for ever arrives: polling
    /// `Direction::Write` on a source registered for `READABLE` only waits until an
    /// error or a close.
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.shared.poll_ready(cx, direction)
    }

    /// [`poll_ready`](Self::poll_ready) for [`Direction::Read`].
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.shared.poll_ready(cx, Direction::Read)
    }

    /// [`poll_ready`](Self::poll_ready) for [`Direction::Write`].
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.shared.poll_ready(cx, Direction::Write)
    }

    /// A future that resolves once readiness matching `interest` (see
    /// [`Ready::from_interest`]) is set. Unlike `poll_ready` any number of these can
    /// wait at once; each is woken.
    pub fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness::new(&self.shared, Ready::from_interest(interest))
    }

    /// Clears the flags of `event` — after an operation returned `WouldBlock` — unless a
    /// newer event arrived since `event` was read (its tick differs), so no readiness is
    /// lost. `READ_CLOSED` and `WRITE_CLOSED` are never cleared.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.shared.clear_readiness(event);
    }

    /// Waits for `direction`, then runs `f`; on `WouldBlock` clears the readiness and
    /// waits again. Any other outcome of `f` (success or error) is returned.
    ///
    /// `f` is the non-blocking system call (`read`, `write`, `accept`, ...). The runtime
    /// wraps this in its cooperative budget; this crate does not charge one.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.shared.poll_io(cx, direction, f)
    }

    /// Runs `f` now if readiness matching `interest` is set, otherwise returns
    /// `WouldBlock` without calling it; clears the readiness if `f` reports
    /// `WouldBlock` (tokio's `try_io`).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.shared.try_io(Ready::from_interest(interest), f)
    }

    /// Waits for readiness matching `interest` and runs `f` until it returns something
    /// other than `WouldBlock` (tokio's `async_io`).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return result,
            }
        }
    }

    /// Deregisters `source` (the source this registration was made for) from the
    /// driver, wakes every waiter (their next poll reports an error) and ends the
    /// resource: `destroy` fires, after the `after` of a dispatch in flight on the
    /// driver's thread if there is one. A second call does nothing.
    ///
    /// # Errors
    ///
    /// What mio's `deregister` reports; the registration is closed and destroyed anyway.
    pub fn deregister<S: Source + ?Sized>(&mut self, source: &mut S) -> io::Result<()> {
        if self.deregistered {
            return Ok(());
        }
        // After a shutdown the registry (a clone of the dropped `Poll`'s) still works.
        let result = self.handle.inner.registry.deregister(source);
        self.close();
        result
    }

    /// Removes the registration from the driver's table and closes the shared state.
    fn close(&mut self) {
        self.deregistered = true;
        let removed = self.handle.inner.lock().remove(self.shared.token());
        drop(removed);
        self.shared.close(&self.handle.inner.hooks);
    }
}

impl Drop for Registration {
    /// Drop without [`deregister`](Registration::deregister): the table entry is removed
    /// and the resource ends as with `deregister`, but the source stays registered with
    /// the OS until it is closed; events it still produces carry a stale token and are
    /// ignored.
    fn drop(&mut self) {
        if !self.deregistered {
            self.close();
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("shared", &*self.shared)
            .field("deregistered", &self.deregistered)
            .finish()
    }
}
