//! `task::Id` and the current task id.

use hookrt_hooks::AsyncId;
use std::cell::Cell;
use std::fmt;

/// A task's id: its [`AsyncId`], unique among all resources for the life of the process.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Id(AsyncId);

impl Id {
    pub(crate) fn from_async_id(id: AsyncId) -> Id {
        Id(id)
    }

    /// The task's async id, as hooks see it.
    pub fn async_id(self) -> AsyncId {
        self.0
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.as_u64()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

thread_local! {
    static CURRENT_TASK: Cell<Option<Id>> = const { Cell::new(None) };
}

/// The id of the task being polled on this thread.
///
/// # Panics
///
/// Outside a task; use [`try_id`] where that can happen.
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "`hookrt::task::id()` called outside a task: call it from code a hookrt task runs, \
         or use `task::try_id()`",
    )
}

/// The id of the task being polled on this thread, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    CURRENT_TASK.try_with(Cell::get).ok().flatten()
}

/// Sets the current task id for the length of a poll.
pub(crate) struct CurrentTaskGuard(Option<Id>);

impl CurrentTaskGuard {
    pub(crate) fn enter(id: AsyncId) -> CurrentTaskGuard {
        CurrentTaskGuard(
            CURRENT_TASK
                .try_with(|c| c.replace(Some(Id(id))))
                .ok()
                .flatten(),
        )
    }
}

impl Drop for CurrentTaskGuard {
    fn drop(&mut self) {
        let _ = CURRENT_TASK.try_with(|c| c.set(self.0));
    }
}
