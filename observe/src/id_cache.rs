//! `IdCache`: a lock-free, direct-mapped table of small per-id values, in front of a
//! striped [`ById`] table that holds whatever does not fit.
//!
//! A hook that keeps a few bits per live resource (the `Sampler`'s decision) would
//! otherwise lock a stripe on every event. Here each id hashes to one slot, an `AtomicU64`
//! holding `id << BITS | value`; an id whose slot is taken by another live id goes to the
//! fallback table instead. Ids are never reused, so a slot whose id matches is always the
//! right one (no ABA), and the runtime orders every event of a resource after its `init`
//! (the same thread, or a hand-off through the scheduler's queues), so the slot written
//! in `init` is seen by the later events.

use crate::shard::ById;
use hookrt::hooks::AsyncId;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bits of value stored next to the id in a slot.
pub(crate) const BITS: u32 = 4;
/// Slots in the direct-mapped part (a power of two): 512 KiB.
const SLOTS: usize = 1 << 16;

pub(crate) struct IdCache {
    slots: Box<[AtomicU64]>,
    overflow: ById<u8>,
}

impl IdCache {
    pub(crate) fn new() -> IdCache {
        IdCache {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            overflow: ById::new(),
        }
    }

    fn slot(&self, id: AsyncId) -> &AtomicU64 {
        let h = id.as_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros());
        &self.slots[h as usize]
    }

    fn word(id: AsyncId, value: u8) -> u64 {
        debug_assert!(u32::from(value) < (1 << BITS));
        id.as_u64() << BITS | u64::from(value)
    }

    /// Records `value` for the live resource `id` (called once, from its `init`).
    pub(crate) fn insert(&self, id: AsyncId, value: u8) {
        let word = IdCache::word(id, value);
        let slot = self.slot(id);
        if slot
            .compare_exchange(0, word, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.overflow.insert(id, value);
        }
    }

    /// The value of `id`, if it is live here.
    #[inline]
    pub(crate) fn get(&self, id: AsyncId) -> Option<u8> {
        let word = self.slot(id).load(Ordering::Acquire);
        if word >> BITS == id.as_u64() {
            return Some((word & ((1 << BITS) - 1)) as u8);
        }
        self.overflow.with(id, |v| *v)
    }

    /// Forgets `id` (from its `destroy`), returning its value.
    pub(crate) fn remove(&self, id: AsyncId) -> Option<u8> {
        let slot = self.slot(id);
        let word = slot.load(Ordering::Acquire);
        if word >> BITS == id.as_u64()
            && slot
                .compare_exchange(word, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return Some((word & ((1 << BITS) - 1)) as u8);
        }
        self.overflow.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_collisions_and_removal() {
        let cache = IdCache::new();
        let ids: Vec<AsyncId> = (0..200_000).map(|_| AsyncId::allocate()).collect();
        for (i, id) in ids.iter().enumerate() {
            cache.insert(*id, (i % 16) as u8);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(cache.get(*id), Some((i % 16) as u8), "{id}");
        }
        for (i, id) in ids.iter().enumerate().step_by(2) {
            assert_eq!(cache.remove(*id), Some((i % 16) as u8));
        }
        for (i, id) in ids.iter().enumerate() {
            let expected = (i % 2 == 1).then_some((i % 16) as u8);
            assert_eq!(cache.get(*id), expected);
        }
        assert_eq!(cache.get(AsyncId::allocate()), None);
    }
}
