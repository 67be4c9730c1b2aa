//! Scheduler behaviour under load, on every flavour: volume, ping-pong, yields, deep
//! chains, fairness (the cooperative budget), panics on workers.

mod support;

use hookrt::hooks::Ledger;
use hookrt::sync::{mpsc, oneshot};
use hookrt::task;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use support::{check, check_flavors, Flavor, FLAVORS};

/// A runtime with only a lean Ledger, for tests that create a million resources.
fn lean_runtime(flavor: Flavor) -> (hookrt::runtime::Runtime, Arc<Ledger>) {
    let ledger = Arc::new(Ledger::without_event_log());
    let mut builder = support::builder(flavor);
    let rt = builder.hook(ledger.clone()).build().unwrap();
    (rt, ledger)
}

#[test]
fn a_million_tasks_spawned_from_inside_and_outside() {
    for &flavor in FLAVORS {
        let (rt, ledger) = lean_runtime(flavor);
        let done = Arc::new(AtomicUsize::new(0));
        // From inside: one task spawns 500 000 and awaits them in batches.
        rt.block_on({
            let done = done.clone();
            async move {
                for _ in 0..50 {
                    let batch: Vec<_> = (0..10_000)
                        .map(|_| {
                            let done = done.clone();
                            hookrt::spawn(async move {
                                done.fetch_add(1, Ordering::Relaxed);
                            })
                        })
                        .collect();
                    for h in batch {
                        h.await.unwrap();
                    }
                }
            }
        });
        // From outside: 500 000 through `Runtime::spawn` from this (non-runtime) thread.
        let handles: Vec<_> = (0..500_000)
            .map(|_| {
                let done = done.clone();
                rt.spawn(async move {
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), 1_000_000, "on {flavor:?}");
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}: {report}");
        assert_eq!(report.inits, 1_000_002, "a million tasks and two block_on");
    }
}

#[test]
fn ping_pong_a_hundred_thousand_times() {
    check(|rt, _rec| {
        let rounds = rt.block_on(async {
            let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
            let (pong_tx, mut pong_rx) = mpsc::channel::<u32>(1);
            let ponger = hookrt::spawn(async move {
                let mut n = 0;
                while let Some(v) = ping_rx.recv().await {
                    pong_tx.send(v + 1).await.unwrap();
                    n += 1;
                }
                n
            });
            let pinger = hookrt::spawn(async move {
                let mut v = 0;
                for _ in 0..100_000 {
                    ping_tx.send(v).await.unwrap();
                    v = pong_rx.recv().await.unwrap();
                }
                v
            });
            assert_eq!(pinger.await.unwrap(), 100_000);
            ponger.await.unwrap()
        });
        assert_eq!(rounds, 100_000);
    });
}

#[test]
fn two_hundred_tasks_yield_a_thousand_times_each() {
    check(|rt, _rec| {
        let total = rt.block_on(async {
            let handles: Vec<_> = (0..200)
                .map(|_| {
                    hookrt::spawn(async {
                        for _ in 0..1_000 {
                            task::yield_now().await;
                        }
                        1_000
                    })
                })
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            total
        });
        assert_eq!(total, 200_000);
    });
}

/// Spawns the next link and awaits it: a chain `depth` tasks deep, each waiting on the
/// next, so completion travels back through every JoinHandle.
fn chain(depth: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            0
        } else {
            hookrt::spawn(chain(depth - 1)).await.unwrap() + 1
        }
    })
}

#[test]
fn a_chain_of_ten_thousand_spawns_does_not_overflow() {
    check(|rt, _rec| {
        assert_eq!(rt.block_on(chain(10_000)), 10_000);
    });
}

#[test]
fn an_always_ready_task_does_not_starve_a_ping_pong_pair() {
    check(|rt, _rec| {
        rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let hog = hookrt::spawn({
                let stop = stop.clone();
                async move {
                    let mut spins = 0u64;
                    // Always ready: only the budget makes it yield.
                    while !stop.load(Ordering::Relaxed) {
                        task::consume_budget().await;
                        spins += 1;
                    }
                    spins
                }
            });
            let (a_tx, mut a_rx) = mpsc::unbounded_channel::<u32>();
            let (b_tx, mut b_rx) = mpsc::unbounded_channel::<u32>();
            let partner = hookrt::spawn(async move {
                while let Some(v) = a_rx.recv().await {
                    if b_tx.send(v).is_err() {
                        break;
                    }
                }
            });
            for i in 0..1_000 {
                a_tx.send(i).unwrap();
                assert_eq!(b_rx.recv().await, Some(i));
            }
            drop(a_tx);
            partner.await.unwrap();
            stop.store(true, Ordering::Relaxed);
            assert!(hog.await.unwrap() > 0);
        });
    });
}

#[test]
fn consume_budget_yields_once_the_budget_is_spent() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let handle = hookrt::spawn(async {
                for _ in 0..300 {
                    task::consume_budget().await;
                }
                assert!(task::coop::has_budget_remaining());
            });
            let id = handle.id().async_id();
            handle.await.unwrap();
            id
        });
        let polls = rec.names_for(id).iter().filter(|n| **n == "before").count();
        assert_eq!(polls, 3, "300 units at 128 per poll: two forced yields");
    });
}

#[test]
fn unconstrained_lifts_the_budget() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let handle = hookrt::spawn(task::unconstrained(async {
                for _ in 0..10_000 {
                    task::consume_budget().await;
                    assert!(task::coop::has_budget_remaining());
                }
            }));
            let id = handle.id().async_id();
            handle.await.unwrap();
            id
        });
        let polls = rec.names_for(id).iter().filter(|n| **n == "before").count();
        assert_eq!(polls, 1, "an unconstrained task is never forced to yield");
    });
}

#[test]
fn a_panicking_task_does_not_kill_its_worker() {
    check_flavors(|flavor, rt, _rec| {
        rt.block_on(async {
            let thread_of = || std::thread::current().id();
            let before = hookrt::spawn(async move { thread_of() }).await.unwrap();
            for _ in 0..10 {
                let err = hookrt::spawn(async { panic!("worker panic on purpose") })
                    .await
                    .unwrap_err();
                assert!(err.is_panic());
            }
            let after = hookrt::spawn(async move { thread_of() }).await.unwrap();
            if let Flavor::MultiThread(1) = flavor {
                assert_eq!(before, after, "the single worker survived the panics");
            }
        });
    });
}

#[test]
fn a_task_woken_from_a_foreign_thread_runs() {
    check(|rt, _rec| {
        let (tx, rx) = oneshot::channel::<&'static str>();
        let join = rt.spawn(async move { rx.await.unwrap() });
        let thread = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(5));
            tx.send("from afar").unwrap();
        });
        assert_eq!(rt.block_on(join).unwrap(), "from afar");
        thread.join().unwrap();
    });
}

#[test]
fn the_multi_thread_runtime_uses_its_workers() {
    let (rt, ledger) = lean_runtime(Flavor::MultiThread(2));
    let names = rt.block_on(async {
        let handles: Vec<_> = (0..64)
            .map(|_| {
                hookrt::spawn(async {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    std::thread::current().name().map(str::to_owned)
                })
            })
            .collect();
        let mut names = Vec::new();
        for h in handles {
            names.push(h.await.unwrap());
        }
        names
    });
    assert!(names.iter().all(|n| n.as_deref() == Some("hookrt-worker")));
    drop(rt);
    ledger.assert_balanced();
}

/// A remote spawn's wake-up must reach the worker sleeping in the I/O driver even when a
/// busy worker's non-blocking driver poll swallows the poke: that worker re-checks its
/// unpark flag once it holds the driver. Before that fix, a multi-thread runtime with
/// drivers hung about once in 300 rounds of this loop (found by hookrt-observe's overhead
/// test). A watchdog turns a hang into a failure.
#[test]
fn repeated_block_on_rounds_never_lose_a_remote_wake_up() {
    const ROUNDS: usize = 2_000;
    let (progress, watch) = std::sync::mpsc::channel::<usize>();
    let watchdog = std::thread::spawn(move || loop {
        match watch.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(_) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                eprintln!("hang: a block_on round made no progress for 60 s");
                std::process::exit(101);
            }
        }
    });
    let rt = support::builder(Flavor::MultiThread(2))
        .enable_all()
        .build()
        .unwrap();
    for round in 0..ROUNDS {
        rt.block_on(async {
            let tasks: Vec<_> = (0..2_000)
                .map(|_| hookrt::spawn(task::yield_now()))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        progress.send(round).unwrap();
    }
    drop(progress);
    watchdog.join().unwrap();
}
