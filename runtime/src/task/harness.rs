//! The vtable functions: polling, cancelling, completing, and the `JoinHandle` side.
//!
//! Every function here receives a `NonNull<Header>` that points at a `Cell<F, S>` for the
//! `F` and `S` it is instantiated with (the vtable pairs them), which is what makes the
//! casts below sound.

use super::core::Stage;
use super::header::{Header, Trailer};
use super::raw::{Cell, RawTask};
use super::state::{TransitionToIdle, TransitionToRunning};
use super::{id::CurrentTaskGuard, waker, JoinError, Schedule};
use hookrt_hooks::{AsyncId, Context, FrameGuard, HookSet, Resource, ResourceKind};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context as TaskContext, Poll, Waker};

/// Typed access to one cell.
struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` must point to the header of a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<F, S> {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: the cell is alive while any reference is held, and the caller of every
        // vtable function holds one.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the header of a live cell.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    /// The view hooks receive for this task from the thread that holds `RUNNING` (or
    /// completes it): with the task's current context.
    fn resource(&self) -> Resource<'_> {
        let cell = self.cell();
        let header = &cell.header;
        Resource::new(header.id, header.trigger_id, S::KIND, self.context())
            .with_name(cell.trailer.name.as_deref())
            .with_location(Some(header.location))
            .with_data(&cell.trailer.hook_data)
    }

    /// The view `wake` hooks receive, from any thread: with the spawn-time context,
    /// which never changes (the current one belongs to the polling thread).
    fn wake_resource(&self) -> Resource<'_> {
        let cell = self.cell();
        let header = &cell.header;
        Resource::new(header.id, header.trigger_id, S::KIND, &header.context)
            .with_name(cell.trailer.name.as_deref())
            .with_location(Some(header.location))
            .with_data(&cell.trailer.hook_data)
    }

    /// The task's current context. Only for the thread holding `RUNNING`.
    fn context(&self) -> &Context {
        let cell = self.cell();
        cell.trailer.context.with(|slot| {
            // SAFETY: only the RUNNING holder writes the slot, and this thread is it
            // (callers: the poll and completion paths).
            match unsafe { &*slot } {
                Some(context) => context,
                None => &cell.header.context,
            }
        })
    }

    fn hooks(&self) -> &HookSet {
        self.cell().core.scheduler.hooks()
    }

    /// Polls the future once; the caller holds `RUNNING`.
    fn poll_running(&self) {
        let header = self.header();
        let hooks = self.hooks();
        let mut frame = if hooks.is_empty() {
            hookrt_hooks::enter_ref(header.id, header.trigger_id, self.context())
        } else {
            let data = &self.cell().trailer.hook_data;
            // SAFETY: the storage lives in the cell, which this poll's reference keeps
            // alive past the guard, dropped at the end of this function.
            unsafe {
                hookrt_hooks::enter_ref_with_data(
                    header.id,
                    header.trigger_id,
                    self.context(),
                    data,
                    hooks,
                )
            }
        };
        let _task_id = CurrentTaskGuard::enter(header.id);
        hooks.before_with(|| self.resource());
        // SAFETY: the waker borrows the reference this poll holds.
        let waker = unsafe { waker::waker_ref(self.cell.cast()) };
        let mut cx = TaskContext::from_waker(&waker);
        let polled = catch_unwind(AssertUnwindSafe(|| {
            super::coop::with_budget(|| self.poll_future(&mut cx))
        }));
        match polled {
            Ok(Poll::Pending) => {
                if let Some(entered) = frame.take_entered() {
                    self.keep_entered_context(entered);
                }
                hooks.after_with(|| self.resource());
                drop(frame);
                match header.state.transition_to_idle() {
                    TransitionToIdle::Ok => self.raw().drop_reference(),
                    TransitionToIdle::OkNotified => {
                        self.raw().schedule_yield(Some(header.last_waker()));
                        self.raw().drop_reference();
                    }
                    TransitionToIdle::Cancelled => self.cancel_and_finish(),
                }
            }
            Ok(Poll::Ready(output)) => {
                if S::KIND == ResourceKind::Task {
                    hooks.resolve_with(|| self.resource());
                }
                self.drop_future();
                hooks.after_with(|| self.resource());
                self.finish(Ok(output), frame);
            }
            Err(panic) => {
                self.drop_future();
                hooks.after_with(|| self.resource());
                self.finish(Err(JoinError::panic(header.id, panic)), frame);
            }
        }
    }

    /// After a poll that returned `Pending` in which the task changed its context
    /// (`LocalStorage::enter_with`): keep the new frame for its later polls and for the
    /// tasks it spawns then.
    ///
    /// The poll's frame guard lent the previous context to the thread; after
    /// `take_entered` it lends `entered` instead, so the previous one may be dropped
    /// here, and `entered` stays alive in the slot until the guard is dropped.
    fn keep_entered_context(&self, entered: Context) {
        self.cell().trailer.context.with_mut(|slot| {
            // SAFETY: this thread holds RUNNING, which owns the slot.
            unsafe { *slot = Some(entered) };
        });
    }

    /// Polls the future once; the caller holds `RUNNING`.
    fn poll_future(&self, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        self.cell().core.stage.with_mut(|stage| {
            // SAFETY: RUNNING gives this thread exclusive access to the stage, and the
            // future is never moved out of the cell while it is `Running`.
            match unsafe { &mut *stage } {
                Stage::Running(future) => {
                    // SAFETY: see above; the cell is heap-allocated and never moves.
                    unsafe { Pin::new_unchecked(future) }.poll(cx)
                }
                _ => unreachable!("a running task has its future"),
            }
        })
    }

    /// Drops the future (the caller holds `RUNNING`, and is inside the task's frame or
    /// enters it here). A panic in a destructor is swallowed: the task is over either way.
    fn drop_future(&self) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            self.cell().core.stage.with_mut(|stage| {
                // SAFETY: RUNNING gives exclusive access to the stage.
                unsafe { *stage = Stage::Consumed };
            })
        }));
    }

    /// Drops the future of a cancelled task inside its frame, then finishes it.
    fn cancel_and_finish(&self) {
        let header = self.header();
        let frame = hookrt_hooks::enter_ref(header.id, header.trigger_id, self.context());
        self.drop_future();
        self.finish(Err(JoinError::cancelled(header.id)), frame);
    }

    /// The future is gone: emit `destroy`, store the outcome, mark the task complete,
    /// wake the joiner, leave the task's `frame` (which borrows the cell's context and
    /// hook storage), leave the owned list and drop the running reference, which may
    /// free the cell.
    fn finish(&self, outcome: Result<F::Output, JoinError>, frame: FrameGuard<'_>) {
        let header = self.header();
        self.hooks().destroy_with(|| self.resource());
        self.cell().core.stage.with_mut(|stage| {
            // SAFETY: RUNNING still gives exclusive access to the stage.
            unsafe { *stage = Stage::Finished(outcome) };
        });
        let snapshot = header.state.transition_to_complete();
        if !snapshot.is_join_interested() {
            // Nobody will read the output: drop it here. SAFETY below.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                self.cell().core.stage.with_mut(|stage| {
                    // SAFETY: without join interest the runner keeps the stage after
                    // completion.
                    unsafe { *stage = Stage::Consumed };
                })
            }));
        } else if snapshot.is_join_waker_set() {
            self.cell().trailer.join_waker.with(|slot| {
                // SAFETY: COMPLETE and JOIN_WAKER are both set: the handle no longer
                // writes the slot, and it holds a waker.
                if let Some(waker) = unsafe { &*slot } {
                    waker.wake_by_ref();
                }
            });
        }
        // The thread must not point into the cell once it can be freed (a destructor
        // run by the deallocation may read the current context or hook storage).
        drop(frame);
        let released = self.cell().core.scheduler.release(self.raw());
        let count = if released { 2 } else { 1 };
        if header.state.transition_to_terminal(count) {
            // SAFETY: those were the last references.
            unsafe { dealloc::<F, S>(self.cell.cast()) }
        }
    }
}

/// Vtable `poll`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`; the caller gives up a `Notified` reference.
pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    match harness.header().state.transition_to_running() {
        TransitionToRunning::Success => harness.poll_running(),
        TransitionToRunning::Cancelled => harness.cancel_and_finish(),
        TransitionToRunning::Failed => {}
        // SAFETY: that was the last reference.
        TransitionToRunning::Dealloc => unsafe { dealloc::<F, S>(ptr) },
    }
}

/// Vtable `schedule`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`; the caller counted the `Notified` reference.
pub(super) unsafe fn schedule<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    by: Option<AsyncId>,
    is_yield: bool,
) {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if let Some(by) = by {
        // The task is notified and not yet in a queue, so nobody can run or destroy it
        // before this event is out.
        harness.hooks().wake_with(|| harness.wake_resource(), by);
    }
    let notified = super::Notified::from_raw(harness.raw());
    if is_yield {
        harness.cell().core.scheduler.yield_now(notified);
    } else {
        harness.cell().core.scheduler.schedule(notified);
    }
}

/// Vtable `waker_execution`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`.
pub(super) unsafe fn waker_execution<F: Future, S: Schedule>(ptr: NonNull<Header>) -> AsyncId {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let hooks = harness.hooks();
    if hooks.wants_wake() && hooks.is_current() {
        hookrt_hooks::execution_async_id()
    } else {
        // No hook will read it, or the waking thread works for another runtime.
        AsyncId::ROOT
    }
}

/// Vtable `shutdown`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`; the caller gives up the owned-list reference.
pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.header().state.transition_to_shutdown() {
        // The owned-list reference now plays the running reference.
        harness.cancel_and_finish();
    } else {
        harness.raw().drop_reference();
    }
}

/// Vtable `dealloc`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>` and no reference to it remains.
pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    let cell = ptr.cast::<Cell<F, S>>();
    // SAFETY: the cell came from `Box::leak` in `RawTask::new`, and nobody can reach it.
    let cell = unsafe { Box::from_raw(cell.as_ptr()) };
    debug_assert!(
        cell.core.stage.with(|s| {
            // SAFETY: exclusive access: no reference remains.
            !matches!(unsafe { &*s }, Stage::Running(_))
        }),
        "a task was freed with its future alive (its destroy event would be lost)"
    );
    drop(cell);
}

/// Vtable `try_read_output`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`, `dst` to a `Poll<Result<F::Output, JoinError>>`, and
/// the caller is the task's `JoinHandle`.
pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !can_read_output(harness.header(), &harness.cell().trailer, waker) {
        return;
    }
    let output = harness.cell().core.stage.with_mut(|stage| {
        // SAFETY: COMPLETE with join interest: the stage is the handle's.
        match std::mem::replace(unsafe { &mut *stage }, Stage::Consumed) {
            Stage::Finished(output) => output,
            _ => panic!(
                "JoinHandle polled after it returned Ready: a JoinHandle yields its \
                 task's output once; keep the value from the first poll (a `Fuse` or an \
                 `Option<JoinHandle>` avoids polling it again)"
            ),
        }
    });
    let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
    // SAFETY: the caller passes a valid, initialised destination of this type.
    unsafe { *dst = Poll::Ready(output) };
}

/// Whether the output can be read now; if not, the waker is registered.
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.is_join_waker_set() {
        let same = trailer.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER set and not COMPLETE: the slot holds a waker and only
            // this handle writes it; reading is shared with nobody that writes.
            unsafe { &*slot }
                .as_ref()
                .is_some_and(|w| w.will_wake(waker))
        });
        if same {
            return false;
        }
        if header.state.unset_join_waker().is_err() {
            return true;
        }
    }
    // JOIN_WAKER is clear: the slot is this handle's alone.
    // SAFETY: see the line above.
    trailer
        .join_waker
        .with_mut(|slot| unsafe { *slot = Some(waker.clone()) });
    match header.state.set_join_waker() {
        Ok(_) => false,
        Err(_) => {
            // Completed meanwhile; the slot is still ours. SAFETY: as above.
            trailer.join_waker.with_mut(|slot| unsafe { *slot = None });
            true
        }
    }
}

/// Vtable `drop_join_handle`.
///
/// # Safety
///
/// `ptr` points to a `Cell<F, S>`; the caller is the `JoinHandle`, giving up its
/// reference.
pub(super) unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: per the function contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let dropped = harness.header().state.transition_to_join_handle_dropped();
    if dropped.drop_output {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            harness.cell().core.stage.with_mut(|stage| {
                // SAFETY: completed with join interest: the stage is the handle's.
                unsafe { *stage = Stage::Consumed };
            })
        }));
    }
    if dropped.drop_waker {
        harness.cell().trailer.join_waker.with_mut(|slot| {
            // SAFETY: the handle cleared JOIN_WAKER before completion: the slot is its.
            unsafe { *slot = None };
        });
    }
    harness.raw().drop_reference();
}
