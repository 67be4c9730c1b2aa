//! The driver's clock: real time, or paused test time that only moves when told to.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A source of "now" for one runtime.
///
/// Normally it is the system's monotonic clock. Test code can [`pause`](Clock::pause)
/// it: time then stands still until [`advance`](Clock::advance) moves it (or the runtime
/// auto-advances it to the next timer when it has nothing else to do), so tests that
/// sleep are instant and deterministic. [`resume`](Clock::resume) lets it run again from
/// where it stood.
#[derive(Debug)]
pub struct Clock {
    /// Fast path: `false` until the clock is paused once; while `false`, `now` is the
    /// system clock itself.
    ever_paused: AtomicBool,
    state: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    /// "Now" when the clock last stopped, or the reading to add `since` to.
    base: Instant,
    /// When the clock last started running, or `None` while paused.
    unfrozen: Option<Instant>,
}

/// Misuse of a paused clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockError {
    /// `pause` on a clock that is already paused.
    AlreadyPaused,
    /// `resume` or `advance` on a clock that is not paused.
    NotPaused,
}

impl std::fmt::Display for ClockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockError::AlreadyPaused => f.write_str("time is already paused"),
            ClockError::NotPaused => f.write_str("time is not paused"),
        }
    }
}

impl std::error::Error for ClockError {}

impl Clock {
    /// A running clock, or a paused one when `start_paused`.
    pub fn new(start_paused: bool) -> Clock {
        let now = Instant::now();
        Clock {
            ever_paused: AtomicBool::new(start_paused),
            state: Mutex::new(ClockState {
                base: now,
                unfrozen: if start_paused { None } else { Some(now) },
            }),
        }
    }

    /// The current time on this clock.
    pub fn now(&self) -> Instant {
        if !self.ever_paused.load(Ordering::Acquire) {
            return Instant::now();
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.unfrozen {
            Some(since) => state.base + since.elapsed(),
            None => state.base,
        }
    }

    /// Whether the clock stands still.
    pub fn is_paused(&self) -> bool {
        self.ever_paused.load(Ordering::Acquire)
            && self
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .unfrozen
                .is_none()
    }

    /// Stops the clock at the current time.
    pub fn pause(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let since = state.unfrozen.take().ok_or(ClockError::AlreadyPaused)?;
        state.base += since.elapsed();
        self.ever_paused.store(true, Ordering::Release);
        Ok(())
    }

    /// Lets a paused clock run again from where it stands.
    pub fn resume(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.unfrozen.is_some() {
            return Err(ClockError::NotPaused);
        }
        state.unfrozen = Some(Instant::now());
        Ok(())
    }

    /// Moves a paused clock forward by `by`.
    pub fn advance(&self, by: Duration) -> Result<(), ClockError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.unfrozen.is_some() {
            return Err(ClockError::NotPaused);
        }
        state.base = state.base.checked_add(by).unwrap_or(state.base);
        Ok(())
    }

    /// Moves a paused clock forward to `to` (no-op if it is already later).
    pub fn advance_to(&self, to: Instant) -> Result<(), ClockError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.unfrozen.is_some() {
            return Err(ClockError::NotPaused);
        }
        if to > state.base {
            state.base = to;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_time_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(3)).unwrap();
        assert_eq!(clock.now(), t0 + Duration::from_secs(3));
        assert_eq!(clock.pause(), Err(ClockError::AlreadyPaused));
        clock.resume().unwrap();
        assert!(clock.now() >= t0 + Duration::from_secs(3));
        assert_eq!(
            clock.advance(Duration::from_secs(1)),
            Err(ClockError::NotPaused)
        );
    }
}
