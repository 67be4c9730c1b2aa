//! A per-thread cache of value allocations for short scopes.
//!
//! `LocalStorage::run_sync` must hand readers an `Arc<T>`, so its value lives in an
//! `Arc` allocation; on this kind of machine a `malloc`/`free` pair costs about as much
//! as the whole rest of a scope. When a scope ends and nobody kept a reference to its
//! value, the value is dropped in place and the allocation is parked here, keyed by the
//! value's size and alignment, for the next scope on this thread to reuse.
//!
//! `Arc::<T>::from_raw` accepts a pointer from `Arc::<U>::into_raw` when `U` has the
//! size and alignment of `T`, which is why a block parked by one type can be reused by
//! another of the same layout (blocks are parked as `Arc<MaybeUninit<T>>`).

use std::alloc::Layout;
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::sync::Arc;

/// Parked blocks per thread: enough for a few storages used in turn.
const SLOTS: usize = 4;

/// One parked allocation: an `Arc<MaybeUninit<U>>` turned into a raw pointer, where `U`
/// has `layout`, and the function that frees it.
#[derive(Clone, Copy)]
struct Block {
    layout: Layout,
    ptr: *const (),
    free: unsafe fn(*const ()),
}

struct Pool {
    slots: [Cell<Option<Block>>; SLOTS],
}

impl Drop for Pool {
    fn drop(&mut self) {
        for slot in &self.slots {
            if let Some(block) = slot.take() {
                // SAFETY: `block.ptr` and `block.free` were parked together by `park`,
                // and taking the slot empties it, so the block is freed exactly once.
                unsafe { (block.free)(block.ptr) }
            }
        }
    }
}

thread_local! {
    static POOL: Pool = const {
        Pool { slots: [const { Cell::new(None) }; SLOTS] }
    };
}

/// Frees a parked block.
///
/// # Safety
///
/// `ptr` must come from `Arc::<MaybeUninit<T>>::into_raw` (or `Arc::<MaybeUninit<U>>`
/// with `U` of `T`'s size and alignment) and own that `Arc`'s only reference.
unsafe fn free_block<T>(ptr: *const ()) {
    // SAFETY: per the contract, this rebuilds the only `Arc`, which then frees the
    // allocation; `MaybeUninit` has no drop glue, so the (already dropped) value is not
    // dropped again.
    drop(unsafe { Arc::from_raw(ptr.cast::<MaybeUninit<T>>()) });
}

/// `Arc::new(value)`, reusing a parked allocation of the same layout when there is one.
pub(crate) fn new_arc<T>(value: T) -> Arc<T> {
    let layout = Layout::new::<T>();
    let parked = POOL
        .try_with(|pool| {
            pool.slots.iter().find_map(|slot| match slot.get() {
                Some(block) if block.layout == layout => slot.take(),
                _ => None,
            })
        })
        .ok()
        .flatten();
    let Some(block) = parked else {
        return Arc::new(value);
    };
    // Parked by `park::<U>` with `Layout::new::<U>() == layout`, unique (`get_mut`).
    // SAFETY: `U` has `MaybeUninit<T>`'s size and alignment, and the pool is
    // thread-local, so this is the only reference to the allocation.
    let uninit = unsafe { Arc::from_raw(block.ptr.cast::<MaybeUninit<T>>()) };
    // The block is unique (see above): what `Arc::get_mut` would hand out.
    // SAFETY: writing through the `Arc`'s own data pointer races with nothing while it
    // is unique.
    unsafe {
        Arc::as_ptr(&uninit)
            .cast_mut()
            .write(MaybeUninit::new(value))
    };
    // SAFETY: the value was just written.
    unsafe { uninit.assume_init() }
}

/// Drops `value`'s `T` and parks its allocation for reuse, if `value` is the only
/// reference to it (otherwise just drops this reference).
pub(crate) fn park<T>(mut value: Arc<T>) {
    if Arc::get_mut(&mut value).is_none() {
        return; // Shared: whoever holds the last reference frees it.
    }
    // From here the block is ours alone; `get_mut` synchronised with every earlier
    // holder's release of its reference.
    let raw = Arc::into_raw(value).cast::<MaybeUninit<T>>();
    // The rebuilt `Arc<MaybeUninit<T>>` never drops a `T`: a panicking `T::drop` below
    // frees the block without dropping the value twice.
    // SAFETY: `raw` comes from `Arc::<T>::into_raw`; `MaybeUninit<T>` has `T`'s layout.
    let block = unsafe { Arc::from_raw(raw) };
    // SAFETY: the allocation holds a live `T` that nobody else can reach (unique, see
    // above); it is dropped exactly once, here, and treated as uninitialised afterwards.
    unsafe { std::ptr::drop_in_place(Arc::as_ptr(&block).cast_mut().cast::<T>()) };
    let block = Block {
        layout: Layout::new::<T>(),
        ptr: Arc::into_raw(block).cast(),
        free: free_block::<T>,
    };
    let parked = POOL.try_with(
        |pool| match pool.slots.iter().find(|slot| slot.get().is_none()) {
            Some(slot) => {
                slot.set(Some(block));
                true
            }
            None => false,
        },
    );
    if parked != Ok(true) {
        // SAFETY: the block was not parked, so this is its only owner.
        unsafe { (block.free)(block.ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_parked_block_is_reused_by_a_type_of_the_same_layout() {
        let first = new_arc(7u64);
        let address = Arc::as_ptr(&first) as usize;
        park(first);
        let second = new_arc(-3i64);
        assert_eq!(Arc::as_ptr(&second) as usize, address, "reused");
        assert_eq!(*second, -3);
        park(second);
        let other_layout = new_arc(1u8);
        assert_eq!(*other_layout, 1);
        park(other_layout);
    }

    #[test]
    fn a_shared_value_is_not_parked_and_values_drop_once() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Counted;
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        let value = new_arc(Counted);
        let kept = value.clone();
        park(value);
        assert_eq!(DROPS.load(Ordering::SeqCst), 0, "still referenced");
        drop(kept);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
        let value = new_arc(Counted);
        park(value);
        assert_eq!(DROPS.load(Ordering::SeqCst), 2, "parked values are dropped");
        drop(new_arc(Counted));
        assert_eq!(DROPS.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_panicking_destructor_does_not_double_drop() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
                panic!("boom");
            }
        }
        let result = std::panic::catch_unwind(|| park(new_arc(Bomb)));
        assert!(result.is_err());
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }
}
