//! Loom models of worker park/unpark: the `Parker` latch (`runtime/park.rs`) and the
//! searching/sleeping protocol of `Idle` (`runtime/multi_thread/idle.rs`) between a
//! worker going to sleep and a remote spawn. No wake-up may be lost: the task is always
//! either seen by a worker's re-check of the queue or the worker is unparked. A lost
//! wake-up leaves a worker parked forever, which loom reports as a deadlock.
//!
//! The producer side is the real `Idle::worker_to_notify` + `Parker::unpark`, called by
//! `loom_api::Pool` exactly as `multi_thread::Handle::notify_parked` calls them. The
//! worker side ([`next_task`]) is a transcription of `WorkerContext::{run_loop,
//! next_task, steal_work, park}` (worker.rs, which cannot run under loom) for a pool
//! whose only queue is the global one; keep it in step with worker.rs.
//!
//! Under loom the run queues are mutex-protected (queue.rs), so these models check the
//! protocol's logic (register, re-check, count, unpark), not the `SeqCst` fences that
//! the lock-free crossbeam queues need in the std build.
//!
//! Loom reports a lost wake-up as "deadlock; threads = [...]". When a thread is left
//! blocked holding loom objects (a spawned thread's `Arc`s, a condvar's mutex guard),
//! loom 0.7 then also fails while tearing it down (`Option::unwrap()` on `None` in
//! `rt/thread.rs`) and the test binary aborts (SIGABRT): same finding, noisier report.

#![cfg(loom)]

use hookrt::loom_api::{Parker, Pool, Runnable};
use hookrt_loom_tests::{model, poll_once, EventLog};
use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use std::task::{Poll, Waker};

/// Worker `index`'s loop until it has a task (or `None` at shutdown), transcribed from
/// worker.rs: take from the queue; else become a searcher and steal; else `park`: stop
/// searching (the last searcher re-checks the queue), register as sleeping, re-check
/// the queue, and only then park; after waking, count as searching when a producer
/// picked this worker.
fn next_task(pool: &Pool, index: usize, searching: &mut bool) -> Option<Runnable> {
    let idle = pool.idle();
    loop {
        if pool.is_shutdown() {
            return None;
        }
        // next_task(), then steal_work() (the global queue is the only victim).
        let mut task = pool.inject().pop();
        if task.is_none() && (*searching || idle.transition_to_searching()) {
            *searching = true;
            task = pool.inject().pop();
        }
        if let Some(task) = task {
            if *searching {
                *searching = false;
                if idle.transition_from_searching() {
                    pool.notify_parked();
                }
            }
            return Some(task);
        }
        // park()
        if *searching {
            *searching = false;
            if idle.transition_from_searching() && pool.has_queued_work() {
                continue;
            }
        }
        idle.sleep(index);
        if pool.has_queued_work() || pool.is_shutdown() {
            if !idle.wake_up(index) {
                *searching = true;
            }
            continue;
        }
        pool.parker(index).park();
        if !idle.wake_up(index) {
            *searching = true;
        }
    }
}

/// Runs worker `index` until shutdown; returns how many tasks it ran.
fn worker(pool: &Pool, index: usize) -> usize {
    let mut searching = false;
    let mut ran = 0;
    while let Some(task) = next_task(pool, index, &mut searching) {
        task.run();
        ran += 1;
    }
    if searching {
        pool.idle().transition_from_searching();
    }
    ran
}

/// `unpark` races `park`: before it (the latch is remembered), or while the thread
/// waits (the condvar wakes it). Either way `park` returns, and what was written before
/// `unpark` is visible after `park`.
///
/// Break tried: `Parker::park` waiting on the condvar before looking at the flag (a
/// latched `unpark` is ignored); loom reports the deadlock when `unpark` comes first.
#[test]
fn unpark_vs_park() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let data = Arc::new(AtomicUsize::new(0));
        let waker = {
            let parker = parker.clone();
            let data = data.clone();
            thread::spawn(move || {
                data.store(1, Ordering::Relaxed);
                parker.unpark();
            })
        };
        parker.park();
        assert_eq!(data.load(Ordering::Relaxed), 1, "unpark publishes");
        waker.join().unwrap();
    });
}

/// A remote spawn races a worker that finds the queue empty and goes to sleep: the
/// worker either sees the task in its re-check after registering as sleeping, or the
/// producer sees it sleeping and unparks it. Then the task runs exactly once, no
/// sleeper is left registered, and nothing leaks.
///
/// Breaks tried: dropping the worker's re-check of the queue after `Idle::sleep`, and
/// `Idle::sleep` not counting the worker in `num_sleeping` (so `worker_to_notify` skips
/// it); in both loom reports the deadlock where the producer pushed just before the
/// worker registered.
#[test]
fn remote_spawn_vs_worker_going_to_sleep() {
    model(|| {
        let log = EventLog::new();
        let pool = Pool::new(1, log.hooks());
        let producer = {
            let pool = pool.clone();
            thread::spawn(move || Pool::spawn(&pool, async { 7 }))
        };
        let mut searching = false;
        let task = next_task(&pool, 0, &mut searching).expect("no shutdown here");
        task.run();
        assert!(!searching);
        let mut handle = producer.join().unwrap();

        assert!(matches!(
            poll_once(&mut handle, Waker::noop()),
            Poll::Ready(Ok(7))
        ));
        drop(handle);
        assert_eq!(pool.live_tasks(), 0);
        assert!(
            pool.idle().wake_all().is_empty(),
            "no sleeper left registered"
        );
        log.check_all_finished();
    });
}

/// Two workers loop (search, steal, sleep) while a producer spawns one task, waits for
/// it and shuts the pool down: whichever worker is searching or asleep when the task
/// lands, one of them runs it (a producer skips the unpark when it sees a searcher, so
/// the searcher's own re-checks must find it), and shutdown then wakes both.
///
/// Break tried: the last searcher skipping its re-check and the sleeper its re-check
/// (both removed from the transcription); loom fails the execution where the producer
/// saw a searcher (so unparked nobody) that then went to sleep. Removing only the last
/// searcher's re-check is not caught, and need not be: the sleeper's re-check after
/// `Idle::sleep` covers it.
#[test]
fn two_workers_vs_remote_spawn() {
    model(|| {
        let log = EventLog::new();
        let pool = Pool::new(2, log.hooks());
        let workers: Vec<_> = (0..2)
            .map(|index| {
                let pool = pool.clone();
                thread::spawn(move || worker(&pool, index))
            })
            .collect();
        let out = block_on(Pool::spawn(&pool, async { 7 })).expect("the task runs");
        assert_eq!(out, 7);
        pool.shutdown();
        let ran: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();

        assert_eq!(ran, 1, "the task ran once");
        assert_eq!(pool.live_tasks(), 0);
        log.check_all_finished();
    });
}
