//! [`LiveSet`]: the set of live resources' records a hook can list, without hashing.
//!
//! A hook keeps each resource's record in the resource itself
//! ([`Resource::set_data`](hookrt::hooks::Resource::set_data)), so events never look
//! anything up; only the reports need to list the live ones. A record is put in the
//! shard of the thread that created it (a slab: a vector and a free list), and the
//! [`Place`] it got is kept in the record, so `destroy` removes it in O(1) from
//! whichever thread. A shard lock is taken twice per resource (insert, remove),
//! uncontended unless two threads create or drop resources in the same shard at once.

use crate::shard::{lock, thread_slot, SHARDS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Where a record sits in a [`LiveSet`]: shard and index, packed; `NONE` when not in
/// the set.
#[derive(Debug, Default)]
pub(crate) struct Place(AtomicU64);

impl Place {
    const NONE: u64 = u64::MAX;

    pub(crate) fn new() -> Place {
        Place(AtomicU64::new(Place::NONE))
    }
}

#[derive(Debug)]
struct Slab<T> {
    entries: Vec<Option<T>>,
    free: Vec<u32>,
    len: usize,
}

/// A set of `T` (records, usually `Arc`s) striped over [`SHARDS`] slabs.
#[derive(Debug)]
pub(crate) struct LiveSet<T> {
    shards: Box<[Mutex<Slab<T>>]>,
}

impl<T> LiveSet<T> {
    pub(crate) fn new() -> LiveSet<T> {
        LiveSet {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Slab {
                        entries: Vec::new(),
                        free: Vec::new(),
                        len: 0,
                    })
                })
                .collect(),
        }
    }

    /// Adds `value`, recording where in `place`.
    pub(crate) fn insert(&self, value: T, place: &Place) {
        let shard = thread_slot() % SHARDS;
        let mut slab = lock(&self.shards[shard]);
        let index = match slab.free.pop() {
            Some(i) => {
                slab.entries[i as usize] = Some(value);
                i
            }
            None => {
                slab.entries.push(Some(value));
                (slab.entries.len() - 1) as u32
            }
        };
        slab.len += 1;
        // Written under the shard lock: `remove` reads it before taking that lock, but
        // always after `insert` returned (the runtime orders `init` before `destroy`).
        place
            .0
            .store((shard as u64) << 32 | u64::from(index), Ordering::Relaxed);
    }

    /// Removes the value at `place` (if it is in the set) and returns it.
    pub(crate) fn remove(&self, place: &Place) -> Option<T> {
        let packed = place.0.swap(Place::NONE, Ordering::Relaxed);
        if packed == Place::NONE {
            return None;
        }
        let (shard, index) = ((packed >> 32) as usize, packed as u32);
        let mut slab = lock(&self.shards[shard]);
        let value = slab.entries.get_mut(index as usize)?.take()?;
        slab.free.push(index);
        slab.len -= 1;
        Some(value)
    }

    /// How many values are in the set.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len).sum()
    }

    /// Visits every value, one shard locked at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        for shard in self.shards.iter() {
            for value in lock(shard).entries.iter().flatten() {
                f(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_and_list() {
        let set = LiveSet::new();
        let places: Vec<Place> = (0..10).map(|_| Place::new()).collect();
        for (i, p) in places.iter().enumerate() {
            set.insert(i, p);
        }
        assert_eq!(set.len(), 10);
        assert_eq!(set.remove(&places[3]), Some(3));
        assert_eq!(set.remove(&places[3]), None, "removed once");
        let mut seen = Vec::new();
        set.for_each(|v| seen.push(*v));
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
        let again = Place::new();
        set.insert(42, &again);
        assert_eq!(set.len(), 10, "the freed entry is reused");
        assert_eq!(set.remove(&again), Some(42));
    }
}
