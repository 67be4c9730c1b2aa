//! Loom models of the multi-thread scheduler's queue interface under steal
//! (`runtime/multi_thread/queue.rs`, its `cfg(loom)` implementation: mutex-protected
//! deques with the same `push` / `pop` / `steal_into` contract as the crossbeam ones,
//! and a steal batch of at most 2 so that batches matter with 3 tasks).
//!
//! Every model ends with every task run exactly once: each task counts its polls, its
//! `JoinHandle` must be ready with its output, and nothing may be left queued or listed.
//! A task lost by a queue never completes; a task run twice counts two polls (and the
//! second run of a dropped `Notified` would be a use after free, which loom's leak and
//! reference checks catch).

#![cfg(loom)]

use hookrt::hooks::AsyncId;
use hookrt::loom_api::{local_queue, spawn, InjectQueue, Runnable, TestScheduler};
use hookrt::task::JoinHandle;
use hookrt_loom_tests::{model, poll_once, EventLog};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};

/// `n` spawned tasks, taken off the test scheduler's queue so the model can put them in
/// the queues under test. Task `i` returns `i` and counts its polls in `polls[i]`.
struct Tasks {
    sched: Arc<TestScheduler>,
    log: EventLog,
    polls: std::sync::Arc<Vec<AtomicUsize>>,
    handles: Vec<JoinHandle<usize>>,
}

impl Tasks {
    fn new(n: usize) -> (Tasks, Vec<Runnable>) {
        let log = EventLog::new();
        let sched = TestScheduler::new(log.hooks());
        let polls: std::sync::Arc<Vec<AtomicUsize>> =
            std::sync::Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
        let handles = (0..n)
            .map(|i| {
                let polls = polls.clone();
                spawn(&sched, async move {
                    polls[i].fetch_add(1, Ordering::Relaxed);
                    i
                })
            })
            .collect();
        let runnables = std::iter::from_fn(|| sched.pop()).collect::<Vec<_>>();
        assert_eq!(runnables.len(), n);
        (
            Tasks {
                sched,
                log,
                polls,
                handles,
            },
            runnables,
        )
    }

    /// Every task ran exactly once and is gone.
    #[track_caller]
    fn check_each_ran_once(self) {
        for (i, polls) in self.polls.iter().enumerate() {
            assert_eq!(
                polls.load(Ordering::Relaxed),
                1,
                "task {i} runs exactly once"
            );
        }
        let ids: Vec<AsyncId> = self.handles.iter().map(|h| h.id().async_id()).collect();
        for (i, mut handle) in self.handles.into_iter().enumerate() {
            match poll_once(&mut handle, Waker::noop()) {
                Poll::Ready(Ok(out)) => assert_eq!(out, i),
                other => panic!("task {i} must be complete: {other:?}"),
            }
        }
        assert_eq!(self.sched.queued(), 0);
        assert_eq!(self.sched.live_tasks(), 0);
        for id in ids {
            self.log.check_finished(id);
        }
    }
}

/// The owner drains its queue while a thief steals a batch of it into its own queue and
/// runs what it got.
///
/// Break tried: `Thief::steal_into` sizing its batch from a length read under an
/// earlier lock (check-then-act); loom finds the interleaving where the owner pops in
/// between and the thief's batch comes up short ("counted" `expect` fails).
#[test]
fn owner_pop_vs_steal() {
    model(|| {
        let (tasks, runnables) = Tasks::new(3);
        let (owner, victim) = local_queue();
        for task in runnables {
            owner.push(task);
        }
        let (thief_queue, _) = local_queue();
        let thief = thread::spawn(move || {
            if let Some(task) = victim.steal_into(&thief_queue) {
                task.run();
            }
            while let Some(task) = thief_queue.pop() {
                task.run();
            }
        });
        while let Some(task) = owner.pop() {
            task.run();
        }
        thief.join().unwrap();
        assert!(owner.pop().is_none(), "a steal never puts tasks back");
        tasks.check_each_ran_once();
    });
}

/// The owner pushes new tasks while a thief steals from the same queue.
///
/// Break tried: `Local::push` computing its tail index from a length read under an
/// earlier lock (then `insert(tail, task)`), as a deque that forgot to re-read its head
/// would; loom finds the interleaving where the thief steals in between (the insert is
/// out of bounds). The stale-length `steal_into` of `owner_pop_vs_steal` is not caught
/// here: pushes only make the stale length an underestimate.
#[test]
fn owner_push_vs_steal() {
    model(|| {
        let (tasks, mut runnables) = Tasks::new(3);
        let (owner, victim) = local_queue();
        owner.push(runnables.remove(0));
        let (thief_queue, _) = local_queue();
        let thief = thread::spawn(move || {
            if let Some(task) = victim.steal_into(&thief_queue) {
                task.run();
            }
            while let Some(task) = thief_queue.pop() {
                task.run();
            }
        });
        for task in runnables {
            owner.push(task);
        }
        if let Some(task) = owner.pop() {
            task.run();
        }
        thief.join().unwrap();
        while let Some(task) = owner.pop() {
            task.run();
        }
        tasks.check_each_ran_once();
    });
}

/// Two workers take from the global queue at once: one pops until it is empty, the
/// other steals a batch into its local queue.
///
/// Break tried: `Inject::steal_into` taking the first task and sizing the batch under
/// one lock, then taking the batch under another; loom finds the interleaving where the
/// other worker pops in between and the batch comes up short ("counted" `expect`
/// fails).
#[test]
fn inject_pop_vs_steal_batch() {
    model(|| {
        let (tasks, runnables) = Tasks::new(3);
        let inject = Arc::new(InjectQueue::new());
        for task in runnables {
            inject.push(task);
        }
        let other = {
            let inject = inject.clone();
            thread::spawn(move || {
                let (local, _) = local_queue();
                if let Some(task) = inject.steal_into(&local) {
                    task.run();
                }
                while let Some(task) = local.pop() {
                    task.run();
                }
            })
        };
        while let Some(task) = inject.pop() {
            task.run();
        }
        other.join().unwrap();
        assert!(inject.is_empty(), "a steal never puts tasks back");
        tasks.check_each_ran_once();
    });
}
