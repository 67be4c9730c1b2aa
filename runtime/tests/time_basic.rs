//! Time: sleeps, timeouts, intervals, paused time, and their events.

mod support;

use hookrt::hooks::{AsyncId, ResourceKind};
use hookrt::runtime::Builder;
use hookrt::time::{self, Duration, Instant};
use support::{check, Ev};

#[test]
fn a_sleep_is_a_timer_resource_that_wakes_its_task() {
    check(|rt, rec| {
        let (task, timer) = rt.block_on(async {
            let handle = hookrt::spawn(async {
                let sleep = time::sleep(Duration::from_millis(5));
                let timer = sleep.async_id();
                let start = Instant::now();
                sleep.await;
                assert!(start.elapsed() >= Duration::from_millis(5));
                timer
            });
            let task = handle.id().async_id();
            (task, handle.await.unwrap())
        });
        rec.wait_destroyed(timer);
        assert_eq!(rec.names_for(timer), ["init", "before", "after", "destroy"]);
        assert_eq!(rec.trigger_of(timer), Some(task));
        assert!(rec.events().iter().any(|e| matches!(e,
            Ev::Init { id, kind: ResourceKind::Timer, .. } if *id == timer)));
        assert_eq!(rec.wakes_of(task), [timer], "the timer woke the task");
    });
}

#[test]
fn timeout_on_ready_pending_and_panicking_futures() {
    check(|rt, rec| {
        rt.block_on(async {
            assert_eq!(
                time::timeout(Duration::from_secs(5), async { 1 }).await,
                Ok(1)
            );
            let err = time::timeout(Duration::from_millis(2), std::future::pending::<()>())
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "deadline has elapsed");
            let panicked = hookrt::spawn(async {
                time::timeout(Duration::from_secs(5), async {
                    panic!("inner failure on purpose")
                })
                .await
            })
            .await
            .unwrap_err();
            assert!(panicked.is_panic());
        });
        let timers = rec.count(|e| {
            matches!(
                e,
                Ev::Init {
                    kind: ResourceKind::Timer,
                    ..
                }
            )
        });
        assert_eq!(timers, 3);
    });
}

#[test]
fn dropped_timers_get_init_and_destroy_only() {
    check(|rt, rec| {
        rt.block_on(async {
            for _ in 0..100_000 {
                drop(time::sleep(Duration::from_secs(60)));
            }
        });
        let timer_ids: Vec<AsyncId> = rec
            .events()
            .iter()
            .filter_map(|e| match e {
                Ev::Init {
                    id,
                    kind: ResourceKind::Timer,
                    ..
                } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(timer_ids.len(), 100_000);
        let befores = rec.count(|e| matches!(e, Ev::Before(id) if timer_ids.contains(id)));
        assert_eq!(befores, 0);
    });
}

#[test]
fn paused_time_fires_sleeps_in_deadline_order() {
    let (rt, ledger, _rec) = support::runtime(support::Flavor::CurrentThread);
    drop(rt);
    let rt = Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .hook(ledger.clone())
        .build()
        .unwrap();
    let order = rt.block_on(async {
        let start = Instant::now();
        let (tx, mut rx) = hookrt::sync::mpsc::unbounded_channel();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..100_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let ms = seed % 100_000;
            let tx = tx.clone();
            hookrt::spawn(async move {
                time::sleep(Duration::from_millis(ms)).await;
                tx.send((ms, i, Instant::now())).unwrap();
            });
        }
        drop(tx);
        let mut fired = Vec::new();
        while let Some(x) = rx.recv().await {
            fired.push(x);
        }
        (start, fired)
    });
    let (start, fired) = order;
    assert_eq!(fired.len(), 100_000);
    for w in fired.windows(2) {
        assert!(
            w[0].0 <= w[1].0,
            "fired out of order: {:?} then {:?}",
            w[0],
            w[1]
        );
    }
    for (ms, _, at) in &fired {
        let when = at.duration_since(start);
        assert!(
            when >= Duration::from_millis(*ms) && when <= Duration::from_millis(ms + 1),
            "{ms} ms sleep woke at {when:?}"
        );
    }
    drop(rt);
    ledger.assert_balanced();
}

#[test]
fn advance_moves_paused_time_across_level_boundaries() {
    let rt = Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        for ms in [63u64, 64, 65, 4_096, 4 * 60_000 + 5, 4 * 3_600_000 + 7] {
            let start = Instant::now();
            let handle = hookrt::spawn(async move {
                time::sleep(Duration::from_millis(ms)).await;
                Instant::now()
            });
            hookrt::task::yield_now().await;
            time::advance(Duration::from_millis(ms - 1)).await;
            assert!(!handle.is_finished(), "{ms} ms sleep fired early");
            time::advance(Duration::from_millis(1)).await;
            let woke = handle.await.unwrap();
            assert_eq!(woke.duration_since(start), Duration::from_millis(ms));
        }
    });
}

#[test]
#[should_panic(expected = "enable_time()")]
fn sleep_without_enable_time_names_the_fix() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { time::sleep(Duration::from_millis(1)).await });
}

#[test]
#[should_panic(expected = "only supported on the current-thread runtime")]
fn pause_on_the_multi_thread_runtime_panics() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { time::pause() });
}

#[test]
fn duration_max_and_past_deadlines_do_not_panic() {
    check(|rt, _rec| {
        rt.block_on(async {
            let far = time::sleep(Duration::MAX);
            assert!(!far.is_elapsed());
            drop(far);
            time::sleep_until(Instant::now() - Duration::from_secs(1)).await;
            assert!(time::timeout(Duration::MAX, async { 3 }).await.is_ok());
        });
    });
}

#[test]
fn an_interval_keeps_one_id_across_ticks() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let mut interval = time::interval(Duration::from_millis(2));
            let id = interval.async_id();
            let first = interval.tick().await;
            let second = interval.tick().await;
            assert!(second.duration_since(first) >= Duration::from_millis(2));
            interval.tick().await;
            id
        });
        rec.wait_destroyed(id);
        let names = rec.names_for(id);
        assert_eq!(names.first(), Some(&"init"));
        assert_eq!(names.last(), Some(&"destroy"));
        assert_eq!(
            rec.count(|e| matches!(e, Ev::Init { id: i, .. } if *i == id)),
            1
        );
        assert!(names.iter().filter(|n| **n == "before").count() >= 2);
    });
}

#[test]
fn timers_fire_in_deadline_order_on_every_flavor() {
    check(|rt, rec| {
        let deadlines = rt.block_on(async {
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let handles: Vec<_> = (0..20_000)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Timers enter the wheel on their first poll: start the deadlines
                    // after every task has surely been polled once.
                    let sleep = time::sleep(Duration::from_millis(400 + seed % 200));
                    let (id, deadline) = (sleep.async_id(), sleep.deadline());
                    hookrt::spawn(async move {
                        sleep.await;
                        assert!(Instant::now() >= deadline, "woke before its deadline");
                    });
                    (id, deadline)
                })
                .collect();
            handles
        });
        let deadline_of: std::collections::HashMap<AsyncId, Instant> =
            deadlines.into_iter().collect();
        // Wait for all of them (their tasks run detached).
        rt.block_on(async {
            let fired =
                || rec.count(|e| matches!(e, Ev::Before(id) if deadline_of.contains_key(id)));
            while fired() < 20_000 {
                time::sleep(Duration::from_millis(5)).await;
            }
        });
        let fired: Vec<Instant> = rec
            .events()
            .iter()
            .filter_map(|e| match e {
                Ev::Before(id) => deadline_of.get(id).copied(),
                _ => None,
            })
            .collect();
        assert_eq!(fired.len(), 20_000);
        for w in fired.windows(2) {
            assert!(
                w[1] + Duration::from_millis(1) >= w[0],
                "timer with deadline {:?} fired after one with deadline {:?}",
                w[0],
                w[1]
            );
        }
    });
}
