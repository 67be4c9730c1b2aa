//! Which workers are searching for work and which are asleep.
//!
//! The protocol that keeps wake-ups from being lost:
//!
//! - A producer (a spawn, a wake) first makes its task visible in a queue, then calls
//!   [`Idle::worker_to_notify`]: after a `SeqCst` fence it reads the searching and
//!   sleeping counts. If some worker is searching, that worker will find the task; if
//!   none is searching and one sleeps, one sleeper is taken off the list, counted as
//!   searching, and unparked. At most one worker is woken per task (no thundering herd).
//! - A worker about to sleep first registers in the sleeper list ([`Idle::sleep`]),
//!   then, after a `SeqCst` fence, looks at every queue once more. Either it sees the
//!   producer's task, or the producer sees it sleeping: never neither.
//! - The last searcher to stop searching re-checks the queues for the same reason
//!   (a producer may have skipped the wake-up because it saw that searcher).
//! - At most about half of the workers search at once, so a burst of wake-ups does not
//!   turn every worker into a thief fighting over one victim.

use crate::loom::sync::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

pub(crate) struct Idle {
    num_workers: usize,
    num_searching: AtomicUsize,
    num_sleeping: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            num_workers,
            num_searching: AtomicUsize::new(0),
            num_sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
        }
    }

    /// A worker with an empty queue wants to steal. Refused when half the workers are
    /// already searching.
    pub(crate) fn transition_to_searching(&self) -> bool {
        let searching = self.num_searching.load(SeqCst);
        if 2 * searching >= self.num_workers.max(2) {
            return false;
        }
        self.num_searching.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work or gives up. Returns whether it was the last
    /// searcher (it must then make sure no task is left unattended).
    pub(crate) fn transition_from_searching(&self) -> bool {
        let previous = self.num_searching.fetch_sub(1, SeqCst);
        debug_assert!(previous > 0, "searching count underflow");
        previous == 1
    }

    /// A task was queued: the worker to unpark, if one must be. The chosen worker is
    /// counted as searching already.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        fence(SeqCst);
        if self.num_searching.load(SeqCst) != 0 || self.num_sleeping.load(SeqCst) == 0 {
            return None;
        }
        let mut sleepers = self.sleepers.lock().unwrap();
        // Re-check under the lock: another producer may have woken a worker meanwhile.
        if self.num_searching.load(SeqCst) != 0 {
            return None;
        }
        let index = sleepers.pop()?;
        self.num_sleeping.fetch_sub(1, SeqCst);
        self.num_searching.fetch_add(1, SeqCst);
        Some(index)
    }

    /// Registers worker `index` as asleep. The caller must look at the queues once more
    /// before it actually parks.
    pub(crate) fn sleep(&self, index: usize) {
        let mut sleepers = self.sleepers.lock().unwrap();
        sleepers.push(index);
        self.num_sleeping.fetch_add(1, SeqCst);
        drop(sleepers);
        fence(SeqCst);
    }

    /// Worker `index` is awake again. Returns `true` when it was still registered (it
    /// woke by itself: a spurious or shutdown wake-up, or it found work before
    /// parking); `false` when a producer took it off the list, which also counted it
    /// as searching.
    pub(crate) fn wake_up(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock().unwrap();
        match sleepers.iter().position(|&i| i == index) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.num_sleeping.fetch_sub(1, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Takes every sleeper off the list (for shutdown); returns their indexes.
    pub(crate) fn wake_all(&self) -> Vec<usize> {
        let mut sleepers = self.sleepers.lock().unwrap();
        let all: Vec<usize> = sleepers.drain(..).collect();
        self.num_sleeping.fetch_sub(all.len(), SeqCst);
        self.num_searching.fetch_add(all.len(), SeqCst);
        all
    }
}
