//! Benchmarks of hookrt against tokio, measured in the same run so that ratios mean
//! something.
//!
//! - `runtimes.rs`: [`BenchRuntime`], the few operations a workload needs, implemented
//!   by tokio's and hookrt's runtimes, and the [`Contender`]s each workload runs on.
//! - `estimates.rs`: reading criterion's results back for the `report` command.
//!
//! The benchmarks themselves live in `benches/`; `src/bin/report.rs` prints the table.

mod estimates;
mod runtimes;

pub use estimates::{read_results, Results};
pub use runtimes::{BenchRuntime, Contender, NoopHook, WORKER_THREADS};
