//! Loom models of exactly-once `init` / `destroy` under concurrent aborts: every task
//! gets one `init` (in `spawn`, before it can run), one `destroy` (right after its
//! future is dropped), and no event after its `destroy`, whichever of completion,
//! abort, shutdown or a racing wake gets to the task first.
//!
//! The hook is [`EventLog`], registered in the scheduler's `HookSet` like any user hook;
//! it records `(id, event)` and the checks run after the model's threads joined (a
//! panicking hook would be caught and disabled by the `HookSet`). Execution ids are not
//! checked: the execution frame is a std thread-local, which a model's threads share.

#![cfg(loom)]

use hookrt::loom_api::{spawn, TestScheduler};
use hookrt_loom_tests::{model, poll_once, Event, EventLog, Gate, Tracked};
use loom::thread;
use std::task::{Poll, Waker};

/// The outcome the handle reports: `true` for completed, `false` for cancelled.
#[track_caller]
fn outcome<T: std::fmt::Debug>(handle: &mut hookrt::task::JoinHandle<T>) -> bool {
    match poll_once(handle, Waker::noop()) {
        Poll::Ready(Ok(_)) => true,
        Poll::Ready(Err(e)) if e.is_cancelled() => false,
        other => panic!("the task must be finished: {other:?}"),
    }
}

/// An idle task is woken on one thread while another runs the queue and a third aborts
/// it. The waker emits its `wake` *before* it queues the task, so the runner cannot run
/// and destroy the task first: no `wake` after `destroy`, one `init`, one `destroy`,
/// `resolve` only when it completed, at most one `wake` per submission.
///
/// Break tried: `harness::schedule` emitting the `wake` event after handing the
/// `Notified` to the scheduler; loom finds the interleaving where the runner dequeues
/// the task and completes it in between: `[.., Destroy, Wake]`.
#[test]
fn wake_vs_run_vs_abort() {
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
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        handle.abort();
        opener.join().unwrap();
        runner.join().unwrap();

        sched.run_all();
        let completed = outcome(&mut handle);
        drop(handle);
        assert_eq!(sched.live_tasks(), 0);
        let events = log.check_finished(id);
        assert_eq!(log.count(id, Event::Resolve), usize::from(completed));
        assert!(
            log.count(id, Event::Wake) <= 2,
            "one wake per submission: {events:?}"
        );
    });
}

/// A task completes on one thread while another aborts it and the runtime shuts down on
/// a third: the task is destroyed once, by whichever got there first, and a completed
/// task still on the owned list is not "cancelled" again by shutdown.
///
/// Break tried: `transition_to_shutdown` taking the future whenever the task is not
/// running and not notified (forgetting `COMPLETE`); loom finds the interleaving where
/// shutdown takes the task off the list between its completion and its `release` and
/// "cancels" it again: `transition_to_complete`'s assertion fires (with debug
/// assertions, as `run.sh` builds; without them `COMPLETE` is toggled back off and the
/// handle never sees the task finished).
#[test]
fn complete_vs_abort_vs_shutdown() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let output = Tracked::new(7);
        let probe = output.probe();
        let mut handle = spawn(&sched, async move { output });
        let id = handle.id().async_id();
        let abort = handle.abort_handle();

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                sched.run_one();
            })
        };
        let aborter = thread::spawn(move || abort.abort());
        sched.shutdown();
        runner.join().unwrap();
        aborter.join().unwrap();

        sched.run_all();
        let completed = outcome(&mut handle);
        drop(handle);
        assert_eq!(sched.live_tasks(), 0);
        assert_eq!(probe.drops(), 1, "the value is dropped exactly once");
        log.check_finished(id);
        assert_eq!(log.count(id, Event::Resolve), usize::from(completed));
    });
}

/// A task is spawned and at once aborted on one thread while the runtime shuts down on
/// another: the spawn either lists the task (shutdown then cancels it, or the abort
/// does) or finds the list closed and cancels it itself. One `init`, one `destroy`.
///
/// Break tried: `spawn_with`, on a closed list, dropping the list reference and running
/// the first `Notified` without `RawTask::shutdown` (so the task is not marked
/// cancelled); loom finds the interleaving where the spawn comes after shutdown closed
/// the list: the task is polled (`before`) instead of cancelled.
#[test]
fn spawn_and_abort_vs_shutdown() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let spawner = {
            let sched = sched.clone();
            let gate = gate.clone();
            thread::spawn(move || {
                let handle = spawn(&sched, Gate::wait(&gate));
                handle.abort();
                handle
            })
        };
        sched.shutdown();
        let mut handle = spawner.join().unwrap();

        sched.run_all();
        assert!(!outcome(&mut handle), "the task never ran to completion");
        let id = handle.id().async_id();
        drop(handle);
        assert_eq!(sched.queued(), 0);
        assert_eq!(sched.live_tasks(), 0);
        log.check_finished(id);
        assert_eq!(
            log.count(id, Event::Before),
            0,
            "a cancellation is not a poll"
        );
    });
}

/// Two `AbortHandle`s abort an idle task on two threads while a third runs the queue:
/// only one abort submits the task (one `wake` event), and it is destroyed once.
///
/// Break tried: `transition_to_notified_and_cancel` as a load and a separate `fetch_or`
/// instead of one compare-and-swap (check-then-act); loom finds the interleaving where
/// both aborts see the task idle and both submit: `[Init, Before, After, Wake, Wake,
/// Destroy]`. (Making it merely ignore `CANCELLED` is not caught, rightly: the first
/// abort also set `NOTIFIED`, so the second one submits nothing.)
#[test]
fn abort_vs_abort() {
    model(|| {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let gate = Gate::new();
        let mut handle = spawn(&sched, Gate::wait(&gate));
        let id = handle.id().async_id();
        assert!(sched.run_one(), "first poll");

        let aborters: Vec<_> = (0..2)
            .map(|_| {
                let abort = handle.abort_handle();
                thread::spawn(move || abort.abort())
            })
            .collect();
        sched.run_one();
        for a in aborters {
            a.join().unwrap();
        }

        sched.run_all();
        assert!(!outcome(&mut handle));
        drop(handle);
        assert_eq!(sched.live_tasks(), 0);
        let events = log.check_finished(id);
        assert_eq!(log.count(id, Event::Wake), 1, "one submission: {events:?}");
    });
}
