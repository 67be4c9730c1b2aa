//! `Parker`: where an idle scheduler thread waits for work.
//!
//! A thread parks in one of two ways: on the parker's condvar, or inside the I/O
//! driver's `turn` (the thread that owns the drivers waits for sockets and for the next
//! timer at once). `unpark` knows which: a condvar sleeper is notified, a driver sleeper
//! is woken through the driver's `mio::Waker`. An `unpark` that comes before the park is
//! remembered either way, so no wake-up is lost.

use crate::loom::sync::{Condvar, Mutex};
use hookrt_io_driver::IoHandle;
use std::time::Duration;

/// A wake-up latch for one waiting thread at a time.
#[derive(Debug)]
pub(crate) struct Parker {
    state: Mutex<ParkState>,
    condvar: Condvar,
    /// The I/O driver's handle, for waking a thread parked inside `turn`.
    io: Option<IoHandle>,
}

#[derive(Debug)]
struct ParkState {
    /// An unpark that no park has consumed yet.
    unparked: bool,
    /// The owner is inside the I/O driver's `turn`.
    in_driver: bool,
}

impl Parker {
    /// A parker whose thread only ever parks on its condvar.
    pub(crate) fn new() -> Parker {
        Parker {
            state: Mutex::new(ParkState {
                unparked: false,
                in_driver: false,
            }),
            condvar: Condvar::new(),
            io: None,
        }
    }

    /// A parker whose thread may park inside the I/O driver.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn with_io(io: Option<IoHandle>) -> Parker {
        Parker {
            io,
            ..Parker::new()
        }
    }

    /// Waits until `unpark` is called (or returns at once if it was called since the
    /// last park).
    pub(crate) fn park(&self) {
        let mut state = self.state.lock().unwrap();
        while !state.unparked {
            state = self.condvar.wait(state).unwrap();
        }
        state.unparked = false;
    }

    /// As `park`, but gives up after `timeout`.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn park_timeout(&self, timeout: Duration) {
        let mut state = self.state.lock().unwrap();
        if !state.unparked {
            state = self.condvar.wait_timeout(state, timeout).unwrap().0;
        }
        state.unparked = false;
    }

    /// Sleeps inside the driver: `turn` runs the driver's blocking turn, and is given a
    /// check that tells whether an `unpark` arrived meanwhile.
    ///
    /// `turn` must call the check *after* taking the driver, and turn without blocking
    /// if it says so. An `unpark` pokes the driver (a `mio::Waker` event), and a busy
    /// worker's non-blocking poll of the driver can consume that event before this
    /// thread's blocking turn begins; once this thread holds the driver nobody else can
    /// poll it, so an `unpark` is either seen by the check or delivered to the turn.
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn park_in_driver(&self, turn: impl FnOnce(&dyn Fn() -> bool)) {
        {
            let mut state = self.state.lock().unwrap();
            if state.unparked {
                state.unparked = false;
                return;
            }
            state.in_driver = true;
        }
        turn(&|| self.state.lock().unwrap().unparked);
        let mut state = self.state.lock().unwrap();
        state.in_driver = false;
        state.unparked = false;
    }

    /// Wakes the parked thread, or makes its next park return at once.
    ///
    /// A thread inside the I/O driver is poked through the driver's waker on *every*
    /// unpark, not only the first: another thread's non-blocking turn of the same driver
    /// can consume a poke before the sleeper enters `epoll_wait`, and the sleeper must
    /// not then ignore the next one (that was a shutdown hang, ~1 in 2 000 drops). The
    /// sleeper also re-checks the flag once it holds the driver (`park_in_driver`), for
    /// the case where no further poke comes.
    pub(crate) fn unpark(&self) {
        let mut state = self.state.lock().unwrap();
        let already = std::mem::replace(&mut state.unparked, true);
        let in_driver = state.in_driver;
        drop(state);
        if in_driver {
            if let Some(io) = &self.io {
                io.unpark();
            }
        } else if !already {
            self.condvar.notify_one();
        }
    }
}
