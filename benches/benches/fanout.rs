//! The fan-out scenario, hookrt's reason to exist: [`REQUESTS`] (20 000) concurrent
//! requests, each a task of [`STEPS`] (10) async steps, each step a yield to the
//! scheduler followed by a read of the request's context value. One iteration spawns
//! every request from `block_on` and awaits them all (each returns the sum of the ids
//! it read, checked against the expected total once per function).
//!
//! One criterion group, `fanout`, with one function per variant, all on multi-thread
//! runtimes with `WORKER_THREADS` (2) workers and no drivers, each built once per
//! function, outside the measured loop:
//!
//! - `tokio`, `hookrt`, `hookrt+noop` (one hook with empty methods): the request id is
//!   captured by the task and "read" from its own state;
//! - `hookrt+ctx`, `hookrt+ctx+noop`: each request runs inside
//!   `REQUEST.run(Request { id }, ..)` and every step reads `REQUEST.get()`;
//! - `tokio+task_local`: each request runs inside `TOKIO_REQUEST.scope(..)` and every
//!   step reads `TOKIO_REQUEST.with(..)`;
//! - `tokio+metrics`: the plain request wrapped in tokio-metrics'
//!   `TaskMonitor::instrument`;
//! - `hookrt+leaks+stats`: the plain request with hookrt-observe's `LeakDetector` and
//!   `TaskStats` registered (every event recorded);
//! - `hookrt+sampler(1%)`: the plain request with `TaskStats` behind a `Sampler` that
//!   keeps 1 % of the request trees.
//!
//! `peers/fanout.js` is the same workload on Node.js (`AsyncLocalStorage`, a
//! `setImmediate` per step); the report runs both.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt_benches::{
    task_monitor, timing, BenchRuntime, Contender, Drivers, Flavor, Request, REQUEST,
    TOKIO_REQUEST, WORKER_THREADS,
};
use hookrt_observe::{LeakDetector, SamplePolicy, Sampler, TaskStats};
use std::future::Future;
use std::hint::black_box;
use std::time::Duration;

/// Concurrent requests per iteration.
const REQUESTS: u64 = 20_000;
/// Async steps per request.
const STEPS: u64 = 10;

type Group<'a> = BenchmarkGroup<'a, WallTime>;
type TokioRt = tokio::runtime::Runtime;
type HookrtRt = hookrt::runtime::Runtime;

/// What every iteration returns: each request reads its own id at every step.
const EXPECTED_SUM: u64 = STEPS * REQUESTS * (REQUESTS - 1) / 2;

/// Registers function `id`: every iteration spawns `request(id)` for each of the
/// [`REQUESTS`] ids from `block_on`, then awaits them all.
fn fanout<R, F, Fut>(group: &mut Group<'_>, id: &'static str, rt: &R, request: F)
where
    R: BenchRuntime,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    let run = || {
        rt.block_on(async {
            let handles: Vec<_> = (0..REQUESTS).map(|i| R::spawn_here(request(i))).collect();
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        })
    };
    assert_eq!(run(), EXPECTED_SUM, "{id}: a request read a wrong value");
    group.bench_function(id, |b| b.iter(run));
}

/// A request without context: its id lives in the task's own state.
async fn plain_request<R: BenchRuntime>(id: u64) -> u64 {
    let mut sum = 0;
    for _ in 0..STEPS {
        R::yield_now().await;
        sum += black_box(id);
    }
    sum
}

/// A request's steps reading hookrt's [`REQUEST`].
async fn ctx_steps() -> u64 {
    let mut sum = 0;
    for _ in 0..STEPS {
        hookrt::task::yield_now().await;
        sum += REQUEST.get().expect("the request's context").id;
    }
    sum
}

/// A request's steps reading tokio's [`TOKIO_REQUEST`].
async fn task_local_steps() -> u64 {
    let mut sum = 0;
    for _ in 0..STEPS {
        tokio::task::yield_now().await;
        sum += TOKIO_REQUEST.with(|r| r.id);
    }
    sum
}

fn benches(c: &mut Criterion) {
    let (warm_up, measurement) = timing(Duration::from_secs(1), Duration::from_secs(4));
    let mut group = c.benchmark_group("fanout");
    group
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .sampling_mode(SamplingMode::Flat);
    let (flavor, drivers) = (Flavor::MultiThread, Drivers::None);

    for contender in Contender::ALL {
        let id = contender.name();
        match contender {
            Contender::Tokio => {
                let rt = Contender::tokio_runtime_of(flavor, drivers);
                fanout(&mut group, id, &rt, plain_request::<TokioRt>);
            }
            Contender::TokioMetrics => {
                let rt = Contender::tokio_runtime_of(flavor, drivers);
                let monitor = task_monitor();
                fanout(&mut group, id, &rt, |i| {
                    monitor.instrument(plain_request::<TokioRt>(i))
                });
            }
            Contender::TokioTaskLocal => {
                let rt = Contender::tokio_runtime_of(flavor, drivers);
                fanout(&mut group, id, &rt, |i| {
                    TOKIO_REQUEST.scope(Request { id: i }, task_local_steps())
                });
            }
            Contender::Hookrt | Contender::HookrtNoop => {
                let rt = contender.hookrt_runtime_of(flavor, drivers);
                fanout(&mut group, id, &rt, plain_request::<HookrtRt>);
            }
            Contender::HookrtCtx | Contender::HookrtCtxNoop => {
                let rt = contender.hookrt_runtime_of(flavor, drivers);
                fanout(&mut group, id, &rt, |i| {
                    REQUEST.run(Request { id: i }, ctx_steps())
                });
            }
        }
    }
    let rt = observed_runtime(|builder| {
        builder.hook(LeakDetector::new()).hook(TaskStats::new());
    });
    fanout(
        &mut group,
        "hookrt+leaks+stats",
        &rt,
        plain_request::<HookrtRt>,
    );
    drop(rt);
    let rt = observed_runtime(|builder| {
        builder.hook(Sampler::new(
            TaskStats::new(),
            SamplePolicy::Probability(0.01),
        ));
    });
    fanout(
        &mut group,
        "hookrt+sampler(1%)",
        &rt,
        plain_request::<HookrtRt>,
    );
    group.finish();
}

/// A multi-thread hookrt runtime like the other contenders', with the hooks `register`
/// adds.
fn observed_runtime(register: impl FnOnce(&mut hookrt::runtime::Builder)) -> HookrtRt {
    let mut builder = hookrt::runtime::Builder::new_multi_thread();
    builder.worker_threads(WORKER_THREADS);
    register(&mut builder);
    builder.build().expect("building hookrt's runtime")
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
