//! Task lifecycle events: order, trigger ids, wake edges, abort, panic, detach, volume.

mod support;

use hookrt::hooks::{execution_async_id, AsyncId};
use hookrt::sync::oneshot;
use hookrt::task;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use support::{check, Ev};

#[test]
fn spawn_poll_complete_in_order() {
    check(|rt, rec| {
        let (id, root) = rt.block_on(async {
            let handle = hookrt::spawn(async { 5 });
            let id = handle.id().async_id();
            assert_eq!(handle.await.unwrap(), 5);
            (id, execution_async_id())
        });
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "resolve", "after", "destroy"]
        );
        assert_eq!(rec.trigger_of(id), Some(root));
    });
}

#[test]
fn a_yielding_task_is_woken_by_itself() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let handle = hookrt::spawn(async {
                task::yield_now().await;
                task::id()
            });
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), id);
            id.async_id()
        });
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "after", "wake", "before", "resolve", "after", "destroy"]
        );
        assert_eq!(rec.wakes_of(id), [id]);
    });
}

#[test]
fn trigger_ids_follow_the_spawn_chain() {
    check(|rt, rec| {
        let (root, outer, inner) = rt.block_on(async {
            let root = execution_async_id();
            let (outer, inner) = hookrt::spawn(async {
                let outer = execution_async_id();
                let inner = hookrt::spawn(async { execution_async_id() }).await.unwrap();
                (outer, inner)
            })
            .await
            .unwrap();
            (root, outer, inner)
        });
        assert_ne!(
            root,
            AsyncId::ROOT,
            "block_on runs as a resource of its own"
        );
        let events = rec.events();
        assert!(events.iter().any(|e| matches!(e,
            Ev::Init { id, trigger, name: Some(n), .. }
                if *id == root && *trigger == AsyncId::ROOT && n == "block_on")));
        assert_eq!(rec.trigger_of(outer), Some(root));
        assert_eq!(rec.trigger_of(inner), Some(outer));
    });
}

#[test]
fn a_task_woken_through_a_channel_names_the_sender() {
    check(|rt, rec| {
        let (receiver, sender) = rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let receiver = hookrt::spawn(async move { rx.await.unwrap() });
            rec.polled(receiver.id().async_id()).await; // the receiver parks on the channel
            let sender = hookrt::spawn(async move { tx.send(7).unwrap() });
            let ids = (receiver.id().async_id(), sender.id().async_id());
            assert_eq!(receiver.await.unwrap(), 7);
            sender.await.unwrap();
            ids
        });
        assert_eq!(rec.wakes_of(receiver), [sender]);
    });
}

#[test]
fn a_wake_from_a_foreign_thread_is_by_root() {
    check(|rt, rec| {
        let receiver = rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let receiver = hookrt::spawn(async move { rx.await.unwrap() });
            rec.polled(receiver.id().async_id()).await;
            let thread = std::thread::spawn(move || tx.send(9).unwrap());
            let id = receiver.id().async_id();
            assert_eq!(receiver.await.unwrap(), 9);
            thread.join().unwrap();
            id
        });
        assert_eq!(rec.wakes_of(receiver), [AsyncId::ROOT]);
    });
}

#[test]
fn abort_before_the_first_poll() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let handle = hookrt::spawn(async { unreachable!("an aborted task is never polled") });
            handle.abort();
            let id = handle.id().async_id();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            assert_eq!(err.id().async_id(), id);
            id
        });
        assert_eq!(rec.names_for(id), ["init", "destroy"]);
    });
}

#[test]
fn abort_mid_flight_drops_the_future_once() {
    check(|rt, rec| {
        let dropped = Arc::new(AtomicUsize::new(0));
        let (id, root) = rt.block_on({
            let dropped = dropped.clone();
            async move {
                let guard = DropCounter(dropped);
                let handle = hookrt::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
                rec.polled(handle.id().async_id()).await; // first poll happened
                assert!(!handle.is_finished());
                handle.abort();
                handle.abort();
                let id = handle.id().async_id();
                assert!(handle.await.unwrap_err().is_cancelled());
                (id, execution_async_id())
            }
        });
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "after", "wake", "destroy"]
        );
        assert_eq!(
            rec.wakes_of(id),
            [root],
            "an abort is a wake by the aborting execution"
        );
    });
}

#[test]
fn a_panicking_task_reports_and_the_runtime_goes_on() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let handle = hookrt::spawn(async { panic!("task failure on purpose") });
            let id = handle.id().async_id();
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"task failure on purpose")
            );
            // Other tasks keep running.
            assert_eq!(hookrt::spawn(async { 3 }).await.unwrap(), 3);
            id
        });
        assert_eq!(rec.names_for(id), ["init", "before", "after", "destroy"]);
        // And the runtime serves later block_on calls.
        assert_eq!(
            rt.block_on(async { hookrt::spawn(async { 4 }).await.unwrap() }),
            4
        );
    });
}

#[test]
fn a_detached_task_still_runs_to_completion() {
    check(|rt, _rec| {
        let done = Arc::new(AtomicBool::new(false));
        rt.block_on({
            let done = done.clone();
            async move {
                let flag = done.clone();
                drop(hookrt::spawn(async move {
                    for _ in 0..3 {
                        task::yield_now().await;
                    }
                    flag.store(true, Ordering::SeqCst);
                }));
                while !done.load(Ordering::SeqCst) {
                    task::yield_now().await;
                }
            }
        });
        assert!(done.load(Ordering::SeqCst));
    });
}

#[test]
fn one_hundred_thousand_tasks() {
    check(|rt, rec| {
        let sum = rt.block_on(async {
            let handles: Vec<_> = (0..100_000u64)
                .map(|i| hookrt::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..100_000u64).sum::<u64>());
        assert_eq!(rec.count(|e| matches!(e, Ev::Resolve(_))), 100_001);
    });
}

#[test]
fn shutdown_fires_ten_thousand_destroys() {
    for &flavor in support::FLAVORS {
        let (rt, ledger, rec) = support::runtime(flavor);
        let dropped = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            for _ in 0..10_000 {
                let guard = DropCounter(dropped.clone());
                hookrt::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            task::yield_now().await;
        });
        drop(rt);
        assert_eq!(dropped.load(Ordering::SeqCst), 10_000);
        assert_eq!(rec.count(|e| matches!(e, Ev::Destroy(_))), 10_001);
        ledger.assert_balanced();
    }
}

#[test]
fn spawn_from_a_foreign_thread_through_a_handle() {
    check(|rt, rec| {
        let handle = rt.handle().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let join = handle.spawn(async { execution_async_id() });
            tx.send(join).unwrap();
        });
        thread.join().unwrap();
        let join = rx.recv().unwrap();
        let id = rt.block_on(join).unwrap();
        assert_eq!(rec.trigger_of(id), Some(AsyncId::ROOT));
    });
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_wake_from_another_runtime_is_by_root() {
    let (rt_a, ledger_a, rec_a) = support::runtime(support::Flavor::CurrentThread);
    let (rt_b, ledger_b, _rec_b) = support::runtime(support::Flavor::MultiThread(1));
    let (tx, rx) = oneshot::channel::<u32>();
    let receiver = rt_a.spawn(async move { rx.await.unwrap() });
    let receiver_id = receiver.id().async_id();
    // Poll the receiver once so it parks on the channel.
    rt_a.block_on(async { rec_a.polled(receiver_id).await });
    // A task of runtime B wakes it: A's hooks never saw B's task, so the edge is ROOT.
    rt_b.block_on(async move {
        hookrt::spawn(async move { tx.send(5).unwrap() })
            .await
            .unwrap()
    });
    assert_eq!(rt_a.block_on(receiver).unwrap(), 5);
    assert_eq!(rec_a.wakes_of(receiver_id), [AsyncId::ROOT]);
    drop(rt_a);
    drop(rt_b);
    ledger_a.assert_balanced();
    ledger_b.assert_balanced();
}
