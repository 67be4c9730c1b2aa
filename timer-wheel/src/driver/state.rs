//! The state word of one timer, shared by its owner (the `Timer`) and the driver.
//!
//! ```text
//!  63 ............................ 3 |   2       1       0
//!  generation (bumped by each reset)  | DROPPED FIRING  FIRED
//! ```
//!
//! - The owner bumps the generation (under the wheel lock) whenever it re-arms the timer;
//!   a wheel entry remembers the generation it was inserted with, so a firing that raced
//!   with a reset is recognised as stale and ignored.
//! - The driver sets `FIRED` and `FIRING` together before it runs the timer's `before` /
//!   waker / `after` (so a poll that the waker triggers already sees `FIRED`), and clears
//!   `FIRING` when done. A reset meanwhile clears `FIRED` and bumps the generation.
//! - The owner sets `DROPPED` when the timer is dropped. Whoever sees the other side's
//!   bit emits `destroy`: the owner when no firing is in progress, otherwise the driver
//!   right after its `after`, so `destroy` is always the last event.

use crate::loom::sync::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire};

const FIRED: u64 = 1 << 0;
const FIRING: u64 = 1 << 1;
const DROPPED: u64 = 1 << 2;
const GEN_SHIFT: u32 = 3;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct TimerState(AtomicU64);

impl TimerState {
    pub(crate) fn new() -> TimerState {
        TimerState(AtomicU64::new(0))
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

    /// The current generation.
    pub(crate) fn generation(&self) -> u64 {
        self.0.load(Acquire) >> GEN_SHIFT
    }

    /// Whether the timer fired for its current generation.
    pub(crate) fn is_fired(&self) -> bool {
        self.0.load(Acquire) & FIRED != 0
    }

    /// Owner: re-arm. Clears `FIRED`, keeps a firing in progress marked, and returns the
    /// new generation.
    pub(crate) fn rearm(&self) -> u64 {
        let prev = self
            .update(|s| Some((((s >> GEN_SHIFT) + 1) << GEN_SHIFT) | (s & (FIRING | DROPPED))))
            .unwrap_or_else(|s| s);
        (prev >> GEN_SHIFT) + 1
    }

    /// Driver: claim the firing of generation `generation`. Fails when the timer was
    /// re-armed or dropped since that entry was inserted, or already fired.
    pub(crate) fn begin_fire(&self, generation: u64) -> bool {
        self.update(|s| {
            let current = s >> GEN_SHIFT == generation;
            (current && s & (FIRED | FIRING | DROPPED) == 0).then_some(s | FIRING | FIRED)
        })
        .is_ok()
    }

    /// Driver: the firing is over. Returns whether the owner dropped the timer meanwhile
    /// (the driver must then emit `destroy`).
    pub(crate) fn end_fire(&self) -> bool {
        let prev = self.0.fetch_and(!FIRING, AcqRel);
        prev & DROPPED != 0
    }

    /// Owner: the timer is dropped. Returns whether the owner emits `destroy` (no
    /// firing in progress) or leaves it to the driver.
    pub(crate) fn drop_timer(&self) -> bool {
        let prev = self.0.fetch_or(DROPPED, AcqRel);
        prev & FIRING == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_reset_makes_an_in_flight_entry_stale() {
        let s = TimerState::new();
        let g1 = s.rearm();
        let g2 = s.rearm();
        assert!(!s.begin_fire(g1), "the old entry does not fire");
        assert!(s.begin_fire(g2));
        assert!(!s.end_fire());
        assert!(s.is_fired());
        assert!(!s.begin_fire(g2), "fires once per generation");
    }

    #[test]
    fn drop_during_firing_hands_destroy_to_the_driver() {
        let s = TimerState::new();
        let g = s.rearm();
        assert!(s.begin_fire(g));
        assert!(!s.drop_timer(), "the driver emits destroy");
        assert!(s.end_fire());
    }

    #[test]
    fn a_dropped_timer_never_fires() {
        let s = TimerState::new();
        let g = s.rearm();
        assert!(s.drop_timer());
        assert!(!s.begin_fire(g));
    }
}
