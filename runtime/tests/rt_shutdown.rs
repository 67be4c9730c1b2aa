//! Shutdown: every task's future is dropped exactly once with its `destroy`, also when
//! tasks wake each other or are woken from other threads while the runtime goes down.

mod support;

use hookrt::sync::{oneshot, Notify};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{runtime, Ev, FLAVORS};

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn tasks_that_wake_each_other_while_being_cancelled() {
    for &flavor in FLAVORS {
        let (rt, ledger, rec) = runtime(flavor);
        let dropped = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            for _ in 0..1_000 {
                let (tx, rx) = oneshot::channel::<()>();
                let a = DropCounter(dropped.clone());
                let b = DropCounter(dropped.clone());
                // Dropping `tx` (when A is cancelled) wakes B, which is being cancelled too.
                hookrt::spawn(async move {
                    let _a = a;
                    let _tx = tx;
                    std::future::pending::<()>().await
                });
                hookrt::spawn(async move {
                    let _b = b;
                    let _ = rx.await;
                    std::future::pending::<()>().await
                });
            }
            hookrt::task::yield_now().await;
        });
        drop(rt);
        assert_eq!(dropped.load(Ordering::SeqCst), 2_000, "on {flavor:?}");
        assert_eq!(
            rec.count(|e| matches!(e, Ev::Destroy(_))),
            2_001,
            "on {flavor:?}"
        );
        ledger.assert_balanced();
    }
}

#[test]
fn a_foreign_thread_keeps_waking_tasks_during_shutdown() {
    for &flavor in FLAVORS {
        let (rt, ledger, _rec) = runtime(flavor);
        let notify = Arc::new(Notify::new());
        rt.block_on(async {
            for _ in 0..200 {
                let notify = notify.clone();
                hookrt::spawn(async move {
                    loop {
                        notify.notified().await;
                    }
                });
            }
            hookrt::task::yield_now().await;
        });
        let stop = Arc::new(AtomicBool::new(false));
        let waker = std::thread::spawn({
            let (notify, stop) = (notify.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    notify.notify_waiters();
                    std::thread::yield_now();
                }
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(rt);
        stop.store(true, Ordering::Relaxed);
        waker.join().unwrap();
        ledger.assert_balanced();
    }
}

#[test]
fn spawning_during_shutdown_cancels_the_new_task() {
    for &flavor in FLAVORS {
        let (rt, ledger, rec) = runtime(flavor);
        let handle = rt.handle().clone();
        let spawned_late = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let handle = handle.clone();
            let spawned_late = spawned_late.clone();
            let task = hookrt::spawn(async move {
                // Runs when this task's future is dropped by shutdown.
                struct SpawnOnDrop(hookrt::runtime::Handle, Arc<AtomicUsize>);
                impl Drop for SpawnOnDrop {
                    fn drop(&mut self) {
                        let counter = self.1.clone();
                        let join = self.0.spawn(async move {
                            counter.fetch_add(100, Ordering::SeqCst);
                        });
                        assert!(
                            join.is_finished(),
                            "a task spawned during shutdown is cancelled at once"
                        );
                        self.1.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _guard = SpawnOnDrop(handle, spawned_late);
                std::future::pending::<()>().await
            });
            // The guard exists once the task has been polled.
            rec.polled(task.id().async_id()).await;
        });
        drop(rt);
        assert_eq!(
            spawned_late.load(Ordering::SeqCst),
            1,
            "the late task never ran on {flavor:?}"
        );
        // block_on, the task, and the late task: each initialised and destroyed.
        assert_eq!(rec.count(|e| matches!(e, Ev::Destroy(_))), 3);
        ledger.assert_balanced();
    }
}
