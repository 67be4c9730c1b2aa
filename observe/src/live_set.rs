//! [`LiveSet`]: the set of live resources' records a hook can list, without hashing
//! and without a lock shared between the threads that create and drop resources.
//!
//! A hook keeps each resource's record in the resource itself
//! ([`Resource::set_data`](hookrt::hooks::Resource::set_data)), so events never look
//! anything up; only the reports need to list the live ones. A record is pushed on the
//! shard of the thread that created it (that thread's lock, uncontended); `destroy`
//! only marks the record's [`Place`] removed (one atomic swap, on whichever thread),
//! and the creating thread drops marked records from its shard when the shard has
//! doubled since its last sweep (amortised O(1) per resource); listing drops them
//! too. So a task spawned on one thread and finished on another never makes the two
//! threads take the same lock, which is the common case on a multi-thread runtime
//! (spawned from `block_on`, dropped by a worker). Until a sweep, a finished record
//! stays allocated: at most about twice the live records of a shard's last sweep.

use crate::shard::{lock, thread_slot, SHARDS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Whether a record is (still) in a [`LiveSet`]; kept in the record.
#[derive(Debug, Default)]
pub(crate) struct Place {
    removed: AtomicBool,
}

impl Place {
    pub(crate) fn new() -> Place {
        Place::default()
    }

    fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Relaxed)
    }
}

/// What a [`LiveSet`] holds: something that knows its [`Place`].
pub(crate) trait Placed {
    fn place(&self) -> &Place;
}

impl<T: Placed> Placed for std::sync::Arc<T> {
    fn place(&self) -> &Place {
        (**self).place()
    }
}

#[derive(Debug)]
struct Shard<T> {
    entries: Vec<T>,
    /// Sweep when `entries` reaches this length.
    sweep_at: usize,
}

/// A set of records striped over [`SHARDS`] per-thread vectors. See the module docs.
#[derive(Debug)]
pub(crate) struct LiveSet<T> {
    shards: Box<[Mutex<Shard<T>>]>,
}

/// The smallest shard length that triggers a sweep.
const MIN_SWEEP: usize = 64;

impl<T: Placed> LiveSet<T> {
    pub(crate) fn new() -> LiveSet<T> {
        LiveSet {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: Vec::new(),
                        sweep_at: MIN_SWEEP,
                    })
                })
                .collect(),
        }
    }

    /// Adds `value` (not yet removed) to the calling thread's shard.
    pub(crate) fn insert(&self, value: T) {
        let mut shard = lock(&self.shards[thread_slot() % SHARDS]);
        if shard.entries.len() >= shard.sweep_at {
            shard.entries.retain(|e| !e.place().is_removed());
            shard.sweep_at = (shard.entries.len() * 2).max(MIN_SWEEP);
        }
        shard.entries.push(value);
    }

    /// Marks the record of `place` removed; returns whether it was in the set until
    /// now (so exactly one caller sees `true`).
    pub(crate) fn remove(place: &Place) -> bool {
        !place.removed.swap(true, Ordering::Relaxed)
    }

    /// How many records are in the set.
    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        self.for_each(|_| n += 1);
        n
    }

    /// Visits every record still in the set, one shard locked at a time, dropping the
    /// removed ones on the way (so a shard whose thread stopped creating resources does
    /// not keep finished records until it creates one again).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.entries.retain(|e| !e.place().is_removed());
            shard.sweep_at = (shard.entries.len() * 2).max(MIN_SWEEP);
            for value in shard.entries.iter() {
                f(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Debug, Default)]
    struct Rec(usize, Place);

    impl Placed for Rec {
        fn place(&self) -> &Place {
            &self.1
        }
    }

    #[test]
    fn insert_remove_list_and_sweep() {
        let set = LiveSet::new();
        let recs: Vec<Arc<Rec>> = (0..200).map(|i| Arc::new(Rec(i, Place::new()))).collect();
        for r in &recs {
            set.insert(r.clone());
        }
        assert_eq!(set.len(), 200);
        assert!(LiveSet::<Arc<Rec>>::remove(&recs[3].1));
        assert!(!LiveSet::<Arc<Rec>>::remove(&recs[3].1), "removed once");
        let mut seen = Vec::new();
        set.for_each(|r| seen.push(r.0));
        seen.sort_unstable();
        assert_eq!(seen.len(), 199);
        assert!(!seen.contains(&3));
        assert_eq!(
            Arc::strong_count(&recs[3]),
            1,
            "listing drops removed records"
        );
        for r in &recs[..150] {
            LiveSet::<Arc<Rec>>::remove(&r.1);
        }
        // The next inserts sweep the removed ones away: their records are released.
        for _ in 0..400 {
            set.insert(Arc::new(Rec(0, Place::new())));
        }
        assert_eq!(Arc::strong_count(&recs[0]), 1, "swept");
        assert_eq!(set.len(), 50 + 400);
    }
}
