//! The time driver: one wheel per runtime, a clock, and the firing of timers as
//! resources with hook events.
//!
//! - [`TimeDriver::process`] advances the wheel to the clock's "now" under the wheel
//!   lock, then, outside the lock, fires each due timer: it claims the firing through the
//!   timer's state word, runs the timer's waker inside the timer's `before`/`after` with
//!   the execution frame set to the timer (so the woken task sees `wake(task, by =
//!   timer)`), and emits the timer's `destroy` if its owner dropped it meanwhile.
//! - [`TimeDriver::next_expiration`] tells the scheduler how long it may sleep. While a
//!   scheduler thread sleeps on it, inserting an earlier timer calls the `unpark`
//!   callback once.
//! - [`Timer`] is the owner side (inside `Sleep`, `Interval`, `Timeout`): `init` at
//!   creation, lazily inserted into the wheel on its first poll, re-armed by `reset`
//!   with its id kept, `destroy` when dropped.
//!
//! Ticks are whole milliseconds since the driver started. Deadlines round up (a timer
//! never fires early); "now" rounds down.

mod clock;
mod state;
mod timer;

pub use clock::{Clock, ClockError};
pub use timer::Timer;

use crate::loom::sync::{Arc, Mutex};
use crate::Wheel;
use hookrt_hooks::HookSet;
use std::fmt;
use std::time::{Duration, Instant};
use timer::TimerShared;

/// Wakes whatever thread sleeps until the driver's next expiration.
pub type Unpark = Box<dyn Fn() + Send + Sync>;

/// The time driver of one runtime. Cloning shares it.
#[derive(Clone)]
pub struct TimeDriver {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<DriverState>,
    /// Held while one thread advances the wheel and fires what is due, so timers fire in
    /// deadline order even when several threads process at once (the others skip: the
    /// holder fires what is due). Inserts and removes take only `state`.
    firing: Mutex<()>,
    clock: Clock,
    /// Tick 0.
    start: Instant,
    hooks: HookSet,
    unpark: Unpark,
}

struct DriverState {
    wheel: Wheel<(Arc<TimerShared>, u64)>,
    /// The tick a sleeping scheduler thread will wake at by itself; an insert earlier
    /// than this unparks it. `0` while nobody sleeps on the driver.
    sleeping_until: u64,
}

impl TimeDriver {
    /// A driver whose timers report to `hooks`, reading time from `clock`. `unpark` is
    /// called when an earlier timer is inserted while a thread sleeps on the driver.
    pub fn new(hooks: HookSet, clock: Clock, unpark: Unpark) -> TimeDriver {
        let start = clock.now();
        TimeDriver {
            inner: Arc::new(Inner {
                state: Mutex::new(DriverState {
                    wheel: Wheel::new(),
                    sleeping_until: 0,
                }),
                firing: Mutex::new(()),
                clock,
                start,
                hooks,
                unpark,
            }),
        }
    }

    /// The driver's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The current time on the driver's clock.
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// How many timers are in the wheel.
    pub fn len(&self) -> usize {
        self.inner.lock().wheel.len()
    }

    /// Whether no timer is in the wheel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the next timer may fire (`None` with no timer in the wheel). The instant
    /// may be earlier than any deadline (a coarse slot starts then); never later.
    pub fn next_expiration(&self) -> Option<Instant> {
        let state = self.inner.lock();
        state
            .wheel
            .next_expiration()
            .map(|tick| self.inner.instant_of(tick))
    }

    /// For a scheduler thread about to sleep: how long it may sleep before the next
    /// timer is due (`None`: no timer, sleep until woken). Until [`Self::woke`] is
    /// called, inserting an earlier timer calls `unpark`.
    pub fn prepare_sleep(&self) -> Option<Duration> {
        let mut state = self.inner.lock();
        match state.wheel.next_expiration() {
            Some(tick) => {
                state.sleeping_until = tick.max(1);
                let at = self.inner.instant_of(tick);
                Some(at.saturating_duration_since(self.inner.clock.now()))
            }
            None => {
                state.sleeping_until = u64::MAX;
                None
            }
        }
    }

    /// The thread that called [`Self::prepare_sleep`] is awake again.
    pub fn woke(&self) {
        self.inner.lock().sleeping_until = 0;
    }

    /// Fires every timer that is due on the clock's "now". Returns how many fired.
    pub fn process(&self) -> usize {
        let now = self.inner.tick_of_now();
        self.process_at(now)
    }

    fn process_at(&self, now: u64) -> usize {
        let Ok(_firing) = self.inner.firing.try_lock() else {
            return 0;
        };
        let mut due = Vec::new();
        {
            let mut state = self.inner.lock();
            if now < state.wheel.elapsed() {
                return 0;
            }
            state.wheel.advance(now, &mut due);
            // Deadlines past the wheel's range were capped: put back the ones whose
            // real deadline is still ahead.
            due.retain(|(_, (shared, generation))| {
                let deadline = shared.deadline_tick();
                if deadline > now && shared.state.generation() == *generation {
                    let entry = (shared.clone(), *generation);
                    let key = state.wheel.insert(deadline, entry);
                    shared.set_key(key);
                    false
                } else {
                    true
                }
            });
        }
        let mut fired = 0;
        for (_, (shared, generation)) in due {
            if shared.fire(generation, &self.inner.hooks) {
                fired += 1;
            }
        }
        fired
    }

    /// The clock's "now" in ticks (rounded down).
    pub(crate) fn now_tick(&self) -> u64 {
        self.inner.tick_of_now()
    }

    pub(crate) fn inner_hooks(&self) -> &HookSet {
        &self.inner.hooks
    }

    /// Converts a deadline to a tick (rounded up, saturating).
    pub(crate) fn tick_of(&self, deadline: Instant) -> u64 {
        self.inner.tick_of(deadline)
    }

    /// Inserts (or re-inserts) a timer; unparks a sleeping thread if it is earlier than
    /// what that thread waits for.
    ///
    /// The timer's previous entry (if any) is removed under the same lock: its key slot
    /// is only ever read or written with the wheel lock held, so a re-insert by
    /// `process_at` cannot slip between taking the old key and storing the new one.
    pub(crate) fn insert(&self, shared: &Arc<TimerShared>, generation: u64) {
        let deadline = shared.deadline_tick();
        let mut state = self.inner.lock();
        if let Some(old) = shared.take_key() {
            state.wheel.remove(old);
        }
        let key = state.wheel.insert(deadline, (shared.clone(), generation));
        shared.set_key(key);
        if deadline < state.sleeping_until {
            state.sleeping_until = 0;
            drop(state);
            (self.inner.unpark)();
        }
    }

    /// Removes a timer's entry, if it is still in the wheel (key taken under the lock).
    pub(crate) fn remove(&self, shared: &TimerShared) {
        let mut state = self.inner.lock();
        if let Some(key) = shared.take_key() {
            state.wheel.remove(key);
        }
    }
}

impl Inner {
    fn lock(&self) -> crate::loom::sync::MutexGuard<'_, DriverState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tick_of(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let ms = since.as_millis();
        let rounded_up = if since > Duration::from_millis(ms as u64) {
            ms + 1
        } else {
            ms
        };
        u64::try_from(rounded_up).unwrap_or(u64::MAX)
    }

    fn tick_of_now(&self) -> u64 {
        let since = self.clock.now().saturating_duration_since(self.start);
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    fn instant_of(&self, tick: u64) -> Instant {
        self.start
            .checked_add(Duration::from_millis(tick))
            .unwrap_or_else(|| self.start + Duration::from_secs(86_400 * 365 * 30))
    }
}

impl fmt::Debug for TimeDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeDriver")
            .field("timers", &self.len())
            .field("clock", &self.inner.clock)
            .finish()
    }
}
