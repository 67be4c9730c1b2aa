//! `LocalStorage<T>`: one inherited async-context slot (Node's `AsyncLocalStorage`).
//!
//! A `LocalStorage` owns no data. It is a typed key into the current [`Context`]
//! frame: setting a value builds a new frame (the old one is untouched), reading is a
//! thread-local load plus a short scan of the frame. The key is the address of the
//! `LocalStorage` itself, which is why it must live in a `static`.

use crate::context::{new_arc, park, run_with, Entry, StorageKey};
use crate::{Context, Scoped};
use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// An async-context slot holding a `T` (Node's `AsyncLocalStorage`).
///
/// A value set with [`run`](LocalStorage::run) is visible to the future, to everything
/// that future awaits, and to every task it spawns while it runs: tasks start with their
/// spawner's current context. This is the difference from `task_local!`, which is
/// scoped but not inherited.
///
/// Values are shared, not copied: readers get an `Arc<T>` ([`get`](LocalStorage::get))
/// or a `&T` ([`with`](LocalStorage::with)), and no value is ever mutated after it is
/// set. Use interior mutability inside `T` if tasks should share a mutable cell.
///
/// # Keep it in a `static`
///
/// A `LocalStorage` is identified by its address, so it must live in a `static` (or
/// otherwise never move and never be freed while a context may mention it). A `const`
/// item would be a fresh value, with a fresh address, at every use and would never see
/// its own values. The methods that hand a value to a future ([`run`](LocalStorage::run),
/// [`exit`](LocalStorage::exit)) take `&'static self` to enforce this; a stale key can
/// never yield a value of the wrong type, because every read checks the type.
///
/// ```
/// use hookrt_hooks::LocalStorage;
///
/// #[derive(Debug, PartialEq)]
/// struct Request {
///     id: u64,
/// }
///
/// static REQUEST: LocalStorage<Request> = LocalStorage::named("request");
///
/// assert!(REQUEST.get().is_none());
/// REQUEST.run_sync(Request { id: 7 }, || {
///     assert_eq!(REQUEST.get().map(|r| r.id), Some(7));
///     REQUEST.with(|r| assert_eq!(r, Some(&Request { id: 7 })));
/// });
/// assert!(REQUEST.get().is_none());
/// ```
pub struct LocalStorage<T: Send + Sync + 'static> {
    /// Also makes the type non-zero-sized: distinct statics of a zero-sized type may
    /// share an address, which would make two storages share a key.
    name: Option<&'static str>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Send + Sync + 'static> LocalStorage<T> {
    /// Creates an unnamed storage. `const`, so it can initialise a `static`.
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static TENANT: LocalStorage<String> = LocalStorage::new();
    /// assert_eq!(TENANT.name(), None);
    /// ```
    pub const fn new() -> LocalStorage<T> {
        LocalStorage {
            name: None,
            _value: PhantomData,
        }
    }

    /// Creates a storage with a name, shown by `Debug` (for diagnostics only: the name
    /// plays no part in lookups, and two storages may share one).
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static TENANT: LocalStorage<String> = LocalStorage::named("tenant");
    /// assert_eq!(TENANT.name(), Some("tenant"));
    /// ```
    pub const fn named(name: &'static str) -> LocalStorage<T> {
        LocalStorage {
            name: Some(name),
            _value: PhantomData,
        }
    }

    /// The name given to [`named`](LocalStorage::named), if any.
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// The frame key of this storage: its address.
    pub(crate) fn key(&self) -> StorageKey {
        StorageKey(self as *const Self as usize)
    }

    /// The current context with this storage set to `value` (or removed, for `None`).
    fn current_with(&self, value: Option<T>) -> Context {
        crate::context::current_with(self.key(), value.map(|v| self.entry(v)))
    }

    /// `value` as this storage's entry, in a (possibly reused) `Arc` allocation.
    fn entry(&self, value: T) -> Entry {
        Entry::new(self.key(), new_arc(value))
    }

    /// Runs `f` with this storage set to `value` (`None`: unset), without building a
    /// heap frame unless the context is captured inside; the value's allocation is
    /// reused by the next scope when nothing kept a reference to it.
    fn scope_sync<R>(&self, value: Option<T>, f: impl FnOnce() -> R) -> R {
        let entry = value.map(|v| self.entry(v));
        let (output, entry) = run_with(self.key(), entry, f);
        if let Some(entry) = entry {
            recycle::<T>(entry);
        }
        output
    }

    /// Runs `future` with this storage set to `value`: inside every poll of the returned
    /// future, [`get`](LocalStorage::get) returns `value`, and tasks spawned there
    /// inherit it. Other storages keep the values they had when `run` was called.
    ///
    /// As in Node, the new frame is built from the context current *when `run` is
    /// called*, not when the future is first polled.
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
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
    /// static USER: LocalStorage<&'static str> = LocalStorage::new();
    ///
    /// async fn greet() -> String {
    ///     format!("hello {}", USER.get().as_deref().unwrap_or(&"stranger"))
    /// }
    ///
    /// assert_eq!(block_on(USER.run("ada", greet())), "hello ada");
    /// assert_eq!(block_on(greet()), "hello stranger");
    /// ```
    pub fn run<F: Future>(&'static self, value: T, future: F) -> Scoped<F> {
        Scoped::with_setting(self.key(), Some(self.entry(value)), recycle::<T>, future)
    }

    /// Runs `f` with this storage set to `value`, then restores the previous context
    /// (also when `f` panics).
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static DEPTH: LocalStorage<u32> = LocalStorage::new();
    ///
    /// DEPTH.run_sync(1, || {
    ///     DEPTH.run_sync(2, || assert_eq!(DEPTH.get().as_deref(), Some(&2)));
    ///     assert_eq!(DEPTH.get().as_deref(), Some(&1));
    /// });
    /// ```
    pub fn run_sync<R>(&self, value: T, f: impl FnOnce() -> R) -> R {
        self.scope_sync(Some(value), f)
    }

    /// Runs `future` with this storage unset (Node's `exit`); other storages keep their
    /// values.
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
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
    /// static SPAN: LocalStorage<u64> = LocalStorage::new();
    ///
    /// let outside = SPAN.run_sync(9, || block_on(SPAN.exit(async { SPAN.get() })));
    /// assert_eq!(outside, None);
    /// ```
    pub fn exit<F: Future>(&'static self, future: F) -> Scoped<F> {
        Scoped::with_setting(self.key(), None, recycle::<T>, future)
    }

    /// Runs `f` with this storage unset, then restores the previous context (also when
    /// `f` panics).
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static SPAN: LocalStorage<u64> = LocalStorage::new();
    ///
    /// SPAN.run_sync(9, || {
    ///     assert_eq!(SPAN.exit_sync(|| SPAN.get()), None);
    ///     assert_eq!(SPAN.get().as_deref(), Some(&9));
    /// });
    /// ```
    pub fn exit_sync<R>(&self, f: impl FnOnce() -> R) -> R {
        self.scope_sync(None, f)
    }

    /// Sets this storage to `value` for the rest of the current scope (Node's
    /// `enterWith`), without a closure.
    ///
    /// The scope is the innermost one that set the current context:
    ///
    /// - inside [`run_sync`](LocalStorage::run_sync), [`Context::run_sync`] or
    ///   `AsyncResource::in_scope`: until that closure returns;
    /// - inside a [`run`](LocalStorage::run) / [`Context::run`] future: until that future
    ///   completes ([`Scoped`] keeps the context across its polls);
    /// - directly in a task: for the rest of the task. The scheduler keeps the task's
    ///   new frame after the poll, so later polls see the value, and so do the tasks it
    ///   spawns from then on; siblings spawned before, and the parent, do not. Hooks see
    ///   it in the task's `before`/`after`/`resolve`/`destroy`; `wake` (which can run on
    ///   any thread) shows the task's spawn-time context.
    /// - outside any scope: for the rest of the thread, until something else replaces
    ///   the thread's context.
    ///
    /// Prefer [`run`](LocalStorage::run) and [`run_sync`](LocalStorage::run_sync), whose
    /// extent is visible in the code.
    ///
    /// ```
    /// use hookrt_hooks::{Context, LocalStorage};
    /// static USER: LocalStorage<&'static str> = LocalStorage::new();
    ///
    /// Context::empty().run_sync(|| {
    ///     USER.enter_with("ada");
    ///     assert_eq!(USER.get().as_deref(), Some(&"ada"));
    /// });
    /// assert_eq!(USER.get(), None, "the enclosing scope restored its context");
    /// ```
    pub fn enter_with(&self, value: T) {
        Context::set_current(self.current_with(Some(value)));
    }

    /// The current value, if any: a clone of the stored `Arc` (one refcount increment).
    /// Use [`with`](LocalStorage::with) to borrow it instead.
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static ID: LocalStorage<u64> = LocalStorage::new();
    ///
    /// assert_eq!(ID.get(), None);
    /// assert_eq!(ID.run_sync(5, || ID.get()).as_deref(), Some(&5));
    /// ```
    pub fn get(&self) -> Option<Arc<T>> {
        crate::context::get_current::<T>(self.key())
    }

    /// Calls `f` with a borrow of the current value, if any.
    ///
    /// Nothing is cloned and no reference count changes: the value belongs to a scope
    /// that encloses this call (after an `enter_with` outside any scope, the frame's
    /// reference count is taken for the call, so that `f` cannot release it).
    ///
    /// ```
    /// use hookrt_hooks::LocalStorage;
    /// static NAME: LocalStorage<String> = LocalStorage::new();
    ///
    /// let len = NAME.run_sync("ada".to_string(), || NAME.with(|n| n.map_or(0, String::len)));
    /// assert_eq!(len, 3);
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        crate::context::with_current_value(self.key(), f)
    }
}

/// Parks the allocation of an entry's value for reuse if nothing else refers to it.
fn recycle<T: Send + Sync + 'static>(entry: Entry) {
    if let Some(value) = entry.into_arc::<T>() {
        park(value);
    }
}

impl<T: Send + Sync + 'static> Default for LocalStorage<T> {
    fn default() -> LocalStorage<T> {
        LocalStorage::new()
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for LocalStorage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStorage")
            .field("name", &self.name)
            .field("type", &type_name::<T>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::pin::pin;
    use std::task::{Poll, Wake, Waker};

    static NUMBER: LocalStorage<u32> = LocalStorage::named("number");
    static WORD: LocalStorage<&'static str> = LocalStorage::named("word");

    struct NoopWaker;

    impl Wake for NoopWaker {
        fn wake(self: Arc<Self>) {}
    }

    /// Polls `future` once with a waker that does nothing.
    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(NoopWaker));
        future.poll(&mut std::task::Context::from_waker(&waker))
    }

    /// Returns `Pending` once, then `Ready`.
    async fn yield_once() {
        let mut yielded = false;
        std::future::poll_fn(|_| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                Poll::Pending
            }
        })
        .await
    }

    fn number() -> Option<u32> {
        NUMBER.get().as_deref().copied()
    }

    #[test]
    fn get_outside_any_scope_is_none() {
        assert_eq!(number(), None);
        NUMBER.with(|v| assert_eq!(v, None));
        assert!(Context::current().is_empty());
    }

    #[test]
    fn run_sync_scopes_and_nests() {
        let seen = NUMBER.run_sync(1, || {
            let outer = number();
            let inner = NUMBER.run_sync(2, || (number(), NUMBER.with(|v| v.copied())));
            (outer, inner, number())
        });
        assert_eq!(seen, (Some(1), (Some(2), Some(2)), Some(1)));
        assert_eq!(number(), None);
    }

    #[test]
    fn storages_are_independent() {
        let seen = NUMBER.run_sync(1, || {
            WORD.run_sync("w", || {
                let both = (number(), WORD.get().as_deref().copied());
                let renumbered = NUMBER.run_sync(3, || (number(), WORD.get().is_some()));
                (both, renumbered, Context::current().len())
            })
        });
        assert_eq!(seen, ((Some(1), Some("w")), (Some(3), true), 2));
        assert_eq!(WORD.get(), None);
    }

    #[test]
    fn exit_unsets_only_its_storage() {
        let seen = NUMBER.run_sync(1, || {
            WORD.run_sync("w", || {
                let inside = NUMBER.exit_sync(|| (number(), WORD.get().is_some()));
                (inside, number())
            })
        });
        assert_eq!(seen, ((None, true), Some(1)));

        let mut future = pin!(NUMBER.run_sync(1, || NUMBER.exit(async {
            let before = number();
            yield_once().await;
            (before, number())
        })));
        assert!(poll_once(future.as_mut()).is_pending());
        assert_eq!(poll_once(future.as_mut()), Poll::Ready((None, None)));
    }

    #[test]
    fn with_borrows_without_cloning_the_value() {
        NUMBER.run_sync(7, || {
            let count = NUMBER.with(|v| {
                assert_eq!(v, Some(&7));
                Arc::strong_count(&NUMBER.get().unwrap())
            });
            assert_eq!(count, 2, "the frame's Arc plus the one `get` returned");
        });
    }

    #[test]
    fn run_future_keeps_its_value_across_polls_and_restores_between() {
        let mut future = pin!(NUMBER.run(5, async {
            let first = number();
            yield_once().await;
            (first, number())
        }));
        NUMBER.run_sync(1, || {
            assert!(poll_once(future.as_mut()).is_pending());
            assert_eq!(number(), Some(1), "restored after the first poll");
        });
        assert_eq!(number(), None);
        assert_eq!(
            poll_once(future.as_mut()),
            Poll::Ready((Some(5), Some(5))),
            "the second poll runs in another outer context but sees the run value"
        );
        assert_eq!(number(), None, "restored after completion");
    }

    #[test]
    fn run_captures_the_context_at_call_time() {
        let future = WORD.run_sync("call time", || {
            NUMBER.run(1, async { WORD.get().as_deref().copied() })
        });
        let mut future = pin!(future);
        let seen = WORD.run_sync("poll time", || poll_once(future.as_mut()));
        assert_eq!(seen, Poll::Ready(Some("call time")));
    }

    #[test]
    fn panic_inside_run_sync_restores_the_outer_value() {
        NUMBER.run_sync(1, || {
            let result = catch_unwind(|| {
                NUMBER.run_sync(2, || {
                    assert_eq!(number(), Some(2));
                    panic!("unwind through run_sync");
                })
            });
            assert!(result.is_err());
            assert_eq!(number(), Some(1));
        });
        assert_eq!(number(), None);
    }

    #[test]
    fn panic_inside_a_poll_restores_the_outer_value() {
        let seen = std::sync::Mutex::new(None);
        let mut future = pin!(NUMBER.run(2, async {
            *seen.lock().unwrap() = number();
            panic!("unwind through a poll");
        }));
        NUMBER.run_sync(1, || {
            let result = catch_unwind(AssertUnwindSafe(|| poll_once(future.as_mut())));
            assert!(result.is_err());
            assert_eq!(number(), Some(1));
        });
        assert_eq!(*seen.lock().unwrap(), Some(2));
    }

    #[test]
    fn scoped_future_is_dropped_inside_its_context() {
        struct Probe(Arc<std::sync::Mutex<Option<u32>>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = number();
            }
        }
        let seen = Arc::new(std::sync::Mutex::new(None));
        let probe = Probe(seen.clone());
        let future = NUMBER.run(4, async move {
            let _probe = probe;
            yield_once().await;
        });
        {
            let mut future = Box::pin(future);
            assert!(poll_once(future.as_mut()).is_pending());
        }
        assert_eq!(*seen.lock().unwrap(), Some(4));
        assert_eq!(number(), None);
    }

    #[test]
    fn enter_with_lasts_until_the_enclosing_scope_ends() {
        let seen = NUMBER.run_sync(1, || {
            let inner = Context::empty().run_sync(|| {
                NUMBER.enter_with(2);
                let first = number();
                NUMBER.enter_with(3);
                (first, number())
            });
            (inner, number())
        });
        assert_eq!(seen, ((Some(2), Some(3)), Some(1)));
        assert_eq!(number(), None);
    }

    #[test]
    fn enter_with_inside_run_persists_across_polls_of_that_future() {
        let mut future = pin!(NUMBER.run(1, async {
            NUMBER.enter_with(2);
            yield_once().await;
            number()
        }));
        assert!(poll_once(future.as_mut()).is_pending());
        assert_eq!(number(), None);
        assert_eq!(poll_once(future.as_mut()), Poll::Ready(Some(2)));
    }

    #[test]
    fn enter_with_releases_the_replaced_frame() {
        let value = Arc::new(());
        struct Counted(#[allow(dead_code)] Arc<()>);
        static COUNTED: LocalStorage<Counted> = LocalStorage::new();
        Context::empty().run_sync(|| {
            COUNTED.enter_with(Counted(value.clone()));
            assert_eq!(Arc::strong_count(&value), 2);
            COUNTED.enter_with(Counted(value.clone()));
            assert_eq!(Arc::strong_count(&value), 2, "the first frame is released");
        });
        assert_eq!(Arc::strong_count(&value), 1, "and so is the second");
    }

    #[test]
    fn debug_shows_the_name_and_type() {
        let shown = format!("{NUMBER:?}");
        assert!(
            shown.contains("\"number\"") && shown.contains("u32"),
            "{shown}"
        );
        assert_eq!(NUMBER.name(), Some("number"));
        assert_ne!(NUMBER.key(), WORD.key());
    }
}
