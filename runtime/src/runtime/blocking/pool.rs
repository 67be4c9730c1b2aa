//! The pool's threads and queue.

use super::schedule::BlockingSchedule;
use super::task::BlockingTask;
use crate::runtime::context;
use crate::runtime::scheduler::SchedulerHandle;
use crate::task::list::OwnedTasks;
use crate::task::{self, JoinHandle, Notified, TaskMeta};
use hookrt_hooks::HookSet;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Settings of the blocking pool.
#[derive(Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) thread_stack_size: Option<usize>,
}

/// A runtime's blocking pool. Cloning shares it.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) hooks: HookSet,
    pub(super) owned: OwnedTasks,
    /// Jobs that must run even when the runtime shuts down (file writes): never closed,
    /// never cancelled; shutdown runs them instead.
    pub(super) mandatory: OwnedTasks,
    config: PoolConfig,
    state: Mutex<State>,
    /// Idle threads wait here for jobs.
    work: Condvar,
    /// Shutdown waits here for the last thread.
    exited: Condvar,
    /// The runtime the pool's threads enter (so `Handle::current` works in a job).
    /// Cleared at shutdown to break the runtime ↔ pool reference cycle.
    runtime: Mutex<Option<SchedulerHandle>>,
}

struct State {
    queue: VecDeque<Notified>,
    num_threads: usize,
    num_idle: usize,
    /// Wake-ups handed to idle threads and not yet taken.
    num_notify: usize,
    shutdown: bool,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BlockingPool {
    pub(crate) fn new(hooks: HookSet, config: PoolConfig) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                hooks,
                owned: OwnedTasks::new(8),
                mandatory: OwnedTasks::new(1),
                config,
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                    threads: Vec::new(),
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                runtime: Mutex::new(None),
            }),
        }
    }

    /// Tells the pool which runtime its threads work for.
    pub(crate) fn set_runtime(&self, handle: SchedulerHandle) {
        *self.inner.runtime.lock().unwrap() = Some(handle);
    }

    /// Queues `func` as a `Blocking` resource.
    pub(crate) fn spawn<F, R>(&self, func: F, meta: TaskMeta) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = BlockingSchedule {
            pool: self.inner.clone(),
            mandatory: false,
        };
        task::spawn_with(BlockingTask::new(func), scheduler, &self.inner.owned, meta)
    }

    /// Queues `func` as a `Blocking` resource that runs even if the runtime shuts down
    /// before it started (tokio's "mandatory" jobs: a file write must not be lost).
    pub(crate) fn spawn_mandatory<F, R>(&self, func: F, meta: TaskMeta) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = BlockingSchedule {
            pool: self.inner.clone(),
            mandatory: true,
        };
        task::spawn_with(
            BlockingTask::new(func),
            scheduler,
            &self.inner.mandatory,
            meta,
        )
    }

    /// Stops the pool: jobs not started are cancelled (their `destroy` fires) except
    /// mandatory ones, which run here; running ones finish. Waits for the threads up to `deadline`.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) -> bool {
        let inner = &self.inner;
        inner.state.lock().unwrap().shutdown = true;
        inner.work.notify_all();
        // Running jobs finish on their threads (waited for below); queued ones are
        // cancelled by the loop that follows.
        drop(inner.owned.close_and_shutdown_all());
        // Cancel the queued jobs here; running ones complete on their threads.
        loop {
            let next = inner.state.lock().unwrap().queue.pop_front();
            match next {
                Some(task) => task.run(),
                None => break,
            }
        }
        let mut state = inner.state.lock().unwrap();
        while state.num_threads > 0 {
            match deadline {
                None => state = inner.exited.wait(state).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    state = inner.exited.wait_timeout(state, deadline - now).unwrap().0;
                }
            }
        }
        let threads = std::mem::take(&mut state.threads);
        drop(state);
        let me = std::thread::current().id();
        for thread in threads {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
        inner.runtime.lock().unwrap().take();
        true
    }
}

impl Inner {
    /// Queues a job, waking an idle thread or starting a new one.
    pub(super) fn push(self: &Arc<Self>, task: Notified) {
        let mut state = self.state.lock().unwrap();
        if state.shutdown {
            drop(state);
            // The pool is closed, so the task was cancelled: running it drops it.
            task.run();
            return;
        }
        state.queue.push_back(task);
        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            drop(state);
            self.work.notify_one();
        } else if state.num_threads < self.config.max_threads {
            state.num_threads += 1;
            let spawned = self.spawn_thread();
            match spawned {
                Ok(thread) => state.threads.push(thread),
                Err(e) => {
                    state.num_threads -= 1;
                    if state.num_threads == 0 {
                        // Nobody will ever run the job: fail loudly instead of hanging.
                        panic!("hookrt: failed to start a blocking-pool thread: {e}");
                    }
                }
            }
        }
        // Otherwise every thread is busy and the pool is at its limit: the job waits.
    }

    fn spawn_thread(self: &Arc<Self>) -> std::io::Result<std::thread::JoinHandle<()>> {
        let mut builder = std::thread::Builder::new().name((self.config.thread_name)());
        if let Some(size) = self.config.thread_stack_size {
            builder = builder.stack_size(size);
        }
        let inner = self.clone();
        builder.spawn(move || inner.run())
    }

    /// The body of a pool thread.
    fn run(self: Arc<Self>) {
        let runtime = self.runtime.lock().unwrap().clone();
        let _current = runtime.as_ref().map(context::set_current);
        let mut state = self.state.lock().unwrap();
        'serve: loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                state = self.state.lock().unwrap();
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            loop {
                let (guard, waited) = self
                    .work
                    .wait_timeout(state, self.config.keep_alive)
                    .unwrap();
                state = guard;
                if state.num_notify > 0 {
                    // `push` already took this thread off the idle count.
                    state.num_notify -= 1;
                    continue 'serve;
                }
                if state.shutdown {
                    state.num_idle -= 1;
                    break 'serve;
                }
                if waited.timed_out() {
                    // Idle for the whole keep-alive: leave.
                    state.num_idle -= 1;
                    break 'serve;
                }
            }
        }
        state.num_threads -= 1;
        if !state.shutdown {
            // An idle exit: forget our own handle so the list does not grow.
            let me = std::thread::current().id();
            state.threads.retain(|t| t.thread().id() != me);
        }
        drop(state);
        self.exited.notify_all();
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock().unwrap();
        f.debug_struct("BlockingPool")
            .field("threads", &state.num_threads)
            .field("idle", &state.num_idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}
