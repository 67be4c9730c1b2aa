//! Loom models of the join-waker hand-off (`harness.rs` `can_read_output` / `finish` /
//! `drop_join_handle`, over the `JOIN_WAKER` and `COMPLETE` bits of `state.rs`): the
//! `JoinHandle` registers or replaces its waker, or goes away, while the task completes
//! on another thread.
//!
//! What each model checks: the joiner is always woken (a joiner that is never woken
//! leaves `loom::future::block_on` parked, which loom reports as a deadlock); the output
//! is read exactly once; the join waker slot is never written and read at the same time
//! (loom's `UnsafeCell` tracking); and every waker, output and cell is freed exactly once
//! (loom's leak tracking on `Tracked`, `CountingWaker` and the scheduler `Arc`).

#![cfg(loom)]

use hookrt::loom_api::{spawn, TestScheduler};
use hookrt_loom_tests::{model, poll_once, CountingWaker, EventLog, Tracked};
use loom::future::block_on;
use loom::thread;
use std::task::Poll;

/// The joiner blocks on the handle while the task completes on another thread.
///
/// Breaks tried: `finish` deciding whether to wake the joiner from a snapshot loaded
/// *before* `transition_to_complete` (so a waker registered in between is missed); loom
/// finds the interleaving and reports the parked joiner as a deadlock. And
/// `try_read_output` reading the output without marking the stage `Consumed` (so the
/// handle's drop drops it again): the output is dropped twice.
#[test]
fn joiner_is_woken_on_completion() {
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
        let out = block_on(handle).expect("the task completes");
        assert_eq!(*out.get(), 7);
        drop(out);
        runner.join().unwrap();

        assert_eq!(probe.drops(), 1, "the output is dropped exactly once");
        assert_eq!(sched.live_tasks(), 0);
        log.check_finished(id);
    });
}

/// The joiner polls with one waker, then blocks with another (so `can_read_output`
/// takes the slot back and stores the new waker) while the task completes: whichever
/// waker is registered at completion is woken, the replaced one is dropped, and the
/// output is read once.
///
/// Break tried: `unset_join_waker` not failing on `COMPLETE` (the handle takes the slot
/// back after completion); loom finds the interleaving where the handle rewrites the
/// slot while the completing thread reads it: "Causality violation: Concurrent read and
/// write accesses to `UnsafeCell`".
#[test]
fn joiner_replaces_its_waker_while_task_completes() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let output = Tracked::new(7);
        let probe = output.probe();
        let mut handle = spawn(&sched, async move { output });
        let id = handle.id().async_id();
        let (first, first_waker) = CountingWaker::new();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        let out = match poll_once(&mut handle, &first_waker) {
            Poll::Ready(out) => out,
            Poll::Pending => block_on(&mut handle),
        }
        .expect("the task completes");
        assert_eq!(*out.get(), 7);
        drop(out);
        drop(handle);
        drop(first_waker);
        runner.join().unwrap();

        assert!(first.wakes() <= 1, "a join waker is woken at most once");
        assert_eq!(probe.drops(), 1, "the output is dropped exactly once");
        assert_eq!(sched.live_tasks(), 0);
        log.check_finished(id);
    });
}

/// The handle registers a waker and is then dropped, racing completion: the waker is
/// dropped exactly once (by the handle when it took the slot back before completion,
/// with the cell otherwise), and the output by whichever side owns it.
///
/// Break tried: `transition_to_join_handle_dropped` handing the waker to the handle even
/// after completion (`drop_waker` ignoring `COMPLETE`); loom finds the interleaving where
/// the handle clears the slot while the completing thread reads it (a causality
/// violation on the join-waker cell).
#[test]
fn join_handle_drop_with_waker_vs_complete() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let output = Tracked::new(7);
        let probe = output.probe();
        let mut handle = spawn(&sched, async move { output });
        let id = handle.id().async_id();
        let (first, first_waker) = CountingWaker::new();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        if let Poll::Ready(out) = poll_once(&mut handle, &first_waker) {
            assert_eq!(*out.expect("the task completes").get(), 7);
        }
        // The output is the handle's (read above, or dropped with it) or the runner's.
        drop(handle);
        drop(first_waker);
        runner.join().unwrap();

        assert!(first.wakes() <= 1, "a join waker is woken at most once");
        assert_eq!(probe.drops(), 1, "the output is dropped exactly once");
        assert_eq!(sched.live_tasks(), 0);
        log.check_finished(id);
    });
}
