//! `LocalSet` and `spawn_local`: tasks whose futures are not `Send`, run on one thread.
//!
//! - `mod.rs`: the public API (`LocalSet`, `LocalEnterGuard`, `spawn_local`) and the
//!   loop that runs the set's queues.
//! - `shared.rs`: `Shared`, the scheduler the set's tasks hold: the owner thread's
//!   queue, the remote queue, the owned-task list, the hooks and the driver's waker.
//! - `current.rs`: the thread's current set.

mod current;
mod shared;

use super::{JoinHandle, Notified, TaskMeta};
use crate::runtime::Runtime;
use shared::{Shared, Watch};
use std::cell::Cell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};

/// How many tasks one poll of the set runs before it yields to the runtime that drives
/// it (tokio's number).
const MAX_TASKS_PER_TICK: u32 = 61;

/// Every this many tasks, the remote queue is served before the local one, so wakes
/// from other threads are not starved by tasks that keep waking each other.
const REMOTE_FIRST_INTERVAL: u8 = 31;

/// A set of tasks that all run on the current thread, so their futures need not be
/// `Send` (tokio's `LocalSet`).
///
/// Spawn onto it with [`spawn_local`](LocalSet::spawn_local) or, from code the set runs,
/// with the free function [`task::spawn_local`](spawn_local). The tasks make progress
/// while the set is driven: inside [`run_until`](LocalSet::run_until) (or
/// [`block_on`](LocalSet::block_on)), or while the set itself is awaited, which
/// completes once all of its tasks have.
///
/// Local tasks are ordinary `Task` resources: hooks see their `init` (with the spawning
/// execution as trigger and the `spawn_local` call as location), `before`/`after`
/// around each poll, `resolve`, `destroy` and `wake`, and each starts in its spawner's
/// async context. The set reports to the hooks of the runtime it is first used in (see
/// *Hooks* below).
///
/// ```
/// use hookrt::task::{self, LocalSet};
/// use std::rc::Rc;
///
/// let rt = hookrt::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let shared = local.block_on(&rt, async {
///     let shared = Rc::new(1); // not Send
///     let copy = shared.clone();
///     task::spawn_local(async move {
///         task::yield_now().await; // held across an await
///         *copy + 1
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(shared, 2);
/// ```
///
/// Dropping the set cancels every task still in it: their futures are dropped right
/// there, on this thread, inside each task's own execution frame, and their `destroy`
/// events fire before `drop` returns. The tasks belong to the set, not to a runtime:
/// shutting a runtime down does not cancel them, dropping the set does.
///
/// # Safety argument
///
/// A task cell is `Send` and `Sync` for every task (`RawTask`'s impls), so the type
/// system alone does not keep a `!Send` future on its thread; this type does:
///
/// - A `LocalSet` is neither `Send` nor `Sync`, so every `&LocalSet` is used on the
///   thread that created it (the *owner*). Making the set current on a thread needs a
///   `&LocalSet`, so it is current only on the owner thread.
/// - A future is **polled** only by `Notified::run`, which only the set's own loops
///   call (`run_until`, polling the set, dropping it), all through a `&LocalSet`.
///   `schedule` from any thread only queues: onto the owner's queue when the set is
///   current on the calling thread (hence the owner), else onto the remote queue,
///   waking the driver. No other scheduler ever sees these tasks.
/// - A future is **dropped** only under `RUNNING`: at completion or cancellation while
///   the set runs it, by `LocalSet`'s `Drop` (`shutdown` cancels idle tasks there and
///   the drain runs the queued ones), or by `spawn_local` on a closed set (on the
///   spawning thread, which is the owner). `abort()` from another thread only queues.
/// - The output of a `!Send` future is `!Send`; it moves only through the
///   `JoinHandle<T>`, which is `Send` only when `T` is. A task cell freed on another
///   thread (its last waker dropped there) holds no future and no output by then.
///
/// # Hooks
///
/// A set reports to the hooks of the first hookrt runtime it meets: the one current
/// when something is spawned onto it or when it is driven, awaited or entered
/// (`block_on(&rt, ..)` takes `rt`'s), and keeps them. Tasks spawned before that (from
/// outside any runtime, as in `local.spawn_local(..); rt.block_on(local)`) get their
/// `init` when the set adopts its hooks, before it first runs them there; their
/// trigger is the execution that spawned them ([`ROOT`](crate::hooks::AsyncId::ROOT)
/// outside any). A set never used inside a runtime reports to no hooks.
pub struct LocalSet {
    shared: Arc<Shared>,
    /// Counts dequeues, for the remote-first interval.
    tick: Cell<u8>,
    /// `!Send` and `!Sync`: see the safety argument above.
    _not_send: PhantomData<*const ()>,
}

impl LocalSet {
    /// An empty set, owned by the calling thread.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Shared::new(),
            tick: Cell::new(0),
            _not_send: PhantomData,
        }
    }

    /// Spawns `future` onto this set and returns a handle to await its output. The task
    /// runs when the set is driven (see the type docs); it may be spawned before.
    ///
    /// A handle whose output is not `Send` is not `Send` either:
    ///
    /// ```compile_fail
    /// # let local = hookrt::task::LocalSet::new();
    /// fn send<T: Send>(_: T) {}
    /// send(local.spawn_local(async { std::rc::Rc::new(1) }));
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_with_meta(future, TaskMeta::here(None, Location::caller()))
    }

    /// Spawns onto this set with the given metadata.
    pub(crate) fn spawn_with_meta<F>(&self, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: `self` is a `&LocalSet`, usable only on the set's owner thread, where
        // the caller also made `future`.
        unsafe { self.shared.spawn(future, meta) }
    }

    /// Fixes the set's hooks to the current runtime's, if not yet fixed.
    fn adopt_hooks(&self) {
        // SAFETY: `self` is a `&LocalSet`, usable only on the set's owner thread.
        unsafe { self.shared.adopt_hooks() }
    }

    /// Runs `future` on the current thread with this set current, and the set's tasks
    /// between its polls, until `future` completes. Tasks left unfinished stay in the set.
    ///
    /// Each poll runs the future and then at most 61 ready tasks; if more are ready, it
    /// wakes itself and returns, so the runtime around it gets its turn.
    ///
    /// ```
    /// use hookrt::task::{self, LocalSet};
    ///
    /// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let local = LocalSet::new();
    /// let out = local
    ///     .run_until(async { task::spawn_local(async { 7 }).await.unwrap() })
    ///     .await;
    /// assert_eq!(out, 7);
    /// # });
    /// ```
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| self.poll_run_until(future.as_mut(), cx)).await
    }

    /// Runs `future` and this set's tasks on the current thread, inside `rt`, until
    /// `future` completes (`rt.block_on(self.run_until(future))`).
    ///
    /// # Panics
    ///
    /// When the thread already drives a runtime, as [`Runtime::block_on`] does.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        // SAFETY: `self` is a `&LocalSet`, usable only on the set's owner thread.
        unsafe { self.shared.adopt_hooks_of(rt.handle().inner.hooks()) };
        rt.block_on(self.run_until(future))
    }

    /// Makes this set current on this thread until the guard drops, so that
    /// [`spawn_local`] works here. The tasks still run only while the set is driven.
    ///
    /// ```
    /// use hookrt::task::{self, LocalSet};
    ///
    /// let local = LocalSet::new();
    /// let handle = {
    ///     let _guard = local.enter();
    ///     task::spawn_local(async { "ran" })
    /// };
    /// let rt = hookrt::runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(local.block_on(&rt, handle).unwrap(), "ran");
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        self.adopt_hooks();
        LocalEnterGuard {
            _current: current::enter(&self.shared, true),
            _not_send: PhantomData,
        }
    }

    /// One poll of `run_until`.
    fn poll_run_until<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        self.adopt_hooks();
        let _current = current::enter(&self.shared, false);
        self.shared.register_driver(cx.waker());
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(output);
        }
        if self.tick() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] tasks; returns whether more may be ready. The
    /// caller has made the set current.
    fn tick(&self) -> bool {
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.next_task() {
                Some(task) => task.run(),
                None => return false,
            }
        }
        true
    }

    fn next_task(&self) -> Option<Notified> {
        let tick = self.tick.get();
        self.tick.set(tick.wrapping_add(1));
        if tick % REMOTE_FIRST_INTERVAL == 0 {
            self.shared.pop_remote().or_else(|| self.pop_local())
        } else {
            self.pop_local().or_else(|| self.shared.pop_remote())
        }
    }

    fn pop_local(&self) -> Option<Notified> {
        // SAFETY: `self` is a `&LocalSet`, usable only on the set's owner thread.
        unsafe { self.shared.pop_local() }
    }

    /// Cancels every task and runs the queues until each cancelled future is dropped.
    fn shut_down(&mut self) {
        let tasks = self.shared.owned.close_and_take_all();
        // Keep a reference to each task to see when it is done.
        let taken: Vec<Watch> = tasks
            .into_iter()
            .map(|raw| {
                let watch = Watch::new(raw);
                // Idle tasks are cancelled here; queued ones by the drain below.
                raw.shutdown();
                watch
            })
            .collect();
        loop {
            while let Some(task) = self.next_task() {
                task.run();
            }
            // Every unfinished task is notified, and a waker on another thread is about
            // to queue it: wait for it. (Only this thread polls these tasks, so one that
            // is `RUNNING` could only be polled further up this very stack; its poller
            // sees `CANCELLED` and finishes it, and waiting for it would never end.)
            let waiting = taken.iter().any(|watch| {
                let state = watch.raw().header().state.load();
                !state.is_complete() && !state.is_running()
            });
            if !waiting {
                break;
            }
            std::thread::yield_now();
        }
        // SAFETY: `self` is a `&mut LocalSet`, usable only on the owner thread.
        unsafe { self.shared.close() };
        drop(taken);
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

/// Awaiting a set runs its tasks until every one of them has finished.
///
/// ```
/// use hookrt::task::LocalSet;
/// use std::{cell::Cell, rc::Rc};
///
/// let rt = hookrt::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let hits = Rc::new(Cell::new(0));
/// for _ in 0..3 {
///     let hits = hits.clone();
///     local.spawn_local(async move { hits.set(hits.get() + 1) });
/// }
/// rt.block_on(local);
/// assert_eq!(hits.get(), 3);
/// ```
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.adopt_hooks();
        self.shared.register_driver(cx.waker());
        let more = {
            let _current = current::enter(&self.shared, false);
            self.tick()
        };
        if more {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if self.shared.owned.is_empty() {
            Poll::Ready(())
        } else {
            // The rest are idle; whoever wakes them wakes us through the remote queue.
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Current while the futures are dropped: a destructor's `spawn_local` lands on
        // this (closed) set and is cancelled at once, and its wakes queue locally.
        let _current = current::enter(&self.shared, false);
        self.shut_down();
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.shared.owned.len())
            .finish_non_exhaustive()
    }
}

/// Keeps a [`LocalSet`] current on this thread; returned by [`LocalSet::enter`].
#[must_use = "the set is left as soon as the guard is dropped"]
pub struct LocalEnterGuard {
    _current: current::CurrentGuard,
    /// Restores a thread-local: must be dropped on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

/// Spawns a `!Send` future onto the current thread's [`LocalSet`] and returns a handle
/// to await its output.
///
/// The task is an ordinary `Task` resource (see [`spawn`](crate::spawn)): `init` fires
/// before this returns, with the current execution as trigger and this call's
/// location, and the task starts in the caller's async context.
///
/// # Panics
///
/// Outside a `LocalSet`: call it from code that [`LocalSet::run_until`],
/// [`LocalSet::block_on`] or an awaited `LocalSet` runs, or after
/// [`LocalSet::enter`].
///
/// ```
/// use hookrt::task::{self, LocalSet};
/// use std::{cell::RefCell, rc::Rc};
///
/// let rt = hookrt::runtime::Builder::new_current_thread().build().unwrap();
/// LocalSet::new().block_on(&rt, async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let inner = log.clone();
///     task::spawn_local(async move { inner.borrow_mut().push("child") })
///         .await
///         .unwrap();
///     assert_eq!(*log.borrow(), ["child"]);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_with_meta(future, TaskMeta::here(None, Location::caller()))
}

/// [`spawn_local`] with the given metadata (for `task::Builder`).
#[track_caller]
pub(crate) fn spawn_local_with_meta<F>(future: F, meta: TaskMeta) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match current::current() {
        // SAFETY: a set is current only on its owner thread (see `current.rs`), and the
        // caller made `future` on this thread.
        Some(shared) => unsafe { shared.spawn(future, meta) },
        None => panic!(
            "hookrt::task::spawn_local called outside a LocalSet: run the code inside \
             `LocalSet::run_until(..)` or `LocalSet::block_on(&rt, ..)`, or make a set \
             current first with `let _guard = local_set.enter();`"
        ),
    }
}
