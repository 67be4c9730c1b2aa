//! Tasks: the unit of work the schedulers run, and the user-facing task API.
//!
//! # Design
//!
//! A task is one heap cell (`raw.rs`): a `Header` (`header.rs`) with the state word,
//! the vtable, the task's async id, trigger id, context and spawn location; then the
//! scheduler handle and the future (later its output); then a cold trailer with the
//! owned-list slot, the join waker and the name. Everything that points at a task
//! carries a `NonNull<Header>`; the vtable recovers the concrete types.
//!
//! ## References
//!
//! The state word counts references (`state.rs`). These types own one each:
//!
//! 1. the runtime's owned-task list (`OwnedTask` entry in `list.rs`), from spawn until
//!    the task completes or the runtime shuts down;
//! 2. the `JoinHandle`, until it is dropped;
//! 3. a `Notified`, for each time the task sits in a run queue (at most one at a time);
//! 4. each `Waker` and each `AbortHandle`.
//!
//! A new task starts with three: list, handle, and the `Notified` of its first schedule.
//! The cell is freed when the count reaches zero.
//!
//! ## Who may touch what
//!
//! 1. The stage (future or output) belongs to the thread that set `RUNNING` until it
//!    sets `COMPLETE`. After that it belongs to the `JoinHandle` if join interest was set
//!    at completion, else to the completing thread, which drops the output at once.
//! 2. The join waker slot belongs to the `JoinHandle` while `JOIN_WAKER` is clear; while
//!    it is set and `COMPLETE` is clear, the handle may only read it; once `COMPLETE` is
//!    set, the completing thread reads it to wake the joiner and nobody writes it again
//!    until the cell is freed.
//! 3. The owned-list slot index is read and written only under the list shard's lock.
//! 4. Everything else in the header is written once, before the task is shared.
//!
//! ## Events
//!
//! The harness emits the hook events at the source:
//!
//! - `init`: in `spawn`, before the first `Notified` is queued (`runtime::spawner`);
//! - `before`/`after`: around each poll, with the execution frame set to the task;
//! - `resolve`: when the future returns `Ready`, before it is dropped;
//! - `destroy`: right after the future is dropped (completion, panic, abort or
//!   shutdown), before `COMPLETE` is published, so nothing can follow it;
//! - `wake(task, by)`: by the thread whose waker moved the task from idle to notified,
//!   before it queues the `Notified` (so the task cannot run or be destroyed first); a
//!   wake that lands while the task is running is recorded in `woken_by`, and the
//!   poller emits it when it resubmits the task after the poll.
//!
//! ## Shutdown
//!
//! Shutdown closes the owned list and takes every entry. An idle task that is not
//! queued is cancelled on the spot; a queued or running one is marked `CANCELLED` and
//! its future is dropped by whoever runs it next. The scheduler keeps draining its
//! queues until the list is empty.

mod abort;
mod blocking;
mod builder;
pub mod coop;
mod core;
mod error;
mod harness;
mod header;
mod id;
mod join;
mod join_set;
pub(crate) mod list;
mod local_set;
mod raw;
mod state;
mod task_local;
mod waker;

pub(crate) mod spawn;
mod yield_now;

pub use abort::AbortHandle;
pub use blocking::{block_in_place, spawn_blocking};
pub use builder::Builder;
pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::JoinHandle;
pub use join_set::JoinSet;
pub use local_set::{spawn_local, LocalEnterGuard, LocalSet};
pub use spawn::spawn;
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::yield_now;

pub(crate) use raw::{RawTask, TaskMeta};

use hookrt_hooks::{HookSet, ResourceKind};

/// What a task needs from the scheduler it belongs to.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// The kind of resource this scheduler's tasks are (`Task`, or `Blocking` for the
    /// blocking pool).
    const KIND: ResourceKind = ResourceKind::Task;

    /// Queues a task to be polled.
    fn schedule(&self, task: Notified);

    /// Queues a task that woke itself during its poll (a yield): it goes behind the
    /// tasks already waiting, never into a LIFO slot.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// Takes a completed task off the owned list. Returns whether it was listed (the
    /// caller then drops the list's reference too).
    fn release(&self, task: RawTask) -> bool;

    /// The runtime's hooks.
    fn hooks(&self) -> &HookSet;
}

/// A task in a run queue: owns one reference, and the right to poll the task once.
#[must_use = "dropping a Notified loses a wake-up"]
pub(crate) struct Notified(RawTask);

impl Notified {
    /// Wraps a reference the caller already counted.
    pub(crate) fn from_raw(raw: RawTask) -> Notified {
        Notified(raw)
    }

    /// Polls the task (or cancels it, when cancelled), consuming this reference.
    pub(crate) fn run(self) {
        let raw = self.0;
        std::mem::forget(self);
        raw.poll();
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Notified").field(&self.0).finish()
    }
}

/// Creates a task, emits its `init`, lists it, and queues its first poll. If the list is
/// closed (the runtime is shutting down) the task is cancelled at once instead.
pub(crate) fn spawn_with<F, S>(
    future: F,
    scheduler: S,
    owned: &list::OwnedTasks,
    meta: TaskMeta,
) -> JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    S: Schedule + Clone,
{
    let raw = RawTask::new(future, scheduler.clone(), meta);
    scheduler.hooks().init(&raw.resource());
    let notified = Notified::from_raw(raw);
    if owned.bind(raw) {
        scheduler.schedule(notified);
    } else {
        // The list reference is ours: shutdown marks the (queued) task cancelled, and
        // running its first Notified drops the future.
        raw.shutdown();
        notified.run();
    }
    JoinHandle::new(raw)
}
