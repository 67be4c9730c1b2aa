//! Cooperative scheduling: a per-poll budget that resources charge, so a task that is
//! always ready still yields to its peers and to the drivers.
//!
//! Each poll of a task starts with 128 units. Timers, sockets and channels built
//! on hookrt call the internal `poll_proceed` before doing work; once the budget is spent they
//! return `Pending` after waking the task, which sends it to the back of the run queue.
//! [`unconstrained`] lifts the budget for a future; [`consume_budget`] charges one unit
//! by hand; [`has_budget_remaining`] tells whether anything is left.
//!
//! Outside a task poll (on a foreign thread, in `block_on` before any runtime) the
//! budget is unlimited.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Units of work one poll of a task may do before resources make it yield.
pub(crate) const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained. `Some(n)`: `n` units left in this poll.
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Gives the current thread a fresh budget until the guard drops (around each task
/// poll), then restores the previous one.
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.try_with(|c| c.replace(Some(BUDGET))).ok().flatten();
    let _restore = RestoreBudget(previous);
    f()
}

/// Runs `f` with no budget (unlimited), then restores the previous one.
pub(crate) fn without_budget<R>(f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.try_with(|c| c.replace(None)).ok().flatten();
    let _restore = RestoreBudget(previous);
    f()
}

struct RestoreBudget(Option<u8>);

impl Drop for RestoreBudget {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

/// Charges one unit. `Ready` with a guard when there was budget left (drop the guard
/// with [`Progress::made_progress`] when the operation really did work; a plain drop
/// refunds the unit), `Pending` after waking the task when the budget is spent.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Progress> {
    let outcome = CURRENT
        .try_with(|c| match c.get() {
            None => Ok(false),
            Some(0) => Err(()),
            Some(n) => {
                c.set(Some(n - 1));
                Ok(true)
            }
        })
        .unwrap_or(Ok(false));
    match outcome {
        Ok(charged) => Poll::Ready(Progress { refund: charged }),
        Err(()) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A charged unit; refunded on drop unless [`made_progress`](Progress::made_progress)
/// was called.
#[must_use]
pub(crate) struct Progress {
    refund: bool,
}

impl Progress {
    /// The operation did its work: keep the unit spent.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.refund {
            let _ = CURRENT.try_with(|c| {
                if let Some(n) = c.get() {
                    c.set(Some(n.saturating_add(1).min(BUDGET)));
                }
            });
        }
    }
}

/// Whether the current task has budget left in this poll (always `true` outside a
/// task or inside [`unconstrained`]).
pub fn has_budget_remaining() -> bool {
    CURRENT
        .try_with(|c| c.get().is_none_or(|n| n > 0))
        .unwrap_or(true)
}

/// Charges one unit of the current task's budget, yielding to the scheduler first when
/// it is spent. Use it in loops that do work without touching any resource.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// for _ in 0..10_000 {
///     // ... CPU work ...
///     hookrt::task::consume_budget().await;
/// }
/// # });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(|cx| {
        let progress = ready!(poll_proceed(cx));
        progress.made_progress();
        Poll::Ready(())
    })
    .await
}

/// Runs `future` without a budget: resources never force it to yield. Use with care:
/// an unconstrained task that is always ready starves its peers.
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future returned by [`unconstrained`].
#[must_use = "futures do nothing unless polled"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: `future` is never moved out of `self`.
        let future = unsafe { self.map_unchecked_mut(|s| &mut s.future) };
        let previous = CURRENT.try_with(|c| c.replace(None)).ok().flatten();
        let _restore = RestoreBudget(previous);
        future.poll(cx)
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}
