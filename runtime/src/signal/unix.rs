//! Unix signals as streams of notifications (tokio's `tokio::signal::unix`).

use super::registry::{self, Slot};
use crate::io::current_io_handle;
use crate::task::coop;
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Registration;
use mio::unix::SourceFd;
use mio::Interest;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::raw::c_int;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::Location;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The resource kind of a [`Signal`]'s registration.
const KIND: ResourceKind = ResourceKind::Custom("Signal");

/// A kind of Unix signal: a signal number.
///
/// ```
/// use hookrt::signal::unix::SignalKind;
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal numbered `signum` (for signals without a constructor here, such as
    /// real-time signals).
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// `SIGALRM`: a real-time timer expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal hung up.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: an interrupt (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O is possible on a descriptor.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: a quit request (Ctrl-\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a termination request.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> c_int {
        kind.0
    }
}

/// A listener for one kind of signal, created by [`signal`].
///
/// [`recv`](Signal::recv) returns `Some(())` once per batch of deliveries since the
/// previous notification: deliveries that arrive while nobody looks coalesce into one,
/// as in tokio (the OS coalesces pending signals too). Deliveries before the `Signal`
/// was created are not reported. Every `Signal` of a kind is notified of each delivery,
/// on any runtime.
///
/// Each `Signal` is one resource of kind `Custom("Signal")` (on the runtime that created
/// it): `init` at [`signal`], a `before`/`after` around each driver dispatch that wakes
/// it — the task awaiting `recv` sees `wake(task, by = this resource)` — and `destroy`
/// on drop. It holds one file descriptor (a duplicate of the signal's pipe). When
/// another listener of the same signal drained the shared pipe first, this one is woken
/// by that listener in the root frame instead (`wake(task, by = ROOT)`: the other
/// listener may live on another runtime).
///
/// Once a process handles a signal through hookrt, the signal's default action (for
/// `SIGINT` and `SIGTERM`: terminating the process) no longer happens, even after
/// every `Signal` is dropped — as in tokio.
pub struct Signal {
    kind: SignalKind,
    slot: Arc<Slot>,
    /// This listener's key in the slot's waiter list.
    key: usize,
    /// The delivery count already reported.
    seen: usize,
    /// A duplicate of the slot's read end, registered with `registration`.
    pipe: UnixStream,
    registration: Registration,
}

/// Listens for signals of `kind` on the current runtime. The first call for a kind (in
/// the process) installs its handler.
///
/// # Errors
///
/// For a signal that cannot be handled (`SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`,
/// `SIGSEGV`) or an unknown number, or when a descriptor cannot be created or
/// registered.
///
/// # Panics
///
/// Outside a runtime, or on a runtime built without `enable_io()`.
///
/// ```no_run
/// use hookrt::signal::unix::{signal, SignalKind};
///
/// # hookrt::runtime::Builder::new_current_thread().enable_io().build().unwrap().block_on(async {
/// let mut hangups = signal(SignalKind::hangup())?;
/// while hangups.recv().await.is_some() {
///     println!("reloading the configuration");
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    signal_at(kind, Location::caller())
}

/// [`signal`] with an explicit creation site (for `ctrl_c`).
#[track_caller]
pub(crate) fn signal_at(
    kind: SignalKind,
    location: &'static Location<'static>,
) -> io::Result<Signal> {
    let handle = current_io_handle();
    let slot = registry::slot(kind.0)?;
    let pipe = slot.dup_read_end()?;
    let registration = handle.register_at(
        &mut SourceFd(&pipe.as_raw_fd()),
        Interest::READABLE,
        KIND,
        location,
    )?;
    let key = slot.add_listener();
    let seen = slot.deliveries();
    Ok(Signal {
        kind,
        slot,
        key,
        seen,
        pipe,
        registration,
    })
}

impl Signal {
    /// Waits for the next delivery (batch) of this signal: `Some(())`, or `None` once
    /// the runtime that created this `Signal` has shut down.
    ///
    /// Cancel safe: dropping the future loses no delivery.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery (batch): `Ready(Some(()))`, `Ready(None)` once the
    /// runtime that created this `Signal` has shut down, or `Pending` (the task is
    /// woken by the next delivery). Charges the cooperative budget.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let progress = ready!(coop::poll_proceed(cx));
        loop {
            if self.take_delivery() {
                progress.made_progress();
                return Poll::Ready(Some(()));
            }
            // Store the waker for other listeners' broadcast, then look again: a
            // listener that drained the pipe before this store has already bumped
            // nothing we would miss (the counter was bumped before its byte was
            // written), and one that drains after it wakes us.
            self.slot.set_waker(self.key, cx.waker());
            if self.take_delivery() {
                progress.made_progress();
                return Poll::Ready(Some(()));
            }
            match self.registration.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                // The runtime's I/O driver shut down: no delivery can wake us any more.
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Ready(Ok(event)) => {
                    self.slot.drain(&self.pipe);
                    // Unless a byte arrived since `event` (a newer tick), wait for the
                    // next one.
                    self.registration.clear_readiness(event);
                    // The bytes drained may have been the others' only wake-up.
                    self.slot.wake_others(self.key);
                }
            }
        }
    }

    /// The signal this listens for.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// The resource's async id (what hooks see as its id, and as `by` in the `wake`
    /// events of tasks it wakes).
    pub fn async_id(&self) -> AsyncId {
        self.registration.id()
    }

    /// Whether deliveries happened since the last report; marks them reported.
    fn take_delivery(&mut self) -> bool {
        let now = self.slot.deliveries();
        if now != self.seen {
            self.seen = now;
            true
        } else {
            false
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Deregister before `pipe` (the registered descriptor) closes.
        let _ = self
            .registration
            .deregister(&mut SourceFd(&self.pipe.as_raw_fd()));
        self.slot.remove_listener(self.key);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("id", &self.registration.id())
            .field("seen", &self.seen)
            .finish()
    }
}
