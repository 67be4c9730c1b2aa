//! Loom models of hookrt's atomic protocols.
//!
//! The models in `tests/` drive the runtime crate's real code (task state machine,
//! harness, wakers, join handles, owned list, `Parker`, `Idle`, run queues) compiled with
//! `--cfg loom`, through the hidden `hookrt::loom_api` module. This library holds what
//! they share:
//!
//! - `model`: `loom::model` with a preemption bound (`LOOM_MAX_PREEMPTIONS`, default
//!   2), the only entry point a model uses;
//! - `EventLog`: a hook that records every event, and the per-task checks (init once,
//!   destroy once and last, polls paired);
//! - `Gate`, `Tracked` / `DropProbe`, `CountingWaker`, `poll_once`: small
//!   futures, values and wakers for driving tasks, with loom's leak tracking.
//!
//! In a normal build the crate is empty; see `README.md` for the command.

#[cfg(loom)]
mod events;
#[cfg(loom)]
mod fixtures;
#[cfg(loom)]
mod model;

#[cfg(loom)]
pub use events::{Event, EventLog};
#[cfg(loom)]
pub use fixtures::{poll_once, CountingWaker, DropProbe, Gate, Tracked};
#[cfg(loom)]
pub use model::model;
