//! The `model(|| ...)` entry point.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The preemption bound when `LOOM_MAX_PREEMPTIONS` is not set: the bound `run.sh` uses,
/// so a bare `cargo test` under `--cfg loom` stays as fast.
const DEFAULT_MAX_PREEMPTIONS: usize = 2;

/// Runs `f` under every interleaving loom explores, with at most `LOOM_MAX_PREEMPTIONS`
/// (default 2) preemptions per execution. Every other loom setting (`LOOM_LOG`,
/// `LOOM_LOCATION`, `LOOM_CHECKPOINT_FILE`, ...) is read from the environment as usual.
///
/// Prints how many executions were explored (shown with `--nocapture`).
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_MAX_PREEMPTIONS);
    }
    let bound = builder.preemption_bound;
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f();
    });
    println!(
        "{}: {} executions (preemption bound {bound:?})",
        std::thread::current().name().unwrap_or("model"),
        executions.load(Ordering::Relaxed)
    );
}
