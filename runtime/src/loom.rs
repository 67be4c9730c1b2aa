//! The loom switch: std's atomics and cells normally, loom's under `cfg(loom)`, behind one
//! API so that the same code (and the same test bodies) run in both modes.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Condvar, Mutex};
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::atomic;
    // `Arc` only under loom: the loom run queues (`multi_thread/queue.rs`) share one deque
    // between its `Local` and `Thief` ends, and loom checks that it is freed.
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::sync::{Condvar, Mutex};
}

/// `UnsafeCell` with loom's closure API in both modes, so access is tracked under loom.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Runs `f` once normally, or under every interleaving loom explores under `cfg(loom)`.
#[cfg(all(test, not(loom)))]
#[allow(dead_code)]
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    f()
}

/// Runs `f` once normally, or under every interleaving loom explores under `cfg(loom)`.
#[cfg(all(test, loom))]
#[allow(dead_code)]
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model(f)
}
