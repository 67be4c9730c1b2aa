//! The multi-thread, work-stealing scheduler.
//!
//! `worker_threads` workers, each with a LIFO slot and a crossbeam-deque run queue
//! (`worker.rs`), a global injector for tasks scheduled from outside the workers
//! (`queue.rs`), and the searching/sleeping bookkeeping that wakes at most one worker per
//! new task without losing wake-ups (`idle.rs`).
//!
//! Shutdown: the runtime sets the shutdown flag and unparks every worker. Each worker
//! leaves its loop and hands its core back; the last one to do so closes the owned-task
//! list, cancels every task, and runs every queued `Notified` (which drops the futures of
//! cancelled tasks, each inside its own execution frame) until no task is left. The
//! thread that shuts the runtime down waits for that, up to its timeout.

mod idle;
mod queue;
mod worker;

pub(crate) use worker::block_in_place;

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
use idle::Idle;
use queue::{Inject, Thief};
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use worker::Core;

/// A callback run on each worker thread (`on_thread_start` / `on_thread_stop`).
pub(crate) type ThreadCallback = Arc<dyn Fn() + Send + Sync>;

/// Tunables of the multi-thread scheduler.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) worker_threads: usize,
    pub(crate) event_interval: u32,
    pub(crate) global_queue_interval: u32,
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) thread_stack_size: Option<usize>,
    pub(crate) on_thread_start: Option<ThreadCallback>,
    pub(crate) on_thread_stop: Option<ThreadCallback>,
}

/// What other threads may do to a worker: steal from it, wake it.
struct Remote {
    thief: Thief,
    parker: Arc<Parker>,
}

/// The shared state of one multi-thread runtime.
pub(crate) struct Handle {
    pub(crate) blocking: BlockingPool,
    pub(crate) drivers: Drivers,
    /// The worker sleeping on the time driver (`usize::MAX`: none). At most one worker
    /// sleeps with a timeout for the next timer; the others sleep until woken.
    driver_owner: Arc<AtomicUsize>,
    remotes: Box<[Remote]>,
    inject: Inject,
    idle: Idle,
    owned: OwnedTasks,
    hooks: HookSet,
    config: Config,
    shutdown: AtomicBool,
    /// Set once every task is gone after shutdown; later wakes are dropped.
    drained: AtomicBool,
    exit: Mutex<Exit>,
    exit_done: Condvar,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// Cores handed back by exiting workers.
#[allow(clippy::vec_box)] // cores move between threads as boxes; unboxing them would copy
struct Exit {
    cores: Vec<Box<Core>>,
    done: bool,
}

impl Handle {
    /// Creates the scheduler and starts its worker threads.
    pub(crate) fn start(
        hooks: HookSet,
        config: Config,
        blocking: BlockingPool,
        time: Option<Clock>,
        enable_io: bool,
    ) -> io::Result<Arc<Handle>> {
        let n = config.worker_threads;
        let io = if enable_io {
            Some(IoDriver::new(hooks.clone())?)
        } else {
            None
        };
        let io_handle = io.as_ref().map(|(_, h)| h.clone());
        let mut remotes = Vec::with_capacity(n);
        let mut cores = Vec::with_capacity(n);
        for index in 0..n {
            let (local, thief) = queue::local();
            remotes.push(Remote {
                thief,
                parker: Arc::new(Parker::with_io(io_handle.clone())),
            });
            cores.push(Core::new(index, local));
        }
        let driver_owner = Arc::new(AtomicUsize::new(usize::MAX));
        let time = time.map(|clock| {
            let parkers: Vec<Arc<Parker>> = remotes.iter().map(|r| r.parker.clone()).collect();
            let owner = driver_owner.clone();
            let unpark = move || {
                let index = owner.load(Ordering::Acquire);
                if let Some(parker) = parkers.get(index) {
                    parker.unpark();
                }
            };
            TimeDriver::new(hooks.clone(), clock, Box::new(unpark))
        });
        let drivers = Drivers {
            time,
            io: io.map(|(driver, handle)| IoSlot::new(driver, handle)),
        };
        let handle = Arc::new(Handle {
            blocking,
            drivers,
            driver_owner,
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(n),
            owned: OwnedTasks::new(n * 4),
            hooks,
            config,
            shutdown: AtomicBool::new(false),
            drained: AtomicBool::new(false),
            exit: Mutex::new(Exit {
                cores: Vec::with_capacity(n),
                done: false,
            }),
            exit_done: Condvar::new(),
            threads: Mutex::new(Vec::with_capacity(n)),
        });
        for core in cores {
            if let Err(e) = handle.launch(core) {
                handle.shutdown(Some(Duration::from_secs(1)));
                return Err(e);
            }
        }
        Ok(handle)
    }

    /// Starts a worker thread for `core`.
    fn launch(self: &Arc<Handle>, core: Box<Core>) -> io::Result<()> {
        let mut builder = std::thread::Builder::new().name((self.config.thread_name)());
        if let Some(size) = self.config.thread_stack_size {
            builder = builder.stack_size(size);
        }
        let handle = self.clone();
        let thread = builder.spawn(move || {
            run_callback(&handle.config.on_thread_start, "on_thread_start");
            let on_stop = handle.config.on_thread_stop.clone();
            worker::run(handle, core);
            run_callback(&on_stop, "on_thread_stop");
        })?;
        self.threads.lock().unwrap().push(thread);
        Ok(())
    }

    pub(crate) fn hooks(&self) -> &HookSet {
        &self.hooks
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, meta: TaskMeta) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        task::spawn_with(future, me.clone(), &me.owned, meta)
    }

    /// Runs `future` on the calling thread while the workers run the tasks.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(me: &Arc<Handle>, future: F) -> F::Output {
        let location = Location::caller();
        let _driving = context::enter_driving();
        let _current = context::set_current(&SchedulerHandle::MultiThread(me.clone()));
        let parker = Arc::new(Parker::new());
        let mut root = BlockOnTask::new(future, me.hooks.clone(), parker.clone(), location);
        let mut first = true;
        loop {
            if let Some(output) = root.poll_if_notified(&mut first) {
                return output;
            }
            if !root.is_notified() {
                parker.park();
            }
        }
    }

    /// Sleeps worker `index` until unparked. If no other worker sleeps on the time
    /// driver, this one does: it wakes by itself when the next timer is due, and fires
    /// the timers that are.
    fn park_worker(&self, index: usize) {
        let parker = &self.remotes[index].parker;
        if self.drivers.time.is_none() && self.drivers.io.is_none() {
            parker.park();
            return;
        }
        if self
            .driver_owner
            .compare_exchange(usize::MAX, index, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            parker.park();
            return;
        }
        self.drivers.park(parker);
        self.driver_owner.store(usize::MAX, Ordering::Release);
    }

    /// Dispatches ready I/O and fires due timers without sleeping (busy workers call
    /// this every `event_interval` ticks).
    fn poll_drivers(&self) {
        self.drivers.poll();
    }

    /// Wakes one sleeping worker if no worker is already looking for work.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].parker.unpark();
        }
    }

    /// Whether any queue holds a task (a sleeping worker's last look).
    fn has_queued_work(&self) -> bool {
        !self.inject.is_empty() || self.remotes.iter().any(|r| !r.thief.is_empty())
    }

    /// Queues a task from a worker thread of this runtime: into the LIFO slot (or the
    /// deferred list for a yield), waking a peer when the stealable queue grew.
    fn schedule_local(&self, core: &mut Core, task: Notified, is_yield: bool) {
        let queued = if is_yield {
            core.deferred.push(task);
            false
        } else {
            match core.lifo.replace(task) {
                Some(previous) => {
                    core.run_queue.push(previous);
                    true
                }
                None => false,
            }
        };
        if queued {
            self.notify_parked();
        }
    }

    fn schedule_remote(&self, task: Notified) {
        if self.drained.load(Ordering::Acquire) {
            // Every task was already cancelled; this reference just goes away.
            drop(task);
            return;
        }
        self.inject.push(task);
        self.notify_parked();
    }

    fn schedule_task(self: &Arc<Handle>, task: Notified, is_yield: bool) {
        let mut task = Some(task);
        worker::with_worker_of(self, |cx| {
            if let Ok(mut slot) = cx.core.try_borrow_mut() {
                if let Some(core) = slot.as_mut() {
                    let task = task.take().expect("queued once");
                    self.schedule_local(core, task, is_yield);
                }
            }
        });
        if let Some(task) = task {
            self.schedule_remote(task);
        }
    }

    /// A worker left its loop because of shutdown. The last one cancels every task.
    fn worker_exited(&self, core: Box<Core>) {
        let mut exit = self.exit.lock().unwrap();
        exit.cores.push(core);
        if exit.cores.len() < self.num_workers() {
            return;
        }
        let mut cores = std::mem::take(&mut exit.cores);
        drop(exit);
        self.cancel_all(&mut cores);
        let mut exit = self.exit.lock().unwrap();
        exit.done = true;
        self.exit_done.notify_all();
    }

    /// Closes the owned list, cancels every task and runs the queues dry.
    fn cancel_all(&self, cores: &mut [Box<Core>]) {
        let mut wait = self.owned.close_and_shutdown_all();
        loop {
            let mut ran = false;
            for core in cores.iter_mut() {
                for task in core.drain() {
                    task.run();
                    ran = true;
                }
            }
            while let Some(task) = self.inject.pop() {
                task.run();
                ran = true;
            }
            if !ran {
                if wait.all_complete() {
                    break;
                }
                // A task is still running (on a `block_in_place` thread) or a waker on
                // another thread is about to queue one: wait for it.
                std::thread::yield_now();
            }
        }
        self.drained.store(true, Ordering::Release);
        self.drivers.shutdown();
    }

    /// Shuts the runtime down: every task is cancelled and every worker stops. Waits
    /// up to `timeout` (`None`: forever); returns whether everything finished in time.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        if !self.shutdown.swap(true, Ordering::AcqRel) {
            self.idle.wake_all();
            for remote in self.remotes.iter() {
                remote.parker.unpark();
            }
        }
        let mut exit = self.exit.lock().unwrap();
        while !exit.done {
            match deadline {
                None => exit = self.exit_done.wait(exit).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    exit = self.exit_done.wait_timeout(exit, deadline - now).unwrap().0;
                }
            }
        }
        drop(exit);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap());
        let me = std::thread::current().id();
        for thread in threads {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
        true
    }
}

/// Runs a user thread callback. A panic in it is reported and swallowed: the worker must
/// go on (its core holds tasks that shutdown will need).
fn run_callback(callback: &Option<ThreadCallback>, what: &str) {
    if let Some(f) = callback {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f())).is_err() {
            eprintln!("hookrt: the runtime's `{what}` callback panicked; the worker goes on");
        }
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
        f.debug_struct("multi_thread::Handle")
            .field("workers", &self.num_workers())
            .field("tasks", &self.owned.len())
            .field("hooks", &self.hooks)
            .finish()
    }
}
