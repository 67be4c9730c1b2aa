//! `LocalSet`, `spawn_local` and `JoinSet::spawn_local`: `!Send` tasks on one thread,
//! with the same events and context inheritance as any task.

mod support;

use hookrt::context::LocalStorage;
use hookrt::hooks::{execution_async_id, AsyncId};
use hookrt::sync::oneshot;
use hookrt::task::{self, JoinSet, LocalSet};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use support::{check, Ev};

/// The events of a task that yielded once and then completed.
const YIELDED_ONCE: [&str; 8] = [
    "init", "before", "after", "wake", "before", "resolve", "after", "destroy",
];

/// Counts its drops and remembers the thread of the last one.
struct DropProbe {
    drops: Arc<AtomicUsize>,
    thread: Arc<Mutex<Option<ThreadId>>>,
}

impl DropProbe {
    fn new(drops: &Arc<AtomicUsize>) -> DropProbe {
        DropProbe {
            drops: drops.clone(),
            thread: Arc::new(Mutex::new(None)),
        }
    }
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        *self.thread.lock().unwrap() = Some(std::thread::current().id());
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_not_send_task_holds_an_rc_across_await() {
    check(|rt, rec| {
        let owner = std::thread::current().id();
        let local = LocalSet::new();
        let (id, root, count) = local.block_on(rt, async {
            let counter = Rc::new(Cell::new(0));
            let inner = counter.clone();
            let handle = task::spawn_local(async move {
                inner.set(inner.get() + 1);
                task::yield_now().await;
                inner.set(inner.get() + 1);
                assert_eq!(std::thread::current().id(), owner);
                task::id()
            });
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), id);
            (id.async_id(), execution_async_id(), counter.get())
        });
        assert_eq!(count, 2);
        assert_eq!(rec.names_for(id), YIELDED_ONCE);
        assert_eq!(rec.trigger_of(id), Some(root), "the spawning execution");
        assert_eq!(
            rec.wakes_of(id),
            [id],
            "a yield is a wake by the task itself"
        );
        assert!(rec.events().iter().any(|e| matches!(e,
            Ev::Init { id: i, kind, .. } if *i == id && *kind == hookrt::hooks::ResourceKind::Task)));
    });
}

#[test]
fn spawn_local_nests_and_names_the_spawning_task() {
    check(|rt, rec| {
        let local = LocalSet::new();
        let (outer, inner, log) = local.block_on(rt, async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let outer_log = log.clone();
            let outer = task::spawn_local(async move {
                let inner_log = outer_log.clone();
                let inner = task::spawn_local(async move {
                    task::yield_now().await;
                    inner_log.borrow_mut().push("inner");
                    task::id().async_id()
                });
                outer_log.borrow_mut().push("outer");
                (task::id().async_id(), inner.await.unwrap())
            });
            let (outer, inner) = outer.await.unwrap();
            (outer, inner, log.take())
        });
        assert_eq!(log, ["outer", "inner"]);
        assert_eq!(rec.trigger_of(inner), Some(outer));
        assert_eq!(rec.names_for(inner), YIELDED_ONCE);
        assert_eq!(
            rec.names_for(outer),
            ["init", "before", "after", "wake", "before", "resolve", "after", "destroy"],
            "the outer task is woken by the inner one's completion"
        );
        assert_eq!(rec.wakes_of(outer), [inner]);
    });
}

#[test]
fn a_wake_from_another_thread_runs_the_task_on_its_owner() {
    check(|rt, rec| {
        let owner = std::thread::current().id();
        let local = LocalSet::new();
        std::thread::scope(|scope| {
            let (id, ran_on, sender) = local.block_on(rt, async {
                let (tx, rx) = oneshot::channel::<ThreadId>();
                let not_send = Rc::new(());
                let handle = task::spawn_local(async move {
                    let sender = rx.await.unwrap();
                    drop(not_send);
                    (std::thread::current().id(), sender)
                });
                let id = handle.id().async_id();
                scope.spawn(move || {
                    rec.wait_polled(id);
                    tx.send(std::thread::current().id()).unwrap();
                });
                let (ran_on, sender) = handle.await.unwrap();
                (id, ran_on, sender)
            });
            assert_ne!(sender, owner);
            assert_eq!(ran_on, owner, "polled on the thread that owns the set");
            assert_eq!(
                rec.wakes_of(id),
                [AsyncId::ROOT],
                "a foreign thread wakes as ROOT"
            );
            assert_eq!(rec.names_for(id), YIELDED_ONCE);
        });
    });
}

#[test]
fn dropping_the_set_cancels_every_task() {
    check(|rt, rec| {
        let drops = Arc::new(AtomicUsize::new(0));
        let local = LocalSet::new();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        local.block_on(rt, async {
            for _ in 0..3 {
                let (tx, rx) = oneshot::channel::<()>();
                senders.push(tx);
                let probe = DropProbe::new(&drops);
                let not_send = Rc::new(probe);
                handles.push(task::spawn_local(async move {
                    let _ = rx.await;
                    drop(not_send);
                }));
            }
            // Let them all park on their channels.
            for _ in 0..3 {
                task::yield_now().await;
            }
        });
        // Two more that never get polled.
        for _ in 0..2 {
            let probe = DropProbe::new(&drops);
            handles.push(local.spawn_local(async move {
                let _probe = probe;
            }));
        }
        let ids: Vec<AsyncId> = handles.iter().map(|h| h.id().async_id()).collect();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(local);
        assert_eq!(drops.load(Ordering::SeqCst), 5, "every future dropped");
        for (i, id) in ids.iter().enumerate() {
            let names = rec.names_for(*id);
            assert_eq!(names.last(), Some(&"destroy"), "task {i}: {names:?}");
            assert!(
                !names.contains(&"resolve"),
                "task {i} was cancelled: {names:?}"
            );
        }
        for handle in handles {
            assert!(handle.is_finished());
            let err = rt.block_on(handle).unwrap_err();
            assert!(err.is_cancelled());
        }
        drop(senders);
    });
}

#[test]
fn awaiting_the_set_waits_for_every_task() {
    check(|rt, rec| {
        let owner = std::thread::current().id();
        let local = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        let (tx, rx) = oneshot::channel::<u32>();
        let waiter = {
            let done = done.clone();
            local.spawn_local(async move {
                let value = rx.await.unwrap();
                assert_eq!(std::thread::current().id(), owner);
                done.set(done.get() + value);
            })
        };
        for _ in 0..3 {
            let done = done.clone();
            local.spawn_local(async move {
                for _ in 0..5 {
                    task::yield_now().await;
                }
                done.set(done.get() + 1);
            });
        }
        let waiter_id = waiter.id().async_id();
        drop(waiter);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                rec.wait_polled(waiter_id);
                tx.send(10).unwrap();
            });
            rt.block_on(local);
        });
        assert_eq!(done.get(), 13);
        assert_eq!(rec.wakes_of(waiter_id), [AsyncId::ROOT]);
    });
}

#[test]
fn join_set_spawn_local_and_spawn_local_on() {
    check(|rt, rec| {
        let local = LocalSet::new();
        let mut set: JoinSet<Rc<u32>> = JoinSet::new();
        let early = set.spawn_local_on(async { Rc::new(100) }, &local);
        let (sum, root) = local.block_on(rt, async {
            for i in 0..4 {
                set.spawn_local(async move {
                    task::yield_now().await;
                    Rc::new(i)
                });
            }
            let mut sum = 0;
            while let Some(res) = set.join_next().await {
                sum += *res.unwrap();
            }
            (sum, execution_async_id())
        });
        assert_eq!(sum, 106);
        assert!(early.is_finished());
        assert_eq!(rec.trigger_of(early.id().async_id()), Some(AsyncId::ROOT));
        let spawned_in_block_on =
            rec.count(|e| matches!(e, Ev::Init { trigger, .. } if *trigger == root));
        assert_eq!(spawned_in_block_on, 4);
    });
}

#[test]
fn spawn_local_outside_a_local_set_panics_with_the_fix() {
    fn message(payload: Box<dyn std::any::Any + Send>) -> String {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }
    let outside = std::panic::catch_unwind(|| {
        drop(task::spawn_local(async {}));
    })
    .unwrap_err();
    let text = message(outside);
    assert!(
        text.contains("spawn_local called outside a LocalSet"),
        "{text}"
    );
    assert!(
        text.contains("run_until") && text.contains("enter()"),
        "{text}"
    );

    check(|rt, _rec| {
        let inside_runtime = rt.block_on(async {
            std::panic::catch_unwind(|| drop(task::spawn_local(async {}))).unwrap_err()
        });
        let text = message(inside_runtime);
        assert!(
            text.contains("spawn_local called outside a LocalSet"),
            "{text}"
        );
        // A set that was current is no longer so once its guard is gone.
        let local = LocalSet::new();
        drop(local.enter());
        assert!(std::panic::catch_unwind(|| drop(task::spawn_local(async {}))).is_err());
    });
}

#[test]
fn local_tasks_inherit_the_spawners_context() {
    static REQUEST: LocalStorage<u32> = LocalStorage::named("request");
    check(|rt, _rec| {
        let local = LocalSet::new();
        let seen = local.block_on(
            rt,
            REQUEST.run(7, async {
                let child = task::spawn_local(async {
                    let own = REQUEST.get().map(|v| *v);
                    let grandchild = task::spawn_local(async { REQUEST.get().map(|v| *v) });
                    let scoped = task::spawn_local(REQUEST.run(8, async {
                        task::spawn_local(async { REQUEST.get().map(|v| *v) })
                            .await
                            .unwrap()
                    }));
                    (own, grandchild.await.unwrap(), scoped.await.unwrap())
                });
                let outside = REQUEST
                    .exit(async { task::spawn_local(async { REQUEST.get() }).await })
                    .await;
                (child.await.unwrap(), outside.unwrap().is_none())
            }),
        );
        assert_eq!(seen, ((Some(7), Some(7), Some(8)), true));
    });
}

#[test]
fn enter_makes_spawn_local_work_before_the_set_runs() {
    check(|rt, rec| {
        let local = LocalSet::new();
        let handle = {
            let _runtime = rt.enter();
            let _local = local.enter();
            let rc = Rc::new(5);
            task::spawn_local(async move { *rc * 2 })
        };
        let id = handle.id().async_id();
        assert_eq!(
            rec.names_for(id),
            ["init"],
            "init fires at spawn, before any poll"
        );
        assert_eq!(rec.trigger_of(id), Some(AsyncId::ROOT));
        assert_eq!(local.block_on(rt, handle).unwrap(), 10);
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "resolve", "after", "destroy"]
        );
    });
}

#[test]
fn a_busy_local_task_does_not_starve_the_runtime() {
    check(|rt, _rec| {
        let local = LocalSet::new();
        let spins = local.block_on(rt, async {
            let flag = Arc::new(AtomicBool::new(false));
            let spins = Arc::new(AtomicUsize::new(0));
            let busy = {
                let flag = flag.clone();
                let spins = spins.clone();
                let not_send = Rc::new(());
                task::spawn_local(async move {
                    while !flag.load(Ordering::SeqCst) {
                        spins.fetch_add(1, Ordering::SeqCst);
                        task::yield_now().await;
                    }
                    drop(not_send);
                })
            };
            // A runtime task (on the current-thread runtime, on this same thread) must
            // get turns while the local task keeps yielding: more than one poll of the
            // set runs (61 tasks at most), so the set must hand control back.
            let counted = spins.clone();
            hookrt::spawn(async move {
                while counted.load(Ordering::SeqCst) < 500 {
                    task::yield_now().await;
                }
                flag.store(true, Ordering::SeqCst);
            });
            busy.await.unwrap();
            spins.load(Ordering::SeqCst)
        });
        assert!(spins >= 500);
    });
}

#[test]
fn abort_from_another_thread_drops_the_future_on_the_owner() {
    check(|rt, rec| {
        let owner = std::thread::current().id();
        let drops = Arc::new(AtomicUsize::new(0));
        let local = LocalSet::new();
        let probe = DropProbe::new(&drops);
        let dropped_on = probe.thread.clone();
        let handle = local.spawn_local(async move {
            let _probe = Rc::new(probe);
            std::future::pending::<()>().await;
        });
        let id = handle.id().async_id();
        let abort = handle.abort_handle();
        let err = std::thread::scope(|scope| {
            scope.spawn(move || {
                rec.wait_polled(id);
                abort.abort();
            });
            local.block_on(rt, handle).unwrap_err()
        });
        assert!(err.is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(*dropped_on.lock().unwrap(), Some(owner));
        assert_eq!(rec.names_for(id).last(), Some(&"destroy"));
        assert_eq!(
            rec.wakes_of(id),
            [AsyncId::ROOT],
            "an abort of an idle task is a wake"
        );
    });
}

#[test]
fn a_set_used_across_several_block_ons_keeps_its_tasks() {
    check(|rt, _rec| {
        let local = LocalSet::new();
        let value = Rc::new(Cell::new(0));
        let (tx, rx) = oneshot::channel::<u32>();
        let handle = {
            let value = value.clone();
            local.spawn_local(async move { value.set(rx.await.unwrap()) })
        };
        local.block_on(rt, task::yield_now());
        assert!(!handle.is_finished());
        tx.send(3).unwrap();
        local.block_on(rt, handle).unwrap();
        assert_eq!(value.get(), 3);
    });
}

#[test]
fn tasks_spawned_before_the_set_meets_a_runtime_are_announced_first() {
    check(|rt, rec| {
        let local = LocalSet::new();
        let handle = local.spawn_local(async { Rc::new(1) });
        let id = handle.id().async_id();
        assert!(rec.names_for(id).is_empty(), "no runtime, no hooks yet");
        let value = local.block_on(rt, handle).unwrap();
        assert_eq!(*value, 1);
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "resolve", "after", "destroy"]
        );
        assert_eq!(rec.trigger_of(id), Some(AsyncId::ROOT));
    });
}

#[test]
fn a_set_never_driven_drops_its_tasks_silently() {
    let drops = Arc::new(AtomicUsize::new(0));
    let local = LocalSet::new();
    let probe = DropProbe::new(&drops);
    let handle = local.spawn_local(async move {
        let _probe = probe;
    });
    drop(local);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(handle.is_finished());
}

#[test]
fn dropping_the_set_while_another_thread_wakes_a_task() {
    check(|rt, rec| {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut ids = Vec::new();
        for round in 0..100 {
            let local = LocalSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            let probe = DropProbe::new(&drops);
            let handle = local.spawn_local(async move {
                let _probe = Rc::new(probe);
                let _ = rx.await;
                std::future::pending::<()>().await;
            });
            ids.push(handle.id().async_id());
            local.block_on(rt, task::yield_now());
            let waker = std::thread::spawn(move || {
                if round % 2 == 0 {
                    std::thread::yield_now();
                }
                let _ = tx.send(());
            });
            drop(local);
            waker.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), round + 1);
        }
        for id in ids {
            assert_eq!(rec.names_for(id).last(), Some(&"destroy"));
        }
    });
}

#[test]
fn builder_spawn_local_names_the_task() {
    support::check(|rt, rec| {
        let local = hookrt::task::LocalSet::new();
        local.block_on(rt, async {
            let rc = std::rc::Rc::new(5);
            let out = hookrt::task::Builder::new()
                .name("local-named")
                .spawn_local(async move { *rc })
                .unwrap()
                .await
                .unwrap();
            assert_eq!(out, 5);
        });
        drop(local);
        let id = rec
            .id_named("local-named")
            .expect("the named local task was initialised");
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "resolve", "after", "destroy"]
        );
    });
}
