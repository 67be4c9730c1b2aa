//! `HookrtTimer` and `HookrtSleep`: `hyper::rt::Timer` over hookrt's timers.

use crate::runtime::Handle;
use crate::time::{self, Instant};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// hyper's timer (header-read timeouts, keep-alive and HTTP/2 pings) on hookrt's time
/// driver.
///
/// Every sleep is a [`hookrt::time::Sleep`](crate::time::Sleep), a `Timer` resource
/// hooks see, created in the task that asked for it. [`reset`](hyper::rt::Timer::reset)
/// re-arms that same timer (no new resource, no new allocation) when the sleep is one of
/// ours. [`now`](hyper::rt::Timer::now) reads hookrt's clock, so hyper's timeouts follow
/// [`time::pause`] and [`time::advance`] in tests.
///
/// Built with [`new`](Self::new), it uses the current runtime's time driver when a sleep
/// is made; [`with_handle`](Self::with_handle) uses one runtime's, from any thread.
///
/// # Panics
///
/// Making a sleep panics outside a runtime (without a handle), or on a runtime built
/// without `enable_time()`, like [`time::sleep`].
///
/// # Example
///
/// ```
/// use hookrt::hyper_rt::HookrtTimer;
/// use hyper::rt::Timer;
/// use std::time::{Duration, Instant};
///
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let timer = HookrtTimer::new();
/// let start = Instant::now();
/// let mut sleep = timer.sleep(Duration::from_secs(3600));
/// // Move the deadline to 5 ms from now: the same timer, re-armed.
/// timer.reset(&mut sleep, Instant::now() + Duration::from_millis(5));
/// sleep.await;
/// assert!(start.elapsed() < Duration::from_secs(3600));
///
/// // For hyper: HTTP/1 header-read timeouts need a timer.
/// let _builder = hyper::server::conn::http1::Builder::new()
///     .timer(timer)
///     .header_read_timeout(Duration::from_secs(5));
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct HookrtTimer {
    handle: Option<Handle>,
}

impl HookrtTimer {
    /// A timer that uses the current runtime's time driver.
    pub fn new() -> HookrtTimer {
        HookrtTimer::default()
    }

    /// A timer that uses the time driver of `handle`'s runtime, from any thread.
    ///
    /// ```
    /// use hyper::rt::Timer;
    ///
    /// let rt = hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let timer = hookrt::hyper_rt::HookrtTimer::with_handle(rt.handle().clone());
    /// // Made outside the runtime, awaited on it.
    /// let sleep = timer.sleep(std::time::Duration::from_millis(1));
    /// rt.block_on(sleep);
    /// ```
    pub fn with_handle(handle: Handle) -> HookrtTimer {
        HookrtTimer {
            handle: Some(handle),
        }
    }

    /// Makes a hookrt sleep until `deadline`, in the handle's runtime when there is one.
    #[track_caller]
    fn make(&self, deadline: Instant) -> HookrtSleep {
        let _entered = self.handle.as_ref().map(Handle::enter);
        HookrtSleep {
            inner: time::sleep_until(deadline),
        }
    }
}

impl hyper::rt::Timer for HookrtTimer {
    #[track_caller]
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let _entered = self.handle.as_ref().map(Handle::enter);
        Box::pin(HookrtSleep {
            inner: time::sleep(duration),
        })
    }

    #[track_caller]
    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(self.make(Instant::from_std(deadline)))
    }

    fn now(&self) -> std::time::Instant {
        let _entered = self.handle.as_ref().map(Handle::enter);
        Instant::now().into_std()
    }

    #[track_caller]
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        let new_deadline = Instant::from_std(new_deadline);
        match sleep.as_mut().downcast_mut_pin::<HookrtSleep>() {
            Some(ours) => ours.reset(new_deadline),
            // Someone else's sleep (another timer made it): replace it.
            None => *sleep = Box::pin(self.make(new_deadline)),
        }
    }
}

/// The `hyper::rt::Sleep` that [`HookrtTimer`] hands out: a
/// [`hookrt::time::Sleep`](crate::time::Sleep) hyper can hold as a `dyn Sleep`.
///
/// ```
/// use hookrt::hyper_rt::{HookrtSleep, HookrtTimer};
/// use hyper::rt::Timer;
///
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut sleep = HookrtTimer::new().sleep(std::time::Duration::from_millis(1));
/// assert!(sleep.as_mut().downcast_mut_pin::<HookrtSleep>().is_some());
/// sleep.await;
/// # });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct HookrtSleep {
    inner: time::Sleep,
}

impl HookrtSleep {
    /// The instant the sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }

    /// The underlying hookrt timer resource's async id.
    pub fn async_id(&self) -> crate::hooks::AsyncId {
        self.inner.async_id()
    }

    /// Moves the deadline, keeping the timer resource (see [`time::Sleep::reset`]).
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        Pin::new(&mut self.get_mut().inner).reset(deadline);
    }
}

impl Future for HookrtSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl hyper::rt::Sleep for HookrtSleep {}
