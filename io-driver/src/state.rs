//! The state word of one registration, shared by its owner (the `Registration`) and the
//! driver.
//!
//! ```text
//!  63 ............ 32 | 31 .. 19 |     18        17      16   | 15 .. 6 | 5 ......... 0
//!  tick (u32)         |  unused  | DISPATCHING SHUTDOWN CLOSED |  unused | Ready flags
//! ```
//!
//! - **Ready flags and tick.** The driver ORs the flags of each event into the word and
//!   stores the number of the turn that delivered it ([`IoState::begin_dispatch`]). A
//!   waiter reads flags and tick together as a [`ReadyEvent`]. After its operation
//!   returned `WouldBlock` it clears those flags with [`IoState::clear`], which does
//!   nothing if the tick changed meanwhile: a newer event is never erased by a clear
//!   based on an older observation. `READ_CLOSED` and `WRITE_CLOSED` are never cleared
//!   (a closed half stays closed).
//! - **`CLOSED`**: the owner deregistered or dropped the registration. Set once, never
//!   cleared. No dispatch starts afterwards, and every poll reports an error.
//! - **`SHUTDOWN`**: the driver shut down (the runtime is gone). Set once, never cleared.
//!   Every poll reports an error; `CLOSED` may still follow when the owner drops.
//! - **`DISPATCHING`**: the driver is inside a dispatch of this registration (between
//!   setting readiness and its `after`). Only the driver sets and clears it, and one
//!   driver turn runs at a time, so dispatches never overlap.
//! - **Who emits `destroy`:** whoever comes second of `CLOSED` and the end of a dispatch.
//!   [`IoState::close`] tells the owner whether a dispatch is in flight (then the driver
//!   emits `destroy` right after its `after`, seeing `CLOSED` in
//!   [`IoState::end_dispatch`]); a dispatch cannot begin once `CLOSED` is set. So
//!   `destroy` is emitted exactly once and is the last event of the id.
//!
//! Every transition is one atomic read-modify-write (`AcqRel`), so a clear and a set are
//! totally ordered; no-lost-wake-up between readiness and waker slots comes from the
//! waiter mutex (see `scheduled_io.rs`).

use crate::loom::sync::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire};
use crate::{Ready, ReadyEvent};
use std::io;

/// The `Ready` flags: the low bits.
const READY_MASK: u64 = Ready::ALL.bits() as u64;
/// The owner deregistered or dropped the registration.
const CLOSED: u64 = 1 << 16;
/// The driver shut down.
const SHUTDOWN: u64 = 1 << 17;
/// A dispatch of this registration is in progress.
const DISPATCHING: u64 = 1 << 18;
/// Where the tick starts.
const TICK_SHIFT: u32 = 32;
/// The bits that hold the tick.
const TICK_MASK: u64 = (u32::MAX as u64) << TICK_SHIFT;

const _: () = assert!(
    READY_MASK < CLOSED,
    "flags must not overlap the readiness bits"
);
const _: () = assert!(
    DISPATCHING < 1 << TICK_SHIFT,
    "flags must not overlap the tick"
);

/// See the module docs.
#[derive(Debug)]
pub(crate) struct IoState(AtomicU64);

/// One reading of the state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

/// Why a registration can no longer make progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gone {
    /// The owner deregistered or dropped it.
    Closed,
    /// The driver shut down.
    Shutdown,
}

impl Gone {
    pub(crate) fn into_error(self) -> io::Error {
        match self {
            Gone::Closed => io::Error::new(
                io::ErrorKind::NotConnected,
                "hookrt: the I/O resource was deregistered from the I/O driver (it was closed or dropped)",
            ),
            Gone::Shutdown => shutdown_error(),
        }
    }
}

/// The error every operation on a registration reports once its driver shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other(
        "hookrt: the runtime's I/O driver has shut down (the runtime was dropped); \
         I/O resources cannot be used after their runtime is gone",
    )
}

impl Snapshot {
    pub(crate) fn ready(self) -> Ready {
        Ready::from_bits_truncate(self.0)
    }

    pub(crate) fn tick(self) -> u32 {
        (self.0 >> TICK_SHIFT) as u32
    }

    /// Whether the registration can no longer make progress, and why (`SHUTDOWN` wins:
    /// its message names the real cause).
    pub(crate) fn gone(self) -> Option<Gone> {
        if self.0 & SHUTDOWN != 0 {
            Some(Gone::Shutdown)
        } else if self.0 & CLOSED != 0 {
            Some(Gone::Closed)
        } else {
            None
        }
    }

    /// What a waiter interested in `mask` gets from this snapshot: an error if the
    /// registration is gone, the matching flags if any is set, otherwise `None` (wait).
    pub(crate) fn event(self, mask: Ready) -> Option<io::Result<ReadyEvent>> {
        if let Some(gone) = self.gone() {
            return Some(Err(gone.into_error()));
        }
        let ready = self.ready() & mask;
        (!ready.is_empty()).then(|| Ok(ReadyEvent::new(ready, self.tick())))
    }
}

impl IoState {
    pub(crate) fn new() -> IoState {
        IoState(AtomicU64::new(0))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    fn update(&self, mut f: impl FnMut(u64) -> Option<u64>) -> Result<u64, u64> {
        let mut current = self.0.load(Acquire);
        loop {
            let Some(next) = f(current) else {
                return Err(current);
            };
            match self.0.compare_exchange_weak(current, next, AcqRel, Acquire) {
                Ok(prev) => return Ok(prev),
                Err(actual) => current = actual,
            }
        }
    }

    /// Driver: adds `ready` with tick `tick` and marks a dispatch in progress. Fails
    /// (returns `false`, changes nothing) once the registration is closed or shut down.
    #[must_use]
    pub(crate) fn begin_dispatch(&self, tick: u32, ready: Ready) -> bool {
        debug_assert!(self.load().0 & DISPATCHING == 0, "dispatches never overlap");
        self.update(|s| {
            (s & (CLOSED | SHUTDOWN) == 0).then(|| {
                (s & !TICK_MASK)
                    | u64::from(ready.bits())
                    | (u64::from(tick) << TICK_SHIFT)
                    | DISPATCHING
            })
        })
        .is_ok()
    }

    /// Driver: the dispatch is over. Returns whether the owner closed the registration
    /// meanwhile (the driver must then emit `destroy`).
    #[must_use]
    pub(crate) fn end_dispatch(&self) -> bool {
        let prev = self.0.fetch_and(!DISPATCHING, AcqRel);
        debug_assert!(
            prev & DISPATCHING != 0,
            "end_dispatch without begin_dispatch"
        );
        prev & CLOSED != 0
    }

    /// Owner: clears the flags of `event` (never `READ_CLOSED` / `WRITE_CLOSED`) if the
    /// tick is still the one `event` was read with.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        let clear = event.ready() - Ready::READ_CLOSED - Ready::WRITE_CLOSED;
        let clear = u64::from(clear.bits());
        let _ = self.update(|s| {
            (Snapshot(s).tick() == event.tick() && s & clear != 0).then_some(s & !clear)
        });
    }

    /// Owner: the registration is deregistered or dropped. Returns whether the owner
    /// emits `destroy` (no dispatch in flight) or leaves it to the driver.
    #[must_use]
    pub(crate) fn close(&self) -> bool {
        let prev = self.0.fetch_or(CLOSED, AcqRel);
        debug_assert!(prev & CLOSED == 0, "a registration is closed once");
        prev & DISPATCHING == 0
    }

    /// Driver: it shut down.
    pub(crate) fn shutdown(&self) {
        self.0.fetch_or(SHUTDOWN, AcqRel);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn event(state: &IoState, mask: Ready) -> ReadyEvent {
        state.load().event(mask).unwrap().unwrap()
    }

    #[test]
    fn a_clear_with_an_old_tick_keeps_the_new_event() {
        let s = IoState::new();
        assert!(s.begin_dispatch(1, Ready::READABLE));
        assert!(!s.end_dispatch());
        let seen = event(&s, Ready::ALL);
        assert_eq!((seen.ready(), seen.tick()), (Ready::READABLE, 1));

        assert!(s.begin_dispatch(2, Ready::READABLE));
        assert!(!s.end_dispatch());
        s.clear(seen);
        assert_eq!(event(&s, Ready::ALL).tick(), 2, "the newer event survives");

        s.clear(event(&s, Ready::ALL));
        assert!(
            s.load().event(Ready::ALL).is_none(),
            "a current clear clears"
        );
    }

    #[test]
    fn closed_halves_are_never_cleared() {
        let s = IoState::new();
        assert!(s.begin_dispatch(7, Ready::READABLE | Ready::READ_CLOSED));
        assert!(!s.end_dispatch());
        s.clear(event(&s, Ready::ALL));
        assert_eq!(s.load().ready(), Ready::READ_CLOSED);
    }

    #[test]
    fn close_during_dispatch_hands_destroy_to_the_driver() {
        let s = IoState::new();
        assert!(s.begin_dispatch(1, Ready::WRITABLE));
        assert!(!s.close(), "the driver emits destroy");
        assert!(s.end_dispatch());
        assert!(
            !s.begin_dispatch(2, Ready::WRITABLE),
            "no dispatch after close"
        );
        assert_eq!(s.load().gone(), Some(Gone::Closed));
    }

    #[test]
    fn shutdown_reports_an_error_and_stops_dispatch() {
        let s = IoState::new();
        s.shutdown();
        assert!(s.load().event(Ready::ALL).unwrap().is_err());
        assert!(!s.begin_dispatch(1, Ready::READABLE));
        assert!(s.close(), "no dispatch in flight: the owner emits destroy");
        assert_eq!(s.load().gone(), Some(Gone::Shutdown));
    }
}
