//! `Drivers`: a runtime's time and I/O drivers, and how a scheduler thread sleeps on
//! them.
//!
//! Exactly one thread at a time *owns* the drivers while it sleeps (the current-thread
//! scheduler's thread; on the multi-thread runtime, one parked worker): it waits in the
//! I/O driver's `turn` (or on its condvar without I/O) with the next timer's deadline as
//! timeout, then fires the timers that are due. Busy threads poll both drivers without
//! sleeping every `event_interval` ticks, so a busy runtime cannot starve timers or
//! sockets.

use super::park::Parker;
use hookrt_io_driver::{IoDriver, IoHandle};
use hookrt_timer_wheel::TimeDriver;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// The drivers of one runtime.
pub(crate) struct Drivers {
    pub(crate) time: Option<TimeDriver>,
    pub(crate) io: Option<IoSlot>,
}

/// The I/O driver (owned by whichever thread turns it) and its shared handle.
pub(crate) struct IoSlot {
    driver: Mutex<IoDriver>,
    pub(crate) handle: IoHandle,
}

impl IoSlot {
    pub(crate) fn new(driver: IoDriver, handle: IoHandle) -> IoSlot {
        IoSlot {
            driver: Mutex::new(driver),
            handle,
        }
    }
}

impl Drivers {
    /// The I/O handle, if I/O is enabled.
    pub(crate) fn io_handle(&self) -> Option<&IoHandle> {
        self.io.as_ref().map(|io| &io.handle)
    }

    /// Dispatches ready I/O and fires due timers without sleeping.
    pub(crate) fn poll(&self) {
        if let Some(io) = &self.io {
            if let Ok(mut driver) = io.driver.try_lock() {
                let _ = driver.turn(Some(Duration::ZERO));
            }
        }
        if let Some(time) = &self.time {
            time.process();
        }
    }

    /// Sleeps on the drivers until woken through `parker`, until I/O is ready, or until
    /// the next timer is due; then fires the timers that are. With paused time and
    /// nothing else to do, jumps the clock to the next timer instead of sleeping.
    pub(crate) fn park(&self, parker: &Parker) {
        if let Some(time) = &self.time {
            if time.clock().is_paused() {
                if let Some(next) = time.next_expiration() {
                    // Let ready I/O win before time jumps.
                    if !self.turn_io(Some(Duration::ZERO)) {
                        let _ = time.clock().advance_to(next);
                    }
                    time.process();
                    return;
                }
            }
        }
        let timeout = self.time.as_ref().and_then(TimeDriver::prepare_sleep);
        match &self.io {
            Some(io) => parker.park_in_driver(|unparked| {
                if let Ok(mut driver) = io.driver.lock() {
                    // Checked with the driver held (see `park_in_driver`): an unpark
                    // whose poke a busy worker's poll swallowed is seen here.
                    let timeout = if unparked() {
                        Some(Duration::ZERO)
                    } else {
                        timeout
                    };
                    let _ = driver.turn(timeout);
                }
            }),
            None => match timeout {
                Some(timeout) => parker.park_timeout(timeout),
                None => parker.park(),
            },
        }
        if let Some(time) = &self.time {
            time.woke();
            time.process();
        }
    }

    /// Turns the I/O driver once; returns whether it woke anything.
    fn turn_io(&self, timeout: Option<Duration>) -> bool {
        match &self.io {
            Some(io) => io
                .driver
                .lock()
                .ok()
                .and_then(|mut d| d.turn(timeout).ok())
                .is_some_and(|woken| woken > 0),
            None => false,
        }
    }

    /// Fails every socket still registered (runtime shutdown, after the tasks are gone).
    pub(crate) fn shutdown(&self) {
        if let Some(io) = &self.io {
            if let Ok(mut driver) = io.driver.lock() {
                driver.shutdown();
            }
        }
    }
}

impl fmt::Debug for Drivers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drivers")
            .field("time", &self.time.is_some())
            .field("io", &self.io.is_some())
            .finish()
    }
}
