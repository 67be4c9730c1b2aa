//! Timer workloads, each run on tokio and on hookrt in the same process so that their
//! ratio means something.
//!
//! - `timer_insert_cancel`: 100 000 sleeps of varied durations (1 ms to 10 min, so every
//!   level of the wheel but the last), each polled once so it enters the wheel, then all
//!   dropped: the insert and cancel paths, nothing fires.
//! - `sleeps_10k_concurrent`: 10 000 tasks each sleeping 1 to 10 ms, awaited: insert,
//!   fire, wake, and the workers sleeping on the driver in between.
//! - `timeout_ready`: 100 000 `timeout(1 s, ready)`: creating and dropping a deadline
//!   that never enters the wheel (hookrt still emits `init`/`destroy` for it).
//!
//! Every workload is one criterion group with three functions: `tokio`, `hookrt` and
//! `hookrt+noop` (one hook with empty methods). All runtimes are multi-thread with
//! `WORKER_THREADS` (2) workers and the time driver enabled; each is built once per
//! function, outside the measured loop.
//!
//! `cargo run -p hookrt-benches --bin report` prints the table of medians and ratios.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt_benches::{timing, BenchRuntime, Contender};
use std::fmt;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// Sleeps created, polled once and dropped per iteration of `timer_insert_cancel`.
const NUM_TIMERS: usize = 100_000;
/// Longest sleep of `timer_insert_cancel` (they never fire).
const MAX_TIMER_MS: u64 = 10 * 60 * 1_000;
/// Sleeping tasks per iteration of `sleeps_10k_concurrent`, each for 1 to 10 ms.
const NUM_SLEEPERS: u64 = 10_000;
/// Timeouts per iteration of `timeout_ready`.
const NUM_TIMEOUTS: u64 = 100_000;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// A workload: registers one benchmark function named `id` in the group, on `rt`.
type Workload<R> = fn(&mut Group<'_>, &'static str, &R);

/// The time API of a runtime, as the workloads use it.
trait Timers: BenchRuntime {
    /// The runtime's `Sleep`.
    type Sleep: Future<Output = ()> + Send + 'static;
    /// The runtime's `Timeout<F>`.
    type Timeout<F: Future + Send>: Future<Output = Result<F::Output, Self::Elapsed>> + Send;
    /// The runtime's `error::Elapsed`.
    type Elapsed: fmt::Debug;

    /// `time::sleep`.
    fn sleep(duration: Duration) -> Self::Sleep;

    /// `time::timeout`.
    fn timeout<F: Future + Send>(duration: Duration, future: F) -> Self::Timeout<F>;

    /// `task::unconstrained`: polling 100 000 sleeps in one go must not run out of the
    /// cooperative budget (a sleep polled without budget does not enter the wheel).
    fn unconstrained<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send;
}

impl Timers for tokio::runtime::Runtime {
    type Sleep = tokio::time::Sleep;
    type Timeout<F: Future + Send> = tokio::time::Timeout<F>;
    type Elapsed = tokio::time::error::Elapsed;

    fn sleep(duration: Duration) -> Self::Sleep {
        tokio::time::sleep(duration)
    }

    fn timeout<F: Future + Send>(duration: Duration, future: F) -> Self::Timeout<F> {
        tokio::time::timeout(duration, future)
    }

    fn unconstrained<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send {
        tokio::task::unconstrained(future)
    }
}

impl Timers for hookrt::runtime::Runtime {
    type Sleep = hookrt::time::Sleep;
    type Timeout<F: Future + Send> = hookrt::time::Timeout<F>;
    type Elapsed = hookrt::time::error::Elapsed;

    fn sleep(duration: Duration) -> Self::Sleep {
        hookrt::time::sleep(duration)
    }

    fn timeout<F: Future + Send>(duration: Duration, future: F) -> Self::Timeout<F> {
        hookrt::time::timeout(duration, future)
    }

    fn unconstrained<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send {
        hookrt::task::unconstrained(future)
    }
}

/// Runs one workload on every [`Contender`], in one criterion group called `name`.
///
/// The same generic function is passed twice: Rust needs one monomorphised copy per
/// runtime type.
fn compare(
    c: &mut Criterion,
    name: &str,
    on_tokio: Workload<tokio::runtime::Runtime>,
    on_hookrt: Workload<hookrt::runtime::Runtime>,
) {
    let (warm_up, measurement) = timing(Duration::from_secs(1), Duration::from_secs(3));
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        // Iterations take milliseconds: the same count per sample keeps the run short.
        .sampling_mode(SamplingMode::Flat);
    for contender in Contender::CORE {
        if contender.is_tokio() {
            on_tokio(
                &mut group,
                contender.name(),
                &Contender::tokio_runtime_with_time(),
            );
        } else {
            on_hookrt(
                &mut group,
                contender.name(),
                &contender.hookrt_runtime_with_time(),
            );
        }
    }
    group.finish();
}

/// [`NUM_TIMERS`] sleeps of pseudo-random durations up to [`MAX_TIMER_MS`], created in a
/// task, each polled once (so it enters the wheel), then all dropped.
fn timer_insert_cancel<R: Timers>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let durations: Arc<[Duration]> = (0..NUM_TIMERS)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            Duration::from_millis(1 + seed % MAX_TIMER_MS)
        })
        .collect();
    group.bench_function(id, |b| {
        b.iter(|| {
            let durations = durations.clone();
            rt.block_on(async {
                R::spawn_here(R::unconstrained(async move {
                    let mut sleeps: Vec<Pin<Box<R::Sleep>>> =
                        durations.iter().map(|&d| Box::pin(R::sleep(d))).collect();
                    poll_fn(|cx| {
                        for sleep in &mut sleeps {
                            // The shortest may be due already: only registering counts.
                            let _ = sleep.as_mut().poll(cx);
                        }
                        Poll::Ready(())
                    })
                    .await;
                    drop(sleeps);
                }))
                .await
                .unwrap();
            });
        })
    });
}

/// [`NUM_SLEEPERS`] tasks spawned from `block_on`, the `i`th sleeping `1 + i % 10` ms,
/// then awaited.
fn sleeps_10k_concurrent<R: Timers>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..NUM_SLEEPERS)
                    .map(|i| R::spawn_here(R::sleep(Duration::from_millis(1 + i % 10))))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            });
        })
    });
}

/// [`NUM_TIMEOUTS`] `timeout(1 s, ready(i))` awaited one after the other in a task.
fn timeout_ready<R: Timers>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                R::spawn_here(async {
                    for i in 0..NUM_TIMEOUTS {
                        let ready = std::future::ready(i);
                        let output = R::timeout(Duration::from_secs(1), ready).await;
                        black_box(output.unwrap());
                    }
                })
                .await
                .unwrap();
            });
        })
    });
}

fn benches(c: &mut Criterion) {
    compare(
        c,
        "timer_insert_cancel",
        timer_insert_cancel,
        timer_insert_cancel,
    );
    compare(
        c,
        "sleeps_10k_concurrent",
        sleeps_10k_concurrent,
        sleeps_10k_concurrent,
    );
    compare(c, "timeout_ready", timeout_ready, timeout_ready);
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
