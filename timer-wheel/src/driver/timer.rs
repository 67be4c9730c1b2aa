//! `Timer`: the owner side of one timer resource, and the state it shares with the
//! driver.

use super::state::TimerState;
use super::TimeDriver;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::{Arc, Mutex};
use crate::TimerKey;
use hookrt_hooks::{AsyncId, Context, HookSet, Resource, ResourceKind};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::task::{Poll, Waker};
use std::time::Instant;

/// What the driver and the owner share.
pub(crate) struct TimerShared {
    id: AsyncId,
    trigger_id: AsyncId,
    context: Context,
    location: &'static Location<'static>,
    /// The real deadline in ticks (the wheel may hold a capped one).
    deadline: AtomicU64,
    pub(crate) state: TimerState,
    waker: Mutex<Option<Waker>>,
    /// The wheel entry, if any. Read and written only with the wheel lock held.
    key: Mutex<Option<TimerKey>>,
}

impl TimerShared {
    fn resource(&self) -> Resource<'_> {
        Resource::new(self.id, self.trigger_id, ResourceKind::Timer, &self.context)
            .with_location(Some(self.location))
    }

    pub(crate) fn deadline_tick(&self) -> u64 {
        self.deadline.load(Ordering::Acquire)
    }

    pub(crate) fn set_key(&self, key: TimerKey) {
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = Some(key);
    }

    pub(crate) fn take_key(&self) -> Option<TimerKey> {
        self.key.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Driver side: fires generation `generation` if it is still current. Returns
    /// whether it fired.
    pub(crate) fn fire(&self, generation: u64, hooks: &HookSet) -> bool {
        if !self.state.begin_fire(generation) {
            return false;
        }
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        {
            let _frame = hookrt_hooks::enter(self.id, self.trigger_id, self.context.clone());
            hooks.before(&self.resource());
            if let Some(waker) = waker {
                // A foreign waker that panics must not take the driver down.
                let _ = catch_unwind(AssertUnwindSafe(|| waker.wake()));
            }
            hooks.after(&self.resource());
        }
        if self.state.end_fire() {
            // The owner dropped the timer while it fired: `destroy` is ours to emit.
            hooks.destroy(&self.resource());
        }
        true
    }
}

/// One timer resource: what `Sleep`, `Interval` and `Timeout` hold.
///
/// - `new` emits `init` (trigger: the current execution; location: the caller);
/// - the first poll inserts it into the wheel; `reset` moves it, keeping its id;
/// - each firing runs its waker inside a `before`/`after` pair;
/// - dropping it removes it from the wheel and emits `destroy` (after any firing in
///   progress on another thread).
pub struct Timer {
    shared: Arc<TimerShared>,
    driver: TimeDriver,
    /// The generation the wheel entry was inserted with; `None` until first inserted.
    registered: Option<u64>,
}

impl Timer {
    /// Creates a timer for `deadline` on `driver` and emits its `init`.
    #[track_caller]
    pub fn new(driver: &TimeDriver, deadline: Instant) -> Timer {
        Timer::new_at(driver, deadline, Location::caller())
    }

    /// As [`Timer::new`] with an explicit creation site (for wrappers that are
    /// `#[track_caller]` themselves).
    pub fn new_at(
        driver: &TimeDriver,
        deadline: Instant,
        location: &'static Location<'static>,
    ) -> Timer {
        let shared = Arc::new(TimerShared {
            id: AsyncId::allocate(),
            trigger_id: hookrt_hooks::execution_async_id(),
            context: Context::current(),
            location,
            deadline: AtomicU64::new(driver.tick_of(deadline)),
            state: TimerState::new(),
            waker: Mutex::new(None),
            key: Mutex::new(None),
        });
        driver.inner_hooks().init(&shared.resource());
        Timer {
            shared,
            driver: driver.clone(),
            registered: None,
        }
    }

    /// The timer's async id.
    pub fn id(&self) -> AsyncId {
        self.shared.id
    }

    /// Whether the timer fired since it was last armed.
    pub fn is_elapsed(&self) -> bool {
        self.shared.state.is_fired()
    }

    /// Re-arms the timer for `deadline`, keeping its id. A firing in flight for the old
    /// deadline is ignored.
    pub fn reset(&mut self, deadline: Instant) {
        let tick = self.driver.tick_of(deadline);
        self.shared.deadline.store(tick, Ordering::Release);
        let generation = self.shared.state.rearm();
        if self.registered.is_some() {
            self.driver.insert(&self.shared, generation);
            self.registered = Some(generation);
        }
    }

    /// `Ready` once the timer has fired; otherwise registers `waker` (inserting the
    /// timer into the wheel on the first call).
    pub fn poll_elapsed(&mut self, waker: &Waker) -> Poll<()> {
        if self.shared.state.is_fired() {
            return Poll::Ready(());
        }
        {
            let mut slot = self.shared.waker.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        if self.registered.is_none() {
            let generation = self.shared.state.generation();
            self.driver.insert(&self.shared, generation);
            self.registered = Some(generation);
        }
        // The driver may have fired between the first check and the waker store.
        if self.shared.state.is_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.registered.is_some() {
            self.driver.remove(&self.shared);
        }
        if self.shared.state.drop_timer() {
            self.driver.inner_hooks().destroy(&self.shared.resource());
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("id", &self.shared.id)
            .field("deadline_tick", &self.shared.deadline_tick())
            .field("elapsed", &self.is_elapsed())
            .finish()
    }
}
