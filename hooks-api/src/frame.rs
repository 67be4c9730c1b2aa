//! The per-thread execution frame: which resource is running on this thread right now,
//! what triggered it, and its async context.
//!
//! The scheduler sets the frame around each poll of a task, the drivers around each
//! dispatch, [`AsyncResource::in_scope`](crate::AsyncResource::in_scope) around its
//! closure. Every setter restores the previous frame when it is done, also on unwind, so
//! frames nest like a stack and a panic never leaves a stale frame on a thread.

use crate::context::ContextGuard;
use crate::{AsyncId, Context, HookData, HookSet};
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ptr;

/// The hook storage of a running resource: where it is, whose it is (the resource's
/// id), and which hook set's cells it holds (the set's address).
type RunningData = (*const HookData, AsyncId, usize);

/// The thread's current execution ids, and the hook storage of the innermost running
/// resource that has one (null when none). The current context lives next to them, in
/// the context module's own thread-local.
struct ThreadFrame {
    execution: Cell<AsyncId>,
    trigger: Cell<AsyncId>,
    data: Cell<RunningData>,
}

thread_local! {
    static FRAME: ThreadFrame = const {
        ThreadFrame {
            execution: Cell::new(AsyncId::ROOT),
            trigger: Cell::new(AsyncId::ROOT),
            data: Cell::new((ptr::null(), AsyncId::ROOT, 0)),
        }
    };
}

/// Runs `f` with the hook storage of resource `id`, if `id` is running on this thread
/// (the innermost resource whose frame carries storage) and its cells are those of the
/// hook set at address `set`.
pub(crate) fn with_running_data<R>(
    id: AsyncId,
    set: usize,
    f: impl FnOnce(&HookData) -> Option<R>,
) -> Option<R> {
    FRAME
        .try_with(|frame| {
            let (data, owner, owner_set) = frame.data.get();
            if data.is_null() || owner != id || owner_set != set || set == 0 {
                return None;
            }
            // SAFETY: a non-null pointer was installed by `FrameGuard::set_data`, whose
            // contract keeps the storage alive until that guard restores the previous
            // pointer; this thread is inside that guard's frame.
            f(unsafe { &*data })
        })
        .ok()
        .flatten()
}

/// The id of the resource whose code is running on this thread (Node's
/// `executionAsyncId()`): the task being polled, the timer or socket being dispatched,
/// the `AsyncResource` in scope; [`AsyncId::ROOT`] outside any resource.
#[inline]
pub fn execution_async_id() -> AsyncId {
    FRAME
        .try_with(|f| f.execution.get())
        .unwrap_or(AsyncId::ROOT)
}

/// The trigger id of the running resource (Node's `triggerAsyncId()`): the execution
/// that created it; [`AsyncId::ROOT`] outside any resource.
#[inline]
pub fn trigger_async_id() -> AsyncId {
    FRAME.try_with(|f| f.trigger.get()).unwrap_or(AsyncId::ROOT)
}

/// Makes `(execution, trigger, context)` the current frame until the returned guard is
/// dropped, which restores the frame that was current before.
///
/// This is what a scheduler or driver calls around running a resource's code; it emits
/// no hook event by itself. The thread takes over `context`'s reference; use
/// [`enter_ref`] to lend a context that the caller keeps (no reference counting).
#[inline]
pub fn enter(execution: AsyncId, trigger: AsyncId, context: Context) -> FrameGuard<'static> {
    FrameGuard::new(execution, trigger, ContextGuard::enter_owned(context))
}

/// As [`enter`], lending `context` for the frame instead of handing it over: entering
/// and leaving take no reference count, which is what a scheduler wants around each
/// poll of a task that owns its context.
#[inline]
pub fn enter_ref(execution: AsyncId, trigger: AsyncId, context: &Context) -> FrameGuard<'_> {
    // SAFETY: the guard borrows `context` for `'_`, so the frame outlives the guard.
    let context = unsafe { ContextGuard::enter_borrowed(context) };
    FrameGuard::new(execution, trigger, context)
}

/// As [`enter_ref`], also making `data` (whose cells belong to the hooks of `hooks`)
/// the frame resource's hook storage, in the same thread-local access: what a scheduler
/// calls around each poll of a task on a hooked runtime. See
/// [`FrameGuard::set_data`].
///
/// # Safety
///
/// As for [`FrameGuard::set_data`]: `data` must outlive the guard, and the guard must
/// be dropped, not leaked.
#[inline]
pub unsafe fn enter_ref_with_data<'a>(
    execution: AsyncId,
    trigger: AsyncId,
    context: &'a Context,
    data: &'a HookData,
    hooks: &HookSet,
) -> FrameGuard<'a> {
    // SAFETY: the guard borrows `context` for `'a`, so the frame outlives the guard.
    let context = unsafe { ContextGuard::enter_borrowed(context) };
    let running = (data as *const HookData, execution, hooks.address());
    let saved = FRAME.try_with(|f| {
        (
            (f.execution.replace(execution), f.trigger.replace(trigger)),
            f.data.replace(running),
        )
    });
    let (saved, saved_data) = match saved {
        Ok((ids, data)) => (Some(ids), Some(data)),
        Err(_) => (None, None),
    };
    FrameGuard {
        saved,
        saved_data,
        context,
        _context: PhantomData,
    }
}

/// Restores the previous execution frame when dropped. Returned by [`enter`] and
/// [`enter_ref`].
#[must_use = "the frame is left as soon as the guard is dropped"]
pub struct FrameGuard<'a> {
    saved: Option<(AsyncId, AsyncId)>,
    /// The storage to restore, once `set_data` replaced it.
    saved_data: Option<RunningData>,
    context: ContextGuard,
    _context: PhantomData<&'a Context>,
}

impl FrameGuard<'_> {
    #[inline]
    fn new(execution: AsyncId, trigger: AsyncId, context: ContextGuard) -> Self {
        let saved =
            FRAME.try_with(|f| (f.execution.replace(execution), f.trigger.replace(trigger)));
        FrameGuard {
            saved: saved.ok(),
            saved_data: None,
            context,
            _context: PhantomData,
        }
    }

    /// If the code that ran inside this frame made a new context current
    /// (`LocalStorage::enter_with`), returns that context; `None` otherwise.
    ///
    /// A scheduler calls this after a poll to keep the task's new context for its later
    /// polls. The frame goes on using the returned context until the guard drops: keep
    /// it alive (store it) at least that long.
    #[inline]
    pub fn take_entered(&mut self) -> Option<Context> {
        self.context.take_entered()
    }
}

impl FrameGuard<'_> {
    /// Makes `data`, whose cells belong to the hooks of `hooks`, the hook storage of
    /// the frame's resource, so those hooks reach it through
    /// [`Resource::trigger_data`](crate::Resource::trigger_data) in the `init` of a
    /// resource created here (its trigger is this frame's resource). The previous
    /// storage is restored when the guard drops.
    ///
    /// # Safety
    ///
    /// `data` must stay alive until this guard is dropped, and the guard must be
    /// dropped (not leaked with `mem::forget`): the thread keeps a pointer to `data`
    /// until then.
    #[inline]
    pub unsafe fn set_data(&mut self, data: &HookData, hooks: &HookSet) {
        let running =
            |f: &ThreadFrame| (data as *const HookData, f.execution.get(), hooks.address());
        let previous = FRAME.try_with(|f| f.data.replace(running(f)));
        if self.saved_data.is_none() {
            self.saved_data = previous.ok();
        }
    }
}

impl Drop for FrameGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some((execution, trigger)) = self.saved.take() {
            let data = self.saved_data.take();
            let _ = FRAME.try_with(|f| {
                f.execution.set(execution);
                f.trigger.set(trigger);
                if let Some(data) = data {
                    f.data.set(data);
                }
            });
        }
        // The context guard is dropped after the ids are restored, so a destructor of a
        // released value that reads the frame sees the outer one.
    }
}

impl fmt::Debug for FrameGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameGuard").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_nest_and_restore_on_unwind() {
        assert_eq!(execution_async_id(), AsyncId::ROOT);
        let a = AsyncId::allocate();
        let b = AsyncId::allocate();
        {
            let _outer = enter(a, AsyncId::ROOT, Context::empty());
            assert_eq!(execution_async_id(), a);
            let result = std::panic::catch_unwind(|| {
                let _inner = enter(b, a, Context::empty());
                assert_eq!(execution_async_id(), b);
                assert_eq!(trigger_async_id(), a);
                panic!("unwind through the frame");
            });
            assert!(result.is_err());
            assert_eq!(execution_async_id(), a);
            assert_eq!(trigger_async_id(), AsyncId::ROOT);
        }
        assert_eq!(execution_async_id(), AsyncId::ROOT);
    }
}
