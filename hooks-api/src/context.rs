//! The async context frame: an immutable, reference-counted set of storage values.
//!
//! This follows Node 24's `AsyncContextFrame` model. A frame never changes after it is
//! built; "setting" a value builds a new frame that shares nothing mutable with the old
//! one. The empty context is a null pointer, so carrying it costs nothing, and carrying a
//! set context (into a spawned task, say) is one pointer copy plus one refcount increment.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// A snapshot of async context: the values of every `LocalStorage` at one point.
///
/// Every task carries the context it was spawned in, and every resource remembers the
/// context it was created in ([`Resource::context`](crate::Resource::context)).
/// `Context` is cheap to clone (a pointer copy and a refcount increment, or nothing at
/// all when the context is empty).
#[derive(Clone, Default)]
pub struct Context {
    frame: Option<Arc<Frame>>,
}

/// The immutable body of a non-empty [`Context`].
struct Frame {
    /// A handful of entries at most in practice, so a linear scan beats hashing.
    entries: Box<[Entry]>,
}

/// One storage's value in a frame.
#[derive(Clone)]
struct Entry {
    key: StorageKey,
    value: Arc<dyn Any + Send + Sync>,
}

/// Identifies one storage slot inside frames: the address of its (static) owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StorageKey(pub(crate) usize);

impl Context {
    /// The empty context: no storage has a value.
    pub const fn empty() -> Context {
        Context { frame: None }
    }

    /// The context of the current execution (an empty one outside any runtime).
    pub fn current() -> Context {
        crate::frame::current_context()
    }

    /// Whether no storage has a value in this context.
    pub fn is_empty(&self) -> bool {
        self.frame.is_none()
    }

    /// Runs `f` with this context as the current one, then restores the previous context
    /// (also when `f` panics). The execution and trigger ids are left as they are.
    pub fn run_sync<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = crate::frame::replace_context(self.clone());
        f()
    }

    /// Whether two contexts are the same frame (pointer equality).
    pub fn ptr_eq(&self, other: &Context) -> bool {
        match (&self.frame, &other.frame) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The number of storages that have a value in this context.
    pub fn len(&self) -> usize {
        self.frame.as_ref().map_or(0, |f| f.entries.len())
    }

    /// The value stored under `key`, if any.
    pub(crate) fn get_raw(&self, key: StorageKey) -> Option<&Arc<dyn Any + Send + Sync>> {
        let frame = self.frame.as_ref()?;
        frame.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// A new context equal to this one except that `key` maps to `value` (`None`
    /// removes the key). The receiver is left untouched.
    pub(crate) fn with_raw(
        &self,
        key: StorageKey,
        value: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Context {
        let old: &[Entry] = self.frame.as_ref().map_or(&[], |f| &f.entries);
        let mut entries: Vec<Entry> = old.iter().filter(|e| e.key != key).cloned().collect();
        if let Some(value) = value {
            entries.push(Entry { key, value });
        }
        if entries.is_empty() {
            Context::empty()
        } else {
            Context {
                frame: Some(Arc::new(Frame {
                    entries: entries.into_boxed_slice(),
                })),
            }
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.frame {
            None => f.write_str("Context(empty)"),
            Some(frame) => f
                .debug_struct("Context")
                .field("frame", &Arc::as_ptr(frame))
                .field("values", &frame.entries.len())
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_immutable_and_cheap_to_copy() {
        let empty = Context::empty();
        assert!(empty.is_empty());
        let key = StorageKey(0x10);
        let one = empty.with_raw(key, Some(Arc::new(5u32)));
        assert!(empty.is_empty(), "the old frame is untouched");
        assert_eq!(one.get_raw(key).unwrap().downcast_ref::<u32>(), Some(&5));
        let copy = one.clone();
        assert!(copy.ptr_eq(&one));
        let two = one.with_raw(key, Some(Arc::new(6u32)));
        assert_eq!(two.len(), 1);
        assert_eq!(one.get_raw(key).unwrap().downcast_ref::<u32>(), Some(&5));
        assert_eq!(two.get_raw(key).unwrap().downcast_ref::<u32>(), Some(&6));
        assert!(two.with_raw(key, None).is_empty());
    }
}
