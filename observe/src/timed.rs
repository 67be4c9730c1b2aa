//! [`timed`]: one async function as its own resource.

use hookrt::hooks::{AsyncId, AsyncResource};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `future` as a `Custom(name)` resource, so the busy and wall time of one async
/// function inside a task shows in [`TaskStats`](crate::TaskStats) (per call site) and
/// in the [`FlowRecorder`](crate::FlowRecorder)'s trace and graph.
///
/// The resource is created here, at the call (its site is the caller's location, its
/// trigger the current execution), entered around each poll of `future` (so the hooks
/// see `before`/`after`, and tasks spawned inside have it as their trigger), and
/// destroyed when the returned future is dropped: its wall time runs from the call to
/// the drop. Outside a runtime with hooks it only runs `future`.
///
/// ```no_run
/// async fn handler() {
///     let user = hookrt_observe::timed("load_user", async {
///         hookrt::time::sleep(std::time::Duration::from_millis(5)).await;
///         "ada"
///     })
///     .await;
///     assert_eq!(user, "ada");
/// }
/// ```
#[track_caller]
pub fn timed<F: Future>(name: &'static str, future: F) -> Timed<F> {
    Timed {
        resource: AsyncResource::new(name),
        future: Box::pin(future),
    }
}

/// The future [`timed`] returns.
#[must_use = "futures do nothing unless polled"]
pub struct Timed<F> {
    resource: AsyncResource,
    // Boxed so that `Timed` is `Unpin` and needs no unsafe pin projection.
    future: Pin<Box<F>>,
}

impl<F> Timed<F> {
    /// The id of the resource this section runs as.
    pub fn async_id(&self) -> AsyncId {
        self.resource.id()
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = &mut this.future;
        this.resource.in_scope(|| future.as_mut().poll(cx))
    }
}

impl<F> fmt::Debug for Timed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timed")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}
