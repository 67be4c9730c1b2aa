//! tokio's multi-thread scheduler workloads (the shapes of tokio's own
//! `benches/rt_multi_threaded.rs`), each run on tokio and on hookrt in the same process so
//! that their ratio means something.
//!
//! Every workload is one criterion group with six functions: `tokio`, `tokio+metrics`
//! (every spawned future wrapped in tokio-metrics' `TaskMonitor::instrument`),
//! `tokio+task_local` (a `task_local!` value scoped around every spawned future),
//! `hookrt` (no hook registered: the zero-cost path), `hookrt+noop` (one hook with empty
//! methods: the cost of dispatching every event) and `hookrt+ctx` (a `LocalStorage` value
//! in context, inherited by every spawn and read after every yield). All runtimes have
//! [`WORKER_THREADS`] workers and no drivers; each runtime is built once per function,
//! outside the measured loop. `rt_current_thread.rs` has the same shapes on
//! current-thread runtimes.
//!
//! `cargo run -p hookrt-benches --bin report` prints the table of medians and ratios.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt::sync::oneshot;
use hookrt_benches::{compare_runtimes, timing, BenchRuntime, Drivers, Flavor, WORKER_THREADS};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Tasks spawned per iteration by the `spawn_many_*` workloads.
const NUM_SPAWN: usize = 10_000;
/// Tasks of `yield_many`, and how many times each yields.
const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;
/// Ping-pong rounds per iteration of `ping_pong`.
const NUM_PINGS: usize = 1_000;
/// Depth of the spawn chain of `chained_spawn`.
const CHAIN_DEPTH: usize = 1_000;
/// How long a busy task of `spawn_many_remote_busy` burns between two yields.
const STALL: Duration = Duration::from_micros(10);

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// One criterion group called `name`, running `$workload` on every runtime contender
/// ([`compare_runtimes!`]) on multi-thread runtimes without drivers.
macro_rules! compare {
    ($c:expr, $name:expr, $workload:ident) => {{
        let mut group = workload_group($c, $name);
        compare_runtimes!(&mut group, Flavor::MultiThread, Drivers::None, $workload);
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
        // Iterations take milliseconds: the same count per sample keeps the run short.
        .sampling_mode(SamplingMode::Flat);
    group
}

/// [`NUM_SPAWN`] tasks spawned from inside a task (so onto a worker's local queue);
/// the last one to run signals the `block_on` thread.
fn spawn_many_local<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let remaining = Arc::new(AtomicUsize::new(0));
    group.bench_function(id, |b| {
        b.iter(|| {
            remaining.store(NUM_SPAWN, Relaxed);
            let done_tx = done_tx.clone();
            let remaining = remaining.clone();
            rt.block_on(async {
                drop(R::spawn_here(async move {
                    for _ in 0..NUM_SPAWN {
                        let done_tx = done_tx.clone();
                        let remaining = remaining.clone();
                        drop(R::spawn_here(async move {
                            if remaining.fetch_sub(1, Relaxed) == 1 {
                                done_tx.send(()).unwrap();
                            }
                        }));
                    }
                }));
                done_rx.recv().unwrap();
            });
        })
    });
}

/// [`NUM_SPAWN`] empty tasks spawned from outside the runtime, then awaited, while the
/// workers have nothing else to do.
fn spawn_many_remote_idle<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    group.bench_function(id, |b| b.iter(|| spawn_remote_and_join(rt, &mut handles)));
}

/// As [`spawn_many_remote_idle`], while `2 * WORKER_THREADS` tasks keep every worker
/// busy: each burns [`STALL`] and yields, over and over (tokio's `remote_busy1`).
fn spawn_many_remote_busy<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let busy = Arc::new(AtomicBool::new(true));
    let busy_tasks: Vec<_> = (0..2 * WORKER_THREADS)
        .map(|_| {
            let busy = busy.clone();
            rt.spawn(async move {
                while busy.load(Relaxed) {
                    R::yield_now().await;
                    stall();
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

/// Burns [`STALL`] of CPU time, letting the OS run other threads meanwhile.
fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// [`NUM_PINGS`] concurrent rounds: a task spawns a partner, pings it over a oneshot
/// and waits for the pong over another.
fn ping_pong<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let remaining = Arc::new(AtomicUsize::new(0));
    group.bench_function(id, |b| {
        b.iter(|| {
            remaining.store(NUM_PINGS, Relaxed);
            let done_tx = done_tx.clone();
            let remaining = remaining.clone();
            rt.block_on(async {
                drop(R::spawn_here(async move {
                    for _ in 0..NUM_PINGS {
                        let done_tx = done_tx.clone();
                        let remaining = remaining.clone();
                        drop(R::spawn_here(async move {
                            let (ping_tx, ping_rx) = oneshot::channel::<()>();
                            let (pong_tx, pong_rx) = oneshot::channel::<()>();
                            drop(R::spawn_here(async move {
                                ping_rx.await.unwrap();
                                pong_tx.send(()).unwrap();
                            }));
                            ping_tx.send(()).unwrap();
                            pong_rx.await.unwrap();
                            if remaining.fetch_sub(1, Relaxed) == 1 {
                                done_tx.send(()).unwrap();
                            }
                        }));
                    }
                }));
                done_rx.recv().unwrap();
            });
        })
    });
}

/// [`YIELD_TASKS`] tasks spawned from outside, each yielding [`NUM_YIELD`] times.
fn yield_many<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let (done_tx, done_rx) = mpsc::sync_channel(YIELD_TASKS);
    group.bench_function(id, |b| {
        b.iter(|| {
            for _ in 0..YIELD_TASKS {
                let done_tx = done_tx.clone();
                drop(rt.spawn(async move {
                    for _ in 0..NUM_YIELD {
                        R::yield_now().await;
                    }
                    done_tx.send(()).unwrap();
                }));
            }
            for _ in 0..YIELD_TASKS {
                done_rx.recv().unwrap();
            }
        })
    });
}

/// A chain of [`CHAIN_DEPTH`] tasks, each spawning the next one and exiting.
fn chained_spawn<R: BenchRuntime>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    fn link<R: BenchRuntime>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            drop(R::spawn_here(async move { link::<R>(done_tx, n - 1) }));
        }
    }

    let (done_tx, done_rx) = mpsc::sync_channel(1);
    group.bench_function(id, |b| {
        b.iter(|| {
            let done_tx = done_tx.clone();
            rt.block_on(async {
                drop(R::spawn_here(
                    async move { link::<R>(done_tx, CHAIN_DEPTH) },
                ));
                done_rx.recv().unwrap();
            });
        })
    });
}

fn rt_multi_threaded(c: &mut Criterion) {
    compare!(c, "spawn_many_local", spawn_many_local);
    compare!(c, "spawn_many_remote_idle", spawn_many_remote_idle);
    compare!(c, "spawn_many_remote_busy", spawn_many_remote_busy);
    compare!(c, "ping_pong", ping_pong);
    compare!(c, "yield_many", yield_many);
    compare!(c, "chained_spawn", chained_spawn);
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    rt_multi_threaded(&mut c);
    c.final_summary();
}
