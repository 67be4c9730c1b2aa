//! Tokens: how a `mio::Token` names one registration (slab index + generation), and the
//! token reserved for the driver's `mio::Waker`.
//!
//! ```text
//!  usize::BITS-1 ........ INDEX_BITS | INDEX_BITS-1 ........ 0
//!  generation                        | slab index
//! ```
//!
//! `INDEX_BITS` is 32 on 64-bit targets (24 on smaller ones), leaving 32 (8) bits of
//! generation. Each registration takes the next value of a driver-wide generation
//! counter, so when a slab slot is reused the new occupant's token differs from the old
//! one's: an event still queued for the old token (its socket deregistered or dropped
//! after the OS reported it) finds a different generation in the slot and is ignored.
//! A stale token could only match again after the counter wrapped (2^32 registrations
//! on 64-bit targets) *and* landed on the same slot.
//!
//! The slab index `INDEX_MASK` (all index bits set) is never handed out, so
//! [`WAKER`] (`usize::MAX`) can never be a registration's token.

use mio::Token;

/// How many low bits of a token hold the slab index.
const INDEX_BITS: u32 = if usize::BITS >= 64 { 32 } else { 24 };
/// The index bits.
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// How many generation values exist before the counter wraps.
const GENERATION_MASK: usize = usize::MAX >> INDEX_BITS;

/// The token of the driver's `mio::Waker` (`IoHandle::unpark`).
pub(crate) const WAKER: Token = Token(usize::MAX);

/// The most registrations one driver holds at once (slab indexes `0..MAX_REGISTRATIONS`).
pub(crate) const MAX_REGISTRATIONS: usize = INDEX_MASK;

/// The token for slab slot `index` holding generation `generation` (taken modulo the
/// generation range).
pub(crate) fn pack(index: usize, generation: usize) -> Token {
    debug_assert!(index < MAX_REGISTRATIONS, "index {index} out of range");
    Token(((generation & GENERATION_MASK) << INDEX_BITS) | index)
}

/// The slab index a token names.
pub(crate) fn index(token: Token) -> usize {
    token.0 & INDEX_MASK
}

/// The next generation after `generation`, wrapping within the generation bits.
pub(crate) fn next_generation(generation: usize) -> usize {
    generation.wrapping_add(1) & GENERATION_MASK
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn packs_and_wraps() {
        let t = pack(5, 3);
        assert_eq!(index(t), 5);
        assert_ne!(pack(5, 3), pack(5, 4), "a reused slot gets a new token");
        assert_eq!(next_generation(GENERATION_MASK), 0);
        assert_eq!(pack(0, GENERATION_MASK + 1), pack(0, 0));
    }

    #[test]
    fn the_waker_token_is_never_a_registration() {
        for generation in [0, 1, GENERATION_MASK] {
            assert_ne!(pack(MAX_REGISTRATIONS - 1, generation), WAKER);
        }
        assert_eq!(index(WAKER), INDEX_MASK);
    }
}
