//! Heap bytes per idle task, hookrt against tokio, measured with a counting allocator.
//!
//! ```sh
//! cargo run -p hookrt-benches --release --bin memory [-- --out memory.json]
//! ```
//!
//! For each runtime flavour (multi-thread with 2 workers, current-thread) and each
//! contender (`tokio`, `hookrt`, `hookrt+noop`, `hookrt+ctx`), [`TASKS`] (100 000) tasks
//! are spawned from `block_on`, each awaiting its own `tokio::sync::oneshot` receiver
//! (the same channel on both runtimes, so only the runtimes differ). Once every task has
//! been polled and is parked, the bytes allocated and not yet freed since just before
//! the first spawn, divided by [`TASKS`], are the heap bytes per idle task: the task
//! cell, its future, and whatever the scheduler keeps per task. The channels are created
//! before that point, so they are not counted. Each measurement is taken [`ROUNDS`]
//! times on a fresh runtime and the smallest kept (allocation noise from other threads
//! only adds).
//!
//! The numbers are printed, and written as JSON to the `--out` path for the report.

use hookrt_benches::{BenchRuntime, Contender, Drivers, Flavor, WithContext};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicIsize, AtomicUsize};
use std::sync::Arc;

/// Idle tasks per measurement.
const TASKS: usize = 100_000;
/// Measurements per (flavour, contender); the smallest is kept.
const ROUNDS: usize = 3;

/// The system allocator, counting the bytes and blocks live at any time.
struct Counting;

/// Bytes allocated and not yet freed, over the whole process.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
/// Blocks allocated and not yet freed.
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

fn size_of_layout(layout: Layout) -> isize {
    isize::try_from(layout.size()).expect("an allocation larger than isize::MAX")
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counters have no effect on the memory returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(size_of_layout(layout), Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(size_of_layout(layout), Relaxed);
            LIVE_BLOCKS.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract: `ptr` came from
        // this allocator, hence from `System`, with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(size_of_layout(layout), Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let new_size = isize::try_from(new_size).expect("an allocation too large");
            LIVE_BYTES.fetch_add(new_size - size_of_layout(layout), Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live bytes and blocks right now.
fn live() -> (isize, isize) {
    (LIVE_BYTES.load(Relaxed), LIVE_BLOCKS.load(Relaxed))
}

/// One measurement: heap bytes and blocks per idle task.
#[derive(Clone, Copy, Debug)]
struct PerTask {
    bytes: f64,
    blocks: f64,
}

/// Spawns [`TASKS`] tasks from `block_on` on `rt`, each parked on a oneshot, and
/// returns what they hold on the heap once all are parked; then releases them.
fn measure<R: BenchRuntime>(rt: &R) -> PerTask {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..TASKS)
        .map(|_| tokio::sync::oneshot::channel::<()>())
        .unzip();
    let parked = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(TASKS);
    let mut receivers = receivers.into_iter();
    // Start the workers, then settle: a first block_on allocates per-thread state.
    rt.block_on(async { R::yield_now().await });

    let before = live();
    rt.block_on(async {
        for rx in &mut receivers {
            let parked = parked.clone();
            handles.push(R::spawn_here(async move {
                parked.fetch_add(1, Relaxed);
                rx.await.expect("the sender is kept until the end");
            }));
        }
        // Every task has run up to its receiver (and the last one is about to return
        // Pending) when the count is full; on a current-thread runtime this loop is
        // what lets them run.
        while parked.load(Relaxed) < TASKS {
            R::yield_now().await;
        }
    });
    let after = live();

    for tx in senders {
        tx.send(()).expect("the task holds its receiver");
    }
    rt.block_on(async {
        for handle in handles {
            handle.await.expect("an idle task panicked");
        }
    });
    PerTask {
        bytes: (after.0 - before.0) as f64 / TASKS as f64,
        blocks: (after.1 - before.1) as f64 / TASKS as f64,
    }
}

/// The smallest of [`ROUNDS`] measurements, each on a runtime `build` makes.
fn best_of<R: BenchRuntime>(build: impl Fn() -> R) -> PerTask {
    (0..ROUNDS)
        .map(|_| measure(&build()))
        .min_by(|a, b| a.bytes.total_cmp(&b.bytes))
        .expect("ROUNDS > 0")
}

/// The contenders measured, and how to build each one's runtime.
const CONTENDERS: [Contender; 4] = [
    Contender::Tokio,
    Contender::Hookrt,
    Contender::HookrtNoop,
    Contender::HookrtCtx,
];

fn flavor_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::MultiThread => "multi_thread",
        Flavor::CurrentThread => "current_thread",
    }
}

fn main() -> ExitCode {
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--out") => out = args.next().map(PathBuf::from),
            // `cargo bench` passes `--bench`; nothing else is expected.
            Some("--bench") => {}
            _ => {
                eprintln!("usage: memory [--out FILE.json]");
                return ExitCode::FAILURE;
            }
        }
    }

    let mut rows = Vec::new();
    for flavor in [Flavor::MultiThread, Flavor::CurrentThread] {
        for contender in CONTENDERS {
            let d = Drivers::None;
            let per_task = match contender {
                Contender::Tokio => best_of(|| Contender::tokio_runtime_of(flavor, d)),
                Contender::HookrtCtx => {
                    best_of(|| WithContext(contender.hookrt_runtime_of(flavor, d)))
                }
                _ => best_of(|| contender.hookrt_runtime_of(flavor, d)),
            };
            println!(
                "{:<15} {:<12} {:>8.1} bytes/task {:>5.2} allocations/task",
                flavor_name(flavor),
                contender.name(),
                per_task.bytes,
                per_task.blocks
            );
            rows.push((flavor, contender, per_task));
        }
    }

    if let Some(path) = out {
        let mut json = format!("{{\n  \"tasks\": {TASKS},\n  \"results\": [\n");
        for (i, (flavor, contender, per_task)) in rows.iter().enumerate() {
            let comma = if i + 1 < rows.len() { "," } else { "" };
            let _ = writeln!(
                json,
                "    {{ \"flavor\": \"{}\", \"contender\": \"{}\", \"bytes_per_task\": {:.1}, \
                 \"allocations_per_task\": {:.3} }}{comma}",
                flavor_name(*flavor),
                contender.name(),
                per_task.bytes,
                per_task.blocks
            );
        }
        json.push_str("  ]\n}\n");
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("memory: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
