//! The per-thread execution frame: which resource is running on this thread right now,
//! what triggered it, and its async context.
//!
//! The scheduler sets the frame around each poll of a task, the drivers around each
//! dispatch, [`AsyncResource::in_scope`](crate::AsyncResource::in_scope) around its
//! closure. Every setter restores the previous frame when it is done, also on unwind, so
//! frames nest like a stack and a panic never leaves a stale frame on a thread.

use crate::{AsyncId, Context};
use std::cell::Cell;
use std::fmt;

/// The thread's current execution frame.
struct ThreadFrame {
    execution: Cell<AsyncId>,
    trigger: Cell<AsyncId>,
    context: Cell<Context>,
}

thread_local! {
    static FRAME: ThreadFrame = const {
        ThreadFrame {
            execution: Cell::new(AsyncId::ROOT),
            trigger: Cell::new(AsyncId::ROOT),
            context: Cell::new(Context::empty()),
        }
    };
}

/// The id of the resource whose code is running on this thread (Node's
/// `executionAsyncId()`): the task being polled, the timer or socket being dispatched,
/// the `AsyncResource` in scope; [`AsyncId::ROOT`] outside any resource.
pub fn execution_async_id() -> AsyncId {
    FRAME
        .try_with(|f| f.execution.get())
        .unwrap_or(AsyncId::ROOT)
}

/// The trigger id of the running resource (Node's `triggerAsyncId()`): the execution
/// that created it; [`AsyncId::ROOT`] outside any resource.
pub fn trigger_async_id() -> AsyncId {
    FRAME.try_with(|f| f.trigger.get()).unwrap_or(AsyncId::ROOT)
}

/// A clone of the current thread's async context.
pub(crate) fn current_context() -> Context {
    FRAME
        .try_with(|f| {
            let ctx = f.context.take();
            let copy = ctx.clone();
            f.context.set(ctx);
            copy
        })
        .unwrap_or_default()
}

/// Runs `f` on the current thread's context without cloning it. `f` must not touch the
/// execution frame itself (it sees an empty frame meanwhile): internal readers only.
pub(crate) fn peek_current_context<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    FRAME
        .try_with(|frame| {
            let current = frame.context.take();
            let out = f(&current);
            frame.context.set(current);
            out
        })
        .ok()
}

/// Whether `context` is the current thread's context (the same frame, compared by
/// pointer, without cloning it).
pub(crate) fn is_current_context(context: &Context) -> bool {
    FRAME
        .try_with(|f| {
            let current = f.context.take();
            let same = current.ptr_eq(context);
            f.context.set(current);
            same
        })
        .unwrap_or(false)
}

/// Makes `(execution, trigger, context)` the current frame until the returned guard is
/// dropped, which restores the frame that was current before.
///
/// This is what a scheduler or driver calls around running a resource's code; it emits
/// no hook event by itself.
pub fn enter(execution: AsyncId, trigger: AsyncId, context: Context) -> FrameGuard {
    let saved = FRAME.try_with(|f| SavedFrame {
        execution: f.execution.replace(execution),
        trigger: f.trigger.replace(trigger),
        context: f.context.replace(context),
    });
    FrameGuard { saved: saved.ok() }
}

/// Replaces only the context of the current frame until the guard drops.
pub(crate) fn replace_context(context: Context) -> FrameGuard {
    let saved = FRAME.try_with(|f| SavedFrame {
        execution: f.execution.get(),
        trigger: f.trigger.get(),
        context: f.context.replace(context),
    });
    FrameGuard { saved: saved.ok() }
}

struct SavedFrame {
    execution: AsyncId,
    trigger: AsyncId,
    context: Context,
}

/// Restores the previous execution frame when dropped. Returned by [`enter`].
#[must_use = "the frame is left as soon as the guard is dropped"]
pub struct FrameGuard {
    saved: Option<SavedFrame>,
}

impl Drop for FrameGuard {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            let _ = FRAME.try_with(|f| {
                f.execution.set(saved.execution);
                f.trigger.set(saved.trigger);
                // The context being left is dropped outside the cell, so a Drop impl of
                // a stored value that reads the frame sees a consistent one.
                let left = f.context.replace(saved.context);
                drop(left);
            });
        }
    }
}

impl fmt::Debug for FrameGuard {
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
