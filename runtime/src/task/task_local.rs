//! `task_local!` and [`LocalKey`]: tokio's task-local storage, with tokio's semantics.
//!
//! A task-local value is *scoped*: it is set only while the future given to
//! [`LocalKey::scope`] (or the closure given to [`LocalKey::sync_scope`]) runs, and it is
//! **not** inherited by tasks spawned there. That is the difference from
//! [`hookrt::context::LocalStorage`](crate::context::LocalStorage), whose values follow
//! a request into every task it spawns.
//!
//! # Implementation
//!
//! As in tokio, each declaration is a `thread_local!` cell `RefCell<Option<T>>`. A
//! [`TaskLocalFuture`] keeps its value in its own slot and swaps it into the cell around
//! each poll of the inner future (and around its drop), swapping it back afterwards with
//! a guard, so the previous value is restored even when the poll panics. Nothing here is
//! tied to the runtime: a scoped future works on any executor.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

/// Declares task-local keys of type [`hookrt::task::LocalKey`](crate::task::LocalKey),
/// as tokio's `task_local!` does.
///
/// The macro takes any number of `static` declarations (without initialisers); each
/// keeps its attributes and visibility.
///
/// ```
/// hookrt::task_local! {
///     pub static ONE: u32;
///
///     #[allow(unused)]
///     static TWO: f32;
/// }
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let doubled = ONE.scope(21, async { ONE.get() * 2 }).await;
/// assert_eq!(doubled, 42);
/// assert!(ONE.try_with(|_| ()).is_err());
/// # });
/// ```
///
/// Values are scoped, not inherited: a task spawned inside [`LocalKey::scope`] does not
/// see the value. Use [`hookrt::context::LocalStorage`](crate::context::LocalStorage)
/// for a value that follows spawned tasks.
#[macro_export]
macro_rules! task_local {
    // The base case of the recursion.
    () => {};

    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };

    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

/// One declaration of [`task_local!`]: a `thread_local!` cell and the key that names it.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __KEY: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            $crate::task::LocalKey {
                inner: __KEY,
                name: ::std::stringify!($name),
            }
        };
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
///
/// The value is set by [`scope`](LocalKey::scope) for the polls of one future (and by
/// [`sync_scope`](LocalKey::sync_scope) for one closure), and read with
/// [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or [`get`](LocalKey::get).
/// Unlike [`std::thread::LocalKey`], there is no lazy initialiser: outside a scope the
/// key has no value.
///
/// A value is **not** inherited by tasks spawned inside its scope (tokio's semantics);
/// [`hookrt::context::LocalStorage`](crate::context::LocalStorage) is the inherited
/// kind.
///
/// ```
/// hookrt::task_local! {
///     static NUMBER: u32;
/// }
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// NUMBER.scope(1, async move {
///     assert_eq!(NUMBER.get(), 1);
/// }).await;
///
/// NUMBER.scope(2, async move {
///     assert_eq!(NUMBER.get(), 2);
///
///     NUMBER.scope(3, async move {
///         assert_eq!(NUMBER.get(), 3);
///     }).await;
///
///     assert_eq!(NUMBER.get(), 2);
/// }).await;
/// # });
/// ```
pub struct LocalKey<T: 'static> {
    /// The thread-local cell the current value is swapped into. Set by `task_local!`.
    #[doc(hidden)]
    pub inner: thread::LocalKey<RefCell<Option<T>>>,
    /// The declared name, for panic messages and `Debug`. Set by `task_local!`.
    #[doc(hidden)]
    pub name: &'static str,
}

impl<T: 'static> LocalKey<T> {
    /// Sets `value` as this key's value for the polls of `future`.
    ///
    /// The value is set while the returned future polls (or drops) `future`, and the
    /// previous value (if any) is restored after each poll, also when it panics. The
    /// value is dropped with the returned future, unless taken back with
    /// [`TaskLocalFuture::take_value`].
    ///
    /// # Panics
    ///
    /// Polling the returned future inside [`with`](LocalKey::with) or
    /// [`try_with`](LocalKey::try_with) on the same key panics.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// NUMBER.scope(1, async move {
    ///     println!("task-local value: {}", NUMBER.get());
    /// }).await;
    /// # });
    /// ```
    pub fn scope<F>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F>
    where
        F: Future,
    {
        TaskLocalFuture {
            local: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Sets `value` as this key's value while `f` runs, then restores the previous value
    /// (also when `f` panics) and drops `value`.
    ///
    /// # Panics
    ///
    /// Panics if called inside [`with`](LocalKey::with) or
    /// [`try_with`](LocalKey::try_with) on the same key.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// let doubled = NUMBER.sync_scope(21, || NUMBER.get() * 2);
    /// assert_eq!(doubled, 42);
    /// ```
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(output) => output,
            Err(err) => err.panic(),
        }
    }

    /// Swaps `slot` into the cell, runs `f`, and swaps it back (also on unwind).
    fn scope_inner<F, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, ScopeInnerErr>
    where
        F: FnOnce() -> R,
    {
        /// Swaps the value back when dropped, so a panic in `f` restores the cell.
        struct Restore<'a, T: 'static> {
            local: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the cell was accessible and not borrowed when the value
                // went in, user code never holds a `RefMut` (and every `Ref` handed to
                // `with` is released before `with` returns), and the thread-local was
                // alive then, so it is alive now.
                self.local.inner.with(|cell| {
                    mem::swap(self.slot, &mut *cell.borrow_mut());
                });
            }
        }

        self.inner.try_with(|cell| {
            cell.try_borrow_mut()
                .map(|mut current| mem::swap(slot, &mut *current))
        })??;

        let restore = Restore { local: self, slot };
        let output = f();
        drop(restore);
        Ok(output)
    }

    /// Runs `f` with a reference to this key's current value.
    ///
    /// # Panics
    ///
    /// Panics outside a scope of this key (no value set); the message names the fix. Use
    /// [`try_with`](LocalKey::try_with) to handle that case.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NAME: String;
    /// }
    ///
    /// let len = NAME.sync_scope("ada".to_string(), || NAME.with(|name| name.len()));
    /// assert_eq!(len, 3);
    /// ```
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(output) => output,
            Err(_) => panic!(
                "cannot access a task-local storage value without setting it first: \
                 `{name}` has a value only inside `{name}.scope(value, future)` or \
                 `{name}.sync_scope(value, f)`, and tasks spawned there do not inherit it \
                 (use `hookrt::context::LocalStorage` for a value that follows spawned tasks)",
                name = self.name,
            ),
        }
    }

    /// Runs `f` with a reference to this key's current value, or returns an
    /// [`AccessError`] outside a scope of this key.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert!(NUMBER.try_with(|n| *n).is_err());
    /// assert_eq!(NUMBER.sync_scope(7, || NUMBER.try_with(|n| *n)), Ok(7));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        // An inaccessible thread-local (being destroyed) means no scope is active on
        // this thread either. The shared borrow cannot fail: a mutable borrow only ever
        // lasts for a swap, during which no user code runs.
        match self.inner.try_with(|cell| cell.borrow().as_ref().map(f)) {
            Ok(Some(output)) => Ok(output),
            Ok(None) | Err(_) => Err(AccessError { _private: () }),
        }
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// Returns a clone of this key's current value.
    ///
    /// # Panics
    ///
    /// Panics outside a scope of this key, as [`with`](LocalKey::with) does.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert_eq!(NUMBER.sync_scope(5, || NUMBER.get()), 5);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// Returns a clone of this key's current value, or an [`AccessError`] outside a
    /// scope of this key.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert!(NUMBER.try_get().is_err());
    /// assert_eq!(NUMBER.sync_scope(5, || NUMBER.try_get()), Ok(5));
    /// ```
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A future that sets a task-local value while it polls its inner future, returned by
/// [`LocalKey::scope`].
///
/// The value lives in this future between polls and is dropped with it (the inner future
/// is dropped first, with the value still set, so its destructors can read it).
///
/// ```
/// hookrt::task_local! {
///     static NUMBER: u32;
/// }
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// NUMBER.scope(1, async move {
///     println!("task-local value: {}", NUMBER.get());
/// }).await;
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TaskLocalFuture<T: 'static, F> {
    local: &'static LocalKey<T>,
    /// The value while the inner future is not being polled; not pinned (swapped in and
    /// out of the thread-local cell).
    slot: Option<T>,
    /// Structurally pinned: never moved out of; set to `None` in place when it completes
    /// and when `TaskLocalFuture` is dropped.
    future: Option<F>,
}

// The value is never pinned, only the inner future is.
impl<T: 'static, F: Unpin> Unpin for TaskLocalFuture<T, F> {}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of this future: `Some` the first time (also before the future
    /// completes, after which the inner future no longer sees it), `None` afterwards.
    ///
    /// ```
    /// hookrt::task_local! {
    ///     static KEY: u32;
    /// }
    ///
    /// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mut future = Box::pin(KEY.scope(42, async { KEY.get() }));
    /// assert_eq!(future.as_mut().await, 42);
    /// assert_eq!(future.as_mut().take_value(), Some(42));
    /// assert_eq!(future.as_mut().take_value(), None);
    /// # });
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        // SAFETY: only `slot` is touched, and it is not structurally pinned; the inner
        // future is neither moved nor exposed.
        let this = unsafe { self.get_unchecked_mut() };
        this.slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // `future` is structurally pinned: never moved out, no `&mut F` handed out, only
        // replaced in place, `Unpin` only when `F` is; `slot` and `local` are not pinned.
        // SAFETY: so `this` is only used in ways that keep `future` where it is.
        let this = unsafe { self.get_unchecked_mut() };
        let local = this.local;
        // SAFETY: see above; `this.future` stays where the pinned `TaskLocalFuture` put
        // it until it is dropped in place.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        let polled = local.scope_inner(&mut this.slot, || {
            let output = future.as_mut().as_pin_mut()?.poll(cx);
            if output.is_ready() {
                // Drop the completed future while the value is still set.
                future.set(None);
            }
            Some(output)
        });
        match polled {
            Ok(Some(output)) => output,
            Ok(None) => panic!("`TaskLocalFuture` polled after completion"),
            Err(err) => err.panic(),
        }
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if mem::needs_drop::<F>() && self.future.is_some() {
            // Drop the inner future with the value set, so its destructors can read it.
            // If the value cannot be set (the cell is borrowed, or the thread-local is
            // being destroyed), the future is dropped without it, with the fields.
            let future = &mut self.future;
            let _ = self.local.scope_inner(&mut self.slot, || {
                // Dropped in place: the pinning guarantee holds.
                *future = None;
            });
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Shows the value without `Some`, as tokio does.
        struct Value<'a, T>(&'a Option<T>);

        impl<T: fmt::Debug> fmt::Debug for Value<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Some(value) => value.fmt(f),
                    None => f.pad("<missing>"),
                }
            }
        }

        f.debug_struct("TaskLocalFuture")
            .field("key", &self.local.name)
            .field("value", &Value(&self.slot))
            .finish_non_exhaustive()
    }
}

/// The error of [`LocalKey::try_with`] and [`LocalKey::try_get`]: the key has no value
/// here (outside every scope of the key).
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt("task-local value not set", f)
    }
}

impl Error for AccessError {}

/// Why a scope could not be entered.
enum ScopeInnerErr {
    /// The cell is borrowed by a `with` on the same key.
    Borrow,
    /// The thread-local is being (or has been) destroyed.
    Access,
}

impl ScopeInnerErr {
    #[track_caller]
    fn panic(&self) -> ! {
        match self {
            ScopeInnerErr::Borrow => panic!(
                "cannot enter a task-local scope while the task-local storage is borrowed \
                 (a scope of this key was entered inside its own `with`)"
            ),
            ScopeInnerErr::Access => panic!(
                "cannot enter a task-local scope during or after destruction of the \
                 underlying thread-local"
            ),
        }
    }
}

impl From<std::cell::BorrowMutError> for ScopeInnerErr {
    fn from(_: std::cell::BorrowMutError) -> ScopeInnerErr {
        ScopeInnerErr::Borrow
    }
}

impl From<thread::AccessError> for ScopeInnerErr {
    fn from(_: thread::AccessError) -> ScopeInnerErr {
        ScopeInnerErr::Access
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::task_local! {
        static NUMBER: u32;
    }

    #[test]
    fn types_are_send_sync_and_debug() {
        fn send_sync<T: Send + Sync>() {}
        fn send_unpin_debug<T: Send + Unpin + fmt::Debug>(_: &T) {}
        send_sync::<LocalKey<u32>>();
        send_sync::<AccessError>();
        let future = NUMBER.scope(1, std::future::ready(()));
        send_unpin_debug(&future);
        assert_eq!(
            format!("{future:?}"),
            "TaskLocalFuture { key: \"NUMBER\", value: 1, .. }"
        );
        assert_eq!(format!("{NUMBER:?}"), "LocalKey { name: \"NUMBER\", .. }");
    }
}
