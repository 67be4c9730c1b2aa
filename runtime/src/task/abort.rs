//! `AbortHandle`, and the abort path shared with `JoinHandle::abort`.

use super::raw::RawTask;
use super::Id;
use std::fmt;

/// Cancels a task without awaiting it. Cloning shares the permission; dropping it does
/// nothing to the task.
pub struct AbortHandle {
    raw: RawTask,
}

impl AbortHandle {
    /// Takes a new reference to the task.
    pub(crate) fn new(raw: RawTask) -> AbortHandle {
        raw.header().state.ref_inc();
        AbortHandle { raw }
    }

    /// Cancels the task (see [`JoinHandle::abort`](super::JoinHandle::abort)).
    pub fn abort(&self) {
        abort_task(self.raw);
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::from_async_id(self.raw.id())
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        AbortHandle::new(self.raw)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Marks the task cancelled; an idle task is submitted so a runtime thread drops it.
/// The abort counts as a wake by the current execution.
pub(super) fn abort_task(raw: RawTask) {
    if raw.header().state.transition_to_notified_and_cancel() {
        raw.schedule(Some(hookrt_hooks::execution_async_id()));
    }
}
