//! `SchedulerHandle`: the one place that knows which scheduler flavours exist.

use super::blocking::BlockingPool;
use super::{current_thread, multi_thread};
use crate::task::{JoinHandle, TaskMeta};
use hookrt_hooks::HookSet;
use hookrt_io_driver::IoHandle;
use hookrt_timer_wheel::TimeDriver;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A handle to the scheduler of one runtime, whatever its flavour.
#[derive(Clone, Debug)]
pub(crate) enum SchedulerHandle {
    /// `Builder::new_current_thread()`.
    CurrentThread(Arc<current_thread::Handle>),
    /// `Builder::new_multi_thread()`.
    MultiThread(Arc<multi_thread::Handle>),
}

impl SchedulerHandle {
    /// Spawns a `Send` task.
    pub(crate) fn spawn_task<F>(&self, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            SchedulerHandle::CurrentThread(h) => current_thread::Handle::spawn(h, future, meta),
            SchedulerHandle::MultiThread(h) => multi_thread::Handle::spawn(h, future, meta),
        }
    }

    /// Runs a future to completion on the calling thread.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            SchedulerHandle::CurrentThread(h) => current_thread::Handle::block_on(h, future),
            SchedulerHandle::MultiThread(h) => multi_thread::Handle::block_on(h, future),
        }
    }

    /// Cancels every task and waits (up to `timeout`, `None` for ever) until their
    /// futures are dropped. Returns whether that finished in time.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let tasks_done = match self {
            SchedulerHandle::CurrentThread(h) => {
                h.shutdown();
                true
            }
            SchedulerHandle::MultiThread(h) => h.shutdown(timeout),
        };
        let blocking_done = self.blocking_pool().shutdown(deadline);
        tasks_done && blocking_done
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking_pool(&self) -> &BlockingPool {
        match self {
            SchedulerHandle::CurrentThread(h) => &h.blocking,
            SchedulerHandle::MultiThread(h) => &h.blocking,
        }
    }

    /// The runtime's time driver, if time is enabled.
    pub(crate) fn time_driver(&self) -> Option<&TimeDriver> {
        match self {
            SchedulerHandle::CurrentThread(h) => h.drivers.time.as_ref(),
            SchedulerHandle::MultiThread(h) => h.drivers.time.as_ref(),
        }
    }

    /// The runtime's I/O driver handle, if I/O is enabled.
    pub(crate) fn io_handle(&self) -> Option<&IoHandle> {
        match self {
            SchedulerHandle::CurrentThread(h) => h.drivers.io_handle(),
            SchedulerHandle::MultiThread(h) => h.drivers.io_handle(),
        }
    }

    /// The runtime's hooks.
    pub(crate) fn hooks(&self) -> &HookSet {
        match self {
            SchedulerHandle::CurrentThread(h) => h.hooks(),
            SchedulerHandle::MultiThread(h) => h.hooks(),
        }
    }
}
