//! The thread-local runtime context: which runtime this thread works for, and whether it
//! is driving one right now (inside `block_on` or a worker loop).

use super::scheduler::SchedulerHandle;
use std::cell::{Cell, RefCell};

thread_local! {
    /// The runtime `spawn` and `Handle::current` use on this thread.
    static CURRENT: RefCell<Option<SchedulerHandle>> = const { RefCell::new(None) };
    /// Whether this thread is driving a runtime (blocking it would stall tasks).
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the current runtime's handle; `None` outside any runtime.
pub(crate) fn with_current_handle<R>(f: impl FnOnce(&SchedulerHandle) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// A clone of the current runtime's handle.
pub(crate) fn current_handle() -> Option<SchedulerHandle> {
    with_current_handle(SchedulerHandle::clone)
}

/// Makes `handle` current on this thread (and its hooks the current hook set) until the
/// guard drops.
pub(crate) fn set_current(handle: &SchedulerHandle) -> SetCurrentGuard {
    let hooks = handle.hooks().enter();
    let previous = CURRENT.with(|c| c.replace(Some(handle.clone())));
    SetCurrentGuard {
        previous,
        _hooks: hooks,
    }
}

/// Restores the previous current runtime. Returned by [`set_current`].
pub(crate) struct SetCurrentGuard {
    previous: Option<SchedulerHandle>,
    _hooks: hookrt_hooks::HookSetGuard,
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|c| c.replace(previous));
    }
}

/// Whether this thread drives a runtime right now.
pub(crate) fn is_driving() -> bool {
    DRIVING.try_with(Cell::get).unwrap_or(false)
}

/// Marks this thread as driving a runtime until the guard drops.
///
/// # Panics
///
/// When the thread already drives one: blocking inside a runtime would stall every task
/// of that runtime.
#[track_caller]
pub(crate) fn enter_driving() -> DrivingGuard {
    let already = DRIVING.with(|d| d.replace(true));
    if already {
        panic!(
            "hookrt: cannot block the current thread from within a runtime (`block_on` was \
             called on a thread that is already driving a hookrt runtime, for instance from \
             inside a task or another `block_on`). Use `.await` instead, or move the blocking \
             code to `hookrt::task::spawn_blocking` or a plain `std::thread`."
        );
    }
    DrivingGuard(())
}

/// Clears the driving mark. Returned by [`enter_driving`].
pub(crate) struct DrivingGuard(());

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|d| d.set(false));
    }
}

/// Clears the driving mark until the guard drops (inside `block_in_place`, where the
/// thread no longer drives its runtime and may block, even in `Handle::block_on`).
pub(crate) fn exit_driving() -> ExitDrivingGuard {
    let was = DRIVING.try_with(|d| d.replace(false)).unwrap_or(false);
    ExitDrivingGuard(was)
}

/// Restores the driving mark. Returned by [`exit_driving`].
pub(crate) struct ExitDrivingGuard(bool);

impl Drop for ExitDrivingGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|d| d.set(self.0));
    }
}
