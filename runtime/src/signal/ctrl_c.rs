//! `ctrl_c`: the first `SIGINT` from now on.

use super::unix::{signal_at, SignalKind};
use std::future::Future;
use std::io;
use std::panic::Location;

/// Completes at the next Ctrl-C (`SIGINT`) delivered to the process.
///
/// The listener (a `Custom("Signal")` resource, created at the caller's location) is set
/// up when the future is first polled, as in tokio: a `SIGINT` before that is not seen.
/// From then on the process no longer dies on `SIGINT`, even after the future is
/// dropped.
///
/// # Errors
///
/// When the listener cannot be set up, or when the runtime shuts down before a `SIGINT`
/// arrives.
///
/// # Panics
///
/// When first polled outside a runtime, or on a runtime built without `enable_io()`.
///
/// ```no_run
/// # hookrt::runtime::Builder::new_current_thread().enable_io().build().unwrap().block_on(async {
/// hookrt::signal::ctrl_c().await.expect("listening for Ctrl-C");
/// println!("interrupted: shutting down");
/// # });
/// ```
#[track_caller]
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> + Send + 'static {
    let location = Location::caller();
    async move {
        let mut interrupts = signal_at(SignalKind::interrupt(), location)?;
        match interrupts.recv().await {
            Some(()) => Ok(()),
            None => Err(io::Error::other(
                "hookrt: the runtime shut down before a Ctrl-C arrived",
            )),
        }
    }
}
