//! `sleep`, `sleep_until` and `Sleep`.

use super::Instant;
use crate::task::coop;
use hookrt_timer_wheel::Timer;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed. A `Timer` resource: hooks see its `init` here,
/// with the caller's location.
///
/// `Duration::MAX` (or any deadline past what the clock can represent) means "about 30
/// years from now", never an overflow panic.
///
/// # Panics
///
/// Outside a runtime, or on a runtime built without `enable_time()`.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// hookrt::time::sleep(std::time::Duration::from_millis(1)).await;
/// # });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let location = Location::caller();
    let deadline = Instant::now().saturating_add(duration);
    Sleep::new(deadline, location)
}

/// Waits until `deadline`. A deadline in the past completes on the next turn of the
/// driver.
///
/// # Panics
///
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, Location::caller())
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    timer: Timer,
    deadline: Instant,
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Instant, location: &'static Location<'static>) -> Sleep {
        let driver = super::clock::current_driver();
        Sleep {
            timer: Timer::new_at(&driver, deadline.into_std(), location),
            deadline,
        }
    }

    /// The instant the sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached (the timer fired).
    pub fn is_elapsed(&self) -> bool {
        self.timer.is_elapsed()
    }

    /// Moves the deadline (also after the sleep completed, to use it again). The timer
    /// keeps its id: hooks see one resource re-armed, not a new one.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.timer.reset(deadline.into_std(), true);
    }

    /// The timer resource's async id.
    pub fn async_id(&self) -> hookrt_hooks::AsyncId {
        self.timer.id()
    }

    /// Moves the deadline without re-registering: the next poll does (the interval's
    /// way, as in tokio: an interval nobody polls does not keep firing).
    pub(crate) fn reset_without_reregister(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.timer.reset(deadline.into_std(), false);
    }

    /// Polls with an explicit context (for `Interval`, `Timeout`).
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let progress = ready!(coop::poll_proceed(cx));
        let polled = self.timer.poll_elapsed(cx.waker());
        if polled.is_ready() {
            progress.made_progress();
        }
        polled
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_elapsed(cx)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("timer", &self.timer)
            .finish()
    }
}
