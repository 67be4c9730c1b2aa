//! `JoinSet`: a collection of spawned tasks, joined in the order they finish.

use super::{AbortHandle, Id, JoinError, JoinHandle, LocalSet};
use crate::runtime::Handle;
use slab::Slab;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of tasks spawned on a hookrt runtime, awaited in the order they finish.
///
/// The API and semantics are tokio's: [`spawn`](JoinSet::spawn) adds a task,
/// [`join_next`](JoinSet::join_next) waits for any one of them to finish and yields its
/// output (or the [`JoinError`] of a task that panicked or was cancelled), and `None`
/// once the set is empty. Dropping the set aborts every task still in it;
/// [`detach_all`](JoinSet::detach_all) lets them run on without it.
///
/// Each task is an ordinary `Task` resource: it starts in the spawner's async context,
/// and hooks see its `init` with the location of the `JoinSet::spawn` call.
///
/// ```
/// use hookrt::task::JoinSet;
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut set = JoinSet::new();
/// for i in 0..10 {
///     set.spawn(async move { i * 2 });
/// }
/// let mut sum = 0;
/// while let Some(res) = set.join_next().await {
///     sum += res.unwrap();
/// }
/// assert_eq!(sum, 90);
/// # });
/// ```
///
/// # Implementation notes
///
/// A wake-up costs O(1), not a scan of the set:
///
/// - The tasks' `JoinHandle`s live in a [`Slab`], each in an entry with a *generation*
///   (a per-set counter, never reused) and a waker of its own that names the entry by
///   `(key, generation)`. An entry's `JoinHandle` is only ever polled with that waker, so
///   the task registers it as its join waker once and keeps it.
/// - When a task finishes it fires the entry's waker, which pushes `(key, generation)`
///   onto a ready list shared with the set (one `Mutex`) and wakes the parent waker
///   stored beside it: the waker of the last `join_next` poll.
/// - The set keeps an owned queue of entries to poll. A new entry starts in it, since
///   its task may finish before its waker is registered. `poll_join_next` pops from the
///   queue, moving the shared ready list over when the queue runs dry, and polls each
///   named entry's `JoinHandle`; the first `Ready` removes the entry and is returned,
///   the rest of the queue waits for the next call. A name whose entry is gone (its
///   slab key is vacant or holds another generation) is stale and skipped.
/// - The parent waker is stored *before* the ready list is taken, so a task that finishes
///   after the take finds the new waker: no wake-up is lost.
/// - A call takes the shared list at most once. An entry woken during the call (even by
///   its own `JoinHandle` returning `Pending` after a synchronous wake, as a spent coop
///   budget does) waits for the next call, which its wake of the parent schedules.
///
/// An entry is named when spawned and when its task finishes (plus once per spurious
/// wake, if its handle ever has any), so the queue and list stay in O(len) space and
/// each `join_next` does amortised O(1) work.
pub struct JoinSet<T> {
    /// The tasks still in the set.
    entries: Slab<Entry<T>>,
    /// Entries to poll next, owned by the set: new entries, and names moved over from the
    /// shared ready list.
    to_poll: VecDeque<EntryName>,
    /// What the entries' wakers share with the set.
    ready: Arc<ReadyList>,
    /// The generation of the next entry.
    next_generation: u64,
}

/// One task in the set.
struct Entry<T> {
    handle: JoinHandle<T>,
    /// The waker the handle is polled with; it names this entry.
    waker: Waker,
    generation: u64,
}

/// Names one entry for as long as it lives: its slab key and its generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EntryName {
    key: usize,
    generation: u64,
}

/// The state entry wakers share with their set.
#[derive(Default)]
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

#[derive(Default)]
struct ReadyInner {
    /// Entries whose task woke the join waker since the set last looked.
    ready: Vec<EntryName>,
    /// The waker of the last `poll_join_next` that found nothing ready.
    parent: Option<Waker>,
}

impl ReadyList {
    fn lock(&self) -> MutexGuard<'_, ReadyInner> {
        // Nothing that can panic runs under the lock, but a poisoned list is still sound.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An entry's waker: marks the entry ready and wakes the set's parent waker.
struct EntryWaker {
    name: EntryName,
    list: Arc<ReadyList>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut inner = self.list.lock();
            inner.ready.push(self.name);
            inner.parent.clone()
        };
        // Outside the lock: the parent waker runs the scheduler's wake path and hooks.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            to_poll: VecDeque::new(),
            ready: Arc::new(ReadyList::default()),
            next_generation: 0,
        }
    }

    /// The number of tasks in the set, finished or not, that have not been joined yet.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Aborts every task in the set. They stay in it: joining them gives a cancelled
    /// [`JoinError`] (or the output of a task that finished first).
    pub fn abort_all(&mut self) {
        for (_, entry) in &self.entries {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: the tasks run on, and their
    /// outputs are dropped.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.to_poll.clear();
        self.ready.lock().ready.clear();
    }

    /// Aborts every task and waits until all of them have finished; the set is empty
    /// afterwards. Outputs of tasks that completed first are dropped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits until one of the tasks finishes and returns its output, or `None` when the
    /// set is empty.
    ///
    /// Cancel safe: dropping the future before it completes loses no output.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](Self::join_next), with the id of the task beside its output.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns the output of a task that has finished, without waiting; `None` when no
    /// task has finished yet or the set is empty.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|res| res.map(|(_, output)| output))
    }

    /// Like [`try_join_next`](Self::try_join_next), with the id of the task.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        match self.next_finished(None) {
            Poll::Ready(res) => res,
            Poll::Pending => None,
        }
    }

    /// Polls for the next task to finish: `Ready(Some(..))` with its output,
    /// `Ready(None)` when the set is empty, or `Pending` (and `cx` is woken when a task
    /// finishes).
    ///
    /// Only the waker of the latest call is woken.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|res| res.map(|res| res.map(|(_, output)| output)))
    }

    /// Like [`poll_join_next`](Self::poll_join_next), with the id of the task.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        self.next_finished(Some(cx.waker()))
    }

    /// Polls the entries named ready until one has finished. With a `parent` waker, it is
    /// registered to be woken when another entry becomes ready.
    fn next_finished(
        &mut self,
        parent: Option<&Waker>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.entries.is_empty() {
            return Poll::Ready(None);
        }
        // The shared list is taken once per call: a handle that wakes its waker while
        // returning `Pending` (a spent coop budget) is then polled again on the next call,
        // after the parent waker has rescheduled us, instead of spinning here.
        let mut taken = false;
        loop {
            let Some(name) = self.to_poll.pop_front() else {
                if taken || !self.take_ready(parent) {
                    return Poll::Pending;
                }
                taken = true;
                continue;
            };
            let Some(entry) = self.entries.get_mut(name.key) else {
                continue;
            };
            if entry.generation != name.generation {
                continue;
            }
            let mut cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(res) = std::pin::Pin::new(&mut entry.handle).poll(&mut cx) {
                let entry = self.entries.remove(name.key);
                let id = entry.handle.id();
                return Poll::Ready(Some(res.map(|output| (id, output))));
            }
        }
    }

    /// Registers `parent` (if any) and moves the shared ready list into `to_poll`.
    /// Returns whether anything was moved.
    fn take_ready(&mut self, parent: Option<&Waker>) -> bool {
        let mut inner = self.ready.lock();
        if let Some(parent) = parent {
            match &mut inner.parent {
                Some(current) if current.will_wake(parent) => {}
                slot => *slot = Some(parent.clone()),
            }
        }
        if inner.ready.is_empty() {
            return false;
        }
        self.to_poll.extend(inner.ready.drain(..));
        true
    }

    /// Adds a spawned task's handle; a new entry is polled on the next join.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let generation = self.next_generation;
        self.next_generation += 1;
        let vacant = self.entries.vacant_entry();
        let name = EntryName {
            key: vacant.key(),
            generation,
        };
        let waker = Waker::from(Arc::new(EntryWaker {
            name,
            list: self.ready.clone(),
        }));
        vacant.insert(Entry {
            handle,
            waker,
            generation,
        });
        self.to_poll.push_back(name);
        abort
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set; the returned
    /// [`AbortHandle`] cancels it.
    ///
    /// The task's `init` carries the location of this call, like
    /// [`hookrt::spawn`](crate::spawn).
    ///
    /// # Panics
    ///
    /// When called outside a hookrt runtime; use [`spawn_on`](Self::spawn_on) there.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Waits for every task and returns their outputs in the order they finished.
    ///
    /// # Panics
    ///
    /// When a task panicked, with its payload (the remaining tasks are aborted, as the
    /// set is dropped); when a task was cancelled, with the [`JoinError`]'s message.
    ///
    /// ```
    /// use hookrt::task::JoinSet;
    ///
    /// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let mut set = JoinSet::new();
    /// set.spawn(async { 1 });
    /// set.spawn(async { 2 });
    /// let mut outputs = set.join_all().await;
    /// outputs.sort();
    /// assert_eq!(outputs, [1, 2]);
    /// # });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("{err}"),
            }
        }
        outputs
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` future onto the current thread's [`LocalSet`] (see
    /// [`task::spawn_local`](super::spawn_local)) and adds it to the set.
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet`; use [`spawn_local_on`](Self::spawn_local_on) there.
    ///
    /// ```
    /// use hookrt::task::{JoinSet, LocalSet};
    /// use std::rc::Rc;
    ///
    /// let rt = hookrt::runtime::Builder::new_current_thread().build().unwrap();
    /// LocalSet::new().block_on(&rt, async {
    ///     let mut set = JoinSet::new();
    ///     for i in 0..3 {
    ///         set.spawn_local(async move { Rc::new(i) });
    ///     }
    ///     let mut sum = 0;
    ///     while let Some(res) = set.join_next().await {
    ///         sum += *res.unwrap();
    ///     }
    ///     assert_eq!(sum, 3);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }

    /// Spawns a `!Send` future onto `local_set` and adds it to the set. The task runs
    /// when `local_set` is driven.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local_set: &LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local_set.spawn_local(future))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for entry in self.entries.drain() {
            entry.handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Collects futures into a set, spawning each on the current runtime.
///
/// The tasks' location is that of the `collect` inside the standard library; call
/// [`JoinSet::spawn`] in a loop for hooks to see your own.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns each future on the current runtime and adds it to the set; the tasks' location
/// is that of the `extend` call.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}
