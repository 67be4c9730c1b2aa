//! The thread's current `LocalSet`: the one `spawn_local` uses, and the one whose tasks
//! a schedule on this thread may queue locally.
//!
//! Only code holding a `&LocalSet` makes a set current, and a `LocalSet` never leaves
//! the thread that created it, so a set is only ever current on its owner thread.

use super::shared::Shared;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

struct Current {
    /// The set being driven or entered on this thread.
    set: RefCell<Option<Arc<Shared>>>,
    /// Whether a schedule into the current set must wake its driver: `true` when the
    /// set was entered with `LocalSet::enter` (nobody may be running its queue), `false`
    /// while the set is being driven here (its queue is run before the poll returns).
    wake_on_schedule: Cell<bool>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            set: RefCell::new(None),
            wake_on_schedule: Cell::new(false),
        }
    };
}

/// Makes `shared` the current set until the guard drops (also on unwind).
pub(super) fn enter(shared: &Arc<Shared>, wake_on_schedule: bool) -> CurrentGuard {
    let previous = CURRENT
        .try_with(|c| {
            let set = c.set.replace(Some(shared.clone()));
            let wake = c.wake_on_schedule.replace(wake_on_schedule);
            (set, wake)
        })
        .ok();
    CurrentGuard { previous }
}

/// Restores the previous current set. Returned by [`enter`].
pub(super) struct CurrentGuard {
    /// `None` when the thread-local was already gone.
    previous: Option<(Option<Arc<Shared>>, bool)>,
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        if let Some((set, wake)) = self.previous.take() {
            let replaced = CURRENT
                .try_with(|c| {
                    c.wake_on_schedule.set(wake);
                    c.set.replace(set)
                })
                .ok()
                .flatten();
            // Outside the borrow: the last reference to a set may go here.
            drop(replaced);
        }
    }
}

/// The current set, if any.
pub(super) fn current() -> Option<Arc<Shared>> {
    CURRENT.try_with(|c| c.set.borrow().clone()).ok().flatten()
}

/// `Some(wake_on_schedule)` when `shared` is this thread's current set, else `None`.
pub(super) fn wake_mode(shared: &Arc<Shared>) -> Option<bool> {
    CURRENT
        .try_with(|c| match &*c.set.borrow() {
            Some(set) if Arc::ptr_eq(set, shared) => Some(c.wake_on_schedule.get()),
            _ => None,
        })
        .ok()
        .flatten()
}
