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
/// hyper 1.x on hookrt: `hyper::rt::Executor`, `Timer` and an I/O adapter (feature `hyper`).
#[cfg(feature = "hyper")]
pub mod hyper_rt;
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
    //! Async context that follows a request through everything it does: Node's
    //! `AsyncLocalStorage`, built into the runtime.
    //!
    //! # The model
    //!
    //! A [`Context`] is an immutable, reference-counted *frame*: the values of every
    //! [`LocalStorage`] at one point (Node 24's `AsyncContextFrame`). Each thread has a
    //! current frame; [`LocalStorage::run`] makes a new frame with one more value and
    //! runs a future in it, [`LocalStorage::get`] reads the current frame.
    //!
    //! - **Inherited at spawn.** `spawn`, `spawn_blocking`, `JoinSet::spawn`,
    //!   `task::Builder::spawn` and `spawn_local` start the child in the spawner's current
    //!   frame: a pointer copy (and one refcount increment when a value is set). Unlike
    //!   `task_local!` (tokio's semantics, kept for compatibility), the value reaches
    //!   every task a request spawns, however deep.
    //! - **Timers and sockets need nothing:** their continuations run in the task that
    //!   awaits them. Hooks read a resource's frame with `Resource::context()`.
    //! - **Threads and callbacks** get it with [`Context::bind`] / [`Context::run_sync`].
    //! - [`LocalStorage::enter_with`] changes the rest of the current task (and what it
    //!   spawns from then on), not its parent or siblings.
    //!
    //! # Example: a request id through spawned tasks
    //!
    //! ```
    //! use hookrt::context::LocalStorage;
    //!
    //! static REQUEST_ID: LocalStorage<u64> = LocalStorage::new();
    //!
    //! async fn query_db() -> String {
    //!     // Deep inside the call tree, with no parameter passed down.
    //!     format!("db query for request {}", REQUEST_ID.get().map_or(0, |id| *id))
    //! }
    //!
    //! async fn handle(id: u64) -> Vec<String> {
    //!     REQUEST_ID
    //!         .run(id, async {
    //!             let a = hookrt::spawn(query_db());
    //!             let b = hookrt::spawn(async { hookrt::spawn(query_db()).await.unwrap() });
    //!             vec![a.await.unwrap(), b.await.unwrap()]
    //!         })
    //!         .await
    //! }
    //!
    //! # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    //! let (one, two) = hookrt::join!(hookrt::spawn(handle(1)), hookrt::spawn(handle(2)));
    //! assert_eq!(one.unwrap(), ["db query for request 1", "db query for request 1"]);
    //! assert_eq!(two.unwrap(), ["db query for request 2", "db query for request 2"]);
    //! assert_eq!(REQUEST_ID.get(), None, "outside the requests there is no id");
    //! # });
    //! ```
    pub use hookrt_hooks::{Context, LocalStorage, Scoped};
}

pub use task::spawn;

pub use hookrt_macros::{main, test};

/// tokio's runtime-independent synchronisation primitives (channels, mutexes,
/// semaphores, `Notify`, ...), which work unchanged on hookrt.
pub use tokio::sync;

pub use tokio::{join, pin, select, try_join};
