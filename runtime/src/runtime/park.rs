//! `Parker`: where an idle scheduler thread waits for work.
//!
//! Today it is a condvar with a sticky "unparked" flag. The time and I/O drivers (later)
//! park inside it instead: the thread that owns the drivers waits in the driver's poll
//! with the next timer deadline as timeout, and `unpark` wakes the driver.

use crate::loom::sync::{Condvar, Mutex};

/// A wake-up latch for one waiting thread at a time. An `unpark` that comes before the
/// `park` is remembered, so no wake-up is lost.
#[derive(Debug)]
pub(crate) struct Parker {
    unparked: Mutex<bool>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            unparked: Mutex::new(false),
            condvar: Condvar::new(),
        }
    }

    /// Waits until `unpark` is called (or returns at once if it was called since the
    /// last park).
    pub(crate) fn park(&self) {
        let mut unparked = self.unparked.lock().unwrap();
        while !*unparked {
            unparked = self.condvar.wait(unparked).unwrap();
        }
        *unparked = false;
    }

    /// As `park`, but gives up after `timeout`.
    pub(crate) fn park_timeout(&self, timeout: std::time::Duration) {
        let mut unparked = self.unparked.lock().unwrap();
        if !*unparked {
            unparked = self.condvar.wait_timeout(unparked, timeout).unwrap().0;
        }
        *unparked = false;
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        let mut unparked = self.unparked.lock().unwrap();
        if !*unparked {
            *unparked = true;
            drop(unparked);
            self.condvar.notify_one();
        }
    }
}
