//! `IoHandle`: the shared, thread-safe side of the driver — registering sources and
//! unparking the driver.

use crate::loom::sync::{Arc, Mutex, MutexGuard};
use crate::registrations::Registrations;
use crate::Registration;
use hookrt_hooks::{HookSet, ResourceKind};
use mio::event::Source;
use mio::Interest;
use std::fmt;
use std::io;
use std::panic::Location;

/// A handle to one [`IoDriver`](crate::IoDriver): registers sources, and wakes the
/// thread blocked in [`IoDriver::turn`](crate::IoDriver::turn). Cloning shares it; it is
/// `Send + Sync` and stays usable (registrations then fail) after the driver is gone.
#[derive(Clone)]
pub struct IoHandle {
    pub(crate) inner: Arc<Inner>,
}

/// What the driver, its handles and its registrations share.
pub(crate) struct Inner {
    /// A clone of the `Poll`'s registry (the `Poll` itself is owned by the driver).
    pub(crate) registry: mio::Registry,
    /// Registered with the `Poll` under [`crate::token::WAKER`].
    waker: mio::Waker,
    pub(crate) registrations: Mutex<Registrations>,
    pub(crate) hooks: HookSet,
}

impl Inner {
    pub(crate) fn new(registry: mio::Registry, waker: mio::Waker, hooks: HookSet) -> Inner {
        Inner {
            registry,
            waker,
            registrations: Mutex::new(Registrations::new()),
            hooks,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Registrations> {
        // The table's methods do not panic half-way; recover from a poisoned lock.
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl IoHandle {
    /// Registers `source` for `interest` and returns its [`Registration`], a new resource
    /// of kind `kind`: `init` fires (trigger: the current execution; context: the current
    /// one; location: the caller of this `#[track_caller]` function).
    ///
    /// The source must stay registered with this driver only while the `Registration`
    /// lives: its owner calls [`Registration::deregister`] before dropping the source.
    /// Fails if the driver has shut down (no `init` then), or if mio refuses the source.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use hookrt_hooks::{HookSet, ResourceKind};
    /// use hookrt_io_driver::IoDriver;
    /// use mio::{net::UdpSocket, Interest};
    ///
    /// let (_driver, handle) = IoDriver::new(HookSet::empty())?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut registration =
    ///     handle.register(&mut socket, Interest::READABLE, ResourceKind::UdpSocket)?;
    /// assert_eq!(registration.kind(), ResourceKind::UdpSocket);
    /// registration.deregister(&mut socket)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn register<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
        kind: ResourceKind,
    ) -> io::Result<Registration> {
        self.register_at(source, interest, kind, Location::caller())
    }

    /// As [`IoHandle::register`] with an explicit creation site, for wrappers that are
    /// `#[track_caller]` themselves (`TcpStream::connect`, `AsyncFd::new`, ...).
    pub fn register_at<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
        kind: ResourceKind,
        location: &'static Location<'static>,
    ) -> io::Result<Registration> {
        let shared = self
            .inner
            .lock()
            .insert(|token| crate::ScheduledIo::new(token, kind, location))?;
        if let Err(e) = self
            .inner
            .registry
            .register(source, shared.token(), interest)
        {
            self.inner.lock().remove(shared.token());
            return Err(e);
        }
        // An event may already have been dispatched to it: with no waiter yet, that only
        // set its readiness and emitted nothing, so `init` still comes first.
        self.inner.hooks.init(&shared.resource());
        Ok(Registration::new(shared, self.clone()))
    }

    /// Wakes the driver: a [`turn`](crate::IoDriver::turn) blocked on another thread
    /// returns (with whatever events are ready), or, if none is in progress, the next one
    /// returns without blocking.
    ///
    /// # Panics
    ///
    /// If the driver's wake-up descriptor cannot be written to (the OS refused an
    /// `eventfd`/pipe write), which would otherwise be a silently lost wake-up.
    pub fn unpark(&self) {
        self.inner
            .waker
            .wake()
            .expect("hookrt: failed to wake the I/O driver");
    }

    /// The hooks this driver's resources report to.
    pub fn hooks(&self) -> &HookSet {
        &self.inner.hooks
    }

    /// How many registrations are live.
    pub fn registration_count(&self) -> usize {
        self.inner.lock().len()
    }

    /// Whether the driver has shut down (registering then fails).
    pub fn is_shutdown(&self) -> bool {
        self.inner.lock().is_shutdown()
    }
}

impl fmt::Debug for IoHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let regs = self.inner.lock();
        f.debug_struct("IoHandle")
            .field("registrations", &regs.len())
            .field("is_shutdown", &regs.is_shutdown())
            .finish()
    }
}
