//! `BlockingTask`: the future that runs a blocking closure once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs its closure on the first poll. The cooperative budget does not apply: the
/// closure is not async code.
pub(super) struct BlockingTask<F> {
    func: Option<F>,
}

impl<F> BlockingTask<F> {
    pub(super) fn new(func: F) -> BlockingTask<F> {
        BlockingTask { func: Some(func) }
    }
}

// The closure is never pinned: it is moved out before it runs.
impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let func = self
            .func
            .take()
            .expect("a blocking task runs once; the harness never polls it again");
        Poll::Ready(crate::task::coop::without_budget(func))
    }
}
