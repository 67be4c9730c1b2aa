//! The pool as the scheduler of its tasks.

use super::pool::Inner;
use crate::task::{Notified, RawTask, Schedule};
use hookrt_hooks::{HookSet, ResourceKind};
use std::sync::Arc;

/// What a blocking task's cell holds as its scheduler: the pool.
#[derive(Clone)]
pub(super) struct BlockingSchedule {
    pub(super) pool: Arc<Inner>,
    /// Listed in the pool's `mandatory` list (runs even at shutdown).
    pub(super) mandatory: bool,
}

impl Schedule for BlockingSchedule {
    const KIND: ResourceKind = ResourceKind::Blocking;

    fn schedule(&self, task: Notified) {
        self.pool.push(task);
    }

    fn release(&self, task: RawTask) -> bool {
        if self.mandatory {
            self.pool.mandatory.remove(task)
        } else {
            self.pool.owned.remove(task)
        }
    }

    fn hooks(&self) -> &HookSet {
        &self.pool.hooks
    }
}
