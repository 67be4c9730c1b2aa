//! tokio's scheduler workloads on current-thread runtimes (the shapes of
//! `rt_multi_threaded.rs`, after tokio's own `benches/rt_current_thread.rs`), each run
//! on every runtime contender in the same process so that their ratios mean something.
//!
//! The one thread that runs the tasks is the one inside `block_on`, so no workload
//! blocks it: completion is awaited (join handles, a oneshot), never received on a
//! blocking channel.
//!
//! Every workload is one criterion group, named after its multi-thread twin with a `ct_`
//! prefix, with the six functions of `compare_runtimes!`: `tokio`, `tokio+metrics`,
//! `tokio+task_local`, `hookrt`, `hookrt+noop`, `hookrt+ctx`. Runtimes have no drivers;
//! each is built once per function, outside the measured loop.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt::sync::oneshot;
use hookrt_benches::{compare_runtimes, timing, BenchRuntime, Drivers, Flavor};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Tasks spawned per iteration by the `ct_spawn_many_*` workloads.
const NUM_SPAWN: usize = 10_000;
/// Tasks of `ct_yield_many`, and how many times each yields.
const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;
/// Ping-pong rounds per iteration of `ct_ping_pong`.
const NUM_PINGS: usize = 1_000;
/// Depth of the spawn chain of `ct_chained_spawn`.
const CHAIN_DEPTH: usize = 1_000;
/// Tasks that keep the scheduler busy in `ct_spawn_many_remote_busy`.
const BUSY_TASKS: usize = 2;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// One criterion group called `name`, running `$workload` on every runtime contender
/// ([`compare_runtimes!`]) on current-thread runtimes without drivers.
macro_rules! compare {
    ($c:expr, $name:expr, $workload:ident) => {{
        let mut group = workload_group($c, $name);
        compare_runtimes!(&mut group, Flavor::CurrentThread, Drivers::None, $workload);
        group.finish();
    }};
}

/// A group of millisecond-scale iterations: 10 samples of the same iteration count.
fn workload_group<'a>(c: &'a mut Criterion, name: &str) -> Group<'a> {
    let (warm_up, measurement) = timing(Duration::from_secs(1), Duration::from_secs(3));
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .sampling_mode(SamplingMode::Flat);
    group
}

/// [`NUM_SPAWN`] empty tasks spawned from the `block_on` future, then awaited.
fn spawn_many_local<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..NUM_SPAWN).map(|_| R::spawn_here(async {})).collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            })
        })
    });
}

/// [`NUM_SPAWN`] empty tasks spawned from outside the runtime (they run once `block_on`
/// drives the scheduler), then awaited, with nothing else to run.
fn spawn_many_remote_idle<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    group.bench_function(id, |b| b.iter(|| spawn_remote_and_join(rt, &mut handles)));
}

/// As [`spawn_many_remote_idle`], while [`BUSY_TASKS`] tasks yield over and over, so
/// every scheduler tick has other work to share the thread with.
fn spawn_many_remote_busy<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let busy = Arc::new(AtomicBool::new(true));
    let busy_tasks: Vec<_> = (0..BUSY_TASKS)
        .map(|_| {
            let busy = busy.clone();
            rt.spawn(async move {
                while busy.load(Relaxed) {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    group.bench_function(id, |b| b.iter(|| spawn_remote_and_join(rt, &mut handles)));
    busy.store(false, Relaxed);
    rt.block_on(async {
        for task in busy_tasks {
            task.await.unwrap();
        }
    });
}

fn spawn_remote_and_join<R: BenchRuntime>(rt: &R, handles: &mut Vec<R::JoinHandle<()>>) {
    for _ in 0..NUM_SPAWN {
        handles.push(rt.spawn(async {}));
    }
    rt.block_on(async {
        for handle in handles.drain(..) {
            handle.await.unwrap();
        }
    });
}

/// [`NUM_PINGS`] concurrent rounds spawned from `block_on`: a task spawns a partner,
/// pings it over a oneshot and waits for the pong over another.
fn ping_pong<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let rounds: Vec<_> = (0..NUM_PINGS)
                    .map(|_| {
                        R::spawn_here(async {
                            let (ping_tx, ping_rx) = oneshot::channel::<()>();
                            let (pong_tx, pong_rx) = oneshot::channel::<()>();
                            drop(R::spawn_here(async move {
                                ping_rx.await.unwrap();
                                pong_tx.send(()).unwrap();
                            }));
                            ping_tx.send(()).unwrap();
                            pong_rx.await.unwrap();
                        })
                    })
                    .collect();
                for round in rounds {
                    round.await.unwrap();
                }
            })
        })
    });
}

/// [`YIELD_TASKS`] tasks spawned from `block_on`, each yielding [`NUM_YIELD`] times.
fn yield_many<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..YIELD_TASKS)
                    .map(|_| {
                        R::spawn_here(async {
                            for _ in 0..NUM_YIELD {
                                R::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            })
        })
    });
}

/// A chain of [`CHAIN_DEPTH`] tasks, each spawning the next one and exiting; the last
/// one sends on a oneshot the `block_on` future awaits.
fn chained_spawn<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    fn link<R: BenchRuntime>(done_tx: oneshot::Sender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            drop(R::spawn_here(async move { link::<R>(done_tx, n - 1) }));
        }
    }

    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let (done_tx, done_rx) = oneshot::channel();
                drop(R::spawn_here(
                    async move { link::<R>(done_tx, CHAIN_DEPTH) },
                ));
                done_rx.await.unwrap();
            })
        })
    });
}

fn rt_current_thread(c: &mut Criterion) {
    compare!(c, "ct_spawn_many_local", spawn_many_local);
    compare!(c, "ct_spawn_many_remote_idle", spawn_many_remote_idle);
    compare!(c, "ct_spawn_many_remote_busy", spawn_many_remote_busy);
    compare!(c, "ct_ping_pong", ping_pong);
    compare!(c, "ct_yield_many", yield_many);
    compare!(c, "ct_chained_spawn", chained_spawn);
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    rt_current_thread(&mut c);
    c.final_summary();
}
