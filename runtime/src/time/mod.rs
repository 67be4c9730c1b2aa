//! Time: sleeps, intervals and timeouts, with tokio's names and semantics.
//!
//! Every `Sleep`, `Interval` and `Timeout` is a resource of kind `Timer`: `init` when
//! its deadline is created (trigger: the current execution; location: the caller),
//! one `before`/`after` pair per firing (an `Interval` keeps its id across ticks, a
//! `Sleep` across `reset`), `destroy` when it is dropped. A task woken by a timer sees
//! `wake(task, by = timer)`.
//!
//! The runtime must be built with `enable_time()` (or `enable_all()`). Test code can
//! freeze time with [`pause`] (or `#[hookrt::test(start_paused = true)]`), move it with
//! [`advance`], and let it run again with [`resume`]; while time is paused and the
//! runtime has nothing to do, it jumps straight to the next timer.

mod clock;
pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};
