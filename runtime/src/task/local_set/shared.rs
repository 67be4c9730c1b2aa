//! `Shared`: the part of a `LocalSet` that its tasks hold as their scheduler, and that
//! the threads waking them reach.

use super::current;
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, RawTask, Schedule, TaskMeta};
use hookrt_hooks::HookSet;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::Waker;
use std::thread::ThreadId;

/// The hooks of a set that has not adopted any yet (nothing was spawned on it).
static NO_HOOKS: HookSet = HookSet::empty();

/// The scheduler of a `LocalSet`'s tasks (`Arc<Shared>` implements `Schedule`).
///
/// # Which thread touches what
///
/// - `local` belongs to the owner thread (the one that created the `LocalSet`). It is a
///   plain `RefCell`, borrowed only for a push or a pop and never across a call out.
/// - `remote` receives every other schedule: wakes from other threads, and wakes on the
///   owner thread while the set is not the thread's current one. Pushing to it wakes
///   `driver`. It becomes `None` when the set is dropped.
/// - `owned`, `hooks` and `driver` are thread-safe.
pub(crate) struct Shared {
    /// The thread that created the set: the only one that polls or drops its futures.
    owner: ThreadId,
    /// Tasks scheduled on the owner thread while the set is current there.
    local: RefCell<Local>,
    /// Tasks scheduled from anywhere else; `None` once the set is closed.
    remote: Mutex<Option<VecDeque<Notified>>>,
    /// Every live task of the set.
    pub(super) owned: OwnedTasks,
    /// The hooks of the runtime the set first ran in (see `adopt_hooks`).
    hooks: OnceLock<HookSet>,
    /// The waker of the future driving the set (`run_until`, or the set awaited).
    driver: Mutex<Option<Waker>>,
}

/// What only the owner thread touches.
struct Local {
    /// The owner thread's run queue.
    tasks: VecDeque<Notified>,
    /// Tasks spawned before the set had hooks, to announce when it gets them.
    unannounced: Vec<Watch>,
    /// Set when the `LocalSet` is dropped; later pushes drop their task.
    closed: bool,
}

// SAFETY: every field but `local` is `Sync` on its own. `local` is only borrowed by
// `with_local`, whose contract is that the caller runs on the owner thread, so the
// `RefCell` is never reached from two threads; its other accesses (`Drop`, which has
// `&mut self`) are exclusive. `Shared` is `Send` without help: `Notified` is `Send`.
unsafe impl Sync for Shared {}

impl Shared {
    /// A new set's state, owned by the calling thread.
    pub(super) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            owner: std::thread::current().id(),
            local: RefCell::new(Local {
                tasks: VecDeque::with_capacity(16),
                unannounced: Vec::new(),
                closed: false,
            }),
            remote: Mutex::new(Some(VecDeque::new())),
            owned: OwnedTasks::new(1),
            hooks: OnceLock::new(),
            driver: Mutex::new(None),
        })
    }

    /// Fixes the set's hooks to the current runtime's, unless they are fixed already or
    /// no runtime is current. Tasks spawned before that are announced now (their `init`
    /// fires), before anything else can happen to them.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    pub(super) unsafe fn adopt_hooks(&self) {
        if self.hooks.get().is_some() {
            return;
        }
        let hooks = crate::runtime::context::with_current_handle(|h| h.hooks().clone())
            .or_else(|| Some(HookSet::current()).filter(|h| !h.is_empty()));
        if let Some(hooks) = hooks {
            // SAFETY: forwarded from the caller's contract.
            unsafe { self.adopt(hooks) };
        }
    }

    /// As [`adopt_hooks`](Self::adopt_hooks), with the hooks of a given runtime.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    pub(super) unsafe fn adopt_hooks_of(&self, hooks: &HookSet) {
        if self.hooks.get().is_none() {
            // SAFETY: forwarded from the caller's contract.
            unsafe { self.adopt(hooks.clone()) };
        }
    }

    /// # Safety
    ///
    /// The caller must run on the owner thread.
    unsafe fn adopt(&self, hooks: HookSet) {
        // SAFETY: forwarded from the caller's contract.
        let waiting = unsafe { self.with_local(|l| std::mem::take(&mut l.unannounced)) };
        // Only the owner thread polls or cancels these tasks, so none of them can run,
        // finish or be destroyed while this loop runs. The hooks are published after
        // it: a `wake` from another thread meanwhile (an abort) reaches no hook, rather
        // than reaching one before the task's `init`.
        for watch in &waiting {
            if !watch.raw().header().state.load().is_complete() {
                hooks.init(&watch.raw().resource());
            }
        }
        let _ = self.hooks.set(hooks);
        drop(waiting);
    }

    /// Creates a task on this set, emits its `init` (or keeps it to announce once the
    /// set has hooks), lists it and queues its first poll; like `task::spawn_with`.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread (it holds the `LocalSet`, or found the
    /// set current on its thread), which is also where `future` was made.
    pub(super) unsafe fn spawn<F>(
        self: &Arc<Shared>,
        future: F,
        meta: TaskMeta,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.adopt_hooks() };
        let raw = RawTask::new(future, self.clone(), meta);
        match self.hooks.get() {
            Some(hooks) => hooks.init(&raw.resource()),
            // SAFETY: forwarded from the caller's contract.
            None => unsafe { self.with_local(|l| l.unannounced.push(Watch::new(raw))) },
        }
        let notified = Notified::from_raw(raw);
        if self.owned.bind(raw) {
            self.schedule(notified);
        } else {
            // The set is dropped (a destructor spawned): cancel the task at once.
            raw.shutdown();
            notified.run();
        }
        JoinHandle::new(raw)
    }

    /// Runs `f` on the owner thread's queue.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    unsafe fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> R {
        debug_assert!(
            on_thread(self.owner),
            "a LocalSet's local queue was reached from another thread"
        );
        f(&mut self.local.borrow_mut())
    }

    /// Queues a task on the owner thread's queue.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    pub(super) unsafe fn push_local(&self, task: Notified) {
        // SAFETY: forwarded from the caller's contract.
        let rejected = unsafe {
            self.with_local(|q| {
                if q.closed {
                    Some(task)
                } else {
                    q.tasks.push_back(task);
                    None
                }
            })
        };
        // Outside the borrow: a dropped reference may free a task cell.
        drop(rejected);
    }

    /// Takes the next task of the owner thread's queue.
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    pub(super) unsafe fn pop_local(&self) -> Option<Notified> {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.with_local(|q| q.tasks.pop_front()) }
    }

    fn lock_remote(&self) -> MutexGuard<'_, Option<VecDeque<Notified>>> {
        // Nothing that can panic runs under the lock, but a poisoned queue is still sound.
        self.remote.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a task from outside the set and wakes whoever drives it.
    fn push_remote(&self, task: Notified) {
        let mut remote = self.lock_remote();
        match remote.as_mut() {
            Some(queue) => {
                queue.push_back(task);
                drop(remote);
                self.wake_driver();
            }
            None => {
                // The set is gone and every task with it: this reference just goes away.
                drop(remote);
                drop(task);
            }
        }
    }

    /// Takes the next task scheduled from outside.
    pub(super) fn pop_remote(&self) -> Option<Notified> {
        self.lock_remote().as_mut().and_then(VecDeque::pop_front)
    }

    /// Closes both queues: later schedules drop their task. Drops what is still queued
    /// (only references to completed tasks remain by then).
    ///
    /// # Safety
    ///
    /// The caller must run on the owner thread.
    pub(super) unsafe fn close(&self) {
        // SAFETY: forwarded from the caller's contract.
        let local = unsafe {
            self.with_local(|q| {
                q.closed = true;
                (
                    std::mem::take(&mut q.tasks),
                    std::mem::take(&mut q.unannounced),
                )
            })
        };
        let remote = self.lock_remote().take();
        drop(local);
        drop(remote);
    }

    /// Registers the waker of the future that drives the set; remote schedules wake it.
    pub(super) fn register_driver(&self, waker: &Waker) {
        let mut slot = self.driver.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Some(current) if current.will_wake(waker) => {}
            _ => {
                let previous = slot.replace(waker.clone());
                drop(slot);
                drop(previous);
            }
        }
    }

    /// Wakes the future that drives the set, if any is registered.
    fn wake_driver(&self) {
        let waker = self
            .driver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        match current::wake_mode(self) {
            Some(wake_driver) => {
                // SAFETY: the set is current only on threads where a `&LocalSet` made it
                // so, and a `LocalSet` never leaves its owner thread.
                unsafe { self.push_local(task) };
                if wake_driver {
                    // Entered with `LocalSet::enter`, not necessarily being driven.
                    self.wake_driver();
                }
            }
            None => self.push_remote(task),
        }
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn hooks(&self) -> &HookSet {
        self.hooks.get().unwrap_or(&NO_HOOKS)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("owner", &self.owner)
            .field("tasks", &self.owned.len())
            .finish_non_exhaustive()
    }
}

/// Whether the calling thread is `owner` (`true` when the thread can no longer tell,
/// during thread-local teardown). For debug assertions.
fn on_thread(owner: ThreadId) -> bool {
    thread_local! {
        static ID: ThreadId = std::thread::current().id();
    }
    ID.try_with(|id| *id == owner).unwrap_or(true)
}

/// A counted reference to a task, to look at its state later.
pub(super) struct Watch(RawTask);

impl Watch {
    pub(super) fn new(raw: RawTask) -> Watch {
        raw.header().state.ref_inc();
        Watch(raw)
    }

    pub(super) fn raw(&self) -> RawTask {
        self.0
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}
