//! Rough overhead figures on a fan-out workload (ignored by default; run with
//! `cargo test --release -p hookrt-observe --test observe_overhead -- --ignored --nocapture`).
//! The benchmark suite is the reference; this prints medians to see the order of cost.

use hookrt::hooks::Hook;
use hookrt_observe::{LeakDetector, SamplePolicy, Sampler, TaskStats};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Two hooks as one, to wrap both in one Sampler.
struct Pair(LeakDetector, TaskStats);

impl Hook for Pair {
    fn init(&self, r: &hookrt::hooks::Resource<'_>) {
        self.0.init(r);
        self.1.init(r);
    }
    fn before(&self, r: &hookrt::hooks::Resource<'_>) {
        self.1.before(r);
    }
    fn after(&self, r: &hookrt::hooks::Resource<'_>) {
        self.1.after(r);
    }
    fn resolve(&self, r: &hookrt::hooks::Resource<'_>) {
        self.0.resolve(r);
    }
    fn destroy(&self, r: &hookrt::hooks::Resource<'_>) {
        self.0.destroy(r);
        self.1.destroy(r);
    }
    fn wake(&self, r: &hookrt::hooks::Resource<'_>, by: hookrt::hooks::AsyncId) {
        self.1.wake(r, by);
    }
}

fn fan_out(hooks: Vec<Box<dyn Hook>>) -> Duration {
    let mut b = hookrt::runtime::Builder::new_multi_thread();
    b.worker_threads(2).enable_all();
    for h in hooks {
        b.hook(h);
    }
    let rt = b.build().unwrap();
    let mut runs = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        rt.block_on(async {
            let mut v = Vec::with_capacity(10_000);
            for _ in 0..10_000 {
                v.push(hookrt::spawn(async {
                    hookrt::task::yield_now().await;
                }));
            }
            for t in v {
                t.await.unwrap();
            }
        });
        runs.push(start.elapsed());
    }
    runs.sort();
    runs[runs.len() / 2]
}

#[test]
#[ignore = "timing figures, run on demand in release mode"]
fn fan_out_overhead() {
    let variant = |name: &str, hooks: Vec<Box<dyn Hook>>| {
        eprintln!("  {name:<28} ...");
        let d = fan_out(hooks);
        eprintln!("  {name:<28} {d:?}");
        d
    };
    eprintln!("fan-out 10 000 tasks, median of 7 (2 workers):");
    let base = variant("hookrt", vec![]);
    let leaks = variant("hookrt+leaks", vec![Box::new(LeakDetector::new())]);
    let stats = variant("hookrt+stats", vec![Box::new(TaskStats::new())]);
    let full = variant(
        "hookrt+leaks+stats",
        vec![
            Box::new(Arc::new(LeakDetector::new())),
            Box::new(Arc::new(TaskStats::new())),
        ],
    );
    let sampled = variant(
        "hookrt+sampler(1%)(l+s)",
        vec![Box::new(Sampler::new(
            Pair(LeakDetector::new(), TaskStats::new()),
            SamplePolicy::Probability(0.01),
        ))],
    );
    let r = |d: Duration| d.as_secs_f64() / base.as_secs_f64();
    eprintln!(
        "ratios: leaks {:.2}x, stats {:.2}x, leaks+stats {:.2}x, sampler(1%) {:.2}x",
        r(leaks),
        r(stats),
        r(full),
        r(sampled)
    );
}

/// The cost of one resource's life (init, wake, before, after, resolve, destroy) in
/// each hook, called directly on one thread: the hook's own cost without scheduling
/// noise.
#[test]
#[ignore = "timing figures, run on demand in release mode"]
fn per_resource_hook_cost() {
    use hookrt::context::Context;
    use hookrt::hooks::{AsyncId, Resource, ResourceKind};
    fn life(h: &dyn Hook, n: usize) -> Duration {
        let ctx = Context::current();
        let parent = AsyncId::allocate();
        let p = Resource::new(parent, AsyncId::ROOT, ResourceKind::Task, &ctx);
        h.init(&p);
        let start = Instant::now();
        for _ in 0..n {
            let r = Resource::new(AsyncId::allocate(), parent, ResourceKind::Task, &ctx)
                .with_location(Some(std::panic::Location::caller()));
            h.init(&r);
            h.wake(&r, parent);
            h.before(&r);
            h.after(&r);
            h.resolve(&r);
            h.destroy(&r);
        }
        let d = start.elapsed() / n as u32;
        h.destroy(&p);
        d
    }
    let n = 200_000;
    eprintln!("per resource life (6 events), one thread:");
    eprintln!(
        "  LeakDetector            {:?}",
        life(&LeakDetector::new(), n)
    );
    eprintln!("  TaskStats               {:?}", life(&TaskStats::new(), n));
    let all = Sampler::new(
        Pair(LeakDetector::new(), TaskStats::new()),
        SamplePolicy::Probability(1.0),
    );
    eprintln!("  Sampler(100%)(l+s)      {:?}", life(&all, n));
    let none = Sampler::new(
        Pair(LeakDetector::new(), TaskStats::new()),
        SamplePolicy::Probability(0.0),
    );
    eprintln!("  Sampler(0%)(l+s)        {:?}", life(&none, n));
    eprintln!(
        "  FlowRecorder            {:?}",
        life(&hookrt_observe::FlowRecorder::with_capacity(100_000), n)
    );
}
