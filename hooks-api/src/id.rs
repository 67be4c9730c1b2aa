//! Async ids: process-unique, never reused, allocated without a shared hot spot.

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of one asynchronous resource (a task, a timer, a socket, a blocking job,
/// a user-defined [`AsyncResource`](crate::AsyncResource)).
///
/// Ids are unique for the life of the process and never reused. [`AsyncId::ROOT`] (`1`)
/// stands for "outside any resource": it is the execution id of code that runs on a
/// thread no runtime is driving, and the trigger id of resources created there.
///
/// ```
/// use hookrt_hooks::AsyncId;
/// let a = AsyncId::allocate();
/// let b = AsyncId::allocate();
/// assert_ne!(a, b);
/// assert_ne!(a, AsyncId::ROOT);
/// assert_eq!(AsyncId::ROOT.as_u64(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsyncId(NonZeroU64);

/// How many ids a thread takes from the global counter at once.
///
/// **Rationale:** one `fetch_add` per block instead of one per resource keeps id
/// allocation off the shared cache line: with 1024 ids per block, a thread that spawns a
/// million tasks touches the global counter about a thousand times.
const BLOCK: u64 = 1024;

/// The next block to hand out. Ids start at 2 because 1 is [`AsyncId::ROOT`].
static NEXT_BLOCK_START: AtomicU64 = AtomicU64::new(2);

thread_local! {
    /// `(next, end)`: the ids this thread may still hand out, `next..end`.
    static LOCAL_BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl AsyncId {
    /// "Outside any resource": the execution id of a thread no runtime drives, and the
    /// trigger id of resources created there.
    pub const ROOT: AsyncId = AsyncId(NonZeroU64::MIN);

    /// Allocates a fresh id, distinct from every id handed out before in this process.
    ///
    /// Each thread reserves ids in blocks from one global counter, so ids from one
    /// thread increase, while ids from different threads interleave only by block.
    #[inline]
    pub fn allocate() -> AsyncId {
        let raw = LOCAL_BLOCK
            .try_with(|block| {
                let (next, end) = block.get();
                if next < end {
                    block.set((next + 1, end));
                    next
                } else {
                    let start = take_block(BLOCK);
                    block.set((start + 1, start + BLOCK));
                    start
                }
            })
            // The thread-local is gone (a destructor of another thread-local runs during
            // thread exit): take a block of one.
            .unwrap_or_else(|_| take_block(1));
        AsyncId(NonZeroU64::new(raw).expect("async ids start at 2 and never wrap"))
    }

    /// The id as a number (`1` for [`AsyncId::ROOT`]).
    #[inline]
    pub const fn as_u64(self) -> u64 {
        self.0.get()
    }

    /// Rebuilds an id from [`as_u64`](Self::as_u64); `None` for zero.
    ///
    /// This is for hooks that store ids as plain integers (in an atomic, say); it does
    /// not allocate, so the result is only meaningful for a number that came from an id.
    #[inline]
    pub const fn from_u64(raw: u64) -> Option<AsyncId> {
        match NonZeroU64::new(raw) {
            Some(n) => Some(AsyncId(n)),
            None => None,
        }
    }

    /// Whether this is [`AsyncId::ROOT`].
    #[inline]
    pub const fn is_root(self) -> bool {
        self.0.get() == 1
    }
}

fn take_block(len: u64) -> u64 {
    let start = NEXT_BLOCK_START.fetch_add(len, Ordering::Relaxed);
    // 2^64 ids at a billion per second last for centuries; a wrap would break uniqueness,
    // so refuse loudly rather than reuse.
    assert!(
        start <= u64::MAX - len,
        "hookrt: the async id space is exhausted"
    );
    start
}

impl fmt::Debug for AsyncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsyncId({})", self.0)
    }
}

impl fmt::Display for AsyncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<AsyncId> for u64 {
    fn from(id: AsyncId) -> u64 {
        id.as_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads_and_never_root() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..50_000).map(|_| AsyncId::allocate()).collect::<Vec<_>>())
            })
            .collect();
        let mut seen = HashSet::new();
        for h in handles {
            for id in h.join().unwrap() {
                assert!(!id.is_root());
                assert!(seen.insert(id), "duplicate id {id}");
            }
        }
        assert_eq!(seen.len(), 200_000);
    }

    #[test]
    fn round_trips_through_u64() {
        let id = AsyncId::allocate();
        assert_eq!(AsyncId::from_u64(id.as_u64()), Some(id));
        assert_eq!(AsyncId::from_u64(0), None);
        assert_eq!(format!("{}", AsyncId::ROOT), "1");
    }
}
