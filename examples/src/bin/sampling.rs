//! `Sampler`: trace 10 % of requests, plus every request that asks to be traced. The
//! decision is taken once per request (the tree root) and every task the request
//! spawns follows it, so the inner hook sees whole request trees or nothing.
//!
//! Run it with `cargo run -p hookrt-examples --bin sampling`.

use hookrt::hooks::{Hook, Resource};
use hookrt::time::{sleep, Duration};
use hookrt_observe::{SamplePolicy, Sampled, Sampler, SAMPLED};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Requests sent.
const REQUESTS: u64 = 2000;

/// The hook behind the sampler: counts the tasks it is shown, by name.
#[derive(Debug, Default)]
struct Counter {
    requests: AtomicU64,
    steps: AtomicU64,
    debug: AtomicU64,
}

impl Hook for Counter {
    fn init(&self, r: &Resource<'_>) {
        let n = match r.name() {
            Some("request") => &self.requests,
            Some("step") => &self.steps,
            Some("debug-request") => &self.debug,
            _ => return,
        };
        n.fetch_add(1, Ordering::Relaxed);
    }
}

/// A request: two steps, each its own task.
async fn request() {
    for _ in 0..2 {
        let step = hookrt::task::Builder::new()
            .name("step")
            .spawn(sleep(Duration::from_micros(200)));
        if let Ok(step) = step {
            step.await.ok();
        }
    }
}

fn main() -> ExitCode {
    let counter = Arc::new(Counter::default());
    let sampler = Arc::new(Sampler::new(
        counter.clone(),
        SamplePolicy::Probability(0.1),
    ));
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .hook(sampler.clone())
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    rt.block_on(async {
        let mut batch = Vec::new();
        for i in 0..REQUESTS {
            let spawned = if i % 500 == 0 {
                // A request with a "trace me" header: sampled whatever the policy.
                SAMPLED.run_sync(Sampled(true), || {
                    hookrt::task::Builder::new()
                        .name("debug-request")
                        .spawn(request())
                })
            } else {
                hookrt::task::Builder::new()
                    .name("request")
                    .spawn(request())
            };
            batch.extend(spawned.ok());
            if batch.len() == 100 {
                for t in batch.drain(..) {
                    t.await.ok();
                }
            }
        }
        for t in batch {
            t.await.ok();
        }
    });
    drop(rt);

    let requests = counter.requests.load(Ordering::Relaxed);
    let debug = counter.debug.load(Ordering::Relaxed);
    let steps = counter.steps.load(Ordering::Relaxed);
    println!("== Sampler(Probability(0.1)) over {REQUESTS} requests");
    println!(
        "roots the sampler decided for   {:>6}",
        sampler.roots_seen()
    );
    println!(
        "requests forwarded              {requests:>6}  ({:.1} % of {})",
        requests as f64 * 100.0 / (REQUESTS - 4) as f64,
        REQUESTS - 4
    );
    println!("debug requests forwarded        {debug:>6}  (of 4, forced by SAMPLED)");
    println!(
        "steps forwarded                 {steps:>6}  (2 per forwarded request: {})",
        2 * (requests + debug)
    );
    let whole_trees = steps == 2 * (requests + debug);
    let about_ten = (100..=300).contains(&requests);
    println!(
        "every forwarded request came with all its steps: {}",
        if whole_trees { "yes" } else { "NO" }
    );
    if whole_trees && about_ten && debug == 4 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
