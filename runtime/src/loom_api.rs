//! Test-only access to crate-private machinery, for the loom models in `loom-tests/`.
//!
//! Compiled only under `cfg(loom)` and hidden from the docs: this is not part of hookrt's
//! API. Everything here runs the crate's real code with loom's atomics, mutexes, condvars
//! and cells (through `crate::loom`); the only new logic is the two tiny schedulers, which
//! stand in for the real ones (those start std threads and use std locks that loom cannot
//! see).
//!
//! - [`TestScheduler`] + [`spawn`]: tasks built by the real `task::spawn_with` (so `init`
//!   fires, the owned list is used, and the real harness polls, completes, cancels and
//!   frees them), queued in a loom-mutex `VecDeque` that a model drains by hand with
//!   [`TestScheduler::run_one`] / [`TestScheduler::run_all`].
//! - [`Pool`]: the multi-thread scheduler's remote-schedule path (global queue, then
//!   `Idle::worker_to_notify`, then `Parker::unpark`), over the real [`Idle`], [`Parker`]
//!   and [`InjectQueue`]; the worker's side of the protocol is written out in the model.
//! - [`Parker`], [`Idle`], [`LocalQueue`] / [`StealQueue`] / [`InjectQueue`]: thin
//!   wrappers over `runtime/park.rs`, `runtime/multi_thread/idle.rs` and
//!   `runtime/multi_thread/queue.rs` (its `cfg(loom)` implementation).
//!
//! **Rationale** for the `#[path]` modules below: `runtime::park` and
//! `runtime::multi_thread::{idle, queue}` are private modules of files this module must
//! not change, so the same source files are compiled a second time here (under
//! `cfg(loom)` only). The code is the same text; only the module path differs.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Arc, Mutex};
use crate::task::list::OwnedTasks;
use crate::task::{self, JoinHandle, Notified, RawTask, Schedule, TaskMeta};
use hookrt_hooks::HookSet;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;

// Second copies of these files (see the rationale above): what the models do not use is
// dead code here.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "runtime/park.rs"]
mod park;

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "runtime/multi_thread/idle.rs"]
mod idle;

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "runtime/multi_thread/queue.rs"]
mod queue;

/// A queued task: the right to run it once (a crate `Notified`). Dropping it without
/// running it gives up that reference (and loses the wake-up it stands for).
pub struct Runnable(Notified);

impl Runnable {
    /// Runs the task: polls it, or drops its future when it was cancelled, or does
    /// nothing when another thread is already running it.
    pub fn run(self) {
        self.0.run();
    }
}

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A scheduler for models: a FIFO run queue that the model drains by hand, the runtime's
/// hooks, and the owned-task list.
pub struct TestScheduler {
    queue: Mutex<VecDeque<Notified>>,
    hooks: HookSet,
    owned: OwnedTasks,
}

impl TestScheduler {
    /// A scheduler whose tasks report to `hooks`. The owned list has one shard (one lock
    /// fewer for loom to explore).
    pub fn new(hooks: HookSet) -> Arc<TestScheduler> {
        Arc::new(TestScheduler {
            queue: Mutex::new(VecDeque::new()),
            hooks,
            owned: OwnedTasks::new(1),
        })
    }

    /// Takes the task at the head of the queue without running it.
    pub fn pop(&self) -> Option<Runnable> {
        self.queue.lock().unwrap().pop_front().map(Runnable)
    }

    /// Runs the task at the head of the queue (the queue lock is released first).
    /// Returns whether there was one.
    pub fn run_one(&self) -> bool {
        match self.pop() {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    pub fn run_all(&self) -> usize {
        let mut ran = 0;
        while self.run_one() {
            ran += 1;
        }
        ran
    }

    /// How many `Notified`s are queued.
    pub fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// How many tasks are on the owned list (spawned, not yet completed or shut down).
    pub fn live_tasks(&self) -> usize {
        self.owned.len()
    }

    /// Runtime shutdown, as the real schedulers do it: close the owned list, shut every
    /// task down (cancelling idle ones on the spot), then run the queue dry so queued
    /// ones drop their futures.
    pub fn shutdown(&self) {
        for task in self.owned.close_and_take_all() {
            task.shutdown();
        }
        self.run_all();
    }
}

impl Schedule for Arc<TestScheduler> {
    fn schedule(&self, task: Notified) {
        self.queue.lock().unwrap().push_back(task);
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn hooks(&self) -> &HookSet {
        &self.hooks
    }
}

impl fmt::Debug for TestScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestScheduler")
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

/// Spawns `future` on `scheduler` through the crate's real spawn path: `init` fires, the
/// task is listed, and its first `Notified` is queued (not run).
#[track_caller]
pub fn spawn<F>(scheduler: &Arc<TestScheduler>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let meta = TaskMeta::here(None, Location::caller());
    task::spawn_with(future, scheduler.clone(), &scheduler.owned, meta)
}

/// The multi-thread scheduler's remote path, for one or more workers whose loop the model
/// writes out: [`Pool::spawn`] queues into the global queue and wakes a sleeping worker
/// exactly as `multi_thread::Handle::{schedule_remote, notify_parked}` do, and
/// [`Pool::shutdown`] wakes every worker as `Handle::shutdown` does.
///
/// `multi_thread/mod.rs` itself cannot run under loom (std threads and locks), so these
/// few lines are a transcription of it around the real `Idle`, `Parker` and queue: keep
/// them in step.
pub struct Pool {
    inject: InjectQueue,
    idle: Idle,
    parkers: Box<[Parker]>,
    hooks: HookSet,
    owned: OwnedTasks,
    shutdown: AtomicBool,
}

impl Pool {
    /// A pool of `workers` workers (their indexes are `0..workers`).
    pub fn new(workers: usize, hooks: HookSet) -> Arc<Pool> {
        Arc::new(Pool {
            inject: InjectQueue::new(),
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            hooks,
            owned: OwnedTasks::new(1),
            shutdown: AtomicBool::new(false),
        })
    }

    /// Spawns from outside the workers (`Pool::spawn(&pool, fut)`, as loom's `Arc`
    /// cannot be a method receiver): `init`, list, push to the global queue, then
    /// `notify_parked`.
    #[track_caller]
    pub fn spawn<F>(pool: &Arc<Pool>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = TaskMeta::here(None, Location::caller());
        task::spawn_with(future, pool.clone(), &pool.owned, meta)
    }

    /// `multi_thread::Handle::notify_parked`: wake one sleeping worker if no worker is
    /// searching already.
    pub fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.parkers[index].unpark();
        }
    }

    /// The global queue.
    pub fn inject(&self) -> &InjectQueue {
        &self.inject
    }

    /// The searching / sleeping bookkeeping.
    pub fn idle(&self) -> &Idle {
        &self.idle
    }

    /// Worker `index`'s parker.
    pub fn parker(&self, index: usize) -> &Parker {
        &self.parkers[index]
    }

    /// `multi_thread::Handle::has_queued_work` (the pool has no local queues).
    pub fn has_queued_work(&self) -> bool {
        !self.inject.is_empty()
    }

    /// How many tasks are on the owned list.
    pub fn live_tasks(&self) -> usize {
        self.owned.len()
    }

    /// The first half of `multi_thread::Handle::shutdown`: set the flag, take every
    /// sleeper off the list and unpark every worker.
    pub fn shutdown(&self) {
        if !self.shutdown.swap(true, Ordering::AcqRel) {
            self.idle.wake_all();
            for parker in self.parkers.iter() {
                parker.unpark();
            }
        }
    }

    /// Whether [`Pool::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
}

impl Schedule for Arc<Pool> {
    fn schedule(&self, task: Notified) {
        self.inject.push(Runnable(task));
        self.notify_parked();
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn hooks(&self) -> &HookSet {
        &self.hooks
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.parkers.len())
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

/// `runtime::park::Parker`: a wake-up latch for one waiting thread.
#[derive(Debug)]
pub struct Parker(park::Parker);

impl Parker {
    /// A parker with no pending wake-up.
    pub fn new() -> Parker {
        Parker(park::Parker::new())
    }

    /// Waits for an `unpark` (returns at once if one came since the last park).
    pub fn park(&self) {
        self.0.park();
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub fn unpark(&self) {
        self.0.unpark();
    }
}

impl Default for Parker {
    fn default() -> Parker {
        Parker::new()
    }
}

/// `runtime::multi_thread::idle::Idle`: which workers search and which sleep. See that
/// module for the protocol; every method forwards.
pub struct Idle(idle::Idle);

impl Idle {
    /// Bookkeeping for `workers` workers, none searching or asleep.
    pub fn new(workers: usize) -> Idle {
        Idle(idle::Idle::new(workers))
    }

    /// A worker with nothing to do wants to steal; refused when half already search.
    pub fn transition_to_searching(&self) -> bool {
        self.0.transition_to_searching()
    }

    /// A searcher stops searching; returns whether it was the last one.
    pub fn transition_from_searching(&self) -> bool {
        self.0.transition_from_searching()
    }

    /// A task was queued: which sleeping worker to unpark, if any (counted as
    /// searching already).
    pub fn worker_to_notify(&self) -> Option<usize> {
        self.0.worker_to_notify()
    }

    /// Registers worker `index` as asleep; the caller must re-check the queues.
    pub fn sleep(&self, index: usize) {
        self.0.sleep(index);
    }

    /// Worker `index` is awake; `true` when it was still registered (woke by itself),
    /// `false` when a producer took it off the list and counted it as searching.
    pub fn wake_up(&self, index: usize) -> bool {
        self.0.wake_up(index)
    }

    /// Takes every sleeper off the list (shutdown).
    pub fn wake_all(&self) -> Vec<usize> {
        self.0.wake_all()
    }
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idle").finish_non_exhaustive()
    }
}

/// A worker's own run queue (`queue::Local`): only its owner pushes and pops.
pub struct LocalQueue(queue::Local);

/// The thieves' end of a worker's run queue (`queue::Thief`).
pub struct StealQueue(queue::Thief);

/// The global queue (`queue::Inject`).
pub struct InjectQueue(queue::Inject);

/// A new worker run queue: the owner's end and the thieves' end.
pub fn local_queue() -> (LocalQueue, StealQueue) {
    let (local, thief) = queue::local();
    (LocalQueue(local), StealQueue(thief))
}

impl LocalQueue {
    /// Pushes at the back.
    pub fn push(&self, task: Runnable) {
        self.0.push(task.0);
    }

    /// Pops from the front.
    pub fn pop(&self) -> Option<Runnable> {
        self.0.pop().map(Runnable)
    }
}

impl StealQueue {
    /// Moves a batch of the victim's tasks into `dst` and returns one of them.
    pub fn steal_into(&self, dst: &LocalQueue) -> Option<Runnable> {
        self.0.steal_into(&dst.0).map(Runnable)
    }

    /// Whether the victim's queue is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl InjectQueue {
    /// An empty global queue.
    pub fn new() -> InjectQueue {
        InjectQueue(queue::Inject::new())
    }

    /// Pushes at the back.
    pub fn push(&self, task: Runnable) {
        self.0.push(task.0);
    }

    /// Pops from the front.
    pub fn pop(&self) -> Option<Runnable> {
        self.0.pop().map(Runnable)
    }

    /// Moves a batch into `dst` and returns one task.
    pub fn steal_into(&self, dst: &LocalQueue) -> Option<Runnable> {
        self.0.steal_into(&dst.0).map(Runnable)
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for InjectQueue {
    fn default() -> InjectQueue {
        InjectQueue::new()
    }
}

macro_rules! opaque_debug {
    ($($ty:ident),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )*};
}

opaque_debug!(LocalQueue, StealQueue, InjectQueue);
