//! The blocking pool (`spawn_blocking`), `block_in_place`, and shutdown with work in
//! flight.

mod support;

use hookrt::context::LocalStorage;
use hookrt::hooks::{execution_async_id, Ledger, ResourceKind};
use hookrt::runtime::Builder;
use hookrt::task;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{check, Ev, FLAVORS};

static REQUEST: LocalStorage<u32> = LocalStorage::new();

#[test]
fn a_thousand_blocking_jobs_inherit_trigger_and_context() {
    check(|rt, rec| {
        let (spawner, job_ids) = rt.block_on(REQUEST.run(7, async {
            let spawner = execution_async_id();
            let handles: Vec<_> = (0..1_000)
                .map(|i| task::spawn_blocking(move || (i, REQUEST.get().map(|v| *v))))
                .collect();
            let ids: Vec<_> = handles.iter().map(|h| h.id().async_id()).collect();
            for (i, h) in handles.into_iter().enumerate() {
                assert_eq!(
                    h.await.unwrap(),
                    (i, Some(7)),
                    "the job saw the spawner's context"
                );
            }
            (spawner, ids)
        }));
        for id in job_ids.iter().take(50) {
            assert_eq!(rec.trigger_of(*id), Some(spawner));
            assert_eq!(rec.names_for(*id), ["init", "before", "after", "destroy"]);
        }
        let blocking_inits = rec.count(|e| {
            matches!(
                e,
                Ev::Init {
                    kind: ResourceKind::Blocking,
                    ..
                }
            )
        });
        assert_eq!(blocking_inits, 1_000);
    });
}

#[test]
fn max_blocking_threads_bounds_concurrency() {
    for &flavor in FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let mut builder = support::builder(flavor);
        let rt = builder
            .max_blocking_threads(3)
            .hook(ledger.clone())
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let handles: Vec<_> = (0..30)
                .map(|_| {
                    let (running, peak) = (running.clone(), peak.clone());
                    task::spawn_blocking(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 3, "on {flavor:?}");
        assert!(
            peak.load(Ordering::SeqCst) >= 2,
            "jobs ran in parallel on {flavor:?}"
        );
        drop(rt);
        ledger.assert_balanced();
    }
}

#[test]
fn idle_blocking_threads_exit_after_the_keep_alive() {
    let rt = Builder::new_current_thread()
        .thread_keep_alive(Duration::from_millis(150))
        .build()
        .unwrap();
    let pool_thread = || async {
        task::spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap()
    };
    let first = rt.block_on(pool_thread());
    // Give the thread a moment to go idle (the job's waker fires before it does).
    std::thread::sleep(Duration::from_millis(10));
    let again = rt.block_on(pool_thread());
    assert_eq!(first, again, "an idle pool thread is reused");
    std::thread::sleep(Duration::from_millis(600));
    let later = rt.block_on(pool_thread());
    assert_ne!(first, later, "the idle thread exited and a new one started");
}

#[test]
fn block_in_place_keeps_other_tasks_running() {
    let ledger = Arc::new(Ledger::new());
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .hook(ledger.clone())
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let ticker = hookrt::spawn({
            let ticks = ticks.clone();
            async move {
                for _ in 0..50 {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    task::yield_now().await;
                }
            }
        });
        let blocker = hookrt::spawn({
            let ticks = ticks.clone();
            async move {
                task::block_in_place(|| {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while ticks.load(Ordering::SeqCst) < 50 {
                        assert!(Instant::now() < deadline, "the other task never ran");
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                // The task goes on after the blocking section.
                task::yield_now().await;
                "done"
            }
        });
        ticker.await.unwrap();
        assert_eq!(blocker.await.unwrap(), "done");
    });
    drop(rt);
    ledger.assert_balanced();
}

#[test]
#[should_panic(expected = "use `task::spawn_blocking` there")]
fn block_in_place_on_the_current_thread_runtime_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { task::block_in_place(|| ()) });
}

#[test]
fn shutdown_with_pending_tasks_and_running_blocking_jobs() {
    for &flavor in FLAVORS {
        let ledger = Arc::new(Ledger::without_event_log());
        let mut builder = support::builder(flavor);
        let rt = builder.hook(ledger.clone()).build().unwrap();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let started = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            for _ in 0..100_000 {
                hookrt::spawn(std::future::pending::<()>());
            }
            let started2 = started.clone();
            task::spawn_blocking(move || {
                started2.fetch_add(1, Ordering::SeqCst);
                let _ = release_rx.recv();
            });
            while started.load(Ordering::SeqCst) == 0 {
                task::yield_now().await;
            }
        });
        let begun = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(300));
        let took = begun.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "shutdown_timeout returned in time on {flavor:?}: {took:?}"
        );
        // Every task is destroyed; only the blocking job still runs.
        let report = ledger.report();
        assert!(report.is_consistent(), "{report}");
        assert_eq!(
            report.destroys, 100_001,
            "100 000 tasks and block_on on {flavor:?}"
        );
        assert_eq!(
            report.live.len(),
            1,
            "the running blocking job on {flavor:?}"
        );
        release_tx.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ledger.live() != 0 {
            assert!(Instant::now() < deadline, "the blocking job never finished");
            std::thread::sleep(Duration::from_millis(1));
        }
        ledger.assert_balanced();
    }
}
