//! Random trace and span ids without a new dependency.
//!
//! Each thread runs its own SplitMix64 generator (Steele, Lea and Flood, "Fast
//! splittable pseudorandom number generators", 2014), seeded once from std's
//! `RandomState` (randomly keyed SipHash) over the thread id, the time and a process
//! counter. Ids only have to be unique and unpredictable enough to avoid collisions
//! between services; they are not secrets, so a cryptographic generator is not needed.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::{SpanId, TraceId};

/// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

thread_local! {
    /// This thread's generator state; 0 means "not seeded yet".
    static STATE: Cell<u64> = const { Cell::new(0) };
}

/// A fresh, randomly keyed seed; never 0.
fn seed() -> u64 {
    static SEEDS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    SEEDS.fetch_add(1, Ordering::Relaxed).hash(&mut hasher);
    std::thread::current().id().hash(&mut hasher);
    SystemTime::now().hash(&mut hasher);
    hasher.finish() | 1
}

/// The next 64 random bits of this thread's generator.
fn next_u64() -> u64 {
    STATE.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = seed();
        }
        s = s.wrapping_add(GOLDEN_GAMMA);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A random, valid (non-zero) trace id.
pub(super) fn trace_id() -> TraceId {
    loop {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&next_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&next_u64().to_be_bytes());
        let id = TraceId::from_bytes(bytes);
        if id.is_valid() {
            return id;
        }
    }
}

/// A random, valid (non-zero) span id.
pub(super) fn span_id() -> SpanId {
    loop {
        let id = SpanId::from_bytes(next_u64().to_be_bytes());
        if id.is_valid() {
            return id;
        }
    }
}
