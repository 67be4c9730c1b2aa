//! The level table, and one level of the wheel: 64 slot lists and an occupancy bitmap.
//!
//! # The level table
//!
//! A tick is the wheel's unit of time; the time driver uses 1 tick = 1 ms. Each level has
//! [`SLOTS_PER_LEVEL`] = 64 slots, and a slot of level `n` spans 64ⁿ ticks, so a whole
//! level spans 64ⁿ⁺¹ ticks — exactly one slot of the level above.
//!
//! | level | slot width            | level range (64 slots)        |
//! |-------|-----------------------|-------------------------------|
//! | 0     | 1 ms                  | 64 ms                         |
//! | 1     | 64 ms                 | 4 096 ms ≈ 4.1 s              |
//! | 2     | 4.096 s               | 262 s ≈ 4.4 min               |
//! | 3     | ≈ 4.4 min             | ≈ 4.7 h (2²⁴ ms)              |
//! | 4     | ≈ 4.7 h               | ≈ 12.4 days (2³⁰ ms)          |
//! | 5     | ≈ 12.4 days           | ≈ 2.2 years (2³⁶ ms)          |
//!
//! [`MAX_DURATION`] = 2³⁶ − 1 ticks is therefore the farthest a deadline may lie ahead
//! of the wheel's clock; the wheel saturates farther deadlines to it.
//!
//! # Where an entry sits
//!
//! An entry with deadline `d`, on a wheel whose clock reads `elapsed` (`d > elapsed`),
//! sits on the level of the highest 6-bit group in which `d` and `elapsed` differ
//! ([`level_for`]), in the slot given by `d`'s bits of that group ([`slot_for`]). The
//! slot's start is then later than `elapsed` and at or before `d`, and nothing in the
//! slot can fire before the slot starts. When the clock reaches the start, the wheel
//! empties the slot: entries whose deadline is the start fire, the others are placed
//! again relative to the new clock, which puts them on a lower level ("cascading").
//!
//! Rules that follow (checked by `Wheel::check_invariants`):
//! 1. On levels 0–4 only slots *after* the clock's own slot on that level are occupied.
//! 2. On level 5, slots after the clock's slot belong to the current lap of the level,
//!    slots at or before it to the next lap (a deadline less than 2³⁶ ticks ahead can
//!    cross one lap boundary, never two).
//! 3. Every occupied slot of level `n` starts before every occupied slot of level
//!    `n + 1`, so the lowest non-empty level holds the next expiration.
//! 4. Bit `s` of a level's occupancy bitmap is set exactly when slot `s` is non-empty.

use slab::Slab;

use crate::list::{Linked, List};

/// Number of levels of the wheel.
pub(crate) const LEVEL_COUNT: usize = 6;

/// log2 of the number of slots per level: the width, in bits of a tick count, of one
/// level's slot index.
const SLOT_BITS: u32 = 6;

/// Number of slots per level (64: one bit per slot in a `u64` bitmap).
pub(crate) const SLOTS_PER_LEVEL: usize = 1 << SLOT_BITS;

/// Mask of the slot index bits (the low [`SLOT_BITS`] bits).
const SLOT_MASK: u64 = SLOTS_PER_LEVEL as u64 - 1;

/// The farthest a deadline may lie ahead of [`Wheel::elapsed`](crate::Wheel::elapsed),
/// in ticks: 2³⁶ − 1 (about 2.2 years at 1 ms per tick, the range of the top level).
///
/// [`Wheel::insert`](crate::Wheel::insert) and [`Wheel::reset`](crate::Wheel::reset)
/// saturate a farther deadline (up to `u64::MAX`, e.g. from `Duration::MAX`) to
/// `elapsed + MAX_DURATION`.
pub const MAX_DURATION: u64 = (1 << (SLOT_BITS * LEVEL_COUNT as u32)) - 1;

const _: () = assert!(
    SLOTS_PER_LEVEL == u64::BITS as usize,
    "one bitmap bit per slot"
);

/// Ticks covered by one slot of `level`: 64^level.
pub(crate) const fn slot_range(level: usize) -> u64 {
    1 << (SLOT_BITS * level as u32)
}

/// Ticks covered by all slots of `level`: 64^(level + 1).
pub(crate) const fn level_range(level: usize) -> u64 {
    slot_range(level) << SLOT_BITS
}

/// The level on which an entry due at `deadline` sits when the clock reads `elapsed`.
///
/// Requires `elapsed < deadline <= elapsed + MAX_DURATION`.
pub(crate) fn level_for(elapsed: u64, deadline: u64) -> usize {
    debug_assert!(elapsed < deadline && deadline - elapsed <= MAX_DURATION);
    // The highest differing bit decides; the `| SLOT_MASK` makes level 0 the floor, and
    // the cap sends a deadline in the next lap of the top level to the top level.
    let differing = ((elapsed ^ deadline) | SLOT_MASK).min(MAX_DURATION);
    let highest_bit = u64::BITS - 1 - differing.leading_zeros();
    (highest_bit / SLOT_BITS) as usize
}

/// The slot of `level` that holds an entry due at `deadline`.
pub(crate) fn slot_for(deadline: u64, level: usize) -> usize {
    ((deadline >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize
}

/// The next slot to empty: the earliest occupied slot of the wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expiration {
    /// The slot's level.
    pub(crate) level: usize,
    /// The slot's index in its level.
    pub(crate) slot: usize,
    /// The tick at which the slot starts: the clock value at which it is emptied.
    pub(crate) tick: u64,
}

/// One level of the wheel: 64 FIFO slot lists and the bitmap of the non-empty ones.
#[derive(Debug)]
pub(crate) struct Level {
    /// This level's number, 0 (finest) to `LEVEL_COUNT - 1`.
    level: usize,
    /// Bit `s` is set exactly when `slots[s]` is non-empty.
    occupied: u64,
    /// The entries of each slot, oldest first.
    slots: [List; SLOTS_PER_LEVEL],
}

impl Level {
    /// An empty level number `level`.
    pub(crate) fn new(level: usize) -> Self {
        debug_assert!(level < LEVEL_COUNT);
        Level {
            level,
            occupied: 0,
            slots: [List::new(); SLOTS_PER_LEVEL],
        }
    }

    /// The occupancy bitmap (bit `s` set when slot `s` is non-empty).
    pub(crate) fn occupied(&self) -> u64 {
        self.occupied
    }

    /// The list of `slot`.
    pub(crate) fn slot(&self, slot: usize) -> &List {
        &self.slots[slot]
    }

    /// Appends entry `index` to `slot`.
    pub(crate) fn push_back<N: Linked>(&mut self, nodes: &mut Slab<N>, index: usize, slot: usize) {
        self.slots[slot].push_back(nodes, index);
        self.occupied |= 1 << slot;
    }

    /// Unlinks entry `index` from `slot`, where it must be.
    pub(crate) fn unlink<N: Linked>(&mut self, nodes: &mut Slab<N>, index: usize, slot: usize) {
        debug_assert!(self.is_occupied(slot));
        self.slots[slot].unlink(nodes, index);
        if self.slots[slot].is_empty() {
            self.occupied &= !(1 << slot);
        }
    }

    /// Detaches the whole list of `slot`, leaving the slot empty.
    pub(crate) fn take_slot(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        std::mem::take(&mut self.slots[slot])
    }

    /// Whether `slot` holds an entry, per the bitmap (for debug assertions).
    pub(crate) fn is_occupied(&self, slot: usize) -> bool {
        self.occupied & (1 << slot) != 0
    }

    /// The tick at which `slot` next starts after the clock reading `elapsed`.
    ///
    /// On levels 0–4 that is in the clock's current lap of the level (rule 1 of the
    /// module docs); on level 5 a slot at or before the clock's slot starts in the next
    /// lap (rule 2). Only meaningful for a slot that may hold entries under those rules.
    pub(crate) fn slot_start(&self, slot: usize, elapsed: u64) -> u64 {
        let lap_start = elapsed & !(level_range(self.level) - 1);
        let start = lap_start + slot as u64 * slot_range(self.level);
        if start > elapsed {
            start
        } else {
            debug_assert_eq!(self.level, LEVEL_COUNT - 1, "a lower level wrapped around");
            // Cannot overflow while the slot holds an entry: its deadline is at or after
            // this start and fits in a u64.
            start + level_range(self.level)
        }
    }

    /// The earliest occupied slot after the clock reading `elapsed`, found from the
    /// bitmap without looking at any slot.
    pub(crate) fn next_occupied_slot(&self, elapsed: u64) -> Option<Expiration> {
        if self.occupied == 0 {
            return None;
        }
        // Search from the slot after the clock's own slot, wrapping around: on level 5
        // the clock's slot itself (when occupied) belongs to the next lap, so it comes last.
        let clock_slot = slot_for(elapsed, self.level);
        let first = (clock_slot + 1) % SLOTS_PER_LEVEL;
        let distance = self.occupied.rotate_right(first as u32).trailing_zeros() as usize;
        let slot = (first + distance) % SLOTS_PER_LEVEL;
        Some(Expiration {
            level: self.level,
            slot,
            tick: self.slot_start(slot, elapsed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_table() {
        assert_eq!(level_range(0), 64);
        assert_eq!(level_range(1), 4_096);
        assert_eq!(level_range(2), 262_144);
        assert_eq!(level_range(3), 16_777_216);
        assert_eq!(level_range(4), 1_073_741_824);
        assert_eq!(level_range(5), 68_719_476_736);
        assert_eq!(MAX_DURATION, level_range(LEVEL_COUNT - 1) - 1);
        for level in 1..LEVEL_COUNT {
            assert_eq!(slot_range(level), level_range(level - 1));
        }
        // About 2.2 years of milliseconds.
        let years = MAX_DURATION as f64 / 1000.0 / 86_400.0 / 365.25;
        assert!((2.1..2.3).contains(&years), "{years}");
    }

    #[test]
    fn level_for_boundaries() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4_095), 1);
        assert_eq!(level_for(0, 4_096), 2);
        assert_eq!(level_for(0, MAX_DURATION), 5);
        // Relative to the clock's position, not only the distance.
        assert_eq!(level_for(63, 64), 1);
        assert_eq!(level_for(64, 127), 0);
        // The next lap of the top level stays on the top level.
        assert_eq!(level_for(MAX_DURATION, MAX_DURATION + 1), 5);
        assert_eq!(slot_for(MAX_DURATION + 1, 5), 0);
    }

    #[test]
    fn top_level_wraps_to_the_next_lap() {
        let mut nodes: Slab<crate::entry::Entry<()>> = Slab::new();
        let mut level = Level::new(5);
        let elapsed = MAX_DURATION - 5; // clock in slot 63 of level 5
        let index = nodes.insert(crate::entry::Entry::new((), 0, 0));
        level.push_back(&mut nodes, index, 63); // next lap's slot 63
        let index = nodes.insert(crate::entry::Entry::new((), 0, 1));
        level.push_back(&mut nodes, index, 0); // next lap's slot 0
        let next = level.next_occupied_slot(elapsed).unwrap();
        assert_eq!((next.slot, next.tick), (0, MAX_DURATION + 1));
        assert_eq!(
            level.slot_start(63, elapsed),
            MAX_DURATION + 1 + 63 * slot_range(5)
        );
    }
}
