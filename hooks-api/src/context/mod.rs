//! The async context frame: an immutable, reference-counted set of storage values.
//!
//! This follows Node 24's `AsyncContextFrame` model. A frame never changes after it is
//! built; "setting" a value builds a new frame that shares nothing mutable with the old
//! one. The empty context is a null pointer, so carrying it costs nothing, and carrying a
//! set context (into a spawned task, say) is one pointer copy plus one refcount increment.

mod current;
mod entries;
mod value_pool;

pub(crate) use current::{current_with, run_with, ContextGuard, StackNode};
pub(crate) use current::{get as get_current, with_value as with_current_value};
pub(crate) use entries::{Entry, StorageKey};
pub(crate) use value_pool::{new_arc, park};

use crate::LocalStorage;
#[cfg(test)]
use entries::FrameBuilder;
use entries::FrameInner;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

/// A snapshot of async context: the values of every [`LocalStorage`] at one point
/// (TC39's `AsyncContext.Snapshot`).
///
/// Every task carries the context it was spawned in, and every resource remembers the
/// context it was created in ([`Resource::context`](crate::Resource::context)).
/// `Context` is cheap to clone (a pointer copy and a refcount increment, or nothing at
/// all when the context is empty), and it is `Send + Sync`, so a snapshot can be carried
/// to another thread or a foreign callback and re-entered there with
/// [`run_sync`](Context::run_sync), [`run`](Context::run) or [`Context::bind`].
///
/// ```
/// use hookrt_hooks::{Context, LocalStorage};
///
/// static USER: LocalStorage<String> = LocalStorage::new();
///
/// let snapshot = USER.run_sync("ada".to_string(), Context::current);
/// assert!(USER.get().is_none(), "the scope has ended");
/// assert_eq!(snapshot.get(&USER).as_deref().map(String::as_str), Some("ada"));
///
/// let seen = std::thread::spawn(move || snapshot.run_sync(|| USER.get()))
///     .join()
///     .unwrap();
/// assert_eq!(seen.as_deref().map(String::as_str), Some("ada"));
/// ```
#[derive(Clone, Default)]
pub struct Context {
    frame: Option<Arc<FrameInner>>,
}

impl Context {
    /// The empty context: no storage has a value.
    pub const fn empty() -> Context {
        Context { frame: None }
    }

    /// The context of the current execution (an empty one outside any runtime and any
    /// scope).
    ///
    /// Costs a thread-local access and, when the context is not empty, one refcount
    /// increment.
    #[inline]
    pub fn current() -> Context {
        current::current_context()
    }

    /// Whether this is the current thread's context (the same frame; no clone). A
    /// scheduler uses it after a poll to notice `enter_with` and keep the task's new
    /// frame.
    #[inline]
    pub fn is_current(&self) -> bool {
        current::is_current(self)
    }

    /// Whether no storage has a value in this context.
    pub fn is_empty(&self) -> bool {
        self.frame.is_none()
    }

    /// Runs `f` with this context as the current one, then restores the previous context
    /// (also when `f` panics). The execution and trigger ids are left as they are.
    ///
    /// ```
    /// use hookrt_hooks::{Context, LocalStorage};
    ///
    /// static LEVEL: LocalStorage<u8> = LocalStorage::new();
    ///
    /// let ctx = LEVEL.run_sync(3, Context::current);
    /// assert_eq!(ctx.run_sync(|| LEVEL.get()).as_deref(), Some(&3));
    /// assert_eq!(LEVEL.get(), None);
    /// ```
    pub fn run_sync<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: `self` is borrowed for the whole call, so its frame outlives the guard.
        let _restore = unsafe { ContextGuard::enter_borrowed(self) };
        f()
    }

    /// Wraps `future` so that every poll of it (and the drop of it) runs with this
    /// context as the current one; the previous context is restored after each poll,
    /// also when the poll panics.
    ///
    /// Tasks spawned while the future is being polled inherit this context, because a
    /// spawn copies the current one. See [`Scoped`] for how
    /// [`LocalStorage::enter_with`] behaves inside.
    ///
    /// ```
    /// use hookrt_hooks::{Context, LocalStorage};
    /// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
    /// #     struct Noop;
    /// #     impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// #     let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut future = std::pin::pin!(future);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) { return out; }
    /// #     }
    /// # }
    ///
    /// static REQUEST_ID: LocalStorage<u64> = LocalStorage::new();
    ///
    /// let ctx = REQUEST_ID.run_sync(42, Context::current);
    /// let seen = block_on(ctx.run(async { REQUEST_ID.get() }));
    /// assert_eq!(seen.as_deref(), Some(&42));
    /// ```
    pub fn run<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped::new(self.clone(), future)
    }

    /// Captures the current context and returns a closure that runs `f` inside it,
    /// wherever and whenever it is called (Node's `AsyncLocalStorage.bind` /
    /// `AsyncResource.bind`).
    ///
    /// Use it to carry context into a thread, a callback registered with a foreign
    /// library, or any code the runtime does not spawn. The returned closure is `Send`
    /// when `f` is.
    ///
    /// ```
    /// use hookrt_hooks::{Context, LocalStorage};
    ///
    /// static TRACE: LocalStorage<&'static str> = LocalStorage::new();
    ///
    /// let job = TRACE.run_sync("trace-7", || Context::bind(|| TRACE.get()));
    /// let seen = std::thread::spawn(job).join().unwrap();
    /// assert_eq!(seen.as_deref(), Some(&"trace-7"));
    /// ```
    pub fn bind<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
        let context = Context::current();
        move || context.run_sync(f)
    }

    /// The value `storage` has in this context, if any.
    ///
    /// This reads a snapshot rather than the current execution, which is what a hook
    /// needs when it is told about a resource:
    /// `resource.context().get(&TRACE_ID)`.
    ///
    /// ```
    /// use hookrt_hooks::{Context, LocalStorage};
    ///
    /// static SAMPLED: LocalStorage<bool> = LocalStorage::new();
    ///
    /// let ctx = SAMPLED.run_sync(true, Context::current);
    /// assert_eq!(ctx.get(&SAMPLED).as_deref(), Some(&true));
    /// assert_eq!(Context::empty().get(&SAMPLED), None);
    /// ```
    pub fn get<T: Send + Sync + 'static>(&self, storage: &LocalStorage<T>) -> Option<Arc<T>> {
        self.entry(storage.key())?.value_arc::<T>()
    }

    /// Whether two contexts are the same frame (pointer equality).
    pub fn ptr_eq(&self, other: &Context) -> bool {
        match (&self.frame, &other.frame) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The number of storages that have a value in this context.
    pub fn len(&self) -> usize {
        self.frame.as_ref().map_or(0, |f| f.len())
    }

    /// Makes `context` the current one for the rest of the innermost enclosing scope,
    /// without a guard: whoever set the enclosing context (a task poll, a [`Scoped`]
    /// poll, [`run_sync`](Context::run_sync), `AsyncResource::in_scope`) restores its own
    /// when it ends.
    pub(crate) fn set_current(context: Context) {
        current::set_current(context);
    }

    #[inline]
    pub(crate) fn from_frame(frame: Option<Arc<FrameInner>>) -> Context {
        Context { frame }
    }

    #[inline]
    pub(crate) fn frame(&self) -> Option<&Arc<FrameInner>> {
        self.frame.as_ref()
    }

    #[inline]
    pub(crate) fn into_frame(self) -> Option<Arc<FrameInner>> {
        self.frame
    }

    /// The entry stored under `key`, if any.
    pub(crate) fn entry(&self, key: StorageKey) -> Option<&Entry> {
        self.frame.as_ref()?.find(key)
    }

    /// A new context equal to this one except that `key` maps to `entry` (`None`
    /// removes the key). The receiver is left untouched.
    #[cfg(test)]
    pub(crate) fn with_entry(&self, key: StorageKey, entry: Option<Entry>) -> Context {
        let mut builder = FrameBuilder::default();
        builder.add_owned(key, entry);
        if let Some(frame) = &self.frame {
            builder.add_frame(frame);
        }
        Context::from_frame(builder.build())
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.frame {
            None => f.write_str("Context(empty)"),
            Some(frame) => f
                .debug_struct("Context")
                .field("frame", &Arc::as_ptr(frame))
                .field("values", &frame.len())
                .finish(),
        }
    }
}

/// A future that runs inside a fixed [`Context`]: returned by [`Context::run`],
/// [`LocalStorage::run`] and [`LocalStorage::exit`].
///
/// Around every poll of the inner future, `Scoped` makes its context the thread's
/// current one and restores the previous context afterwards (also when the poll
/// panics). The inner future is dropped inside the context as well, so destructors see
/// the same values as the code that ran.
///
/// If the inner future changes the current context during a poll with
/// [`LocalStorage::enter_with`], `Scoped` keeps that context for its later polls: an
/// `enter_with` inside a `run` future lasts until the future completes, as in Node.
///
/// Costs per poll: three thread-local accesses; no reference counting (the thread-local
/// borrows the `Scoped`'s own frame while it polls).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Scoped<F> {
    /// The context the future runs in (with `setting` on top, if any).
    context: Context,
    /// `LocalStorage::run`'s one setting: entered as a node on top of `context` at each
    /// poll, so no heap frame is built unless the context is captured inside.
    setting: Option<Setting>,
    /// Structurally pinned: never moved out of, and dropped in place by `Drop`.
    future: ManuallyDrop<F>,
}

/// A `LocalStorage::run` setting, and how to hand its value's allocation back.
struct Setting {
    node: StackNode,
    recycle: fn(Entry),
}

impl<F> Scoped<F> {
    fn new(context: Context, future: F) -> Scoped<F> {
        Scoped {
            context,
            setting: None,
            future: ManuallyDrop::new(future),
        }
    }

    /// `future` in the current context with `key` set to `entry` (`None`: unset);
    /// `recycle` receives the entry back when the future is dropped.
    pub(crate) fn with_setting(
        key: StorageKey,
        entry: Option<Entry>,
        recycle: fn(Entry),
        future: F,
    ) -> Scoped<F> {
        Scoped {
            context: Context::current(),
            setting: Some(Setting {
                node: StackNode::detached(key, entry),
                recycle,
            }),
            future: ManuallyDrop::new(future),
        }
    }

    /// Makes this future's context current until the guard drops.
    ///
    /// # Safety
    ///
    /// `self` must not move, and `context`/`setting` must not be dropped or replaced,
    /// until the guard is dropped (except as `poll` does after `take_entered`).
    unsafe fn enter(&mut self) -> ContextGuard {
        match &mut self.setting {
            // SAFETY: forwarded to the caller.
            Some(setting) => unsafe { setting.node.enter_on(&self.context) },
            // SAFETY: forwarded to the caller.
            None => unsafe { ContextGuard::enter_borrowed(&self.context) },
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        // `future` is structurally pinned: never moved out, no `&mut F` API, `Unpin`
        // only when `F` is, dropped in place by `Drop`; `context` is `Unpin`.
        // SAFETY: so `this` is only used in ways that keep `future` where it is.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `this` is pinned (it does not move during the poll); `context` and
        // `setting` are only replaced below after `take_entered`, when the guard borrows
        // the entered context instead, which lives on in `this.context`.
        let mut restore = unsafe { this.enter() };
        // SAFETY: see above; `this.future` stays where the pinned `Scoped` put it.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        let output = future.poll(cx);
        // Keep an `enter_with` made during this poll for the later polls.
        // (It was built on top of the setting, so it replaces both.)
        if let Some(entered) = restore.take_entered() {
            this.context = entered;
            this.setting = None;
        }
        drop(restore);
        output
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        {
            // SAFETY: `self` is being dropped in place; nothing is replaced until the
            // guard is dropped at the end of this block.
            let _restore = unsafe { self.enter() };
            // SAFETY: `future` is dropped exactly once, here, and never used afterwards;
            // it is dropped in place, which honours the pinning guarantee.
            unsafe { ManuallyDrop::drop(&mut self.future) }
        }
        if let Some(setting) = &mut self.setting {
            if let Some(entry) = setting.node.take_entry() {
                (setting.recycle)(entry);
            }
        }
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_immutable_and_cheap_to_copy() {
        let empty = Context::empty();
        assert!(empty.is_empty());
        let key = StorageKey(0x10);
        let one = empty.with_entry(key, Some(Entry::new(key, Arc::new(5u32))));
        assert!(empty.is_empty(), "the old frame is untouched");
        assert_eq!(one.entry(key).unwrap().value_ref::<u32>(), Some(&5));
        let copy = one.clone();
        assert!(copy.ptr_eq(&one));
        let two = one.with_entry(key, Some(Entry::new(key, Arc::new(6u32))));
        assert_eq!(two.len(), 1);
        assert_eq!(one.entry(key).unwrap().value_ref::<u32>(), Some(&5));
        assert_eq!(two.entry(key).unwrap().value_ref::<u32>(), Some(&6));
        assert_eq!(two.entry(key).unwrap().value_ref::<u64>(), None);
        assert!(two.with_entry(key, None).is_empty());
    }

    static TRACE: LocalStorage<u64> = LocalStorage::named("trace");
    static USER: LocalStorage<String> = LocalStorage::named("user");

    fn trace() -> Option<u64> {
        TRACE.get().as_deref().copied()
    }

    #[test]
    fn get_reads_one_storage_of_a_snapshot() {
        let ctx = TRACE.run_sync(11, || USER.run_sync("ada".into(), Context::current));
        assert_eq!(ctx.len(), 2);
        assert_eq!(ctx.get(&TRACE).as_deref(), Some(&11));
        assert_eq!(ctx.get(&USER).as_deref().map(String::as_str), Some("ada"));
        assert_eq!(trace(), None, "reading a snapshot does not enter it");
        assert_eq!(Context::empty().get(&TRACE), None);
    }

    #[test]
    fn a_foreign_key_of_another_type_reads_as_none() {
        let foreign = Entry::erased(TRACE.key(), Arc::new("not a u64"));
        let ctx = Context::empty().with_entry(TRACE.key(), Some(foreign));
        assert_eq!(ctx.get(&TRACE), None);
        assert!(ctx.run_sync(|| TRACE.with(|v| v.is_none())));
    }

    #[test]
    fn current_snapshot_runs_on_another_thread() {
        let ctx = TRACE.run_sync(21, Context::current);
        assert_eq!(trace(), None);
        let (inside, outside) = std::thread::spawn(move || {
            let outside = trace();
            (ctx.run_sync(trace), outside)
        })
        .join()
        .unwrap();
        assert_eq!((inside, outside), (Some(21), None));
    }

    #[test]
    fn bind_carries_the_context_to_another_thread() {
        let job = TRACE.run_sync(31, || Context::bind(trace));
        let nested = TRACE.run_sync(32, || {
            Context::bind(|| (trace(), TRACE.run_sync(33, trace)))
        });
        let seen = std::thread::spawn(move || (job(), trace(), nested(), trace()))
            .join()
            .unwrap();
        assert_eq!(seen, (Some(31), None, (Some(32), Some(33)), None));
    }

    #[test]
    fn bind_overrides_the_context_of_the_caller() {
        let job = Context::bind(trace);
        assert_eq!(TRACE.run_sync(41, job), None, "bound outside any scope");
    }

    #[test]
    fn run_future_enters_the_snapshot_on_each_poll() {
        use std::task::{Wake, Waker};
        struct Noop;
        impl Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = TaskContext::from_waker(&waker);

        let ctx = TRACE.run_sync(51, Context::current);
        let mut polls = 0;
        let mut future = std::pin::pin!(ctx.run(std::future::poll_fn(|_| {
            polls += 1;
            assert_eq!(trace(), Some(51));
            if polls < 3 {
                Poll::Pending
            } else {
                Poll::Ready(polls)
            }
        })));
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(trace(), None);
        let second = TRACE.run_sync(52, || {
            let poll = future.as_mut().poll(&mut cx);
            (poll, trace())
        });
        assert_eq!(second, (Poll::Pending, Some(52)));
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(3));
        assert_eq!(trace(), None);
    }

    #[test]
    fn scoped_is_debug_send_and_unpin_when_its_future_is() {
        fn check<T: Send + Unpin + fmt::Debug>(_: &T) {}
        let scoped = Context::empty().run(std::future::ready(1));
        check(&scoped);
        assert!(format!("{scoped:?}").starts_with("Scoped"));
    }
}
