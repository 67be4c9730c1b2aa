//! `OwnedTasks`: every live task of a runtime, so shutdown can cancel them all.

use super::raw::RawTask;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use slab::Slab;

/// The live tasks of one runtime, sharded by task id so that spawns and completions on
/// different workers rarely meet on one lock.
///
/// Each entry owns one task reference (the "owned-list reference"). Whoever removes an
/// entry (a completing task via `remove`, or shutdown via `close_and_take_all`) owns that
/// reference from then on.
pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    count: AtomicUsize,
}

struct Shard {
    tasks: Slab<RawTask>,
    closed: bool,
}

impl OwnedTasks {
    /// A list with `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks {
        let n = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(Shard {
                        tasks: Slab::new(),
                        closed: false,
                    })
                })
                .collect(),
            count: AtomicUsize::new(0),
        }
    }

    fn shard(&self, task: RawTask) -> &Mutex<Shard> {
        let index = task.id().as_u64() as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Adds a new task. Returns `false` (and adds nothing) once the list is closed; the
    /// caller then still owns the reference and must shut the task down.
    pub(crate) fn bind(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        if shard.closed {
            return false;
        }
        let slot = shard.tasks.insert(task);
        // SAFETY: the slot field is only accessed with this shard's lock held.
        task.trailer().owned_slot.with_mut(|s| unsafe { *s = slot });
        self.count.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Removes a completed task. Returns whether it was still listed; if so the caller
    /// now owns its owned-list reference.
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task).lock().unwrap();
        // SAFETY: the slot field is only accessed with this shard's lock held.
        let slot = task.trailer().owned_slot.with(|s| unsafe { *s });
        match shard.tasks.get(slot) {
            Some(listed) if *listed == task => {
                shard.tasks.remove(slot);
                self.count.fetch_sub(1, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// Closes the list to new tasks and takes every listed task out, with its reference.
    pub(crate) fn close_and_take_all(&self) -> Vec<RawTask> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap();
            shard.closed = true;
            let taken = shard.tasks.len();
            all.extend(shard.tasks.drain());
            self.count.fetch_sub(taken, Ordering::Relaxed);
        }
        all
    }

    /// Closes the list, cancels every listed task, and returns them with one extra
    /// reference each, so the caller can run its queues until every one of them is
    /// complete (see [`ShutdownWait`]).
    pub(crate) fn close_and_shutdown_all(&self) -> ShutdownWait {
        let tasks = self.close_and_take_all();
        for task in &tasks {
            task.add_reference();
        }
        for task in &tasks {
            // Consumes the owned-list reference.
            task.shutdown();
        }
        ShutdownWait { pending: tasks }
    }

    /// How many tasks are listed.
    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether no task is listed.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("len", &self.len())
            .finish()
    }
}

/// The tasks a shutdown is waiting for. A task may still be running (on a
/// `block_in_place` thread) or be notified by a waker on another thread that has not
/// queued it yet: the shutdown keeps running its queues until every task here is
/// complete, so no future is left undropped and no `destroy` lost.
pub(crate) struct ShutdownWait {
    pending: Vec<RawTask>,
}

impl ShutdownWait {
    /// Forgets the tasks that completed; returns whether all have.
    pub(crate) fn all_complete(&mut self) -> bool {
        self.pending.retain(|task| {
            if task.is_complete() {
                task.drop_reference();
                false
            } else {
                true
            }
        });
        self.pending.is_empty()
    }
}

impl Drop for ShutdownWait {
    fn drop(&mut self) {
        for task in self.pending.drain(..) {
            task.drop_reference();
        }
    }
}
