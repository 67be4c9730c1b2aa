//! `timeout`, `timeout_at` and `Timeout`.

use super::error::Elapsed;
use super::{Instant, Sleep};
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future` with a time limit: `Ok(output)` if it completes within `duration`,
/// `Err(Elapsed)` otherwise (the future is then dropped with the `Timeout`).
///
/// The deadline is a `Timer` resource created here; a future that is ready on its
/// first poll never puts it in the wheel.
///
/// # Panics
///
/// Outside a runtime, or on a runtime built without `enable_time()`.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use hookrt::time::{timeout, Duration};
/// assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
/// assert!(timeout(Duration::from_millis(1), std::future::pending::<()>()).await.is_err());
/// # });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let deadline = Instant::now().saturating_add(duration);
    Timeout {
        value: future,
        delay: Sleep::new(deadline, Location::caller()),
    }
}

/// As [`timeout`], with a deadline.
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: Sleep::new(deadline, Location::caller()),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<F> {
    value: F,
    delay: Sleep,
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The inner future, giving up the deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `value`; `delay` is `Unpin` and never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let had_budget = coop::has_budget_remaining();
        // SAFETY: `value` is never moved out of a pinned `Timeout`.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(output) = value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // If the inner future spent the budget, still check the deadline: a timeout
        // must be able to fire around a future that is always ready.
        let delay = if had_budget && !coop::has_budget_remaining() {
            coop::without_budget(|| this.delay.poll_elapsed(cx))
        } else {
            this.delay.poll_elapsed(cx)
        };
        delay.map(|()| Err(Elapsed(())))
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", &self.value)
            .field("delay", &self.delay)
            .finish()
    }
}
