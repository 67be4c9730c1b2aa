//! The blocking pool: threads for `spawn_blocking` closures, so blocking work never
//! stalls a scheduler thread.
//!
//! A blocking job is a task like any other (same cell, state word, `JoinHandle`,
//! abort-before-start), whose future runs the closure once, whose scheduler is the pool
//! (`schedule.rs`), and whose resource kind is `Blocking`: `init` at spawn, one
//! `before`/`after` around the closure, `destroy` after it (no `resolve`, which is for
//! tasks). The closure runs with the spawner's execution id as trigger and the
//! spawner's context.

mod pool;
mod schedule;
mod task;

pub(crate) use pool::{BlockingPool, PoolConfig};
