//! [`HookData`]: per-resource storage for hooks (Node hooks store symbols on the
//! resource object; this is the typed equivalent).
//!
//! Every resource that emits events owns one `HookData`, next to its id and context (in
//! the task's trailer, the timer's and socket's shared state, the `AsyncResource`). It
//! holds one cell per hook of the runtime, each set at most once: the first [`INLINE`]
//! in place (a hook's value is then one pointer away from the resource, which matters
//! on a poll's hot path), the others in an array allocated when one of them is first
//! set. The values are dropped with the resource's memory, after its last event: a
//! `wake` racing with `destroy` on another thread still finds them.
//!
//! A hook reaches its own cell through the [`Resource`](crate::Resource) view it is
//! given ([`Resource::data`](crate::Resource::data),
//! [`Resource::set_data`](crate::Resource::set_data)): the dispatcher tells each view
//! which cell belongs to the hook being called. So a hook keeps its per-resource state
//! without any table, lock or hash lookup on the hot path.

use std::any::Any;
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// One hook's state for one resource: a value set once, and a word.
#[derive(Default)]
struct Cell {
    value: OnceLock<Arc<dyn Any + Send + Sync>>,
    word: AtomicU64,
}

impl Cell {
    const fn new() -> Cell {
        Cell {
            value: OnceLock::new(),
            word: AtomicU64::new(0),
        }
    }
}

/// Cells kept in place.
const INLINE: usize = 2;

/// The storage a resource carries for the hooks of its runtime: one cell per hook, each
/// a value set at most once and a word.
///
/// Runtimes and drivers own one per resource and attach it to the views they emit
/// ([`Resource::with_data`](crate::Resource::with_data)); hooks reach their own cell
/// through [`Resource::data`](crate::Resource::data),
/// [`Resource::set_data`](crate::Resource::set_data) and
/// [`Resource::word`](crate::Resource::word). The first two cells are in place; the
/// values are dropped with the `HookData`, which its owner keeps until after the
/// resource's last event.
pub struct HookData {
    inline: [Cell; INLINE],
    /// The cells of hooks `INLINE..`: null until one is first set, then owned by this
    /// value (freed in `drop`).
    more: AtomicPtr<Box<[Cell]>>,
}

impl Default for HookData {
    fn default() -> HookData {
        HookData::new()
    }
}

impl HookData {
    /// Empty storage (no allocation).
    pub const fn new() -> HookData {
        HookData {
            inline: [Cell::new(), Cell::new()],
            more: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn more(&self) -> Option<&[Cell]> {
        let more = self.more.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `more_or_init`,
        // published with release ordering (paired with the acquire above), and is freed
        // only by `drop`, which has `&mut self`.
        unsafe { more.as_ref() }.map(|b| &b[..])
    }

    fn more_or_init(&self, count: usize) -> &[Cell] {
        if let Some(more) = self.more() {
            return more;
        }
        let cells: Box<[Cell]> = (INLINE..count).map(|_| Cell::new()).collect();
        let fresh = Box::into_raw(Box::new(cells));
        match self.more.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `fresh` is now owned by `self.more` (see `more`).
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` lost the race and was never shared: reclaim it.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: `winner` is the published pointer (see `more`).
                unsafe { &*winner }
            }
        }
    }

    fn cell(&self, index: usize) -> Option<&Cell> {
        match self.inline.get(index) {
            Some(cell) => Some(cell),
            None => self.more()?.get(index - INLINE),
        }
    }

    /// The value in cell `index`, if it was set.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Arc<dyn Any + Send + Sync>> {
        self.cell(index)?.value.get()
    }

    /// The word of cell `index` of `count` (allocating the cells beyond the inline
    /// ones on first use); `None` when `index` is out of range.
    #[inline]
    pub(crate) fn word(&self, index: usize, count: usize) -> Option<&AtomicU64> {
        match self.inline.get(index) {
            Some(cell) => Some(&cell.word),
            None if index < count => Some(&self.more_or_init(count).get(index - INLINE)?.word),
            None => None,
        }
    }

    /// Sets cell `index` of `count` (the number of cells a runtime's hook set needs)
    /// unless it is set already; returns the value the cell holds afterwards, or `None`
    /// when `index` is out of range.
    pub(crate) fn set(
        &self,
        index: usize,
        count: usize,
        value: Arc<dyn Any + Send + Sync>,
    ) -> Option<&Arc<dyn Any + Send + Sync>> {
        if index >= count {
            return None;
        }
        let cell = match self.inline.get(index) {
            Some(cell) => cell,
            None => self.more_or_init(count).get(index - INLINE)?,
        };
        Some(cell.value.get_or_init(|| value))
    }
}

impl Drop for HookData {
    fn drop(&mut self) {
        let more = *self.more.get_mut();
        if !more.is_null() {
            // SAFETY: owned since `more_or_init` published it; nobody else can reach it
            // (`&mut self`).
            drop(unsafe { Box::from_raw(more) });
        }
    }
}

impl fmt::Debug for HookData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let more = self.more().unwrap_or(&[]);
        let set = self
            .inline
            .iter()
            .chain(more)
            .filter(|c| c.value.get().is_some())
            .count();
        f.debug_struct("HookData").field("cells_set", &set).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_set_once_and_typed() {
        let data = HookData::new();
        assert!(data.get(0).is_none());
        let v = data.set(1, 2, Arc::new(5u32)).unwrap();
        assert_eq!(v.downcast_ref::<u32>(), Some(&5));
        let again = data.set(1, 2, Arc::new(7u32)).unwrap();
        assert_eq!(again.downcast_ref::<u32>(), Some(&5), "set once");
        assert!(data.get(0).is_none());
        assert!(data.set(2, 2, Arc::new(1u8)).is_none(), "out of range");
        let v = data.set(4, 5, Arc::new(9u64)).unwrap();
        assert_eq!(v.downcast_ref::<u64>(), Some(&9), "beyond the inline cells");
        assert_eq!(data.get(4).and_then(|v| v.downcast_ref::<u64>()), Some(&9));
        assert!(data.get(3).is_none());
        // Each cell has its own word, zero until written; beyond the range: none.
        data.word(0, 5).unwrap().store(7, Ordering::Relaxed);
        data.word(4, 5).unwrap().store(9, Ordering::Relaxed);
        assert_eq!(data.word(1, 5).unwrap().load(Ordering::Relaxed), 0);
        assert_eq!(data.word(0, 5).unwrap().load(Ordering::Relaxed), 7);
        assert_eq!(data.word(4, 5).unwrap().load(Ordering::Relaxed), 9);
        assert!(data.word(5, 5).is_none());
    }
}
