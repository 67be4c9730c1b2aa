//! hookrt: an async runtime with tokio's programming model and Node.js-style async hooks
//! built into its core.
//!
//! Every task (and, as the drivers land, every timer, socket and blocking job) is a
//! resource whose `init / before / after / resolve / destroy / wake` events are emitted
//! by the scheduler itself, with parent (trigger) ids, to the hooks registered when the
//! runtime is built.
//!
//! ```
//! use hookrt::hooks::Ledger;
//! use std::sync::Arc;
//!
//! let ledger = Arc::new(Ledger::new());
//! let rt = hookrt::runtime::Builder::new_current_thread()
//!     .hook(ledger.clone())
//!     .build()
//!     .unwrap();
//! let out = rt.block_on(async { hookrt::spawn(async { 1 + 1 }).await.unwrap() });
//! assert_eq!(out, 2);
//! drop(rt);
//! ledger.assert_balanced();
//! ```

pub mod fs;
pub mod io;
pub(crate) mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
pub mod net;
pub mod runtime;
pub mod signal;
pub mod task;
pub mod time;

pub mod hooks;

pub mod context {
    //! Async context that follows a request through every task it spawns: Node's
    //! `AsyncLocalStorage`, carried in each task's header and inherited by `spawn`,
    //! `spawn_blocking` and `JoinSet::spawn`.
    pub use hookrt_hooks::{Context, LocalStorage, Scoped};
}

pub use task::spawn;

pub use hookrt_macros::{main, test};

/// tokio's runtime-independent synchronisation primitives (channels, mutexes,
/// semaphores, `Notify`, ...), which work unchanged on hookrt.
pub use tokio::sync;

pub use tokio::{join, pin, select, try_join};
