//! Asynchronous signal handling (tokio's `tokio::signal`): [`ctrl_c`], and on Unix
//! [`unix::signal`] for any signal.
//!
//! Signals arrive through the runtime's I/O driver. The first listener for a signal
//! installs a process-wide handler (through `signal-hook-registry`, so it coexists with
//! other users of that crate) that counts the delivery and writes a byte to that
//! signal's self-pipe; every listener registers its own duplicate of the pipe's read end
//! with its runtime, so a delivery wakes the listening tasks like socket readiness does,
//! and each listener is a resource (`Custom("Signal")`) whose `before`/`after` frame the
//! wake-ups it causes. Deliveries coalesce: `recv` reports "at least one since last
//! time". The handler stays installed for the life of the process.

#[cfg(unix)]
mod ctrl_c;
#[cfg(unix)]
mod registry;
#[cfg(unix)]
pub mod unix;

#[cfg(unix)]
pub use ctrl_c::ctrl_c;
