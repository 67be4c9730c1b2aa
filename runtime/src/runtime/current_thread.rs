//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! One local run queue (a `VecDeque` only the driving thread touches) plus a remote
//! queue behind a mutex for wakes from other threads. While a thread drives the
//! scheduler it holds the `Core` (the local queue) in a thread-local slot, so a task
//! that wakes another task on the same thread queues it without any lock.

use super::block_on::BlockOnTask;
use super::blocking::BlockingPool;
use super::context;
use super::driver::{Drivers, IoSlot};
use super::park::Parker;
use super::scheduler::SchedulerHandle;
use crate::task::list::OwnedTasks;
use crate::task::{self, JoinHandle, Notified, RawTask, Schedule, TaskMeta};
use hookrt_hooks::HookSet;
use hookrt_io_driver::IoDriver;
use hookrt_timer_wheel::{Clock, TimeDriver};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tunables of the current-thread scheduler.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// How many tasks run between two checks of the `block_on` future and the remote
    /// queue (later: the drivers).
    pub(crate) event_interval: u32,
    /// Every this many tasks, the remote queue is served before the local one.
    pub(crate) global_queue_interval: u32,
}

/// The shared state of one current-thread runtime.
pub(crate) struct Handle {
    hooks: HookSet,
    pub(crate) blocking: BlockingPool,
    pub(crate) drivers: Drivers,
    owned: OwnedTasks,
    remote: Mutex<VecDeque<Notified>>,
    parker: Arc<Parker>,
    /// The local queue, while no thread drives the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Set once shutdown has drained every task; later wakes are dropped.
    shut_down: AtomicBool,
    config: Config,
}

/// The part only the driving thread touches.
struct Core {
    queue: VecDeque<Notified>,
    /// Tasks that yielded; they run once the local and remote queues are empty, so
    /// yielding tasks cannot starve remote wakes and spawns.
    deferred: Vec<Notified>,
    tick: u32,
}

/// What a driving thread publishes in its thread-local slot.
struct Active {
    handle: *const Handle,
    core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    static ACTIVE: Cell<*const Active> = const { Cell::new(std::ptr::null()) };
}

impl Handle {
    pub(crate) fn new(
        hooks: HookSet,
        config: Config,
        blocking: BlockingPool,
        time: Option<Clock>,
        enable_io: bool,
    ) -> std::io::Result<Arc<Handle>> {
        let io = if enable_io {
            Some(IoDriver::new(hooks.clone())?)
        } else {
            None
        };
        let parker = Arc::new(Parker::with_io(io.as_ref().map(|(_, h)| h.clone())));
        let time = time.map(|clock| {
            let parker = parker.clone();
            TimeDriver::new(hooks.clone(), clock, Box::new(move || parker.unpark()))
        });
        let drivers = Drivers {
            time,
            io: io.map(|(driver, handle)| IoSlot::new(driver, handle)),
        };
        Ok(Arc::new(Handle {
            hooks,
            blocking,
            drivers,
            owned: OwnedTasks::new(1),
            remote: Mutex::new(VecDeque::new()),
            parker,
            core: Mutex::new(Some(Box::new(Core {
                queue: VecDeque::with_capacity(64),
                deferred: Vec::new(),
                tick: 0,
            }))),
            shut_down: AtomicBool::new(false),
            config,
        }))
    }

    pub(crate) fn hooks(&self) -> &HookSet {
        &self.hooks
    }

    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        task::spawn_with(future, me.clone(), &me.owned, meta)
    }

    /// Runs the local-queue closure if this thread drives this runtime right now.
    fn with_active_core<R>(&self, f: impl FnOnce(&mut Core) -> R) -> Result<R, ()> {
        ACTIVE
            .try_with(|slot| {
                let active = slot.get();
                if active.is_null() {
                    return Err(());
                }
                // SAFETY: a non-null slot points at the `Active` on the stack of
                // `drive`, which clears the slot before that frame is left.
                let active = unsafe { &*active };
                if !std::ptr::eq(active.handle, self) {
                    return Err(());
                }
                match active.core.try_borrow_mut() {
                    Ok(mut core) => match core.as_mut() {
                        Some(core) => Ok(f(core)),
                        None => Err(()),
                    },
                    Err(_) => Err(()),
                }
            })
            .unwrap_or(Err(()))
    }

    fn next_task(&self, core: &mut Core) -> Option<Notified> {
        core.tick = core.tick.wrapping_add(1);
        if core.tick % self.config.global_queue_interval == 0 {
            if let Some(task) = self.remote.lock().unwrap().pop_front() {
                return Some(task);
            }
        }
        if let Some(task) = core.queue.pop_front() {
            return Some(task);
        }
        let mut remote = self.remote.lock().unwrap();
        if let Some(task) = remote.pop_front() {
            // Move a batch over so the next pops take no lock.
            let batch = remote.len().min(128);
            core.queue.extend(remote.drain(..batch));
            return Some(task);
        }
        drop(remote);
        // The list keeps its allocation: yield-heavy loads refill it every round.
        let mut deferred = std::mem::take(&mut core.deferred);
        let task = {
            let mut tasks = deferred.drain(..);
            let task = tasks.next();
            core.queue.extend(tasks);
            task
        };
        core.deferred = deferred;
        task
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(me: &Arc<Handle>, future: F) -> F::Output {
        let location = Location::caller();
        let _driving = context::enter_driving();
        let _current = context::set_current(&SchedulerHandle::CurrentThread(me.clone()));
        let mut root = BlockOnTask::new(future, me.hooks.clone(), me.parker.clone(), location);
        let mut first = true;
        loop {
            let core = me.core.lock().unwrap().take();
            match core {
                Some(core) => return me.drive(core, &mut root, &mut first),
                None => {
                    // Another thread drives the scheduler: make progress on our own
                    // future only, and try again for the core now and then.
                    if let Some(output) = root.poll_if_notified(&mut first) {
                        return output;
                    }
                    std::thread::park_timeout(Duration::from_millis(1));
                }
            }
        }
    }

    fn drive<F: Future>(
        &self,
        core: Box<Core>,
        root: &mut BlockOnTask<F>,
        first: &mut bool,
    ) -> F::Output {
        let active = Active {
            handle: self,
            core: RefCell::new(Some(core)),
        };
        let _publish = Publish::new(self, &active);
        loop {
            if let Some(output) = root.poll_if_notified(first) {
                return output;
            }
            let mut ran = 0;
            while ran < self.config.event_interval {
                let task = {
                    let mut core = active.core.borrow_mut();
                    let core = core.as_mut().expect("the core is held while driving");
                    self.next_task(core)
                };
                match task {
                    Some(task) => {
                        task.run();
                        ran += 1;
                    }
                    None => break,
                }
                if root.is_notified() {
                    break;
                }
            }
            // Dispatch ready I/O and fire due timers even when busy, so tasks cannot
            // starve the drivers.
            self.drivers.poll();
            // Sleep only if nothing is runnable now: the drivers may just have woken a
            // task, which this thread queued locally without unparking itself.
            if ran == 0 && !root.is_notified() && !self.has_work(&active) {
                self.park_idle();
            }
        }
    }

    /// Whether a task is queued (locally, deferred, or remotely).
    fn has_work(&self, active: &Active) -> bool {
        let local = active
            .core
            .borrow()
            .as_ref()
            .is_some_and(|core| !core.queue.is_empty() || !core.deferred.is_empty());
        local || !self.remote.lock().unwrap().is_empty()
    }

    /// Nothing to run: sleep on the drivers until woken, until I/O is ready or the next
    /// timer is due (with paused time: jump to the next timer).
    fn park_idle(&self) {
        self.drivers.park(&self.parker);
    }

    /// Cancels every task and runs the queues until every future is dropped.
    pub(crate) fn shutdown(self: &Arc<Handle>) {
        if self.shut_down.load(Ordering::Acquire) {
            return;
        }
        let _current = context::set_current(&SchedulerHandle::CurrentThread(self.clone()));
        // Wait for a `block_on` on another thread to hand the core back.
        let core = loop {
            if let Some(core) = self.core.lock().unwrap().take() {
                break core;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let active = Active {
            handle: &**self,
            core: RefCell::new(Some(core)),
        };
        let _publish = Publish::new(self, &active);
        let mut wait = self.owned.close_and_shutdown_all();
        loop {
            let task = {
                let mut core = active.core.borrow_mut();
                let core = core.as_mut().expect("the core is held during shutdown");
                self.next_task(core)
            };
            match task {
                Some(task) => task.run(),
                None if wait.all_complete() => break,
                // A waker on another thread has notified a task and is about to queue
                // it; wait for it to arrive.
                None => std::thread::yield_now(),
            }
        }
        self.shut_down.store(true, Ordering::Release);
        self.drivers.shutdown();
    }
}

/// Publishes an `Active` in the thread-local slot and, when dropped (also on unwind),
/// clears the slot and hands the core back to the handle.
struct Publish<'a> {
    handle: &'a Handle,
    active: &'a Active,
    previous: *const Active,
}

impl<'a> Publish<'a> {
    fn new(handle: &'a Handle, active: &'a Active) -> Publish<'a> {
        let previous = ACTIVE.with(|slot| slot.replace(active));
        Publish {
            handle,
            active,
            previous,
        }
    }
}

impl Drop for Publish<'_> {
    fn drop(&mut self) {
        let _ = ACTIVE.try_with(|slot| slot.set(self.previous));
        let core = self.active.core.borrow_mut().take();
        *self.handle.core.lock().unwrap_or_else(|e| e.into_inner()) = core;
    }
}

impl Handle {
    fn schedule_task(&self, task: Notified, is_yield: bool) {
        let mut task = Some(task);
        let queued = self.with_active_core(|core| {
            let task = task.take().expect("the task is queued once");
            if is_yield {
                core.deferred.push(task);
            } else {
                core.queue.push_back(task);
            }
        });
        if queued.is_ok() {
            return;
        }
        let task = task.expect("an unqueued task is still here");
        if self.shut_down.load(Ordering::Acquire) {
            // Every task was already cancelled; this reference just goes away.
            drop(task);
            return;
        }
        self.remote.lock().unwrap().push_back(task);
        self.parker.unpark();
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn hooks(&self) -> &HookSet {
        &self.hooks
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Handle")
            .field("tasks", &self.owned.len())
            .field("hooks", &self.hooks)
            .field("config", &self.config)
            .finish()
    }
}
