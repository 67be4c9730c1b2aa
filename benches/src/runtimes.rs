//! The runtimes under comparison, behind the handful of operations the workloads use.
//!
//! Everything is statically dispatched (no boxing), so a workload compiled for tokio and
//! for hookrt is the same code with a different `spawn`. The instrumented variants
//! (`tokio+metrics`, `tokio+task_local`, `hookrt+ctx`) are thin wrappers in
//! `variants.rs` that add their wrapper or context to every spawn.

use hookrt::hooks::{AsyncId, Hook, Resource};
use std::fmt;
use std::future::Future;

/// Worker threads of every multi-thread runtime under test. The benchmark machine has
/// two cores; more workers than cores measures the OS scheduler, not ours.
pub const WORKER_THREADS: usize = 2;

/// The scheduler flavour a workload runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The work-stealing scheduler with [`WORKER_THREADS`] workers.
    MultiThread,
    /// The single-threaded scheduler: tasks run on the thread inside `block_on`.
    CurrentThread,
}

/// The drivers a workload needs. No driver at all keeps the scheduler comparison like
/// for like: both runtimes then park idle workers on a condition variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drivers {
    /// No driver.
    None,
    /// The time driver (`enable_time()`).
    Time,
    /// The I/O driver (`enable_io()`).
    Io,
}

/// One column of the comparison: a runtime and its configuration.
///
/// Its [`name`](Contender::name) is the criterion function id inside every group, and
/// the key the report reads back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contender {
    /// tokio's runtime, the baseline.
    Tokio,
    /// tokio with every spawned future wrapped in tokio-metrics'
    /// `TaskMonitor::instrument`: wrapper-based instrumentation, for comparison with
    /// hooks emitted by the runtime itself.
    TokioMetrics,
    /// tokio with a `task_local!` value scoped around every spawned future (tokio's
    /// nearest equivalent of an inherited context).
    TokioTaskLocal,
    /// hookrt with no hook registered (the zero-cost path).
    Hookrt,
    /// hookrt with one [`NoopHook`] registered: the price of dispatching every event to
    /// a hook that does nothing.
    HookrtNoop,
    /// hookrt with no hook, a `LocalStorage` value in context and read at every step.
    HookrtCtx,
    /// hookrt with a [`NoopHook`] and a `LocalStorage` value in context.
    HookrtCtxNoop,
}

impl Contender {
    /// The three configurations every group runs: tokio, hookrt, hookrt with a no-op
    /// hook.
    pub const CORE: [Contender; 3] = [Contender::Tokio, Contender::Hookrt, Contender::HookrtNoop];

    /// Every contender, in report column order.
    pub const ALL: [Contender; 7] = [
        Contender::Tokio,
        Contender::TokioMetrics,
        Contender::TokioTaskLocal,
        Contender::Hookrt,
        Contender::HookrtNoop,
        Contender::HookrtCtx,
        Contender::HookrtCtxNoop,
    ];

    /// The criterion function id of this contender.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Tokio => "tokio",
            Contender::TokioMetrics => "tokio+metrics",
            Contender::TokioTaskLocal => "tokio+task_local",
            Contender::Hookrt => "hookrt",
            Contender::HookrtNoop => "hookrt+noop",
            Contender::HookrtCtx => "hookrt+ctx",
            Contender::HookrtCtxNoop => "hookrt+ctx+noop",
        }
    }

    /// Whether this contender runs on tokio's runtime.
    pub fn is_tokio(self) -> bool {
        matches!(
            self,
            Contender::Tokio | Contender::TokioMetrics | Contender::TokioTaskLocal
        )
    }

    /// Whether this contender registers a [`NoopHook`].
    pub fn has_hook(self) -> bool {
        matches!(self, Contender::HookrtNoop | Contender::HookrtCtxNoop)
    }

    /// tokio's multi-thread runtime with [`WORKER_THREADS`] workers and no driver.
    pub fn tokio_runtime() -> tokio::runtime::Runtime {
        Self::tokio_runtime_of(Flavor::MultiThread, Drivers::None)
    }

    /// As [`Contender::tokio_runtime`], with the time driver enabled (`enable_time()`).
    pub fn tokio_runtime_with_time() -> tokio::runtime::Runtime {
        Self::tokio_runtime_of(Flavor::MultiThread, Drivers::Time)
    }

    /// As [`Contender::tokio_runtime`], with the I/O driver enabled (`enable_io()`).
    pub fn tokio_runtime_with_io() -> tokio::runtime::Runtime {
        Self::tokio_runtime_of(Flavor::MultiThread, Drivers::Io)
    }

    /// tokio's runtime of the given flavour with the given drivers.
    pub fn tokio_runtime_of(flavor: Flavor, drivers: Drivers) -> tokio::runtime::Runtime {
        let mut builder = match flavor {
            Flavor::MultiThread => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(WORKER_THREADS);
                builder
            }
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        };
        match drivers {
            Drivers::None => {}
            Drivers::Time => {
                builder.enable_time();
            }
            Drivers::Io => {
                builder.enable_io();
            }
        }
        builder.build().expect("building tokio's runtime")
    }

    /// hookrt's multi-thread runtime with [`WORKER_THREADS`] workers and no driver, with
    /// a [`NoopHook`] registered when [`has_hook`](Contender::has_hook).
    ///
    /// # Panics
    ///
    /// When called on a tokio contender.
    pub fn hookrt_runtime(self) -> hookrt::runtime::Runtime {
        self.hookrt_runtime_of(Flavor::MultiThread, Drivers::None)
    }

    /// As [`Contender::hookrt_runtime`], with the time driver enabled (`enable_time()`).
    ///
    /// # Panics
    ///
    /// When called on a tokio contender.
    pub fn hookrt_runtime_with_time(self) -> hookrt::runtime::Runtime {
        self.hookrt_runtime_of(Flavor::MultiThread, Drivers::Time)
    }

    /// As [`Contender::hookrt_runtime`], with the I/O driver enabled (`enable_io()`).
    ///
    /// # Panics
    ///
    /// When called on a tokio contender.
    pub fn hookrt_runtime_with_io(self) -> hookrt::runtime::Runtime {
        self.hookrt_runtime_of(Flavor::MultiThread, Drivers::Io)
    }

    /// hookrt's runtime of the given flavour with the given drivers, with a
    /// [`NoopHook`] registered when [`has_hook`](Contender::has_hook).
    ///
    /// # Panics
    ///
    /// When called on a tokio contender.
    pub fn hookrt_runtime_of(self, flavor: Flavor, drivers: Drivers) -> hookrt::runtime::Runtime {
        assert!(
            !self.is_tokio(),
            "{self} runs on tokio: build it with tokio_runtime_of()"
        );
        let mut builder = match flavor {
            Flavor::MultiThread => {
                let mut builder = hookrt::runtime::Builder::new_multi_thread();
                builder.worker_threads(WORKER_THREADS);
                builder
            }
            Flavor::CurrentThread => hookrt::runtime::Builder::new_current_thread(),
        };
        match drivers {
            Drivers::None => {}
            Drivers::Time => {
                builder.enable_time();
            }
            Drivers::Io => {
                builder.enable_io();
            }
        }
        if self.has_hook() {
            builder.hook(NoopHook);
        }
        builder.build().expect("building hookrt's runtime")
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hook whose six methods are all implemented with empty bodies: every event is
/// dispatched to it and returns at once (as Node calls the five empty callbacks of an
/// enabled `createHook`).
///
/// Each method is written out on purpose: hookrt skips the events whose method a hook
/// leaves at its default, so `impl Hook for NoopHook {}` would measure nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopHook;

impl Hook for NoopHook {
    fn init(&self, _r: &Resource<'_>) {}

    fn before(&self, _r: &Resource<'_>) {}

    fn after(&self, _r: &Resource<'_>) {}

    fn resolve(&self, _r: &Resource<'_>) {}

    fn destroy(&self, _r: &Resource<'_>) {}

    fn wake(&self, _r: &Resource<'_>, _by: AsyncId) {}
}

/// What a workload needs from a runtime. Implemented by tokio's and hookrt's `Runtime`,
/// and by the instrumented variants of `variants.rs`.
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

    /// One step of a task: `task::yield_now`, and for the context variants a read of
    /// the context value after it.
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
