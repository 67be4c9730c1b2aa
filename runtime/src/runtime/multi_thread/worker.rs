//! One worker thread of the multi-thread scheduler: its core and its loop.
//!
//! A worker owns a [`Core`]: a LIFO slot, a FIFO run queue (stealable), a tick counter
//! and its searching flag. The loop takes the next task from (in order) the global queue
//! every `global_queue_interval` ticks, the LIFO slot, its own queue, a batch from the
//! global queue; failing that it steals from a random victim; failing that it parks.
//!
//! While a task runs, the core sits in the thread-local [`WorkerContext`], so wakes on
//! this thread queue locally without touching shared state. `block_in_place` may take the
//! core away to a new thread; the loop then ends once the current poll returns.

use super::idle::Idle;
use super::queue::Local;
use super::Handle;
use crate::runtime::context;
use crate::runtime::scheduler::SchedulerHandle;
use crate::task::Notified;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// After this many polls in a row taken from the LIFO slot, the slot's task goes to the
/// back of the queue instead, so two tasks that wake each other cannot starve the rest.
const MAX_LIFO_POLLS: u32 = 3;

/// The state only the worker that holds it touches.
pub(crate) struct Core {
    pub(super) index: usize,
    /// The task most recently woken by this worker's running task.
    pub(super) lifo: Option<Notified>,
    pub(super) run_queue: Local,
    /// Tasks that yielded (woke themselves during their poll). They wait here until the
    /// worker has nothing else to run, so yielding tasks cannot keep the local queue
    /// full and starve the global queue.
    pub(super) deferred: Vec<Notified>,
    tick: u32,
    /// Whether this worker is counted in `Idle`'s searching count.
    searching: bool,
    rand: FastRand,
}

impl Core {
    pub(super) fn new(index: usize, run_queue: Local) -> Box<Core> {
        Box::new(Core {
            index,
            lifo: None,
            run_queue,
            deferred: Vec::new(),
            tick: 0,
            searching: false,
            rand: FastRand::new(index as u64 + 1),
        })
    }

    /// Takes every queued task out (shutdown).
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Notified> + '_ {
        let deferred = std::mem::take(&mut self.deferred);
        self.lifo
            .take()
            .into_iter()
            .chain(deferred)
            .chain(std::iter::from_fn(|| self.run_queue.pop()))
    }
}

/// What a worker thread publishes about itself.
pub(super) struct WorkerContext {
    pub(super) handle: Arc<Handle>,
    pub(super) core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    static CURRENT_WORKER: Cell<*const WorkerContext> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with this thread's worker context if it is a worker of `handle`'s runtime.
pub(super) fn with_worker_of<R>(handle: &Handle, f: impl FnOnce(&WorkerContext) -> R) -> Option<R> {
    CURRENT_WORKER
        .try_with(|slot| {
            let cx = slot.get();
            if cx.is_null() {
                return None;
            }
            // SAFETY: a non-null slot points at the `WorkerContext` on the stack of
            // `run`, which clears the slot before that frame is left.
            let cx = unsafe { &*cx };
            std::ptr::eq(&*cx.handle, handle).then(|| f(cx))
        })
        .ok()
        .flatten()
}

/// The body of a worker thread.
pub(super) fn run(handle: Arc<Handle>, core: Box<Core>) {
    let _driving = context::enter_driving();
    let _current = context::set_current(&SchedulerHandle::MultiThread(handle.clone()));
    let cx = WorkerContext {
        handle,
        core: RefCell::new(Some(core)),
    };
    let previous = CURRENT_WORKER.with(|slot| slot.replace(&cx));
    let _unpublish = Unpublish(previous);
    cx.run_loop();
}

struct Unpublish(*const WorkerContext);

impl Drop for Unpublish {
    fn drop(&mut self) {
        let _ = CURRENT_WORKER.try_with(|slot| slot.set(self.0));
    }
}

impl WorkerContext {
    fn idle(&self) -> &Idle {
        &self.handle.idle
    }

    fn run_loop(&self) {
        loop {
            // No core: `block_in_place` handed it to another thread; this thread is done.
            let Some(mut core) = self.core.borrow_mut().take() else {
                return;
            };
            core.tick = core.tick.wrapping_add(1);
            // Maintenance every `event_interval` ticks (and whenever the worker runs dry,
            // see `park`): notice shutdown. The drivers will be polled here too.
            if core.tick % self.handle.config.event_interval == 0 {
                if self.handle.is_shutdown() {
                    self.handle.worker_exited(core);
                    return;
                }
                self.handle.poll_drivers();
            }
            // Own queues first, then this worker's yielded tasks, then other workers'.
            let task = match self.next_task(&mut core) {
                Some(task) => Some(task),
                None => self.take_deferred(&mut core),
            };
            let task = match task {
                Some(task) => Some(task),
                None => self.steal_work(&mut core),
            };
            match task {
                Some(task) => {
                    if core.searching {
                        core.searching = false;
                        // The last searcher found work: there may be more, so wake a
                        // peer to look.
                        if self.idle().transition_from_searching() {
                            self.handle.notify_parked();
                        }
                    }
                    *self.core.borrow_mut() = Some(core);
                    self.run_task(task);
                }
                None => {
                    let core = self.park(core);
                    if self.handle.is_shutdown() {
                        self.handle.worker_exited(core);
                        return;
                    }
                    *self.core.borrow_mut() = Some(core);
                }
            }
        }
    }

    fn next_task(&self, core: &mut Core) -> Option<Notified> {
        let shared = &self.handle;
        if core.tick % shared.config.global_queue_interval == 0 {
            if let Some(task) = shared.inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo.take() {
            return Some(task);
        }
        if let Some(task) = core.run_queue.pop() {
            return Some(task);
        }
        shared.inject.steal_into(&core.run_queue)
    }

    fn steal_work(&self, core: &mut Core) -> Option<Notified> {
        if !core.searching {
            if !self.idle().transition_to_searching() {
                return None;
            }
            core.searching = true;
        }
        let remotes = &self.handle.remotes;
        let start = core.rand.below(remotes.len());
        for i in 0..remotes.len() {
            let victim = (start + i) % remotes.len();
            if victim == core.index {
                continue;
            }
            if let Some(task) = remotes[victim].thief.steal_into(&core.run_queue) {
                return Some(task);
            }
        }
        self.handle.inject.steal_into(&core.run_queue)
    }

    /// Nothing else to run: the tasks that yielded go back into the run queue.
    fn take_deferred(&self, core: &mut Core) -> Option<Notified> {
        if core.deferred.is_empty() {
            return None;
        }
        // The list keeps its allocation: yield-heavy loads refill it every round.
        let mut deferred = std::mem::take(&mut core.deferred);
        let (first, queued) = {
            let mut tasks = deferred.drain(..);
            let first = tasks.next();
            let mut queued = false;
            for task in tasks {
                core.run_queue.push(task);
                queued = true;
            }
            (first, queued)
        };
        core.deferred = deferred;
        if queued {
            self.handle.notify_parked();
        }
        first
    }

    /// Runs `task`, then whatever it put in the LIFO slot, a bounded number of times.
    fn run_task(&self, task: Notified) {
        task.run();
        let mut lifo_polls = 0;
        loop {
            let next = {
                let mut slot = self.core.borrow_mut();
                let Some(core) = slot.as_mut() else { return };
                let Some(next) = core.lifo.take() else { return };
                if lifo_polls >= MAX_LIFO_POLLS {
                    core.run_queue.push(next);
                    drop(slot);
                    self.handle.notify_parked();
                    return;
                }
                next
            };
            lifo_polls += 1;
            next.run();
        }
    }

    /// Sleeps until there is work (or shutdown). Returns the core.
    fn park(&self, mut core: Box<Core>) -> Box<Core> {
        let shared = &self.handle;
        if core.searching {
            core.searching = false;
            if self.idle().transition_from_searching() && shared.has_queued_work() {
                // The last searcher must not leave queued work behind: look again.
                return core;
            }
        }
        self.idle().sleep(core.index);
        if shared.has_queued_work() || shared.is_shutdown() {
            if !self.idle().wake_up(core.index) {
                core.searching = true;
            }
            return core;
        }
        // One sleeping worker at a time also waits on the drivers (timers; I/O later).
        shared.park_worker(core.index);
        if !self.idle().wake_up(core.index) {
            // A producer picked this worker and counted it as searching.
            core.searching = true;
        }
        core
    }
}

/// A small xorshift generator for picking steal victims.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        ((x >> 32) as usize) % n.max(1)
    }
}

/// `task::block_in_place`: hands this worker's core to a new thread, then runs `func`.
pub(crate) fn block_in_place<F: FnOnce() -> R, R>(func: F) -> R {
    let handed_off = CURRENT_WORKER
        .try_with(|slot| {
            let cx = slot.get();
            if cx.is_null() {
                return false;
            }
            // SAFETY: a non-null slot points at the live `WorkerContext` of this thread.
            let cx = unsafe { &*cx };
            let core = cx.core.borrow_mut().take();
            if let Some(core) = core {
                if let Err(e) = cx.handle.launch(core) {
                    panic!("hookrt: block_in_place could not start a replacement worker: {e}");
                }
            }
            true
        })
        .unwrap_or(false);
    if !handed_off {
        let on_current_thread =
            context::with_current_handle(|h| matches!(h, SchedulerHandle::CurrentThread(_)))
                .unwrap_or(false);
        if on_current_thread && context::is_driving() {
            panic!(
                "hookrt::task::block_in_place called on the current-thread runtime, which has \
                 no other thread to run its tasks meanwhile: use `task::spawn_blocking` there, \
                 or build the runtime with `Builder::new_multi_thread()`"
            );
        }
    }
    let _not_driving = context::exit_driving();
    func()
}
