//! Benchmarks of hookrt against tokio, measured in the same run so that ratios mean
//! something.
//!
//! - `runtimes.rs`: [`BenchRuntime`], the few operations a workload needs, implemented
//!   by tokio's and hookrt's runtimes, and the [`Contender`]s each workload runs on.
//! - `variants.rs`: the instrumented runtimes ([`Metered`], [`TaskLocal`],
//!   [`WithContext`]) and the context values they set.
//! - `compare.rs`: [`compare_runtimes!`], one workload on every runtime contender.
//! - `timing.rs`: group lengths, shortened by the report's `--quick`.
//! - `estimates.rs`: reading criterion's results back for the `report` command.
//!
//! The benchmarks themselves live in `benches/`; `src/bin/memory.rs` measures heap
//! bytes per idle task, `src/bin/report/` runs everything and writes `BENCHMARKS.md`,
//! and `peers/fanout.js` is the Node.js peer of the fan-out workload.

mod compare;
mod estimates;
mod runtimes;
mod timing;
mod variants;

pub use estimates::{read_results, Results};
pub use runtimes::{BenchRuntime, Contender, Drivers, Flavor, NoopHook, WORKER_THREADS};
pub use timing::{quick, timing, QUICK_ENV, QUICK_MEASUREMENT, QUICK_WARM_UP};
pub use variants::{
    task_monitor, Metered, Request, TaskLocal, WithContext, REQUEST, TOKIO_REQUEST,
};
