//! `IoDriver`: the owner of the `mio::Poll`; each [`IoDriver::turn`] polls it once and
//! dispatches the events.

use crate::handle::{Inner, IoHandle};
use crate::loom::sync::Arc;
use crate::scheduled_io::ScheduledIo;
use crate::{token, Ready};
use std::fmt;
use std::io;
use std::time::Duration;

/// How many events one turn takes from the OS at most (more wait for the next turn).
const EVENTS_CAPACITY: usize = 1024;

/// The I/O driver of one runtime: owns the `mio::Poll`.
///
/// Exactly one thread at a time calls [`turn`](IoDriver::turn) (it takes `&mut self`);
/// the driver is `Send`, so the runtime can hand it to whichever worker thread is about
/// to park. Everything else (registering, unparking) goes through the [`IoHandle`].
///
/// Dropping the driver shuts it down: see [`IoDriver::shutdown`].
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use hookrt_hooks::HookSet;
/// use hookrt_io_driver::IoDriver;
/// use std::time::Duration;
///
/// let (mut driver, handle) = IoDriver::new(HookSet::empty())?;
/// handle.unpark();
/// // The unpark makes this turn return at once instead of after an hour.
/// assert_eq!(driver.turn(Some(Duration::from_secs(3600)))?, 0);
/// # Ok(()) }
/// ```
pub struct IoDriver {
    poll: mio::Poll,
    events: mio::Events,
    handle: IoHandle,
    /// The number of the current turn (wrapping); stamped into the readiness it sets.
    tick: u32,
    /// Scratch space: the registrations a turn dispatches to, looked up under the lock
    /// and dispatched outside it.
    dispatch: Vec<(Arc<ScheduledIo>, Ready)>,
    is_shutdown: bool,
}

impl IoDriver {
    /// A new driver, and its handle. Resources registered through the handle report to
    /// `hooks`.
    pub fn new(hooks: hookrt_hooks::HookSet) -> io::Result<(IoDriver, IoHandle)> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), token::WAKER)?;
        let registry = poll.registry().try_clone()?;
        let handle = IoHandle {
            inner: Arc::new(Inner::new(registry, waker, hooks)),
        };
        let driver = IoDriver {
            poll,
            events: mio::Events::with_capacity(EVENTS_CAPACITY),
            handle: handle.clone(),
            tick: 0,
            dispatch: Vec::new(),
            is_shutdown: false,
        };
        Ok((driver, handle))
    }

    /// The driver's handle.
    pub fn handle(&self) -> &IoHandle {
        &self.handle
    }

    /// Waits up to `timeout` (`None`: until an event or an
    /// [`unpark`](IoHandle::unpark); `Some(Duration::ZERO)`: not at all) for I/O events,
    /// then dispatches them: each registration's readiness is updated, and its waiters
    /// woken inside its `before`/`after`. Returns how many registrations had a waiter
    /// woken.
    ///
    /// Returns `Ok(0)` early when unparked or interrupted by a signal. Events for a
    /// registration that is gone (a stale token, its slot reused) are ignored.
    ///
    /// # Errors
    ///
    /// What `mio::Poll::poll` reports, other than `Interrupted`; and the shutdown error
    /// after [`IoDriver::shutdown`].
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        if self.is_shutdown {
            return Err(crate::state::shutdown_error());
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        self.tick = self.tick.wrapping_add(1);
        if self.events.is_empty() {
            return Ok(0);
        }
        {
            let registrations = self.handle.inner.lock();
            for event in self.events.iter() {
                let token = event.token();
                if token == token::WAKER {
                    continue;
                }
                if let Some(io) = registrations.get(token) {
                    self.dispatch.push((io.clone(), Ready::from_event(event)));
                }
            }
        }
        let hooks = &self.handle.inner.hooks;
        let mut woken = 0;
        for (io, ready) in self.dispatch.drain(..) {
            if io.dispatch(self.tick, ready, hooks) {
                woken += 1;
            }
        }
        Ok(woken)
    }

    /// Shuts the driver down (idempotent; dropping the driver does it too): no source can
    /// be registered any more, and every live registration is marked shut down and its
    /// waiters woken, so a pending `accept` or `read` returns an error instead of hanging.
    /// The registrations' `destroy` still comes from their owners, when they drop.
    pub fn shutdown(&mut self) {
        if self.is_shutdown {
            return;
        }
        self.is_shutdown = true;
        let live = self.handle.inner.lock().shutdown();
        for io in live {
            io.shutdown();
        }
    }
}

impl Drop for IoDriver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for IoDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoDriver")
            .field("tick", &self.tick)
            .field("handle", &self.handle)
            .field("is_shutdown", &self.is_shutdown)
            .finish()
    }
}
