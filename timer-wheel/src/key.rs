//! [`TimerKey`], the handle to one entry of a wheel.

/// Names one entry of a [`Wheel`](crate::Wheel), returned by
/// [`Wheel::insert`](crate::Wheel::insert).
///
/// A key is the entry's slab index plus a generation that is unique to each insertion
/// into the wheel. Once the entry is removed or has fired, the key is *stale*: lookups
/// with it return `None` (or `false`) even when the slab slot has been reused by a newer
/// entry, which a stale key never touches. [`Wheel::reset`](crate::Wheel::reset) keeps
/// the key. A key is only meaningful for the wheel that issued it.
///
/// ```
/// use hookrt_timer_wheel::Wheel;
///
/// let mut wheel = Wheel::new();
/// let old = wheel.insert(10, 'a');
/// assert_eq!(wheel.remove(old), Some('a'));
/// let new = wheel.insert(10, 'b'); // reuses the slab slot
/// assert_ne!(old, new);
/// assert_eq!(wheel.remove(old), None);
/// assert_eq!(wheel.get(new), Some(&'b'));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerKey {
    /// Index of the entry in the wheel's slab.
    index: usize,
    /// The entry's generation, to tell it from a later entry at the same index.
    generation: u64,
}

impl TimerKey {
    /// The key of the entry at slab `index` with `generation`.
    pub(crate) fn new(index: usize, generation: u64) -> Self {
        TimerKey { index, generation }
    }

    /// The entry's slab index.
    pub(crate) fn index(self) -> usize {
        self.index
    }

    /// The entry's generation.
    pub(crate) fn generation(self) -> u64 {
        self.generation
    }
}
