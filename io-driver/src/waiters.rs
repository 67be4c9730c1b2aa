//! The wakers waiting on one registration, and `WakeList`, the batch a dispatch wakes
//! outside the lock.
//!
//! - One slot per [`Direction`]: the task polling `AsyncRead` (or `accept`, `recv`)
//!   parks its waker in `reader`, the one polling `AsyncWrite` in `writer`. As in tokio,
//!   a slot holds one waker: a second task polling the same direction replaces the
//!   first (one reader and one writer per socket is the supported pattern).
//! - A list for [`Readiness`](crate::Readiness) futures (`Registration::readiness`),
//!   any number of them, each with the readiness mask it waits for. A future owns its
//!   slab key until it completes or is dropped.
//!
//! A waker is *taken* out of its slot when it is woken; a waiter that still finds no
//! readiness on its next poll stores a waker again.

use crate::{Direction, Ready};
use slab::Slab;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
    list: Slab<ListWaiter>,
}

#[derive(Debug)]
struct ListWaiter {
    /// The readiness this waiter waits for.
    mask: Ready,
    /// `None` once woken, until the waiter polls again.
    waker: Option<Waker>,
}

/// Stores `waker` in `slot` unless the waker already there would wake the same task.
fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(current) if current.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

impl Waiters {
    /// Parks `waker` in `direction`'s slot.
    pub(crate) fn set_direction(&mut self, direction: Direction, waker: &Waker) {
        let slot = match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        };
        store(slot, waker);
    }

    /// Adds a list waiter for `mask`; returns its key.
    pub(crate) fn insert(&mut self, mask: Ready, waker: &Waker) -> usize {
        self.list.insert(ListWaiter {
            mask,
            waker: Some(waker.clone()),
        })
    }

    /// Parks `waker` for the list waiter `key`.
    pub(crate) fn update(&mut self, key: usize, waker: &Waker) {
        store(&mut self.list[key].waker, waker);
    }

    /// Removes the list waiter `key`.
    pub(crate) fn remove(&mut self, key: usize) {
        self.list.remove(key);
    }

    /// Moves into `out` the wakers of every waiter that `ready` satisfies (all of them
    /// for `None`). Returns `true` if `out` filled up before every such waker was taken:
    /// wake `out`, then call again.
    pub(crate) fn take(&mut self, ready: Option<Ready>, out: &mut WakeList) -> bool {
        let wants = |mask: Ready| ready.is_none_or(|ready| ready.intersects(mask));
        for (direction, slot) in [
            (Direction::Read, &mut self.reader),
            (Direction::Write, &mut self.writer),
        ] {
            if wants(direction.mask()) {
                if let Some(waker) = slot.take() {
                    if out.is_full() {
                        *slot = Some(waker);
                        return true;
                    }
                    out.push(waker);
                }
            }
        }
        for (_, waiter) in self.list.iter_mut() {
            if waiter.waker.is_some() && wants(waiter.mask) {
                if out.is_full() {
                    return true;
                }
                out.push(waiter.waker.take().expect("checked above"));
            }
        }
        false
    }
}

/// How many wakers a dispatch takes per lock acquisition.
const WAKE_LIST_CAPACITY: usize = 32;

/// A fixed-capacity batch of wakers, filled under the waiter lock and woken outside it
/// (so a waker that polls or drops something synchronously cannot deadlock on it).
pub(crate) struct WakeList {
    wakers: [Option<Waker>; WAKE_LIST_CAPACITY],
    len: usize,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList {
            wakers: [const { None }; WAKE_LIST_CAPACITY],
            len: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn is_full(&self) -> bool {
        self.len == WAKE_LIST_CAPACITY
    }

    fn push(&mut self, waker: Waker) {
        debug_assert!(!self.is_full());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes and empties the batch. A waker that panics is skipped: a foreign waker must
    /// not take the driver down.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                let _ = catch_unwind(AssertUnwindSafe(|| waker.wake()));
            }
        }
        self.len = 0;
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList").field("len", &self.len).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn wakes_only_matching_waiters_in_batches() {
        let mut waiters = Waiters::default();
        let (reads, read_waker) = counter();
        let (writes, write_waker) = counter();
        waiters.set_direction(Direction::Read, &read_waker);
        waiters.set_direction(Direction::Write, &write_waker);
        let (listed, list_waker) = counter();
        for _ in 0..40 {
            waiters.insert(Ready::READABLE, &list_waker);
        }

        let mut out = WakeList::new();
        let mut batches = 0;
        while {
            let more = waiters.take(Some(Ready::READABLE), &mut out);
            out.wake_all();
            batches += 1;
            more
        } {}
        assert_eq!(batches, 2, "41 wakers, 32 per batch");
        assert_eq!(reads.0.load(Ordering::Relaxed), 1);
        assert_eq!(writes.0.load(Ordering::Relaxed), 0, "not writable");
        assert_eq!(listed.0.load(Ordering::Relaxed), 40);

        assert!(!waiters.take(None, &mut out));
        out.wake_all();
        assert_eq!(
            writes.0.load(Ordering::Relaxed),
            1,
            "None wakes everyone left"
        );
    }
}
