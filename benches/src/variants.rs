//! The instrumented runtimes: tokio with tokio-metrics or a `task_local!`, hookrt with a
//! `LocalStorage` value in context. Each wraps a plain runtime and adds its wrapper or
//! context to every spawn, so the generic workloads run on them unchanged.
//!
//! The context variants put one [`Request`] in context for the whole `block_on` (and
//! around every spawn from outside the runtime), and their [`BenchRuntime::yield_now`]
//! reads it after each yield: a workload's steps read the context as a traced request
//! would.

use crate::runtimes::BenchRuntime;
use hookrt::context::LocalStorage;
use std::future::Future;
use std::hint::black_box;
use std::sync::LazyLock;
use tokio_metrics::TaskMonitor;

/// The value the context variants put in context: a request id, as a tracing layer
/// would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The request's id.
    pub id: u64,
}

/// The request every context variant sets around a whole workload.
const WORKLOAD_REQUEST: Request = Request { id: 1 };

/// hookrt's context slot under test.
pub static REQUEST: LocalStorage<Request> = LocalStorage::named("request");

tokio::task_local! {
    /// tokio's counterpart of [`REQUEST`]: scoped, and not inherited by spawns (the
    /// `tokio+task_local` variant scopes it around every spawned future by hand).
    pub static TOKIO_REQUEST: Request;
}

/// The one `TaskMonitor` that every future spawned on a [`Metered`] runtime reports to.
static MONITOR: LazyLock<TaskMonitor> = LazyLock::new(TaskMonitor::new);

/// The monitor of the `tokio+metrics` variant, for workloads that instrument their
/// own futures.
pub fn task_monitor() -> &'static TaskMonitor {
    &MONITOR
}

/// tokio with every spawned future wrapped in `TaskMonitor::instrument` (the
/// `tokio+metrics` column).
#[derive(Debug)]
pub struct Metered(pub tokio::runtime::Runtime);

impl BenchRuntime for Metered {
    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;
    type JoinError = tokio::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(MONITOR.instrument(future))
    }

    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(MONITOR.instrument(future))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// tokio with [`TOKIO_REQUEST`] scoped around the `block_on` future and every spawned
/// future, the spawner's value passed on (the `tokio+task_local` column).
#[derive(Debug)]
pub struct TaskLocal(pub tokio::runtime::Runtime);

impl BenchRuntime for TaskLocal {
    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;
    type JoinError = tokio::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0
            .block_on(TOKIO_REQUEST.scope(WORKLOAD_REQUEST, future))
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(TOKIO_REQUEST.scope(WORKLOAD_REQUEST, future))
    }

    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let request = TOKIO_REQUEST.try_with(|r| *r).unwrap_or(WORKLOAD_REQUEST);
        tokio::spawn(TOKIO_REQUEST.scope(request, future))
    }

    async fn yield_now() {
        tokio::task::yield_now().await;
        black_box(TOKIO_REQUEST.try_with(|r| r.id).ok());
    }
}

/// hookrt with [`REQUEST`] set around the `block_on` future and every spawn from
/// outside; spawns from inside inherit it (the `hookrt+ctx` column, and
/// `hookrt+ctx+noop` on a runtime with a hook).
#[derive(Debug)]
pub struct WithContext(pub hookrt::runtime::Runtime);

impl BenchRuntime for WithContext {
    type JoinHandle<T: Send + 'static> = hookrt::task::JoinHandle<T>;
    type JoinError = hookrt::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(REQUEST.run(WORKLOAD_REQUEST, future))
    }

    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(REQUEST.run(WORKLOAD_REQUEST, future))
    }

    fn spawn_here<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        hookrt::spawn(future)
    }

    async fn yield_now() {
        hookrt::task::yield_now().await;
        black_box(REQUEST.get());
    }
}
