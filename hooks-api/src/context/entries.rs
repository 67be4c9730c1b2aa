//! What a context holds: storage keys, type-checked values, and the immutable heap
//! frame that a non-empty [`Context`](super::Context) points to.

use std::any::{Any, TypeId};
use std::sync::Arc;

/// Identifies one storage slot inside frames: the address of its owner (a
/// `LocalStorage` in a `static`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StorageKey(pub(crate) usize);

/// One storage's value.
///
/// The value's concrete type is recorded next to it, so a typed read is an integer
/// compare rather than a virtual call. A key can only map to a value of another type if
/// a non-`static` storage was freed and another one reused its address; the check turns
/// that into "no value" instead of a wrong read.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: StorageKey,
    type_id: TypeId,
    value: Arc<dyn Any + Send + Sync>,
}

impl Entry {
    #[inline]
    pub(crate) fn new<T: Send + Sync + 'static>(key: StorageKey, value: Arc<T>) -> Entry {
        Entry {
            key,
            type_id: TypeId::of::<T>(),
            value,
        }
    }

    /// An entry holding a value whose type is only known at run time (tests build such
    /// "foreign" entries to check the type guard).
    #[cfg(test)]
    pub(crate) fn erased(key: StorageKey, value: Arc<dyn Any + Send + Sync>) -> Entry {
        Entry {
            key,
            type_id: (*value).type_id(),
            value,
        }
    }

    /// The value as a `T`, if it is one.
    #[inline]
    pub(crate) fn value_ref<T: 'static>(&self) -> Option<&T> {
        if self.type_id != TypeId::of::<T>() {
            return None;
        }
        let data = Arc::as_ptr(&self.value).cast::<T>();
        // The recorded type id says the value is a `T` (`Entry::new` / `erased`).
        // SAFETY: so `data` points to a live `T` owned by `self.value`, which outlives
        // the returned borrow of `self`.
        Some(unsafe { &*data })
    }

    /// A new strong reference to the value as an `Arc<T>`, if it is a `T` (one refcount
    /// increment; no virtual call).
    #[inline]
    pub(crate) fn value_arc<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        if self.type_id != TypeId::of::<T>() {
            return None;
        }
        let data = Arc::as_ptr(&self.value).cast::<T>();
        // `data` is the data pointer of an `Arc<T>` unsized to `Arc<dyn Any + ..>`.
        // SAFETY: that is what `Arc::<T>::from_raw` accepts; the count is incremented
        // first, so the new `Arc` owns its own count and `self.value` keeps its own.
        unsafe {
            Arc::increment_strong_count(data);
            Some(Arc::from_raw(data))
        }
    }

    /// The value as an `Arc<T>` if it is a `T` (for a typed take-back by its creator;
    /// no virtual call).
    pub(crate) fn into_arc<T: Send + Sync + 'static>(self) -> Option<Arc<T>> {
        if self.type_id != TypeId::of::<T>() {
            return None;
        }
        let data = Arc::into_raw(self.value).cast::<T>();
        // SAFETY: as in `value_arc`: the value was built as an `Arc<T>` and unsized; the
        // strong count `self.value` held moves into the returned `Arc`.
        Some(unsafe { Arc::from_raw(data) })
    }
}

/// The immutable body of a non-empty heap context: one entry inline (the common case
/// is a single storage, which then costs a single allocation) and the rest in a slice.
pub(crate) struct FrameInner {
    first: Entry,
    rest: Box<[Entry]>,
}

impl FrameInner {
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    #[inline]
    pub(crate) fn find(&self, key: StorageKey) -> Option<&Entry> {
        if self.first.key == key {
            return Some(&self.first);
        }
        self.rest.iter().find(|e| e.key == key)
    }

    pub(crate) fn len(&self) -> usize {
        1 + self.rest.len()
    }
}

/// Gathers the entries of a new frame, nearest setting first: a key seen once (with a
/// value or as a removal) hides every later setting of the same key.
#[derive(Default)]
pub(crate) struct FrameBuilder {
    first: Option<Entry>,
    rest: Vec<Entry>,
    /// Keys removed by an `exit` nearer than any setting of them.
    removed: Vec<StorageKey>,
}

impl FrameBuilder {
    fn seen(&self, key: StorageKey) -> bool {
        self.first.as_ref().is_some_and(|e| e.key == key)
            || self.rest.iter().any(|e| e.key == key)
            || self.removed.contains(&key)
    }

    /// Adds `key`'s setting (`None`: removed) unless a nearer one was added already.
    pub(crate) fn add(&mut self, key: StorageKey, entry: Option<&Entry>) {
        if !self.seen(key) {
            self.push(key, entry.cloned());
        }
    }

    /// As [`add`](FrameBuilder::add), taking the entry by value.
    pub(crate) fn add_owned(&mut self, key: StorageKey, entry: Option<Entry>) {
        if !self.seen(key) {
            self.push(key, entry);
        }
    }

    fn push(&mut self, key: StorageKey, entry: Option<Entry>) {
        match entry {
            None => self.removed.push(key),
            Some(entry) if self.first.is_none() => self.first = Some(entry),
            Some(entry) => self.rest.push(entry),
        }
    }

    /// Adds every entry of a heap frame (the farthest settings).
    pub(crate) fn add_frame(&mut self, frame: &FrameInner) {
        for entry in frame.entries() {
            self.add(entry.key, Some(entry));
        }
    }

    /// The frame, or `None` when no storage has a value.
    pub(crate) fn build(self) -> Option<Arc<FrameInner>> {
        let first = self.first?;
        Some(Arc::new(FrameInner {
            first,
            rest: self.rest.into_boxed_slice(),
        }))
    }
}
