//! `ScheduledIo`: what the driver and a registration's owner share — the resource's
//! identity, the state word and the waiters — and every step of the readiness protocol.
//!
//! No lost wake-up: the driver changes the state word *before* it takes the waiter lock
//! to collect wakers; a waiter stores its waker and re-reads the state word *under* that
//! lock. Whichever takes the lock second sees the other's write: either the driver finds
//! the waker, or the waiter finds the readiness (or the close/shutdown bit).

use crate::loom::sync::{Mutex, MutexGuard};
use crate::state::IoState;
use crate::waiters::{Waiters, WakeList};
use crate::{Direction, Ready, ReadyEvent};
use hookrt_hooks::{AsyncId, Context, HookData, HookSet, Resource, ResourceKind};
use mio::Token;
use std::fmt;
use std::io;
use std::panic::Location;
use std::task::{self, Poll};

/// See the module docs.
pub(crate) struct ScheduledIo {
    id: AsyncId,
    trigger_id: AsyncId,
    kind: ResourceKind,
    /// The async context current at registration (what hooks read through
    /// `Resource::context`, and the frame's context during a dispatch).
    context: Context,
    location: &'static Location<'static>,
    /// What hooks store on the registration.
    hook_data: HookData,
    token: Token,
    pub(crate) state: IoState,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// A new registration's shared state: a fresh id, triggered by the current
    /// execution, in the current context. Emits nothing (the caller emits `init` once
    /// the source is registered with mio).
    pub(crate) fn new(
        token: Token,
        kind: ResourceKind,
        location: &'static Location<'static>,
    ) -> ScheduledIo {
        ScheduledIo {
            id: AsyncId::allocate(),
            trigger_id: hookrt_hooks::execution_async_id(),
            kind,
            context: Context::current(),
            location,
            hook_data: HookData::new(),
            token,
            state: IoState::new(),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// The view hooks get.
    pub(crate) fn resource(&self) -> Resource<'_> {
        Resource::new(self.id, self.trigger_id, self.kind, &self.context)
            .with_location(Some(self.location))
            .with_data(&self.hook_data)
    }

    pub(crate) fn id(&self) -> AsyncId {
        self.id
    }

    pub(crate) fn kind(&self) -> ResourceKind {
        self.kind
    }

    pub(crate) fn token(&self) -> Token {
        self.token
    }

    fn lock_waiters(&self) -> MutexGuard<'_, Waiters> {
        // Nothing panics under this lock (wakers run outside it); recover anyway.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- owner side -------------------------------------------------------------------

    /// `Ready` with the direction's readiness (or an error once closed or shut down);
    /// otherwise parks the waker in the direction's slot.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut task::Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let mask = direction.mask();
        if let Some(result) = self.state.load().event(mask) {
            return Poll::Ready(result);
        }
        let mut waiters = self.lock_waiters();
        if let Some(result) = self.state.load().event(mask) {
            return Poll::Ready(result);
        }
        waiters.set_direction(direction, cx.waker());
        Poll::Pending
    }

    /// The list-waiter version of [`Self::poll_ready`], for `Readiness`: `key` is the
    /// waiter's slot in the list (`None` until it first waits; removed when it is done).
    pub(crate) fn poll_readiness(
        &self,
        cx: &mut task::Context<'_>,
        mask: Ready,
        key: &mut Option<usize>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if key.is_none() {
            if let Some(result) = self.state.load().event(mask) {
                return Poll::Ready(result);
            }
        }
        let mut waiters = self.lock_waiters();
        if let Some(result) = self.state.load().event(mask) {
            if let Some(key) = key.take() {
                waiters.remove(key);
            }
            return Poll::Ready(result);
        }
        match *key {
            Some(key) => waiters.update(key, cx.waker()),
            None => *key = Some(waiters.insert(mask, cx.waker())),
        }
        Poll::Pending
    }

    /// Removes a list waiter that is dropped before it completed.
    pub(crate) fn remove_waiter(&self, key: usize) {
        self.lock_waiters().remove(key);
    }

    /// Clears `event`'s flags unless a newer event arrived since it was read.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.state.clear(event);
    }

    /// Waits for `direction`, runs `f`, and on `WouldBlock` clears the readiness it
    /// waited for and starts over; any other outcome of `f` is returned.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut task::Context<'_>,
        direction: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `f` if the readiness for `mask` is set; `WouldBlock` otherwise (and clears
    /// that readiness when `f` itself reports `WouldBlock`).
    pub(crate) fn try_io<R>(
        &self,
        mask: Ready,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = match self.state.load().event(mask) {
            Some(result) => result?,
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let result = f();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_readiness(event);
        }
        result
    }

    /// Owner: the registration is deregistered or dropped. Marks it closed, wakes every
    /// waiter (their next poll reports the error), and emits `destroy` unless a dispatch
    /// is in flight, in which case the driver emits it after its `after`.
    pub(crate) fn close(&self, hooks: &HookSet) {
        let owner_destroys = self.state.close();
        self.wake_waiters(None, None);
        if owner_destroys {
            hooks.destroy(&self.resource());
        }
    }

    // ---- driver side ------------------------------------------------------------------

    /// Driver: an event with `ready` arrived in turn `tick`. Sets the readiness and, if
    /// any waiter wants it, wakes them inside this resource's `before`/`after` with the
    /// execution frame set to it (so a woken task sees `wake(task, by = this id)`).
    /// Emits `destroy` if the owner closed the registration meanwhile. Returns whether
    /// a waiter was woken.
    pub(crate) fn dispatch(&self, tick: u32, ready: Ready, hooks: &HookSet) -> bool {
        if !self.state.begin_dispatch(tick, ready) {
            return false;
        }
        let woke = self.wake_waiters(Some(ready), Some(hooks));
        if self.state.end_dispatch() {
            hooks.destroy(&self.resource());
        }
        woke
    }

    /// Driver: it shut down. Every waiter is woken; every poll from now on reports the
    /// shutdown error.
    pub(crate) fn shutdown(&self) {
        self.state.shutdown();
        self.wake_waiters(None, None);
    }

    /// Wakes the waiters `ready` satisfies (all for `None`) outside the waiter lock, in
    /// batches. With `hooks`, and only if there is someone to wake, the wakers run inside
    /// this resource's frame and `before`/`after` pair. Returns whether anyone was woken.
    fn wake_waiters(&self, ready: Option<Ready>, hooks: Option<&HookSet>) -> bool {
        let mut wakers = WakeList::new();
        let mut more = self.lock_waiters().take(ready, &mut wakers);
        if wakers.is_empty() {
            return false;
        }
        let _frame = hooks.map(|hooks| {
            let mut frame = hookrt_hooks::enter_ref(self.id, self.trigger_id, &self.context);
            // SAFETY: `self` outlives the guard, dropped at the end of this function.
            unsafe { frame.set_data(&self.hook_data, hooks) };
            frame
        });
        if let Some(hooks) = hooks {
            hooks.before(&self.resource());
        }
        loop {
            wakers.wake_all();
            if !more {
                break;
            }
            more = self.lock_waiters().take(ready, &mut wakers);
        }
        if let Some(hooks) = hooks {
            hooks.after(&self.resource());
        }
        true
    }
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("token", &self.token)
            .field("state", &self.state.load())
            .finish()
    }
}
