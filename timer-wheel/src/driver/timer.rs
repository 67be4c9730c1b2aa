//! `Timer`: the owner side of one timer resource, and the state it shares with the
//! driver.

use super::state::TimerState;
use super::TimeDriver;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::{Arc, Mutex};
use crate::TimerKey;
use hookrt_hooks::{AsyncId, Context, HookData, HookSet, Resource, ResourceKind};
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
    /// What hooks store on the timer (moved here from the owner when it is shared).
    hook_data: HookData,
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
            .with_data(&self.hook_data)
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
            let mut frame = hookrt_hooks::enter_ref(self.id, self.trigger_id, &self.context);
            // SAFETY: `self` outlives the guard, dropped at the end of this block.
            unsafe { frame.set_data(&self.hook_data, hooks) };
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
/// - `new` emits `init` (trigger: the current execution; location: the caller) and
///   allocates nothing: the state shared with the driver is created on the first poll
///   that has to wait, so a `timeout` around a future that is ready at once costs no
///   allocation;
/// - the first poll puts it in the wheel, or, when the deadline has already passed,
///   fires it inside that poll (which is then `Ready`, as in tokio); `reset` moves it,
///   keeping its id;
/// - each firing runs its waker inside a `before`/`after` pair;
/// - dropping it removes it from the wheel and emits `destroy` (after any firing in
///   progress on another thread).
pub struct Timer {
    id: AsyncId,
    trigger_id: AsyncId,
    context: Context,
    location: &'static Location<'static>,
    /// What hooks store on the timer while `shared` does not exist yet (then moved
    /// there).
    hook_data: HookData,
    /// The deadline in ticks while `shared` does not exist yet.
    deadline: u64,
    /// Fired inline before `shared` existed (cleared by `reset`).
    fired_inline: bool,
    shared: Option<Arc<TimerShared>>,
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
        let timer = Timer {
            id: AsyncId::allocate(),
            trigger_id: hookrt_hooks::execution_async_id(),
            context: Context::current(),
            location,
            hook_data: HookData::new(),
            deadline: driver.tick_of(deadline),
            fired_inline: false,
            shared: None,
            driver: driver.clone(),
            in_wheel: false,
        };
        let hooks = timer.driver.inner_hooks();
        if !hooks.is_empty() {
            hooks.init(&timer.resource());
        }
        timer
    }

    fn resource(&self) -> Resource<'_> {
        Resource::new(self.id, self.trigger_id, ResourceKind::Timer, &self.context)
            .with_location(Some(self.location))
            .with_data(&self.hook_data)
    }

    /// The state shared with the driver, created on first need.
    fn shared(&mut self) -> &Arc<TimerShared> {
        let (id, trigger_id, location, deadline) =
            (self.id, self.trigger_id, self.location, self.deadline);
        let context = &self.context;
        let hook_data = &mut self.hook_data;
        self.shared.get_or_insert_with(|| {
            Arc::new(TimerShared {
                id,
                trigger_id,
                context: context.clone(),
                location,
                hook_data: std::mem::take(hook_data),
                deadline: AtomicU64::new(deadline),
                state: TimerState::new(),
                waker: Mutex::new(None),
                key: Mutex::new(None),
            })
        })
    }

    /// The timer's async id.
    pub fn id(&self) -> AsyncId {
        self.id
    }

    /// Whether the timer fired since it was last armed.
    pub fn is_elapsed(&self) -> bool {
        match &self.shared {
            Some(shared) => shared.state.is_fired(),
            None => self.fired_inline,
        }
    }

    /// Re-arms the timer for `deadline`, keeping its id. A firing in flight for the old
    /// deadline is ignored. With `reregister`, a timer already in the wheel moves to
    /// the new deadline at once (so a task waiting on it elsewhere is woken on time);
    /// otherwise, or when the new deadline has already passed, the next poll registers
    /// it (or fires it, if due).
    pub fn reset(&mut self, deadline: Instant, reregister: bool) {
        let tick = self.driver.tick_of(deadline);
        self.deadline = tick;
        self.fired_inline = false;
        let Some(shared) = self.shared.clone() else {
            return;
        };
        shared.deadline.store(tick, Ordering::Release);
        let generation = shared.state.rearm();
        if !self.in_wheel {
            return;
        }
        if reregister && tick > self.driver.now_tick() {
            self.driver.insert(&shared, generation);
        } else {
            self.driver.remove(&shared);
            self.in_wheel = false;
        }
    }

    /// `Ready` once the timer has fired; otherwise registers `waker` (putting the timer
    /// in the wheel on the first call, or firing it at once if its deadline passed).
    pub fn poll_elapsed(&mut self, waker: &Waker) -> Poll<()> {
        if self.is_elapsed() {
            return Poll::Ready(());
        }
        if !self.in_wheel && self.deadline <= self.driver.now_tick() {
            match &self.shared {
                Some(shared) => {
                    shared.fire_inline(self.driver.inner_hooks());
                    if shared.state.is_fired() {
                        return Poll::Ready(());
                    }
                }
                None => {
                    self.fire_inline_unshared();
                    return Poll::Ready(());
                }
            }
        }
        let shared = self.shared().clone();
        {
            let mut slot = shared.waker.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        if !self.in_wheel {
            let generation = shared.state.generation();
            self.driver.insert(&shared, generation);
            self.in_wheel = true;
        }
        // The driver may have fired between the first check and the waker store.
        if shared.state.is_fired() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// A timer the driver never saw fires inside the owner's poll: nobody else can touch
    /// it, so this is just the `before`/`after` pair.
    fn fire_inline_unshared(&mut self) {
        let hooks = self.driver.inner_hooks();
        if !hooks.is_empty() {
            let mut frame = hookrt_hooks::enter_ref(self.id, self.trigger_id, &self.context);
            // SAFETY: `self` outlives the guard, dropped at the end of this block.
            unsafe { frame.set_data(&self.hook_data, hooks) };
            hooks.before(&self.resource());
            hooks.after(&self.resource());
        }
        self.fired_inline = true;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        match self.shared.take() {
            Some(shared) => {
                if self.in_wheel {
                    self.driver.remove(&shared);
                }
                if shared.state.drop_timer() {
                    self.driver.inner_hooks().destroy(&shared.resource());
                }
            }
            None => {
                let hooks = self.driver.inner_hooks();
                if !hooks.is_empty() {
                    hooks.destroy(&self.resource());
                }
            }
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("id", &self.id)
            .field("deadline_tick", &self.deadline)
            .field("elapsed", &self.is_elapsed())
            .finish()
    }
}
