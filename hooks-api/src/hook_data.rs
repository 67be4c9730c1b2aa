//! [`HookData`]: per-resource storage for hooks (Node hooks store symbols on the
//! resource object; this is the typed equivalent).
//!
//! Every resource that emits events owns one `HookData`, next to its id and context (in
//! the task's trailer, the timer's and socket's shared state, the `AsyncResource`). It
//! is one null pointer until a hook stores something (so a runtime without hooks pays
//! one word and one store per resource); the first store allocates the cells, one per
//! hook of the runtime, each set at most once ([`INLINE`] in that allocation, more in
//! an array of their own). The values are dropped with the resource's memory, after
//! its last event: a `wake` racing with `destroy` on another thread still finds them.
//!
//! A hook reaches its own cell through the [`Resource`](crate::Resource) view it is
//! given ([`Resource::data`](crate::Resource::data),
//! [`Resource::set_data`](crate::Resource::set_data)): the dispatcher tells each view
//! which cell belongs to the hook being called. So a hook keeps its per-resource state
//! without any table, lock or hash lookup on the hot path.

use std::any::Any;
use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock};

/// One hook's value for one resource.
type Cell = OnceLock<Arc<dyn Any + Send + Sync>>;

/// Cells allocated together on the first store; hooks beyond these share an array.
const INLINE: usize = 2;

#[derive(Default)]
struct Cells {
    inline: [Cell; INLINE],
    more: OnceLock<Box<[Cell]>>,
}

impl Cells {
    fn get(&self, index: usize) -> Option<&Cell> {
        match self.inline.get(index) {
            Some(cell) => Some(cell),
            None => self.more.get()?.get(index - INLINE),
        }
    }
}

/// The storage a resource carries for the hooks of its runtime. See the module docs.
pub struct HookData {
    /// Null until the first store; then owned by this value (freed in `drop`).
    cells: AtomicPtr<Cells>,
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
            cells: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn cells(&self) -> Option<&Cells> {
        let cells = self.cells.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `cells_or_init`,
        // published with release ordering (paired with the acquire above), and is freed
        // only by `drop`, which has `&mut self`.
        unsafe { cells.as_ref() }
    }

    fn cells_or_init(&self) -> &Cells {
        if let Some(cells) = self.cells() {
            return cells;
        }
        let fresh = Box::into_raw(Box::<Cells>::default());
        match self.cells.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `fresh` is now owned by `self.cells` (see `cells`).
            Ok(_) => unsafe { &*fresh },
            Err(winner) => {
                // SAFETY: `fresh` lost the race and was never shared: reclaim it.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: `winner` is the published pointer (see `cells`).
                unsafe { &*winner }
            }
        }
    }

    /// The value in cell `index`, if it was set.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Arc<dyn Any + Send + Sync>> {
        self.cells()?.get(index)?.get()
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
        let cells = self.cells_or_init();
        let cell = match cells.inline.get(index) {
            Some(cell) => cell,
            None => cells
                .more
                .get_or_init(|| (INLINE..count).map(|_| OnceLock::new()).collect())
                .get(index - INLINE)?,
        };
        Some(cell.get_or_init(|| value))
    }
}

impl Drop for HookData {
    fn drop(&mut self) {
        let cells = *self.cells.get_mut();
        if !cells.is_null() {
            // SAFETY: owned since `cells_or_init` published it; nobody else can reach it
            // (`&mut self`).
            drop(unsafe { Box::from_raw(cells) });
        }
    }
}

impl fmt::Debug for HookData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = self.cells().map_or(0, |c| {
            let more = c.more.get().map_or(&[][..], |m| &m[..]);
            c.inline
                .iter()
                .chain(more)
                .filter(|c| c.get().is_some())
                .count()
        });
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
    }
}
