//! The task state word: flag bits below a reference count, and the transitions on it.
//!
//! ```text
//!  63 .................................. 6 | 5          4             3         2        1        0
//!  reference count (units of REF_ONE)     | JOIN_WAKER JOIN_INTEREST CANCELLED NOTIFIED COMPLETE RUNNING
//! ```
//!
//! Every transition is one compare-and-swap loop over the whole word, so flags and the
//! reference count always change together.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::fmt;

/// A thread is polling the task (or cancelling it): that thread owns the future.
/// Never set together with `COMPLETE`.
const RUNNING: usize = 1 << 0;

/// The future is gone (it returned `Ready`, panicked or was cancelled) and the outcome is
/// in the stage. Set once, never cleared.
const COMPLETE: usize = 1 << 1;

/// The task must be polled again. While the task is idle this means a `Notified`
/// reference for it sits in (or is on its way to) a run queue; while it is `RUNNING` it
/// means the poller must submit it again when the poll returns `Pending`.
const NOTIFIED: usize = 1 << 2;

/// The task was aborted or its runtime is shutting down: the next thread that gets to
/// run it drops the future instead of polling it.
const CANCELLED: usize = 1 << 3;

/// A `JoinHandle` exists; it will read the output, so the runner must not drop it.
const JOIN_INTEREST: usize = 1 << 4;

/// The join waker slot holds a waker. While this is set and `COMPLETE` is not, only the
/// `JoinHandle` may write the slot; once `COMPLETE` is set only the runner reads it.
const JOIN_WAKER: usize = 1 << 5;

/// How many low bits the flags take.
const FLAG_BITS: u32 = 6;

/// All flag bits.
const FLAG_MASK: usize = (1 << FLAG_BITS) - 1;

/// One reference. The count sits above the flags.
const REF_ONE: usize = 1 << FLAG_BITS;

/// A new task has three references (the owned-task list, the `JoinHandle`, the
/// `Notified` of its first schedule), is notified, and has join interest.
const INITIAL: usize = (REF_ONE * 3) | NOTIFIED | JOIN_INTEREST;

/// The atomic state word of a task header.
pub(crate) struct State(AtomicUsize);

/// A copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the thread that dequeued a `Notified` must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The thread now owns the future: poll it.
    Success,
    /// The thread now owns the future, but the task was cancelled: drop it.
    Cancelled,
    /// The task is running elsewhere or complete; the `Notified` reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the poller must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The task is idle; nothing to do.
    Ok,
    /// The task was woken during the poll: submit the new `Notified` (its reference has
    /// been added).
    OkNotified,
    /// The task was cancelled during the poll; the poller still owns the future and must
    /// drop it.
    Cancelled,
}

/// What a waker must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// The task is running, already notified, or complete: nothing to submit.
    DoNothing,
    /// The task was idle and is now notified: submit the new `Notified` (its reference
    /// has been added).
    Submit,
}

/// What dropping the `JoinHandle` leaves to its dropper.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinHandleDropped {
    /// The task completed with join interest set: the output is the handle's to drop.
    pub(crate) drop_output: bool,
    /// The handle cleared `JOIN_WAKER` before completion: the waker is the handle's to drop.
    pub(crate) drop_waker: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Runs `f` on the state in a compare-and-swap loop; `f` returns the new word (or
    /// `None` to leave it) and a value to hand back.
    fn fetch_update<T>(&self, mut f: impl FnMut(Snapshot) -> (Option<Snapshot>, T)) -> T {
        let mut current = self.0.load(Acquire);
        loop {
            let (next, out) = f(Snapshot(current));
            let Some(next) = next else { return out };
            match self
                .0
                .compare_exchange_weak(current, next.0, AcqRel, Acquire)
            {
                Ok(_) => return out,
                Err(actual) => current = actual,
            }
        }
    }

    /// A thread dequeued the task's `Notified` and wants to run it.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update(|s| {
            let mut next = s;
            if s.is_idle() {
                debug_assert!(s.is_notified(), "a queued task is always notified");
                next.0 = (next.0 | RUNNING) & !NOTIFIED;
                let action = if s.is_cancelled() {
                    TransitionToRunning::Cancelled
                } else {
                    TransitionToRunning::Success
                };
                (Some(next), action)
            } else {
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                (Some(next), action)
            }
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, TransitionToIdle::Cancelled);
            }
            let mut next = s;
            next.0 &= !RUNNING;
            if next.is_notified() {
                next.ref_inc();
                (Some(next), TransitionToIdle::OkNotified)
            } else {
                (Some(next), TransitionToIdle::Ok)
            }
        })
    }

    /// The future is gone and the outcome stored: `RUNNING` off, `COMPLETE` on.
    /// Returns the snapshot after the change.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.0.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ DELTA)
    }

    /// Drops `count` references; returns whether they were the last ones.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(count * REF_ONE, AcqRel));
        assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// A waker fired (by reference).
    pub(crate) fn transition_to_notified(&self) -> TransitionToNotified {
        self.fetch_update(|s| {
            if s.is_complete() || s.is_notified() {
                return (None, TransitionToNotified::DoNothing);
            }
            let mut next = s;
            next.0 |= NOTIFIED;
            if s.is_running() {
                (Some(next), TransitionToNotified::DoNothing)
            } else {
                next.ref_inc();
                (Some(next), TransitionToNotified::Submit)
            }
        })
    }

    /// `abort()`: mark cancelled, and submit the task if it is idle and not queued so
    /// that a runtime thread drops its future. Returns whether to submit.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update(|s| {
            if s.is_cancelled() || s.is_complete() {
                return (None, false);
            }
            let mut next = s;
            next.0 |= CANCELLED;
            if s.is_running() || s.is_notified() {
                // The poller, or whoever runs the queued `Notified`, sees CANCELLED.
                next.0 |= NOTIFIED;
                (Some(next), false)
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                (Some(next), true)
            }
        })
    }

    /// Runtime shutdown. Returns `true` when the caller now owns the future (the task
    /// was idle and not queued) and must cancel it. Otherwise the task is marked
    /// cancelled and whoever runs it next (its poller, or the thread that dequeues its
    /// `Notified`) drops the future.
    ///
    /// **Rationale:** a queued task is left to its queue because a waker may have just
    /// queued it and still be emitting its `wake` event; cancelling it here could emit
    /// `destroy` before that `wake`.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|s| {
            let mut next = s;
            next.0 |= CANCELLED;
            if s.is_idle() && !s.is_notified() {
                next.0 |= RUNNING;
                (Some(next), true)
            } else if s.is_cancelled() {
                (None, false)
            } else {
                (Some(next), false)
            }
        })
    }

    /// The `JoinHandle` is dropped.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested());
            let mut next = s;
            next.0 &= !JOIN_INTEREST;
            if !s.is_complete() {
                next.0 &= !JOIN_WAKER;
            }
            let out = JoinHandleDropped {
                drop_output: s.is_complete(),
                drop_waker: !s.is_complete() && s.is_join_waker_set(),
            };
            (Some(next), out)
        })
    }

    /// The `JoinHandle` stored a waker: publish it. Fails (returning the snapshot) when
    /// the task completed meanwhile; the handle then takes its waker back.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (None, Err(s));
            }
            let next = Snapshot(s.0 | JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    /// The `JoinHandle` wants to replace its waker: take the slot back. Fails when the
    /// task completed meanwhile.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return (None, Err(s));
            }
            let next = Snapshot(s.0 & !JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    /// Adds a reference (a waker clone, an `AbortHandle`).
    pub(crate) fn ref_inc(&self) {
        let prev = self
            .0
            .fetch_add(REF_ONE, std::sync::atomic::Ordering::Relaxed);
        // An overflow would let a live task be freed; refuse as `Arc` does.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; returns whether it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        self.transition_to_terminal(1)
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    /// Neither running nor complete.
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> FLAG_BITS
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .field("flags", &format_args!("{:#08b}", self.0 & FLAG_MASK))
            .finish()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_new_task_is_notified_with_three_refs() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested() && s.is_idle());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn wake_while_running_is_resubmitted_by_the_poller() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(
            state.transition_to_notified(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(state.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(state.load().ref_count(), 4);
        assert_eq!(
            state.transition_to_notified(),
            TransitionToNotified::DoNothing
        );
    }

    #[test]
    fn shutdown_leaves_queued_tasks_to_their_queue() {
        let state = State::new();
        assert!(
            !state.transition_to_shutdown(),
            "the first Notified is queued"
        );
        assert_eq!(
            state.transition_to_running(),
            TransitionToRunning::Cancelled
        );
    }

    #[test]
    fn abort_of_an_idle_task_submits_it_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
        assert!(state.transition_to_notified_and_cancel());
        assert!(!state.transition_to_notified_and_cancel());
        assert_eq!(
            state.transition_to_running(),
            TransitionToRunning::Cancelled
        );
    }

    #[test]
    fn join_handle_drop_after_complete_owns_the_output() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        let done = state.transition_to_complete();
        assert!(done.is_complete() && !done.is_running());
        let dropped = state.transition_to_join_handle_dropped();
        assert!(dropped.drop_output && !dropped.drop_waker);
    }
}
