//! The current runtime's time driver, and test time: `pause`, `resume`, `advance`.

use crate::runtime::context;
use crate::runtime::scheduler::SchedulerHandle;
use hookrt_timer_wheel::TimeDriver;
use std::time::Duration;

/// The time driver of the current runtime, or a panic that names the fix.
#[track_caller]
pub(crate) fn current_driver() -> TimeDriver {
    match context::with_current_handle(|h| h.time_driver().cloned()) {
        Some(Some(driver)) => driver,
        Some(None) => panic!(
            "hookrt: this runtime was built without the time driver: call `enable_time()` \
             or `enable_all()` on the runtime Builder (`#[hookrt::main]` and \
             `#[hookrt::test]` enable it)"
        ),
        None => panic!(
            "hookrt: timers need a runtime: create the `Sleep`/`Interval`/`Timeout` from code \
             running on a hookrt runtime (inside `block_on`, a task, or after `handle.enter()`)"
        ),
    }
}

/// The clock's "now" on the current runtime, or the system clock outside any runtime
/// (or on a runtime without time).
pub(crate) fn now() -> std::time::Instant {
    context::with_current_handle(|h| h.time_driver().map(TimeDriver::now))
        .flatten()
        .unwrap_or_else(std::time::Instant::now)
}

#[track_caller]
fn paused_driver(what: &str) -> TimeDriver {
    let on_multi_thread =
        context::with_current_handle(|h| matches!(h, SchedulerHandle::MultiThread(_)))
            .unwrap_or(false);
    if on_multi_thread {
        panic!(
            "hookrt::time::{what} is only supported on the current-thread runtime: build it \
             with `Builder::new_current_thread()` (or `#[hookrt::test]`, whose default \
             flavour it is)"
        );
    }
    current_driver()
}

/// Freezes time on the current runtime: `Instant::now()` stands still, timers fire only
/// when time is moved by [`advance`] or, when the runtime has nothing else to do, by
/// jumping to the next timer.
///
/// # Panics
///
/// Outside a current-thread runtime with time enabled, or when time is already paused.
#[track_caller]
pub fn pause() {
    let driver = paused_driver("pause");
    if driver.clock().pause().is_err() {
        panic!("hookrt::time::pause called while time is already paused");
    }
}

/// Lets paused time run again from where it stands.
///
/// # Panics
///
/// Outside a current-thread runtime with time enabled, or when time is not paused.
#[track_caller]
pub fn resume() {
    let driver = paused_driver("resume");
    if driver.clock().resume().is_err() {
        panic!("hookrt::time::resume called while time is not paused");
    }
}

/// Moves paused time forward by `duration`, fires the timers that became due, and
/// yields so the tasks they woke can run.
///
/// # Panics
///
/// Outside a current-thread runtime with time enabled, or when time is not paused.
pub async fn advance(duration: Duration) {
    let driver = paused_driver("advance");
    if driver.clock().advance(duration).is_err() {
        panic!("hookrt::time::advance called while time is not paused: call `time::pause()` first");
    }
    driver.process();
    crate::task::yield_now().await;
}
