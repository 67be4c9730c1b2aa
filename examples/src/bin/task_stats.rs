//! `TaskStats`: poll counts, busy time, scheduled delay and slow polls, per task and
//! per creating site, without wrapping a single future.
//!
//! Run it with `cargo run -p hookrt-examples --bin task_stats`.

use hookrt::hooks::execution_async_id;
use hookrt::time::{sleep, Duration, Instant};
use hookrt_observe::TaskStats;
use std::process::ExitCode;
use std::sync::Arc;

/// Burns the CPU for `d` without yielding: a poll that blocks its worker.
fn spin(d: Duration) {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
}

fn main() -> ExitCode {
    let stats = Arc::new(TaskStats::new()); // slow polls: >= 1 ms
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .hook(stats.clone())
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };

    let spinner = rt.block_on(async {
        // A well-behaved crowd: 200 tasks that mostly wait.
        let mut waiters = Vec::new();
        for i in 0..200u64 {
            waiters.push(hookrt::spawn(async move {
                sleep(Duration::from_millis(1 + i % 5)).await;
            }));
        }
        // One task that spins 10 ms per poll, three times.
        let spinner = hookrt::task::Builder::new().name("spinner").spawn(async {
            for _ in 0..3 {
                spin(Duration::from_millis(10));
                hookrt::task::yield_now().await;
            }
            execution_async_id()
        });
        for w in waiters {
            w.await.ok();
        }
        spinner.ok()?.await.ok()
    });
    let Some(spinner) = spinner else {
        return ExitCode::FAILURE;
    };

    println!("== The spinner task");
    match stats.resource(spinner) {
        Some(s) => println!("{s}"),
        None => println!("not found (finished and forgotten)"),
    }

    println!("\n== Per creating site, busiest first");
    println!(
        "{:<40} {:<8} {:>7} {:>6} {:>10} {:>5} {:>12}",
        "site", "kind", "created", "polls", "busy", "slow", "p99 sched"
    );
    for s in stats.sites().iter().take(6) {
        println!(
            "{:<40} {:<8} {:>7} {:>6} {:>10} {:>5} {:>12}",
            s.site.to_string(),
            s.kind.to_string(),
            s.created,
            s.polls,
            format!("{:.2?}", s.busy),
            s.slow_polls,
            format!("{:.2?}", s.scheduled_delays.quantile(0.99)),
        );
    }
    ExitCode::SUCCESS
}
