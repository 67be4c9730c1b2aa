//! `interval`, `interval_at`, `Interval` and `MissedTickBehavior`.

use super::{Instant, Sleep};
use std::fmt;
use std::future::poll_fn;
use std::panic::Location;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Ticks every `period`, the first tick completing at once.
///
/// The interval is one `Timer` resource for its whole life: each tick is one
/// `before`/`after` pair of the same id, like a repeating Node `Timeout`.
///
/// # Panics
///
/// When `period` is zero, outside a runtime, or without `enable_time()`.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut ticks = hookrt::time::interval(std::time::Duration::from_millis(1));
/// ticks.tick().await; // at once
/// ticks.tick().await; // a millisecond later
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero");
    Interval::new(Instant::now(), period, Location::caller())
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// As [`interval`].
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero");
    Interval::new(start, period, Location::caller())
}

/// What an [`Interval`] does when ticks were missed (the task was late to call
/// `tick`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, back to back, until caught up with the original
    /// schedule (the default).
    #[default]
    Burst,
    /// Fire once now, then `period` after now: the schedule shifts.
    Delay,
    /// Fire once now, then at the next multiple of `period` on the original schedule.
    Skip,
}

impl MissedTickBehavior {
    /// The next deadline after a tick scheduled for `timeout` fired late, at `now`.
    fn next_timeout(self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => timeout.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                let late = now.duration_since(timeout).as_nanos();
                let period_ns = period.as_nanos().max(1);
                let into_period = Duration::from_nanos((late % period_ns) as u64);
                now.saturating_add(period.saturating_sub(into_period))
            }
        }
    }
}

/// A stream of ticks; see [`interval`].
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    fn new(start: Instant, period: Duration, location: &'static Location<'static>) -> Interval {
        Interval {
            delay: Sleep::new(start, location),
            period,
            missed_tick_behavior: MissedTickBehavior::default(),
        }
    }

    /// Completes at the next tick; returns the instant that tick was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(self.delay.poll_elapsed(cx));
        let timeout = self.delay.deadline();
        let now = Instant::now();
        // Up to 5 ms late counts as on time (the wheel's resolution is 1 ms).
        let next = if now.duration_since(timeout) > Duration::from_millis(5) {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout.saturating_add(self.period)
        };
        // Re-armed lazily, as in tokio: the next poll registers it (or completes at once
        // when the next tick is already due, which is how a burst catches up).
        self.delay.reset_without_reregister(next);
        Poll::Ready(timeout)
    }

    fn reset_at_inner(&mut self, deadline: Instant) {
        std::pin::Pin::new(&mut self.delay).reset(deadline);
    }

    /// Restarts the schedule: the next tick is one `period` from now.
    pub fn reset(&mut self) {
        self.reset_at_inner(Instant::now().saturating_add(self.period));
    }

    /// Restarts the schedule: the next tick completes at once.
    pub fn reset_immediately(&mut self) {
        self.reset_at_inner(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at_inner(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.reset_at_inner(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The timer resource's async id (constant across ticks).
    pub fn async_id(&self) -> hookrt_hooks::AsyncId {
        self.delay.async_id()
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed_tick_behavior)
            .field("delay", &self.delay)
            .finish()
    }
}
