//! `Builder`: configures and creates a `Runtime`.

use super::current_thread;
use super::scheduler::SchedulerHandle;
use super::{Handle, Runtime};
use hookrt_hooks::{Hook, HookPanic, HookSetBuilder};
use std::fmt;
use std::io;

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
}

impl Builder {
    /// A builder for a runtime that runs every task on the thread that calls
    /// [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder {
            flavor: Flavor::CurrentThread,
            hooks: HookSetBuilder::new(),
            event_interval: 61,
            global_queue_interval: None,
            enable_io: false,
            enable_time: false,
        }
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

    /// Enables the I/O driver (sockets). Recorded now; the driver arrives with
    /// `hookrt::net`.
    pub fn enable_io(&mut self) -> &mut Self {
        self.enable_io = true;
        self
    }

    /// Enables the time driver (timers). Recorded now; the driver arrives with
    /// `hookrt::time`.
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
        let hooks = self.hooks.build();
        let handle = match self.flavor {
            Flavor::CurrentThread => SchedulerHandle::CurrentThread(current_thread::Handle::new(
                hooks,
                current_thread::Config {
                    event_interval: self.event_interval,
                    global_queue_interval: self.global_queue_interval.unwrap_or(31),
                },
            )),
        };
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
            .finish()
    }
}
