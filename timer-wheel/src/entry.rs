//! What the wheel stores per timer: the value, its deadline, its key's generation,
//! where it sits, and its list links.

use crate::list::{Linked, Links};

/// Which list an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// The pending list: its deadline was at or before the clock when it was inserted
    /// (or reset), so it fires on the next `advance`.
    Pending,
    /// A slot of a level.
    Slot {
        /// The level, below `LEVEL_COUNT`.
        level: u8,
        /// The slot within the level, below `SLOTS_PER_LEVEL`.
        slot: u8,
    },
}

impl Location {
    /// The location of `slot` on `level`.
    pub(crate) fn slot(level: usize, slot: usize) -> Self {
        debug_assert!(level < crate::level::LEVEL_COUNT && slot < crate::level::SLOTS_PER_LEVEL);
        Location::Slot {
            level: level as u8,
            slot: slot as u8,
        }
    }
}

/// One timer in the wheel's slab.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    /// The caller's value, handed back when the entry fires or is removed.
    pub(crate) value: T,
    /// When the entry fires, in ticks (already saturated to the wheel's range).
    pub(crate) deadline: u64,
    /// Unique per insertion into this wheel; a `TimerKey` matches only its own entry.
    pub(crate) generation: u64,
    /// The list the entry is in.
    pub(crate) location: Location,
    /// The entry's neighbours in that list.
    pub(crate) links: Links,
}

impl<T> Entry<T> {
    /// A new entry in no list yet (its location is set when it is placed).
    pub(crate) fn new(value: T, deadline: u64, generation: u64) -> Self {
        Entry {
            value,
            deadline,
            generation,
            location: Location::Pending,
            links: Links::default(),
        }
    }
}

impl<T> Linked for Entry<T> {
    fn links(&self) -> &Links {
        &self.links
    }
    fn links_mut(&mut self) -> &mut Links {
        &mut self.links
    }
}
