//! The cost of hookrt's async context (`LocalStorage`, `Context`), measured in one run.
//!
//! Micro benchmarks, one `hookrt` function each (there is no tokio counterpart, so
//! `report` leaves these groups out; read their times from criterion's output):
//!
//! - `ls_get`: `LocalStorage::get` inside a `run_sync` scope with one value set (a clone
//!   of the value's `Arc`, dropped again).
//! - `ls_with`: `LocalStorage::with`, borrowing that value instead of cloning its `Arc`.
//! - `ls_get_empty`: `LocalStorage::get` with no value set (the empty context).
//! - `ls_run_sync`: `REQUEST.run_sync(value, || black_box(..))` from the empty context:
//!   building a one-value frame, entering it, leaving it.
//!
//! Runtime workloads, each one criterion group, on current-thread runtimes without
//! drivers (built once per function, outside the measured loop):
//!
//! - `spawn_ctx`: [`NUM_TASKS`] empty tasks spawned from `block_on` and awaited. `tokio`
//!   and `hookrt` run with no context set; `hookrt+ctx` runs inside
//!   `REQUEST.run(value, ..)`, so every task inherits (and releases) the frame.
//! - `task_local_cmp`: [`NUM_SCOPES`] scoped futures awaited one after the other, each
//!   reading its value [`READS_PER_SCOPE`] times: tokio's `task_local!` `scope` +
//!   `with` (`tokio`) against hookrt's `LocalStorage` `run` + `get` (`hookrt`) and
//!   `run` + `with` (`hookrt+with`, which borrows like tokio's `with` does).
//!
//! `cargo run -p hookrt-benches --bin report` shows the `hookrt`/`tokio` ratio of the
//! runtime groups; the `hookrt+ctx` and `hookrt+with` functions are not report columns.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt::context::LocalStorage;
use hookrt_benches::{timing, BenchRuntime};
use std::hint::black_box;
use std::time::Duration;

/// Tasks spawned and awaited per iteration of `spawn_ctx`.
const NUM_TASKS: usize = 10_000;
/// Scoped futures per iteration of `task_local_cmp`.
const NUM_SCOPES: u64 = 10_000;
/// Reads of the scoped value inside each future of `task_local_cmp`.
const READS_PER_SCOPE: u64 = 10;

/// The value the benchmarks put in context: a request id, as a tracing layer would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Request {
    id: u64,
}

/// hookrt's context slot under test.
static REQUEST: LocalStorage<Request> = LocalStorage::named("request");

tokio::task_local! {
    /// tokio's counterpart of [`REQUEST`] (scoped, not inherited by spawns).
    static TOKIO_REQUEST: Request;
}

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// A group of nanosecond-scale benchmarks: criterion's defaults, a shorter run.
fn micro_group<'a>(c: &'a mut Criterion, name: &str) -> Group<'a> {
    let (warm_up, measurement) = timing(Duration::from_millis(500), Duration::from_secs(2));
    let mut group = c.benchmark_group(name);
    group.warm_up_time(warm_up).measurement_time(measurement);
    group
}

/// A group of millisecond-scale workloads, as in the other benches.
fn workload_group<'a>(c: &'a mut Criterion, name: &str) -> Group<'a> {
    let (warm_up, measurement) = timing(Duration::from_secs(1), Duration::from_secs(3));
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        // Iterations take milliseconds: the same count per sample keeps the run short.
        .sampling_mode(SamplingMode::Flat);
    group
}

fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("building tokio's runtime")
}

fn hookrt_current_thread() -> hookrt::runtime::Runtime {
    hookrt::runtime::Builder::new_current_thread()
        .build()
        .expect("building hookrt's runtime")
}

fn ls_get(c: &mut Criterion) {
    let mut group = micro_group(c, "ls_get");
    REQUEST.run_sync(Request { id: 7 }, || {
        assert_eq!(REQUEST.get().as_deref(), Some(&Request { id: 7 }));
        group.bench_function("hookrt", |b| b.iter(|| REQUEST.get()));
    });
    group.finish();
}

fn ls_with(c: &mut Criterion) {
    let mut group = micro_group(c, "ls_with");
    REQUEST.run_sync(Request { id: 7 }, || {
        assert_eq!(REQUEST.with(|r| r.map(|r| r.id)), Some(7));
        group.bench_function("hookrt", |b| {
            b.iter(|| REQUEST.with(|r| r.map(|r| black_box(r).id)))
        });
    });
    group.finish();
}

fn ls_get_empty(c: &mut Criterion) {
    let mut group = micro_group(c, "ls_get_empty");
    assert_eq!(REQUEST.get(), None, "benchmarks start in the empty context");
    group.bench_function("hookrt", |b| b.iter(|| REQUEST.get()));
    group.finish();
}

fn ls_run_sync(c: &mut Criterion) {
    let mut group = micro_group(c, "ls_run_sync");
    group.bench_function("hookrt", |b| {
        let mut id = 0u64;
        b.iter(|| {
            id = id.wrapping_add(1);
            REQUEST.run_sync(Request { id }, || black_box(id))
        })
    });
    group.finish();
}

/// [`NUM_TASKS`] empty tasks spawned from the `block_on` future, then awaited in order.
async fn spawn_many<R: BenchRuntime>() {
    let handles: Vec<_> = (0..NUM_TASKS)
        .map(|i| R::spawn_here(async move { black_box(i) }))
        .collect();
    for handle in handles {
        black_box(handle.await.unwrap());
    }
}

fn spawn_ctx(c: &mut Criterion) {
    let mut group = workload_group(c, "spawn_ctx");

    let rt = tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(spawn_many::<tokio::runtime::Runtime>()))
    });
    drop(rt);

    let rt = hookrt_current_thread();
    group.bench_function("hookrt", |b| {
        b.iter(|| rt.block_on(spawn_many::<hookrt::runtime::Runtime>()))
    });
    drop(rt);

    let rt = hookrt_current_thread();
    // The workload is only meaningful if the tasks do inherit the frame.
    let inherited = rt.block_on(REQUEST.run(Request { id: 1 }, async {
        hookrt::spawn(async { REQUEST.get() }).await.unwrap()
    }));
    assert_eq!(inherited.as_deref(), Some(&Request { id: 1 }));
    group.bench_function("hookrt+ctx", |b| {
        b.iter(|| {
            rt.block_on(REQUEST.run(Request { id: 1 }, spawn_many::<hookrt::runtime::Runtime>()))
        })
    });
    drop(rt);

    group.finish();
}

fn task_local_cmp(c: &mut Criterion) {
    let mut group = workload_group(c, "task_local_cmp");

    let rt = tokio_current_thread();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0;
                for id in 0..NUM_SCOPES {
                    sum += TOKIO_REQUEST
                        .scope(Request { id }, async {
                            let mut sum = 0;
                            for _ in 0..READS_PER_SCOPE {
                                sum += TOKIO_REQUEST.with(|r| black_box(r).id);
                            }
                            sum
                        })
                        .await;
                }
                assert_eq!(sum, READS_PER_SCOPE * NUM_SCOPES * (NUM_SCOPES - 1) / 2);
            })
        })
    });
    drop(rt);

    let rt = hookrt_current_thread();
    group.bench_function("hookrt", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0;
                for id in 0..NUM_SCOPES {
                    sum += REQUEST
                        .run(Request { id }, async {
                            let mut sum = 0;
                            for _ in 0..READS_PER_SCOPE {
                                sum += black_box(REQUEST.get()).unwrap().id;
                            }
                            sum
                        })
                        .await;
                }
                assert_eq!(sum, READS_PER_SCOPE * NUM_SCOPES * (NUM_SCOPES - 1) / 2);
            })
        })
    });
    group.bench_function("hookrt+with", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut sum = 0;
                for id in 0..NUM_SCOPES {
                    sum += REQUEST
                        .run(Request { id }, async {
                            let mut sum = 0;
                            for _ in 0..READS_PER_SCOPE {
                                sum += REQUEST.with(|r| black_box(r).unwrap().id);
                            }
                            sum
                        })
                        .await;
                }
                assert_eq!(sum, READS_PER_SCOPE * NUM_SCOPES * (NUM_SCOPES - 1) / 2);
            })
        })
    });
    drop(rt);

    group.finish();
}

fn benches(c: &mut Criterion) {
    ls_get(c);
    ls_with(c);
    ls_get_empty(c);
    ls_run_sync(c);
    spawn_ctx(c);
    task_local_cmp(c);
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
