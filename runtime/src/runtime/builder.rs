//! `Builder`: configures and creates a `Runtime`.

use super::blocking::{BlockingPool, PoolConfig};
use super::scheduler::SchedulerHandle;
use super::{current_thread, multi_thread};
use super::{Handle, Runtime};
use hookrt_hooks::{Hook, HookPanic, HookSetBuilder};
use hookrt_timer_wheel::Clock;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Runtime`] with custom settings, and is where hooks are registered.
///
/// ```
/// use hookrt::hooks::Ledger;
/// use std::sync::Arc;
///
/// let ledger = Arc::new(Ledger::new());
/// let rt = hookrt::runtime::Builder::new_current_thread()
///     .enable_all()
///     .hook(ledger.clone())
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     hookrt::spawn(async {}).await.unwrap();
/// });
/// drop(rt);
/// ledger.assert_balanced();
/// ```
pub struct Builder {
    flavor: Flavor,
    hooks: HookSetBuilder,
    event_interval: u32,
    global_queue_interval: Option<u32>,
    enable_io: bool,
    enable_time: bool,
    worker_threads: Option<usize>,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<multi_thread::ThreadCallback>,
    on_thread_stop: Option<multi_thread::ThreadCallback>,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    start_paused: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Builder {
    /// A builder for a runtime that runs every task on the thread that calls
    /// [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// A builder for the work-stealing runtime: `worker_threads` threads (default: one
    /// per core) run the tasks; `block_on` runs its future on the calling thread.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            hooks: HookSetBuilder::new(),
            event_interval: 61,
            global_queue_interval: None,
            enable_io: false,
            enable_time: false,
            worker_threads: None,
            thread_name: Arc::new(|| "hookrt-worker".to_owned()),
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            start_paused: false,
        }
    }

    /// Starts the runtime with time paused (see [`time::pause`](crate::time::pause)):
    /// sleeps complete as soon as the runtime has nothing else to do, in deadline
    /// order. Needs `enable_time()` and the current-thread runtime.
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        self.start_paused = start_paused;
        self
    }

    /// The most threads the blocking pool (`spawn_blocking`) runs at once; more jobs
    /// wait in its queue. Default 512.
    ///
    /// # Panics
    ///
    /// When `n` is zero.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for a job before it exits. Default
    /// 10 seconds.
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.thread_keep_alive = duration;
        self
    }

    /// How many worker threads the multi-thread runtime starts (default: the number of
    /// cores). Ignored by the current-thread runtime.
    ///
    /// # Panics
    ///
    /// When `n` is zero.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// The name of the runtime's threads (default `"hookrt-worker"`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function that names each new runtime thread.
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.thread_name = Arc::new(f);
        self
    }

    /// The stack size of the runtime's threads (default: the platform's).
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each runtime thread when it starts.
    pub fn on_thread_start<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each runtime thread before it stops.
    pub fn on_thread_stop<F: Fn() + Send + Sync + 'static>(&mut self, f: F) -> &mut Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Registers a hook. May be called several times; hooks are called in registration
    /// order, and the set is fixed once the runtime is built.
    ///
    /// Pass an `Arc<H>` to keep a handle on what the hook gathers.
    pub fn hook<H: Hook>(&mut self, hook: H) -> &mut Self {
        self.hooks.hook(hook);
        self
    }

    /// What a panicking hook does: [`HookPanic::Disable`] (the default: report once,
    /// disable the hook, go on) or [`HookPanic::Abort`] (Node's behaviour).
    pub fn on_hook_panic(&mut self, policy: HookPanic) -> &mut Self {
        self.hooks.on_panic(policy);
        self
    }

    /// Enables the I/O and time drivers.
    pub fn enable_all(&mut self) -> &mut Self {
        self.enable_io().enable_time()
    }

    /// Enables the I/O driver: `hookrt::net` sockets.
    pub fn enable_io(&mut self) -> &mut Self {
        self.enable_io = true;
        self
    }

    /// Enables the time driver: `hookrt::time` (sleeps, intervals, timeouts).
    pub fn enable_time(&mut self) -> &mut Self {
        self.enable_time = true;
        self
    }

    /// How many tasks the scheduler runs between two looks at external events (the
    /// `block_on` future, remote wakes, later the drivers). Default 61.
    ///
    /// # Panics
    ///
    /// When `ticks` is zero.
    #[track_caller]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "event_interval must be at least 1");
        self.event_interval = ticks;
        self
    }

    /// Every how many tasks the scheduler serves the global (remote) queue first, for
    /// fairness. Default 31.
    ///
    /// # Panics
    ///
    /// When `ticks` is zero.
    #[track_caller]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "global_queue_interval must be at least 1");
        self.global_queue_interval = Some(ticks);
        self
    }

    /// Creates the runtime. The hooks registered so far are moved into it (the builder
    /// is left without hooks).
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.start_paused && self.flavor == Flavor::MultiThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_paused(true) needs the current-thread runtime: paused time is only \
                 supported there (use Builder::new_current_thread())",
            ));
        }
        if self.start_paused && !self.enable_time {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_paused(true) needs the time driver: call enable_time() or enable_all()",
            ));
        }
        let hooks = self.hooks.build();
        let clock = || self.enable_time.then(|| Clock::new(self.start_paused));
        let blocking = BlockingPool::new(
            hooks.clone(),
            PoolConfig {
                max_threads: self.max_blocking_threads,
                keep_alive: self.thread_keep_alive,
                thread_name: self.thread_name.clone(),
                thread_stack_size: self.thread_stack_size,
            },
        );
        let handle = match self.flavor {
            Flavor::CurrentThread => SchedulerHandle::CurrentThread(current_thread::Handle::new(
                hooks,
                current_thread::Config {
                    event_interval: self.event_interval,
                    global_queue_interval: self.global_queue_interval.unwrap_or(31),
                },
                blocking.clone(),
                clock(),
                self.enable_io,
            )?),
            Flavor::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_worker_threads);
                SchedulerHandle::MultiThread(multi_thread::Handle::start(
                    hooks,
                    multi_thread::Config {
                        worker_threads: workers,
                        event_interval: self.event_interval,
                        global_queue_interval: self.global_queue_interval.unwrap_or(31),
                        thread_name: self.thread_name.clone(),
                        thread_stack_size: self.thread_stack_size,
                        on_thread_start: self.on_thread_start.clone(),
                        on_thread_stop: self.on_thread_stop.clone(),
                    },
                    blocking.clone(),
                    clock(),
                    self.enable_io,
                )?)
            }
        };
        blocking.set_runtime(handle.clone());
        Ok(Runtime::from_handle(Handle { inner: handle }))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("hooks", &self.hooks)
            .field("event_interval", &self.event_interval)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("enable_io", &self.enable_io)
            .field("enable_time", &self.enable_time)
            .field("worker_threads", &self.worker_threads)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}

/// One worker per core, as tokio does (`HOOKRT_WORKER_THREADS` overrides it).
fn default_worker_threads() -> usize {
    static CACHED: AtomicUsize = AtomicUsize::new(0);
    let cached = CACHED.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    let n = std::env::var("HOOKRT_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    CACHED.store(n, Ordering::Relaxed);
    n
}
