//! Misuse panics with a message that names the fix.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

#[test]
#[should_panic(expected = "called outside a hookrt runtime")]
fn spawn_outside_a_runtime() {
    hookrt::spawn(async {});
}

#[test]
#[should_panic(expected = "Use `.await` instead")]
fn block_on_inside_a_runtime() {
    let (rt, _, _) = support::runtime(support::Flavor::CurrentThread);
    let handle = rt.handle().clone();
    rt.block_on(async move { handle.block_on(async {}) });
}

#[test]
#[should_panic(expected = "Use `.await` instead")]
fn block_on_inside_a_task() {
    let (rt, _, _) = support::runtime(support::Flavor::CurrentThread);
    let handle = rt.handle().clone();
    let join = rt.handle().spawn(async move { handle.block_on(async {}) });
    // Re-raise the task's panic so should_panic sees its message.
    if let Err(e) = rt.block_on(join) {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
#[should_panic(expected = "JoinHandle polled after it returned Ready")]
fn join_handle_polled_after_completion() {
    let (rt, _, _) = support::runtime(support::Flavor::CurrentThread);
    rt.block_on(async {
        let mut handle = hookrt::spawn(async { 1 });
        assert_eq!((&mut handle).await.unwrap(), 1);
        // Poll once more by hand.
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let _ = Pin::new(&mut handle).poll(&mut cx);
    });
}

#[test]
fn handle_try_current_outside_is_an_error() {
    let err = hookrt::runtime::Handle::try_current().unwrap_err();
    assert!(err.to_string().contains("no hookrt runtime"));
    let (rt, _, _) = support::runtime(support::Flavor::CurrentThread);
    let _guard = rt.enter();
    assert!(hookrt::runtime::Handle::try_current().is_ok());
    drop(_guard);
    let _ = Poll::<()>::Pending;
}
