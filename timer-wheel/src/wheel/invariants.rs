//! The wheel's invariant checks: [`Wheel::check_invariants`] (all of them, O(len)) and
//! the O(1) helpers the operations call "for debug assertions".

use super::Wheel;
use crate::entry::Location;
use crate::level::{level_for, slot_for, slot_range, Expiration, MAX_DURATION, SLOTS_PER_LEVEL};

impl<T> Wheel<T> {
    /// Checks every invariant of the wheel, panicking with a description of the first
    /// one that does not hold. For tests and debug assertions.
    ///
    /// Costs O(len + 6 × 64), so the wheel's own operations do not call it; they
    /// `debug_assert!` the invariants of the entry they touch instead. Tests call it
    /// after each operation. Checked:
    /// - every pending entry is due (deadline at or before [`elapsed`](Wheel::elapsed));
    /// - every other entry is due within `(elapsed, elapsed + MAX_DURATION]` and sits in
    ///   the level and slot its deadline maps to relative to `elapsed`, and that slot
    ///   next starts after `elapsed`, at or before the deadline, less than one slot
    ///   width before it;
    /// - each occupancy bit is set exactly when its slot's list is non-empty, and the
    ///   lists' links are consistent;
    /// - every occupied slot of a level starts before every occupied slot of the next
    ///   level up (so the lowest non-empty level holds the next expiration);
    /// - the lists hold [`len`](Wheel::len) entries in all, each with a generation
    ///   below the next one to be issued.
    ///
    /// ```
    /// use hookrt_timer_wheel::Wheel;
    ///
    /// let mut wheel = Wheel::new();
    /// wheel.insert(5_000, ());
    /// wheel.check_invariants();
    /// ```
    pub fn check_invariants(&self) {
        let elapsed = self.elapsed;
        let mut listed = 0;
        for index in self.pending.iter(&self.entries) {
            let entry = &self.entries[index];
            assert_eq!(
                entry.location,
                Location::Pending,
                "entry {index} is in the pending list"
            );
            assert!(
                entry.deadline <= elapsed,
                "pending entry {index} is due at {} after the clock {elapsed}",
                entry.deadline
            );
            assert!(entry.generation < self.next_generation);
            listed += 1;
        }
        let mut previous_level_last_start = None;
        for (level_index, level) in self.levels.iter().enumerate() {
            let mut first_start = None;
            let mut last_start = None;
            for slot in 0..SLOTS_PER_LEVEL {
                let list = level.slot(slot);
                assert_eq!(
                    level.is_occupied(slot),
                    !list.is_empty(),
                    "occupancy bit of level {level_index} slot {slot}"
                );
                if list.is_empty() {
                    continue;
                }
                let start = level.slot_start(slot, elapsed);
                assert!(
                    start > elapsed,
                    "level {level_index} slot {slot} starts in the past"
                );
                first_start = Some(first_start.map_or(start, |first: u64| first.min(start)));
                last_start = last_start.max(Some(start));
                for index in list.iter(&self.entries) {
                    let entry = &self.entries[index];
                    let deadline = entry.deadline;
                    assert_eq!(
                        entry.location,
                        Location::slot(level_index, slot),
                        "entry {index} is listed in level {level_index} slot {slot}"
                    );
                    assert!(
                        deadline > elapsed && deadline - elapsed <= MAX_DURATION,
                        "entry {index}: deadline {deadline} out of range at clock {elapsed}"
                    );
                    assert_eq!(
                        level_for(elapsed, deadline),
                        level_index,
                        "entry {index}: deadline {deadline} on the wrong level at clock {elapsed}"
                    );
                    assert_eq!(
                        slot_for(deadline, level_index),
                        slot,
                        "entry {index}: deadline {deadline} in the wrong slot"
                    );
                    assert!(
                        start <= deadline && deadline - start < slot_range(level_index),
                        "entry {index}: deadline {deadline} not within its slot starting at {start}"
                    );
                    assert!(
                        entry.generation < self.next_generation,
                        "entry {index}: generation"
                    );
                    listed += 1;
                }
            }
            if let (Some(below), Some(first)) = (previous_level_last_start, first_start) {
                assert!(
                    below < first,
                    "level {level_index} starts before the level below ends"
                );
            }
            previous_level_last_start = last_start.or(previous_level_last_start);
        }
        assert_eq!(listed, self.entries.len(), "entries outside every list");
    }

    /// Whether entry `index` sits where its deadline maps to relative to the clock,
    /// with its slot's occupancy bit set (for debug assertions). O(1).
    pub(super) fn is_placed_correctly(&self, index: usize) -> bool {
        let entry = &self.entries[index];
        match entry.location {
            Location::Pending => entry.deadline <= self.elapsed,
            Location::Slot { level, slot } => {
                let (level, slot) = (level as usize, slot as usize);
                entry.deadline > self.elapsed
                    && entry.deadline - self.elapsed <= MAX_DURATION
                    && level_for(self.elapsed, entry.deadline) == level
                    && slot_for(entry.deadline, level) == slot
                    && self.levels[level].is_occupied(slot)
            }
        }
    }

    /// Whether no level has an occupied slot starting before `expiration`'s (for debug
    /// assertions). O(levels).
    pub(super) fn is_earliest_slot(&self, expiration: Expiration) -> bool {
        self.levels
            .iter()
            .filter_map(|level| level.next_occupied_slot(self.elapsed))
            .all(|other| other.tick >= expiration.tick)
    }

    /// Whether entry `index` sits on a level finer than `level` (for debug assertions).
    pub(super) fn is_below(&self, index: usize, level: usize) -> bool {
        matches!(self.entries[index].location, Location::Slot { level: l, .. } if (l as usize) < level)
    }
}
