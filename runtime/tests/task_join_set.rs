//! `JoinSet`: joining, aborting, shutdown, detach, drop, ids, panics and spawn locations.

mod support;

use hookrt::hooks::{AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::runtime::{Builder, Runtime};
use hookrt::sync::oneshot;
use hookrt::task::{self, JoinSet};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{check, Ev};

/// Counts its drops, to see that a task's future was dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Yields until `done` holds, for at most ten seconds; returns whether it held. (On a
/// multi-thread runtime the tasks run on workers while `block_on` yields.)
async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        task::yield_now().await;
    }
    done()
}

#[test]
fn join_next_returns_every_output() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..1_000u32 {
                set.spawn(async move {
                    if i % 3 == 0 {
                        task::yield_now().await;
                    }
                    i
                });
            }
            assert_eq!(set.len(), 1_000);
            let mut seen = HashSet::new();
            while let Some(res) = set.join_next().await {
                assert!(seen.insert(res.unwrap()), "an output came back twice");
            }
            assert_eq!(seen, (0..1_000).collect());
            assert!(set.is_empty());
        });
    });
}

#[test]
fn join_next_on_an_empty_set_is_none() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::<u32>::new();
            assert!(set.join_next().await.is_none());
            assert!(set.join_next_with_id().await.is_none());
            assert!(set.try_join_next().is_none());
            let mut set = JoinSet::<u32>::default();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn try_join_next_sees_only_finished_tasks() {
    check(|rt, _rec| {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let mut set = JoinSet::new();
            set.spawn(async move { rx.await.unwrap() + 1 });
            assert!(set.try_join_next().is_none(), "nothing has finished yet");
            task::yield_now().await; // the task parks on the channel
            assert!(
                set.try_join_next().is_none(),
                "still waiting on the channel"
            );
            assert_eq!(set.len(), 1);
            tx.send(41).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let out = loop {
                if let Some(res) = set.try_join_next() {
                    break res.unwrap();
                }
                assert!(Instant::now() < deadline, "the task never finished");
                task::yield_now().await;
            };
            assert_eq!(out, 42);
            assert!(set.is_empty());
            assert!(set.try_join_next().is_none());
        });
    });
}

#[test]
fn join_next_waits_for_tasks_that_finish_later() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut senders = Vec::new();
            let mut set = JoinSet::new();
            for i in 0..100u32 {
                let (tx, rx) = oneshot::channel::<u32>();
                senders.push(tx);
                set.spawn(async move { rx.await.unwrap() * 1_000 + i });
            }
            let feeder = hookrt::spawn(async move {
                // Finish the tasks in reverse order, one per turn.
                while let Some(tx) = senders.pop() {
                    tx.send(1).unwrap();
                    task::yield_now().await;
                }
            });
            let mut seen = HashSet::new();
            while let Some(res) = set.join_next().await {
                assert!(seen.insert(res.unwrap()));
            }
            assert_eq!(seen, (0..100).map(|i| 1_000 + i).collect());
            feeder.await.unwrap();
        });
    });
}

#[test]
fn abort_all_gives_cancelled_errors() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..10 {
                set.spawn(std::future::pending::<()>());
            }
            task::yield_now().await; // let them start
            set.abort_all();
            assert_eq!(set.len(), 10, "aborted tasks stay until joined");
            let mut cancelled = 0;
            while let Some(res) = set.join_next().await {
                assert!(res.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 10);
        });
    });
}

#[test]
fn shutdown_aborts_and_empties_the_set() {
    check(|rt, rec| {
        let ids = rt.block_on(async {
            let dropped = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            let mut ids = Vec::new();
            for _ in 0..10 {
                let guard = DropCounter(dropped.clone());
                let abort = set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
                ids.push(abort.id().async_id());
            }
            set.spawn(async {}); // one that completes on its own
            set.shutdown().await;
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            assert_eq!(dropped.load(Ordering::SeqCst), 10);
            ids
        });
        for id in ids {
            assert_eq!(rec.names_for(id).last(), Some(&"destroy"));
        }
    });
}

#[test]
fn dropping_the_set_cancels_pending_tasks() {
    check(|rt, rec| {
        let (ids, dropped) = rt.block_on(async {
            let dropped = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            let mut ids = Vec::new();
            for _ in 0..20 {
                let guard = DropCounter(dropped.clone());
                let abort = set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
                ids.push(abort.id().async_id());
            }
            task::yield_now().await; // half of them would be polled by now; either way
            drop(set);
            // `destroy` follows the future's drop on the worker that dropped it.
            let all = eventually(|| {
                dropped.load(Ordering::SeqCst) == 20
                    && ids.iter().all(|&id| rec.names_for(id).contains(&"destroy"))
            })
            .await;
            assert!(
                all,
                "every task's future was dropped while the runtime runs"
            );
            (ids, dropped)
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 20);
        for id in ids {
            let names = rec.names_for(id);
            assert_eq!(names.first(), Some(&"init"));
            assert_eq!(names.last(), Some(&"destroy"));
            assert!(
                !names.contains(&"resolve"),
                "an aborted task never resolves"
            );
        }
    });
}

#[test]
fn detach_all_lets_tasks_finish() {
    check(|rt, _rec| {
        rt.block_on(async {
            let finished = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = tokio::sync::watch::channel(false);
            let mut set = JoinSet::new();
            for _ in 0..10 {
                let finished = finished.clone();
                let mut rx = rx.clone();
                set.spawn(async move {
                    rx.wait_for(|go| *go).await.unwrap();
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
            task::yield_now().await;
            set.detach_all();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            drop(set); // must not abort the detached tasks
            tx.send(true).unwrap();
            let all = eventually(|| finished.load(Ordering::SeqCst) == 10).await;
            assert!(all, "detached tasks ran to completion");
        });
    });
}

#[test]
fn join_next_with_id_matches_abort_handle_ids() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            let mut expected = HashMap::new();
            for i in 0..50u32 {
                let abort = set.spawn(async move { (i, task::id()) });
                expected.insert(abort.id(), i);
            }
            let aborted = set.spawn(std::future::pending());
            aborted.abort();
            let mut seen = 0;
            while let Some(res) = set.join_next_with_id().await {
                match res {
                    Ok((id, (i, inner_id))) => {
                        assert_eq!(id, inner_id, "the id is the task's own");
                        assert_eq!(expected.remove(&id), Some(i));
                        seen += 1;
                    }
                    Err(err) => {
                        assert!(err.is_cancelled());
                        assert_eq!(err.id(), aborted.id());
                    }
                }
            }
            assert_eq!(seen, 50);
            assert!(expected.is_empty());
        });
    });
}

#[test]
fn a_panicking_task_is_a_panic_error() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            let boom = set.spawn(async {
                panic!("boom");
            });
            set.spawn(async {});
            let mut panics = 0;
            let mut oks = 0;
            while let Some(res) = set.join_next().await {
                match res {
                    Ok(()) => oks += 1,
                    Err(err) => {
                        assert!(err.is_panic());
                        assert_eq!(err.id(), boom.id());
                        let payload = err.into_panic();
                        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
                        panics += 1;
                    }
                }
            }
            assert_eq!((panics, oks), (1, 1));
        });
    });
}

#[test]
fn join_all_collects_outputs_and_reraises_panics() {
    check(|rt, _rec| {
        rt.block_on(async {
            let set: JoinSet<u32> = (0..10u32).map(|i| async move { i }).collect();
            let mut outputs = set.join_all().await;
            outputs.sort_unstable();
            assert_eq!(outputs, (0..10).collect::<Vec<_>>());

            let dropped = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            let guard = DropCounter(dropped.clone());
            set.spawn(async move {
                let _guard = guard;
                std::future::pending::<u32>().await
            });
            set.spawn(async { panic!("join_all boom") });
            let err = hookrt::spawn(set.join_all()).await.unwrap_err();
            assert!(err.is_panic());
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"join_all boom"));
            let aborted = eventually(|| dropped.load(Ordering::SeqCst) == 1).await;
            assert!(
                aborted,
                "the panic dropped the set, aborting the other task"
            );
        });
    });
}

#[test]
fn extend_spawn_on_len_and_debug() {
    check(|rt, rec| {
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let mut set = JoinSet::new();
            set.extend((0..3u32).map(|i| async move { i }));
            set.spawn_on(async { 3 }, &handle);
            assert_eq!(set.len(), 4);
            assert_eq!(format!("{set:?}"), "JoinSet { len: 4 }");
            let mut sum = 0;
            while let Some(res) = set.join_next().await {
                sum += res.unwrap();
            }
            assert_eq!(sum, 6);
        });
        let tasks = rec.count(|e| {
            matches!(
                e,
                Ev::Init {
                    kind: ResourceKind::Task,
                    ..
                }
            )
        });
        assert_eq!(tasks, 5, "four set tasks and block_on");
    });
}

/// Records the source file of every `Task` init.
#[derive(Default)]
struct Locations(Mutex<HashMap<AsyncId, &'static str>>);

impl Hook for Locations {
    fn init(&self, r: &Resource<'_>) {
        if r.kind() == ResourceKind::Task {
            let file = r.location().map_or("<none>", |l| l.file());
            self.0.lock().unwrap().insert(r.id(), file);
        }
    }
}

/// `support::check`, with a [`Locations`] hook beside the Ledger.
fn check_locations(body: impl Fn(&Runtime) -> Vec<AsyncId>) {
    let ledger = Arc::new(Ledger::new());
    let locations = Arc::new(Locations::default());
    let rt = Builder::new_current_thread()
        .enable_all()
        .hook(ledger.clone())
        .hook(locations.clone())
        .build()
        .expect("runtime builds");
    let ids = body(&rt);
    drop(rt);
    ledger.assert_balanced();
    let locations = locations.0.lock().unwrap();
    assert!(!ids.is_empty());
    for id in ids {
        assert_eq!(locations.get(&id), Some(&file!()), "location of task {id}");
    }
}

#[test]
fn join_set_tasks_carry_the_callers_location() {
    check_locations(|rt| {
        let handle = rt.handle().clone();
        rt.block_on(async move {
            let mut set = JoinSet::new();
            let mut ids = vec![
                set.spawn(async { 1 }).id().async_id(),
                set.spawn_on(async { 2 }, &handle).id().async_id(),
            ];
            set.extend([async { 3 }]);
            while let Some(res) = set.join_next_with_id().await {
                let (id, _) = res.unwrap();
                ids.push(id.async_id());
            }
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 3);
            ids
        })
    });
}
