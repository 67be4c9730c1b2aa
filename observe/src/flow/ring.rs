//! The bounded event ring of [`FlowRecorder`](crate::FlowRecorder).
//!
//! A fixed array of slots and one atomic sequence counter: a writer takes the next
//! sequence number with one `fetch_add` and writes slot `seq % capacity` under that
//! slot's own mutex, overwriting the oldest event. Writers on different threads meet
//! only on the counter (and on a slot when the ring wraps faster than they write); a
//! reader locks one slot at a time and sorts what it found by sequence number. The
//! sequence order respects causality: an event that happens-before another took its
//! number first.

use crate::shard::lock;
use hookrt::hooks::{AsyncId, ResourceKind};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Which hook event a [`FlowEvent`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// `init`; `other` is the trigger.
    Init,
    /// `before`.
    Before,
    /// `after`.
    After,
    /// `resolve`.
    Resolve,
    /// `destroy`.
    Destroy,
    /// `wake`; `other` is the waking execution.
    Wake,
}

/// One recorded hook event.
#[derive(Clone, Debug)]
pub struct FlowEvent {
    /// Global sequence number (the order events were recorded in).
    pub seq: u64,
    /// Nanoseconds since the recorder was created.
    pub ts_ns: u64,
    /// The thread that emitted it (a small number, see [`FlowRecorder::thread_name`](crate::FlowRecorder::thread_name)).
    pub thread: usize,
    /// Which event.
    pub what: FlowKind,
    /// The resource.
    pub id: AsyncId,
    /// The trigger (for `Init`) or the waker (for `Wake`); `None` otherwise.
    pub other: Option<AsyncId>,
    /// The resource's kind.
    pub kind: ResourceKind,
    /// The resource's name (on `Init` only).
    pub name: Option<Box<str>>,
    /// The resource's creating location (on `Init` only).
    pub location: Option<&'static Location<'static>>,
}

#[derive(Debug)]
pub(crate) struct Ring {
    slots: Box<[Mutex<Option<FlowEvent>>]>,
    next: AtomicU64,
}

impl Ring {
    pub(crate) fn new(capacity: usize) -> Ring {
        let capacity = capacity.max(1);
        Ring {
            slots: (0..capacity).map(|_| Mutex::new(None)).collect(),
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// How many events were ever pushed (recorded or since overwritten).
    pub(crate) fn pushed(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }

    /// Records `event`, giving it the next sequence number.
    pub(crate) fn push(&self, mut event: FlowEvent) {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        event.seq = seq;
        let slot = &self.slots[(seq % self.slots.len() as u64) as usize];
        let mut slot = lock(slot);
        // A slow writer may come after a faster one that already wrapped past it:
        // keep the newer event.
        if slot.as_ref().is_none_or(|old| old.seq < seq) {
            *slot = Some(event);
        }
    }

    /// The recorded events, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<FlowEvent> {
        let mut out: Vec<FlowEvent> = self.slots.iter().filter_map(|s| lock(s).clone()).collect();
        out.sort_by_key(|e| e.seq);
        out
    }

    pub(crate) fn clear(&self) {
        for s in self.slots.iter() {
            *lock(s) = None;
        }
    }
}
