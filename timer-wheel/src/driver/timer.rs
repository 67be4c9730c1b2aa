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
        self.run_firing(waker, hooks);
        true
    }

    /// Owner side: the deadline had already passed when the owner polled, so the timer
    /// fires right there, inside the poll (as in tokio, the poll is `Ready`): its
    /// `before`/`after` pair nests in the polling task's, and no waker is needed.
    fn fire_inline(&self, hooks: &HookSet) {
        let generation = self.state.generation();
        if self.state.begin_fire(generation) {
            self.run_firing(None, hooks);
        }
    }

    /// `before`, the waker, `after`, then `destroy` if the owner dropped the timer
    /// meanwhile. The caller holds the `FIRING` bit.
    fn run_firing(&self, waker: Option<Waker>, hooks: &HookSet) {
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
    }
}

/// One timer resource: what `Sleep`, `Interval` and `Timeout` hold.
///
/// - `new` emits `init` (trigger: the current execution; location: the caller);
/// - the first poll inserts it into the wheel, or, when the deadline has already
///   passed, fires it inside that poll (which is then `Ready`, as in tokio); `reset`
///   moves it, keeping its id;
/// - each firing runs its waker inside a `before`/`after` pair;
/// - dropping it removes it from the wheel and emits `destroy` (after any firing in
///   progress on another thread).
pub struct Timer {
    shared: Arc<TimerShared>,
    driver: TimeDriver,
    /// Whether the current generation has an entry in the wheel (or fired from one).
    /// `false` until the first poll, and again after a reset that did not re-register.
    in_wheel: bool,
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
            in_wheel: false,
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
    /// deadline is ignored. With `reregister`, a timer already in the wheel moves to
    /// the new deadline at once (so a task waiting on it elsewhere is woken on time);
    /// otherwise, or when the new deadline has already passed, the next poll registers
    /// it (or fires it, if due).
    pub fn reset(&mut self, deadline: Instant, reregister: bool) {
        let tick = self.driver.tick_of(deadline);
        self.shared.deadline.store(tick, Ordering::Release);
        let generation = self.shared.state.rearm();
        if !self.in_wheel {
            return;
        }
        if reregister && tick > self.driver.now_tick() {
            self.driver.insert(&self.shared, generation);
        } else {
            self.driver.remove(&self.shared);
            self.in_wheel = false;
        }
    }

    /// `Ready` once the timer has fired; otherwise registers `waker` (putting the timer
    /// in the wheel on the first call, or firing it at once if its deadline passed).
    pub fn poll_elapsed(&mut self, waker: &Waker) -> Poll<()> {
        if self.shared.state.is_fired() {
            return Poll::Ready(());
        }
        if !self.in_wheel && self.shared.deadline_tick() <= self.driver.now_tick() {
            self.shared.fire_inline(self.driver.inner_hooks());
            if self.shared.state.is_fired() {
                return Poll::Ready(());
            }
        }
        {
            let mut slot = self.shared.waker.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        if !self.in_wheel {
            let generation = self.shared.state.generation();
            self.driver.insert(&self.shared, generation);
            self.in_wheel = true;
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
        if self.in_wheel {
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
