//! [`Wheel`]: the hierarchical timing wheel's public API.
//!
//! The wheel owns a slab of entries, [`LEVEL_COUNT`] levels of 64 slot lists each (see
//! the level table in `level.rs`), and a *pending* list for entries whose deadline had
//! already passed when they were inserted. Its clock, `elapsed`, only moves forward, in
//! [`Wheel::advance`].
//!
//! Invariants (checked in full by [`Wheel::check_invariants`], and for the entry an
//! operation touches by `debug_assert!`s in every operation):
//! 1. A pending entry's deadline is at or before `elapsed`.
//! 2. Any other entry's deadline `d` satisfies `elapsed < d <= elapsed + MAX_DURATION`
//!    and the entry sits in the level and slot that `d` maps to relative to `elapsed`
//!    (`level_for`, `slot_for`); its `location` says so.
//! 3. The occupancy bitmaps match the slot lists; the lists hold every entry once.
//! 4. Entries with equal deadlines are in the same list, in insertion order (a `reset`
//!    counts as a new insertion). Cascading moves a slot's entries in list order, so
//!    this holds as time passes, and `advance` fires equal deadlines in that order.

mod invariants;
#[cfg(test)]
mod tests;

use std::fmt;

use slab::Slab;

use crate::entry::{Entry, Location};
use crate::key::TimerKey;
use crate::level::{level_for, slot_for, Expiration, Level, LEVEL_COUNT, MAX_DURATION};
use crate::list::List;

/// A hierarchical timing wheel of values of type `T`, keyed by [`TimerKey`].
///
/// Deadlines and the clock are tick counts (`u64`); the wheel does not know what a tick
/// is (the time driver uses milliseconds since it started). Resolution is one tick;
/// range is [`MAX_DURATION`] ticks ahead of the clock (about 2.2 years at 1 ms).
///
/// | operation | cost |
/// |---|---|
/// | [`insert`](Wheel::insert), [`remove`](Wheel::remove), [`reset`](Wheel::reset), lookups | O(1) |
/// | [`next_expiration`](Wheel::next_expiration) | O(levels): one bitmap per level |
/// | [`advance`](Wheel::advance) | O(levels) per occupied slot passed + O(1) per entry moved or fired; an entry moves down at most 5 times |
///
/// The wheel is `Send`/`Sync` when `T` is; the time driver keeps it in a `Mutex`.
///
/// ```
/// use hookrt_timer_wheel::Wheel;
///
/// let mut wheel = Wheel::new();
/// wheel.insert(100, "b");
/// wheel.insert(64, "a");
/// wheel.insert(100_000, "c");
///
/// // The soonest tick at which something may fire.
/// assert_eq!(wheel.next_expiration(), Some(64));
///
/// let mut fired = Vec::new();
/// wheel.advance(200, &mut fired);
/// let values: Vec<_> = fired.iter().map(|&(_, v)| v).collect();
/// assert_eq!(values, ["a", "b"]);
/// assert_eq!(wheel.elapsed(), 200);
/// assert_eq!(wheel.len(), 1);
/// ```
pub struct Wheel<T> {
    /// Every live entry, wherever it sits.
    entries: Slab<Entry<T>>,
    /// The levels, finest first (boxed: about 12 KiB of list heads).
    levels: Box<[Level; LEVEL_COUNT]>,
    /// Entries whose deadline was at or before `elapsed` when placed; oldest first.
    pending: List,
    /// The clock: every tick up to and including this one has been processed.
    elapsed: u64,
    /// The generation the next inserted entry gets.
    next_generation: u64,
}

impl<T> Wheel<T> {
    /// An empty wheel whose clock reads 0.
    pub fn new() -> Self {
        Wheel::with_capacity(0)
    }

    /// An empty wheel whose clock reads 0, with room for `capacity` entries before the
    /// slab reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Wheel {
            entries: Slab::with_capacity(capacity),
            levels: Box::new(std::array::from_fn(Level::new)),
            pending: List::new(),
            elapsed: 0,
            next_generation: 0,
        }
    }

    /// The clock: the last tick [`advance`](Wheel::advance) processed (0 at first).
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// The number of entries in the wheel.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the wheel holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stores `value` to fire at tick `deadline` and returns its key. O(1).
    ///
    /// - A `deadline` at or before [`elapsed`](Wheel::elapsed) fires on the next
    ///   [`advance`](Wheel::advance), whatever its `now`.
    /// - A `deadline` more than [`MAX_DURATION`] ticks after `elapsed` (any value up to
    ///   `u64::MAX`) saturates to `elapsed + MAX_DURATION`, the farthest the wheel can
    ///   represent; [`deadline`](Wheel::deadline) then reports the saturated value. A
    ///   caller that must not fire before a farther deadline (a driver honouring
    ///   `Duration::MAX`) compares it when the entry fires and inserts it again: with
    ///   about 2.2 years per lap that costs nothing.
    ///
    /// ```
    /// use hookrt_timer_wheel::{Wheel, MAX_DURATION};
    ///
    /// let mut wheel = Wheel::new();
    /// let key = wheel.insert(u64::MAX, ());
    /// assert_eq!(wheel.deadline(key), Some(MAX_DURATION));
    /// ```
    pub fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let generation = self.next_generation;
        self.next_generation += 1;
        let deadline = self.saturate(deadline);
        let index = self.entries.insert(Entry::new(value, deadline, generation));
        self.place(index);
        TimerKey::new(index, generation)
    }

    /// Removes (cancels) the entry of `key` and returns its value, or `None` if the key
    /// is stale (the entry fired or was removed). O(1).
    pub fn remove(&mut self, key: TimerKey) -> Option<T> {
        let index = self.index_of(key)?;
        self.unlink(index);
        Some(self.entries.remove(index).value)
    }

    /// Moves the entry of `key` to `new_deadline` (saturated and handled like a deadline
    /// given to [`insert`](Wheel::insert)), keeping its key. Returns `false`, changing
    /// nothing, if the key is stale. O(1).
    ///
    /// Among entries with equal deadlines, a reset entry fires after those inserted (or
    /// reset) before it, as if it had just been inserted.
    pub fn reset(&mut self, key: TimerKey, new_deadline: u64) -> bool {
        let Some(index) = self.index_of(key) else {
            return false;
        };
        self.unlink(index);
        self.entries[index].deadline = self.saturate(new_deadline);
        self.place(index);
        true
    }

    /// The (saturated) deadline of the entry of `key`, or `None` if the key is stale.
    pub fn deadline(&self, key: TimerKey) -> Option<u64> {
        Some(self.entries[self.index_of(key)?].deadline)
    }

    /// The value of the entry of `key`, or `None` if the key is stale.
    pub fn get(&self, key: TimerKey) -> Option<&T> {
        Some(&self.entries[self.index_of(key)?].value)
    }

    /// The value of the entry of `key`, mutably, or `None` if the key is stale.
    pub fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let index = self.index_of(key)?;
        Some(&mut self.entries[index].value)
    }

    /// The earliest tick at which [`advance`](Wheel::advance) could fire something, or
    /// `None` if the wheel is empty. O(levels), from the occupancy bitmaps.
    ///
    /// - With pending entries (deadline at or before the clock) it is
    ///   [`elapsed`](Wheel::elapsed).
    /// - Otherwise it is the start of the earliest occupied slot. For an entry on level 0
    ///   that is its deadline; when the earliest entry sits on a coarser level it is the
    ///   start of that entry's slot, earlier than the deadline: advancing there fires
    ///   nothing but moves the slot's entries to finer levels, after which
    ///   `next_expiration` is exact or closer.
    ///
    /// It is never later than the earliest deadline, so a driver that sleeps until it
    /// and then advances never fires late.
    ///
    /// ```
    /// use hookrt_timer_wheel::Wheel;
    ///
    /// let mut wheel = Wheel::new();
    /// wheel.insert(100, ()); // level 1, slot [64, 128)
    /// assert_eq!(wheel.next_expiration(), Some(64));
    /// let mut fired = Vec::new();
    /// wheel.advance(64, &mut fired); // cascades the entry to level 0
    /// assert!(fired.is_empty());
    /// assert_eq!(wheel.next_expiration(), Some(100));
    /// ```
    pub fn next_expiration(&self) -> Option<u64> {
        if self.pending.is_empty() {
            self.next_occupied_slot().map(|expiration| expiration.tick)
        } else {
            Some(self.elapsed)
        }
    }

    /// Moves the clock to `now`, processing every tick up to and including it, and
    /// appends to `fired` every entry whose deadline is at or before `now`, as
    /// `(key, value)`, sorted by deadline; equal deadlines in insertion order (a
    /// [`reset`](Wheel::reset) counts as an insertion). Entries with farther deadlines
    /// cascade to finer levels as their slots start.
    ///
    /// The wheel jumps from one occupied slot to the next through the bitmaps, so a
    /// large jump over an empty or sparse wheel is cheap. Pending entries fire even when
    /// `now == elapsed`. A `now` before [`elapsed`](Wheel::elapsed) does nothing: the
    /// clock never goes back. Afterwards `elapsed() == max(now, old elapsed)`.
    ///
    /// `fired` is only appended to; the caller keeps and clears the buffer, so firing
    /// allocates nothing in steady state. `advance(u64::MAX, ..)` fires every entry
    /// (e.g. at shutdown).
    pub fn advance(&mut self, now: u64, fired: &mut Vec<(TimerKey, T)>) {
        if now < self.elapsed {
            return;
        }
        self.fire_pending(fired);
        while let Some(expiration) = self.next_occupied_slot() {
            if expiration.tick > now {
                break;
            }
            self.elapsed = expiration.tick;
            self.empty_slot(expiration, fired);
        }
        self.elapsed = now;
        debug_assert!(self.pending.is_empty());
        debug_assert!(self.next_expiration().is_none_or(|next| next > now));
    }

    /// `deadline`, saturated to the farthest deadline the wheel can hold.
    fn saturate(&self, deadline: u64) -> u64 {
        deadline.min(self.elapsed.saturating_add(MAX_DURATION))
    }

    /// The slab index of `key`'s entry, if the key is not stale.
    fn index_of(&self, key: TimerKey) -> Option<usize> {
        let entry = self.entries.get(key.index())?;
        (entry.generation == key.generation()).then_some(key.index())
    }

    /// The earliest occupied slot: the first one of the lowest non-empty level.
    fn next_occupied_slot(&self) -> Option<Expiration> {
        let expiration = self
            .levels
            .iter()
            .find_map(|level| level.next_occupied_slot(self.elapsed))?;
        debug_assert!(self.is_earliest_slot(expiration));
        Some(expiration)
    }

    /// Puts entry `index`, which is in no list, where its deadline maps to relative to
    /// the clock: the pending list, or its level and slot.
    fn place(&mut self, index: usize) {
        let deadline = self.entries[index].deadline;
        let location = if deadline <= self.elapsed {
            self.pending.push_back(&mut self.entries, index);
            Location::Pending
        } else {
            let level = level_for(self.elapsed, deadline);
            let slot = slot_for(deadline, level);
            self.levels[level].push_back(&mut self.entries, index, slot);
            Location::slot(level, slot)
        };
        self.entries[index].location = location;
        debug_assert!(self.is_placed_correctly(index));
    }

    /// Takes entry `index` out of the list it is in.
    fn unlink(&mut self, index: usize) {
        debug_assert!(self.is_placed_correctly(index));
        match self.entries[index].location {
            Location::Pending => self.pending.unlink(&mut self.entries, index),
            Location::Slot { level, slot } => {
                self.levels[level as usize].unlink(&mut self.entries, index, slot as usize)
            }
        }
    }

    /// Removes entry `index`, which is in no list, and appends it to `fired`.
    fn fire(&mut self, index: usize, fired: &mut Vec<(TimerKey, T)>) {
        let entry = self.entries.remove(index);
        fired.push((TimerKey::new(index, entry.generation), entry.value));
    }

    /// Fires every pending entry, sorted by deadline (stable: ties stay in list order).
    fn fire_pending(&mut self, fired: &mut Vec<(TimerKey, T)>) {
        if self.pending.is_empty() {
            return;
        }
        let mut due = Vec::new();
        let mut pending = std::mem::take(&mut self.pending);
        while let Some(index) = pending.pop_front(&mut self.entries) {
            due.push((self.entries[index].deadline, index));
        }
        due.sort_by_key(|&(deadline, _)| deadline);
        fired.reserve(due.len());
        for (_, index) in due {
            self.fire(index, fired);
        }
    }

    /// Empties the slot of `expiration`, which starts at the clock's current tick:
    /// entries due now fire, the others cascade to a finer level.
    fn empty_slot(&mut self, expiration: Expiration, fired: &mut Vec<(TimerKey, T)>) {
        debug_assert_eq!(expiration.tick, self.elapsed);
        let mut list = self.levels[expiration.level].take_slot(expiration.slot);
        while let Some(index) = list.pop_front(&mut self.entries) {
            let deadline = self.entries[index].deadline;
            if deadline == self.elapsed {
                self.fire(index, fired);
            } else {
                debug_assert!(deadline > self.elapsed, "entry {index} was skipped");
                self.place(index);
                debug_assert!(self.is_below(index, expiration.level));
            }
        }
    }
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Wheel::new()
    }
}

impl<T> fmt::Debug for Wheel<T> {
    /// The clock, the entry count and each level's occupancy bitmap (not the values, so
    /// `T` need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let occupied: Vec<String> = self
            .levels
            .iter()
            .map(|level| format!("{:#018x}", level.occupied()))
            .collect();
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len())
            .field("has_pending", &!self.pending.is_empty())
            .field("occupied", &occupied)
            .finish()
    }
}
