//! The task header (hot fields every reference type reads) and trailer (cold fields).

use super::raw::Vtable;
use super::state::State;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::UnsafeCell;
use hookrt_hooks::{AsyncId, Context, HookData};
use std::panic::Location;
use std::task::Waker;

/// The first field of every task cell. A `NonNull<Header>` is the type-erased task
/// pointer that queues, wakers and handles carry.
///
/// Layout contract (`#[repr(C)]`, checked by a test): 7 words, 56 bytes on 64-bit
/// targets.
///
/// | field        | written                      | read by                                  |
/// |--------------|------------------------------|------------------------------------------|
/// | `state`      | atomically, by anyone        | anyone                                   |
/// | `vtable`     | once, at spawn               | anyone                                   |
/// | `id`         | once, at spawn               | anyone (hooks, `JoinError`, `task::id`)  |
/// | `trigger_id` | once, at spawn               | anyone                                   |
/// | `woken_by`   | atomically, by wakers        | the poller, after a poll that was woken  |
/// | `context`    | once, at spawn               | anyone (hooks read it in `wake` too)     |
/// | `location`   | once, at spawn               | anyone                                   |
///
/// **Architecture Invariant:** the context slot is immutable after spawn, so a `wake`
/// hook on another thread may read it while the task is polled. A frame the task
/// installs later (`enter_with`) lives in the trailer and is touched only by the thread
/// holding `RUNNING`.
#[repr(C)]
pub(crate) struct Header {
    /// Flags and reference count; see `state.rs`.
    pub(crate) state: State,
    /// The functions that know the concrete future and scheduler types.
    pub(crate) vtable: &'static Vtable,
    /// The task's async id (also its `task::Id`).
    pub(crate) id: AsyncId,
    /// The execution that spawned the task.
    pub(crate) trigger_id: AsyncId,
    /// The execution of the last waker that fired while the task was running, so the
    /// poller can report `wake(task, by)` when it resubmits the task. `0` when unknown.
    pub(crate) woken_by: AtomicU64,
    /// The async context the task runs in (the spawner's frame).
    pub(crate) context: Context,
    /// Where the task was spawned.
    pub(crate) location: &'static Location<'static>,
}

/// Cold per-task data, placed after the future in the cell.
pub(crate) struct Trailer {
    /// The task's slot in its runtime's owned-task list. Accessed only with that list's
    /// shard lock held.
    pub(crate) owned_slot: UnsafeCell<usize>,
    /// The `JoinHandle`'s waker; ownership follows the `JOIN_WAKER` bit (see `state.rs`).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The name given with `task::Builder::name`.
    pub(crate) name: Option<Box<str>>,
    /// The task's context once it differs from the spawn-time one in the header
    /// (`LocalStorage::enter_with` during a poll). Read and written only by the thread
    /// holding `RUNNING`; `wake` hooks, which run on other threads, see the header's
    /// spawn-time context instead.
    pub(crate) context: UnsafeCell<Option<Context>>,
    /// What hooks store on the task (`Resource::set_data`); dropped with the cell, after
    /// the last event.
    pub(crate) hook_data: HookData,
}

impl Header {
    /// Records the execution of a waker that fired.
    pub(crate) fn record_waker(&self, by: AsyncId) {
        self.woken_by.store(by.as_u64(), Ordering::Relaxed);
    }

    /// The execution of the last recorded waker ([`AsyncId::ROOT`] when unknown).
    pub(crate) fn last_waker(&self) -> AsyncId {
        AsyncId::from_u64(self.woken_by.load(Ordering::Relaxed)).unwrap_or(AsyncId::ROOT)
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn header_is_seven_words() {
        assert_eq!(std::mem::size_of::<Header>(), 56);
        assert_eq!(std::mem::align_of::<Header>(), 8);
    }
}
