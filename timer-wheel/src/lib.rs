//! A hierarchical timing wheel: the data structure under hookrt's time driver.
//!
//! [`Wheel<T>`] stores values under integer deadlines measured in *ticks* (the runtime's
//! time driver uses milliseconds since the driver started) and hands them back, in
//! deadline order, when [`Wheel::advance`] moves its clock past them. It is a pure data
//! structure: it has no time source, starts no threads and knows nothing about tasks,
//! wakers or hooks. The driver wraps it in a `Mutex`, converts `Instant`s to ticks, and
//! runs what fires outside the lock.
//!
//! - 6 levels × 64 slots at 1 tick resolution: about 2.2 years of range at 1 ms per tick
//!   (the level table is documented, and defined, in the `level` module).
//! - Entries live in a `slab`; each slot is an intrusive doubly-linked list through slab
//!   indices, so [`Wheel::insert`], [`Wheel::remove`] and [`Wheel::reset`] are O(1).
//! - Each level keeps a 64-bit occupancy bitmap, so [`Wheel::next_expiration`] and
//!   [`Wheel::advance`] find the next occupied slot with `trailing_zeros`, never by
//!   scanning slots or stepping tick by tick.
//! - As time passes, entries cascade from coarse levels down to finer ones, and fire
//!   from level 0 (or straight from a coarse slot whose start is their deadline).
//! - A deadline at or before [`Wheel::elapsed`] fires on the next `advance`; a deadline
//!   more than [`MAX_DURATION`] ticks ahead (up to `u64::MAX`) saturates to
//!   `elapsed + MAX_DURATION` instead of overflowing.
//! - [`TimerKey`]s carry a generation, so a stale key (its entry removed and the slab
//!   slot reused) is detected and touches nothing.
//!
//! ```
//! use hookrt_timer_wheel::Wheel;
//!
//! let mut wheel = Wheel::new();
//! let late = wheel.insert(5_000, "late");
//! let early = wheel.insert(30, "early");
//! wheel.remove(late);
//!
//! let mut fired = Vec::new();
//! wheel.advance(10_000, &mut fired);
//! assert_eq!(fired, vec![(early, "early")]);
//! assert!(wheel.is_empty());
//! ```

mod driver;
mod entry;
mod key;
mod level;
mod list;
pub(crate) mod loom;
mod wheel;

pub use driver::{Clock, ClockError, TimeDriver, Timer, Unpark};
pub use key::TimerKey;
pub use level::MAX_DURATION;
pub use wheel::Wheel;
