//! The runtimes under comparison, behind the handful of operations the workloads use.
//!
//! Everything is statically dispatched (no boxing, no wrapper futures), so a workload
//! compiled for tokio and for hookrt is the same code with a different `spawn`.

use std::fmt;
use std::future::Future;

/// Worker threads of every multi-thread runtime under test. The benchmark machine has
/// two cores; more workers than cores measures the OS scheduler, not ours.
pub const WORKER_THREADS: usize = 2;

/// One column of the comparison: a runtime and its configuration.
///
/// Its [`name`](Contender::name) is the criterion function id inside every group, and
/// the key the report reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contender {
    /// tokio's multi-thread runtime, the baseline.
    Tokio,
    /// hookrt's multi-thread runtime with no hook registered (the zero-cost path).
    Hookrt,
    /// hookrt's multi-thread runtime with one [`NoopHook`] registered: the price of
    /// dispatching every event to a hook that does nothing.
    HookrtNoop,
}

impl Contender {
    /// Every contender, in report column order.
    pub const ALL: [Contender; 3] = [Contender::Tokio, Contender::Hookrt, Contender::HookrtNoop];

    /// The criterion function id of this contender.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Tokio => "tokio",
            Contender::Hookrt => "hookrt",
            Contender::HookrtNoop => "hookrt+noop",
        }
    }

    /// tokio's multi-thread runtime with [`WORKER_THREADS`] workers.
    ///
    /// No driver is enabled: both runtimes park idle workers on a condition variable,
    /// so the scheduler comparison is like for like.
    pub fn tokio_runtime() -> tokio::runtime::Runtime {
        Self::tokio_builder()
            .build()
            .expect("building tokio's runtime")
    }

    /// As [`Contender::tokio_runtime`], with the time driver enabled (`enable_time()`).
    pub fn tokio_runtime_with_time() -> tokio::runtime::Runtime {
        Self::tokio_builder()
            .enable_time()
            .build()
            .expect("building tokio's runtime")
    }

    /// As [`Contender::tokio_runtime`], with the I/O driver enabled (`enable_io()`).
    pub fn tokio_runtime_with_io() -> tokio::runtime::Runtime {
        Self::tokio_builder()
            .enable_io()
            .build()
            .expect("building tokio's runtime")
    }

    fn tokio_builder() -> tokio::runtime::Builder {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(WORKER_THREADS);
        builder
    }

    /// hookrt's multi-thread runtime with [`WORKER_THREADS`] workers, with a
    /// [`NoopHook`] registered when this is [`Contender::HookrtNoop`].
    ///
    /// # Panics
    ///
    /// When called on [`Contender::Tokio`].
    pub fn hookrt_runtime(self) -> hookrt::runtime::Runtime {
        self.hookrt_builder()
            .build()
            .expect("building hookrt's runtime")
    }

    /// As [`Contender::hookrt_runtime`], with the time driver enabled (`enable_time()`).
    ///
    /// # Panics
    ///
    /// When called on [`Contender::Tokio`].
    pub fn hookrt_runtime_with_time(self) -> hookrt::runtime::Runtime {
        self.hookrt_builder()
            .enable_time()
            .build()
            .expect("building hookrt's runtime")
    }

    /// As [`Contender::hookrt_runtime`], with the I/O driver enabled (`enable_io()`).
    ///
    /// # Panics
    ///
    /// When called on [`Contender::Tokio`].
    pub fn hookrt_runtime_with_io(self) -> hookrt::runtime::Runtime {
        self.hookrt_builder()
            .enable_io()
            .build()
            .expect("building hookrt's runtime")
    }

    fn hookrt_builder(self) -> hookrt::runtime::Builder {
        let mut builder = hookrt::runtime::Builder::new_multi_thread();
        builder.worker_threads(WORKER_THREADS);
        match self {
            Contender::Tokio => panic!("Contender::Tokio is built by tokio_runtime()"),
            Contender::Hookrt => {}
            Contender::HookrtNoop => {
                builder.hook(NoopHook);
            }
        }
        builder
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hook that implements nothing: every event reaches it and returns at once.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopHook;

impl hookrt::hooks::Hook for NoopHook {}

/// What a workload needs from a runtime. Implemented by tokio's and hookrt's `Runtime`.
pub trait BenchRuntime: Send + Sync + 'static {
    /// The runtime's `JoinHandle<T>`.
    type JoinHandle<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>>
        + Send
        + Unpin
        + 'static;
    /// The runtime's `JoinError`.
    type JoinError: fmt::Debug;

    /// `Runtime::block_on`.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// `Runtime::spawn`: a spawn from outside the runtime's threads.
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// The free `spawn` function, called from inside the runtime (a task or `block_on`).
    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// `task::yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

impl BenchRuntime for tokio::runtime::Runtime {
    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;
    type JoinError = tokio::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Runtime::block_on(self, future)
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::runtime::Runtime::spawn(self, future)
    }

    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl BenchRuntime for hookrt::runtime::Runtime {
    type JoinHandle<T: Send + 'static> = hookrt::task::JoinHandle<T>;
    type JoinError = hookrt::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        hookrt::runtime::Runtime::block_on(self, future)
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        hookrt::runtime::Runtime::spawn(self, future)
    }

    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        hookrt::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        hookrt::task::yield_now()
    }
}
