//! Lock striping shared by the hooks of this crate.
//!
//! Hook events arrive on every worker thread at once, so no tool keeps its state behind
//! one lock. Two ways to split it:
//!
//! - [`ById`]: a table keyed by [`AsyncId`], striped by id. Events of one resource always
//!   land on the same stripe; events of different resources rarely meet.
//! - [`PerThread`]: one slot per thread that emits events (indexed by [`thread_slot`]),
//!   for data a thread only appends to (histograms, ring buffers). A thread locks its own
//!   slot, uncontended except while a reader merges.

use hookrt::hooks::AsyncId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A fast hasher for the small keys of the hot tables (async ids, location
/// addresses): a multiply-rotate per word, as FxHash does. Not DoS-resistant, which is
/// fine for ids the runtime hands out.
#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Stripes of a [`ById`] table and slots of a [`PerThread`] (a power of two).
pub(crate) const SHARDS: usize = 64;

/// Locks a mutex, ignoring poisoning: a hook never panics while holding one of these,
/// and a report built from half-updated counters is still better than none.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A table keyed by async id, striped over [`SHARDS`] mutexes.
#[derive(Debug)]
pub(crate) struct ById<V> {
    stripes: Box<[Mutex<FastMap<AsyncId, V>>]>,
}

impl<V> ById<V> {
    pub(crate) fn new() -> ById<V> {
        ById {
            stripes: (0..SHARDS)
                .map(|_| Mutex::new(FastMap::default()))
                .collect(),
        }
    }

    /// The stripe that holds `id`, locked.
    pub(crate) fn stripe(&self, id: AsyncId) -> MutexGuard<'_, FastMap<AsyncId, V>> {
        // Ids come in per-thread blocks of consecutive numbers: the low bits spread
        // them well, and a multiplicative hash spreads any other pattern.
        let h = id.as_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        lock(&self.stripes[h as usize % SHARDS])
    }

    pub(crate) fn insert(&self, id: AsyncId, value: V) {
        self.stripe(id).insert(id, value);
    }

    pub(crate) fn remove(&self, id: AsyncId) -> Option<V> {
        self.stripe(id).remove(&id)
    }

    /// Runs `f` on the value of `id`, if present.
    pub(crate) fn with<R>(&self, id: AsyncId, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.stripe(id).get_mut(&id).map(f)
    }
}

/// One value per emitting thread (threads beyond [`SHARDS`] share slots).
#[derive(Debug)]
pub(crate) struct PerThread<T> {
    slots: Box<[Mutex<T>]>,
}

impl<T> PerThread<T> {
    pub(crate) fn new(mut init: impl FnMut() -> T) -> PerThread<T> {
        PerThread {
            slots: (0..SHARDS).map(|_| Mutex::new(init())).collect(),
        }
    }

    /// The calling thread's slot, locked.
    pub(crate) fn local(&self) -> MutexGuard<'_, T> {
        lock(&self.slots[thread_slot() % SHARDS])
    }

    /// Every slot, one locked at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        for slot in self.slots.iter() {
            f(&lock(slot));
        }
    }

    /// Every slot mutably, one locked at a time.
    pub(crate) fn for_each_mut(&self, mut f: impl FnMut(&mut T)) {
        for slot in self.slots.iter() {
            f(&mut lock(slot));
        }
    }
}

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
static THREAD_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static SLOT: usize = {
        let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
        let current = std::thread::current();
        let name = match current.name() {
            Some(n) => format!("{n} (#{slot})"),
            None => format!("thread #{slot}"),
        };
        let mut names = lock(&THREAD_NAMES);
        if names.len() <= slot {
            names.resize(slot + 1, String::new());
        }
        names[slot] = name;
        slot
    };
}

/// A small number naming the calling thread, stable for its life, given out in the
/// order threads first ask (slots are never reused).
pub(crate) fn thread_slot() -> usize {
    SLOT.try_with(|s| *s).unwrap_or(usize::MAX / 2)
}

/// The display name recorded for a thread slot.
pub(crate) fn thread_name(slot: usize) -> String {
    lock(&THREAD_NAMES)
        .get(slot)
        .cloned()
        .unwrap_or_else(|| format!("thread #{slot}"))
}
