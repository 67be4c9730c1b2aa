//! The future given to `block_on`, run as a resource of its own.
//!
//! The future is a `Task` resource named `"block_on"`: it gets `init` when `block_on`
//! starts, `before`/`after` around each poll, `resolve` when it returns `Ready`, and
//! `destroy` once it is dropped. Code in `main` therefore has a real execution id, and
//! tasks spawned from it name it as their trigger.

use super::park::Parker;
use hookrt_hooks::{AsyncId, Context, HookData, HookSet, Resource, ResourceKind};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::task::{Poll, Waker};
use std::thread::Thread;

/// The `block_on` future and its resource identity.
pub(crate) struct BlockOnTask<F: Future> {
    id: AsyncId,
    trigger_id: AsyncId,
    context: Context,
    location: &'static Location<'static>,
    hooks: HookSet,
    future: Option<Pin<Box<F>>>,
    signal: Arc<BlockOnSignal>,
    waker: Waker,
}

/// The waker of the `block_on` future: records who woke it and unparks the thread.
///
/// Its `wake` event is emitted by the `block_on` thread when it sees the notification
/// (right before the next poll), not by the waking thread: the future may resolve and be
/// destroyed at any time, and only the `block_on` thread knows whether it still lives.
pub(crate) struct BlockOnSignal {
    /// The runtime's hooks, to tell whether a waker fires on one of its threads.
    hooks: HookSet,
    notified: AtomicBool,
    woken_by: AtomicU64,
    parker: Arc<Parker>,
    thread: Thread,
    /// What hooks store on the `block_on` task (here rather than in the task, so the
    /// frame's pointer to it stays valid while the poll holds `&mut` of the task).
    hook_data: HookData,
}

impl Wake for BlockOnSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let by = if self.hooks.is_current() {
            hookrt_hooks::execution_async_id()
        } else {
            AsyncId::ROOT
        };
        self.woken_by.store(by.as_u64(), Ordering::Relaxed);
        self.notified.store(true, Ordering::Release);
        self.parker.unpark();
        self.thread.unpark();
    }
}

impl<F: Future> BlockOnTask<F> {
    /// Creates the resource (emitting `init`) and schedules its first poll.
    pub(crate) fn new(
        future: F,
        hooks: HookSet,
        parker: Arc<Parker>,
        location: &'static Location<'static>,
    ) -> BlockOnTask<F> {
        let signal = Arc::new(BlockOnSignal {
            hooks: hooks.clone(),
            notified: AtomicBool::new(true),
            woken_by: AtomicU64::new(0),
            parker,
            thread: std::thread::current(),
            hook_data: HookData::new(),
        });
        let task = BlockOnTask {
            id: AsyncId::allocate(),
            trigger_id: hookrt_hooks::execution_async_id(),
            context: Context::current(),
            location,
            hooks,
            future: Some(Box::pin(future)),
            waker: Waker::from(signal.clone()),
            signal,
        };
        task.hooks.init(&task.resource());
        task
    }

    fn resource(&self) -> Resource<'_> {
        Resource::new(self.id, self.trigger_id, ResourceKind::Task, &self.context)
            .with_name(Some("block_on"))
            .with_location(Some(self.location))
            .with_data(&self.signal.hook_data)
    }

    /// Whether the future was woken since its last poll.
    pub(crate) fn is_notified(&self) -> bool {
        self.signal.notified.load(Ordering::Acquire)
    }

    /// Polls the future if it was woken. `Some(output)` once it is done (the future is
    /// then dropped and destroyed).
    pub(crate) fn poll_if_notified(&mut self, first: &mut bool) -> Option<F::Output> {
        if !self.signal.notified.swap(false, Ordering::AcqRel) {
            return None;
        }
        if !std::mem::take(first) {
            let by = AsyncId::from_u64(self.signal.woken_by.load(Ordering::Relaxed))
                .unwrap_or(AsyncId::ROOT);
            self.hooks.wake(&self.resource(), by);
        }
        let mut frame = hookrt_hooks::enter(self.id, self.trigger_id, self.context.clone());
        // SAFETY: the storage lives in the signal's allocation, which `self` keeps alive
        // past the guard (dropped before this function returns).
        unsafe { frame.set_data(&self.signal.hook_data, &self.hooks) };
        self.hooks.before(&self.resource());
        let after = EmitAfter(self);
        let mut cx = std::task::Context::from_waker(&after.0.waker);
        let future = after
            .0
            .future
            .as_mut()
            .expect("block_on future polled after completion");
        match future.as_mut().poll(&mut cx) {
            Poll::Pending => None,
            Poll::Ready(output) => {
                after.0.hooks.resolve(&after.0.resource());
                after.0.future = None;
                drop(after);
                drop(frame);
                Some(output)
            }
        }
    }
}

/// Emits `after` when dropped, also while unwinding out of a poll.
struct EmitAfter<'a, F: Future>(&'a mut BlockOnTask<F>);

impl<F: Future> Drop for EmitAfter<'_, F> {
    fn drop(&mut self) {
        self.0.hooks.after(&self.0.resource());
    }
}

impl<F: Future> Drop for BlockOnTask<F> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            // Unwinding or abandoned: drop the future inside its own frame first.
            let _frame = hookrt_hooks::enter(self.id, self.trigger_id, self.context.clone());
            drop(future);
        }
        self.hooks.destroy(&self.resource());
    }
}
