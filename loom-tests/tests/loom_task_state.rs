//! Loom models of the task state machine (`task/state.rs`, driven through the real
//! harness): poll vs wake vs abort vs `JoinHandle` drop vs completion vs shutdown.
//!
//! Every model ends the same way: the model's threads are joined, the queue is run dry,
//! and then the task must be complete with the expected outcome, off the owned list,
//! with nothing queued, and with a well-formed event history ([`EventLog`]). Leaks are
//! loom's to find: each task cell holds a loom `Arc` of its scheduler and each future or
//! output a loom-tracked allocation, so a cell, future or output that is never freed
//! fails the execution, and a double free fails loom's tracking.

#![cfg(loom)]

use hookrt::loom_api::{spawn, TestScheduler};
use hookrt_loom_tests::{model, poll_once, Event, EventLog, Gate, Tracked};
use loom::thread;
use std::task::{Poll, Waker};

/// The common end of every model: nothing left queued or listed.
#[track_caller]
fn assert_quiescent(sched: &TestScheduler) {
    assert_eq!(sched.queued(), 0, "a Notified is still queued");
    assert_eq!(sched.live_tasks(), 0, "a task is still on the owned list");
}

/// A wake from another thread races the task's first poll: before it (the poll sees the
/// gate open), during it (`NOTIFIED` while `RUNNING`: the poller resubmits), or after it
/// (the waker submits). The task must complete either way: no lost wake-up.
///
/// Break tried: `transition_to_notified` returning `DoNothing` without setting
/// `NOTIFIED` when the task is running (a wake during the poll is dropped); loom finds the
/// interleaving where the task is left pending forever.
#[test]
fn poll_vs_wake() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let wait = Gate::wait(&gate);
        let mut handle = spawn(&sched, async move {
            wait.await;
            7
        });
        let id = handle.id().async_id();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        gate.open();
        runner.join().unwrap();

        sched.run_all();
        match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Ok(7)) => {}
            other => panic!("the task must have completed: {other:?}"),
        }
        drop(handle);
        assert_quiescent(&sched);
        assert_eq!(log.count(id, Event::Resolve), 1);
        log.check_finished(id);
    });
}

/// Two wakers fire on two threads while a third polls the task: at most one `Notified`
/// is ever queued (one submission per idle period), and a later wake still works.
///
/// Break tried: `transition_to_notified` submitting whenever the task is idle, even when
/// `NOTIFIED` is already set; loom finds the interleaving with two queued `Notified`s.
#[test]
fn wake_vs_wake_vs_poll() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let wait = Gate::wait(&gate);
        let mut handle = spawn(&sched, async move {
            wait.await;
            7
        });
        let id = handle.id().async_id();
        assert!(sched.run_one(), "first poll");
        let waker = gate.waker().expect("the first poll registered");

        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let waker = waker.clone();
                thread::spawn(move || waker.wake())
            })
            .collect();
        drop(waker);
        sched.run_one();
        for w in wakers {
            w.join().unwrap();
        }
        assert!(sched.queued() <= 1, "one submission per idle period");

        sched.run_all();
        gate.open();
        sched.run_all();
        match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Ok(7)) => {}
            other => panic!("the task must have completed: {other:?}"),
        }
        drop(handle);
        assert_quiescent(&sched);
        log.check_finished(id);
    });
}

/// `abort()` races the task's first poll: whether it lands before the poll (the poller
/// sees `CANCELLED`), during it (the poller cancels after `Pending`) or after it (abort
/// submits the idle task), the future is dropped exactly once and the handle sees a
/// cancellation.
///
/// Break tried: `transition_to_notified_and_cancel` not submitting an idle task (only
/// marking it `CANCELLED`); loom finds the interleaving where the poll came first: the
/// task is never cancelled and its handle stays pending.
#[test]
fn abort_vs_poll() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let mut handle = spawn(&sched, Gate::wait(&gate));
        let id = handle.id().async_id();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        handle.abort();
        runner.join().unwrap();

        sched.run_all();
        match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Err(e)) if e.is_cancelled() => {}
            other => panic!("the task must be cancelled: {other:?}"),
        }
        drop(handle);
        assert_quiescent(&sched);
        assert_eq!(log.count(id, Event::Resolve), 0);
        log.check_finished(id);
    });
}

/// An idle task is woken on one thread and aborted on another: exactly one of them
/// submits it, and it ends cancelled (the abort always lands before it runs).
///
/// Break tried: `transition_to_notified_and_cancel` submitting even when `NOTIFIED` is
/// already set; loom finds the interleaving with two queued `Notified`s.
#[test]
fn abort_vs_wake() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let mut handle = spawn(&sched, Gate::wait(&gate));
        let id = handle.id().async_id();
        assert!(sched.run_one(), "first poll");

        let opener = {
            let gate = gate.clone();
            thread::spawn(move || gate.open())
        };
        handle.abort();
        opener.join().unwrap();

        assert_eq!(sched.queued(), 1, "exactly one submission");
        sched.run_all();
        match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Err(e)) if e.is_cancelled() => {}
            other => panic!("the task must be cancelled: {other:?}"),
        }
        drop(handle);
        assert_quiescent(&sched);
        log.check_finished(id);
    });
}

/// Poll, wake and abort on three threads: the task ends exactly once, completed (the
/// wake won) or cancelled (the abort won), its future dropped once.
///
/// Break tried: the poller ignoring `TransitionToIdle::Cancelled` (dropping its
/// reference instead of cancelling); loom finds the interleaving where the abort lands
/// during the poll and the task is left running forever (handle pending). Making
/// `transition_to_idle` ignore `CANCELLED` is *not* caught, rightly: an abort during a
/// poll also sets `NOTIFIED`, so the task is resubmitted and cancelled by its next run.
#[test]
fn poll_vs_wake_vs_abort() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let wait = Gate::wait(&gate);
        let mut handle = spawn(&sched, async move {
            wait.await;
            7
        });
        let id = handle.id().async_id();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || gate.open())
        };
        handle.abort();
        runner.join().unwrap();
        opener.join().unwrap();

        sched.run_all();
        let completed = match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Ok(7)) => true,
            Poll::Ready(Err(e)) if e.is_cancelled() => false,
            other => panic!("the task must be finished: {other:?}"),
        };
        drop(handle);
        assert_quiescent(&sched);
        assert_eq!(log.count(id, Event::Resolve), usize::from(completed));
        log.check_finished(id);
    });
}

/// The `JoinHandle` is dropped while the task completes on another thread: the output is
/// dropped exactly once, by whichever side owns it (the runner when join interest was
/// already gone, the handle otherwise), and the cell is freed once.
///
/// Break tried: `transition_to_join_handle_dropped` claiming the stage even before
/// completion (`drop_output: true`); loom fails the execution where the handle drops the
/// future before the runner polls it (the runner finds no future, no `resolve`). Not
/// caught, and not a bug: `drop_output: false` after completion, since the cell's own
/// drop then frees the output at dealloc.
#[test]
fn join_handle_drop_vs_complete() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let output = Tracked::new(7);
        let probe = output.probe();
        let handle = spawn(&sched, async move { output });
        let id = handle.id().async_id();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        drop(handle);
        runner.join().unwrap();

        assert_quiescent(&sched);
        assert_eq!(probe.drops(), 1, "the output is dropped exactly once");
        assert_eq!(log.count(id, Event::Resolve), 1);
        log.check_finished(id);
    });
}

/// `abort()` races a poll that completes the task: either the abort comes first and the
/// future is dropped unpolled (cancelled, no `resolve`), or the task completes and the
/// abort is a no-op (`Ok`, one `resolve`). Nothing is submitted twice.
///
/// Break tried: `transition_to_notified_and_cancel` ignoring `COMPLETE` (submitting a
/// finished task); loom finds the interleaving where a `Notified` for the completed task
/// is queued.
#[test]
fn abort_vs_complete() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let output = Tracked::new(7);
        let probe = output.probe();
        let mut handle = spawn(&sched, async move { output });
        let id = handle.id().async_id();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        handle.abort();
        runner.join().unwrap();

        assert_eq!(
            sched.queued(),
            0,
            "an abort never queues a queued or finished task"
        );
        let resolved = match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Ok(out)) => {
                assert_eq!(*out.get(), 7);
                true
            }
            Poll::Ready(Err(e)) if e.is_cancelled() => false,
            other => panic!("the task must be finished: {other:?}"),
        };
        drop(handle);
        assert_quiescent(&sched);
        // The value is dropped once: as the output, or inside the cancelled future.
        assert_eq!(probe.drops(), 1, "the value is dropped exactly once");
        assert_eq!(log.count(id, Event::Resolve), usize::from(resolved));
        log.check_finished(id);
    });
}

/// Runtime shutdown races a wake of an idle task: shutdown cancels it on the spot when
/// it is idle and unqueued, and otherwise leaves it to the queue, so the waker's `wake`
/// event can never come after the task's `destroy`.
///
/// Break tried: `transition_to_shutdown` taking the future of a notified (queued) task
/// too; loom finds the interleaving where the waker is between its state change and its
/// `wake` event while shutdown destroys the task: `[Init, Before, After, Destroy, Wake]`.
/// (This needs the hook call to be a preemption point, which `EventLog` makes it.)
#[test]
fn shutdown_vs_wake() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let mut handle = spawn(&sched, Gate::wait(&gate));
        let id = handle.id().async_id();
        assert!(sched.run_one(), "first poll");

        let opener = {
            let gate = gate.clone();
            thread::spawn(move || gate.open())
        };
        sched.shutdown();
        opener.join().unwrap();

        sched.run_all();
        match poll_once(&mut handle, Waker::noop()) {
            Poll::Ready(Err(e)) if e.is_cancelled() => {}
            other => panic!("the task must be cancelled: {other:?}"),
        }
        drop(handle);
        assert_quiescent(&sched);
        log.check_finished(id);
    });
}
