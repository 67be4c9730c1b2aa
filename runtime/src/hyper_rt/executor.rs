//! `HookrtExecutor`: `hyper::rt::Executor` over hookrt's `spawn`.

use crate::runtime::Handle;
use std::future::Future;
use std::sync::Arc;

/// Runs the futures hyper hands over (HTTP/2 streams, client connection drivers) as
/// hookrt tasks.
///
/// Each future becomes a task resource: hooks see its `init` with the current execution
/// (the connection task, or whoever called [`execute`](hyper::rt::Executor::execute)) as
/// trigger, and the task starts in the caller's async context, so `LocalStorage` values
/// flow from an accept loop into every stream's service. The task is detached: its
/// `JoinHandle` is dropped, as hyper expects.
///
/// Built with [`new`](Self::new), it spawns on the runtime current where `execute` is
/// called (hyper calls it from inside the connection it drives, so that is the
/// connection's runtime); [`with_handle`](Self::with_handle) pins it to one runtime, for
/// use from threads outside any. [`name`](Self::name) names the tasks for hooks.
///
/// # Panics
///
/// `execute` panics outside a runtime when the executor has no handle, like
/// [`spawn`](crate::spawn).
///
/// # Example: an HTTP/2 server connection
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use hookrt::hyper_rt::{HookrtExecutor, HookrtIo, HookrtTimer};
/// use hyper::service::service_fn;
/// use std::convert::Infallible;
///
/// async fn serve(stream: hookrt::net::TcpStream) -> hyper::Result<()> {
///     let service = service_fn(|_req: hyper::Request<hyper::body::Incoming>| async {
///         Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("hi"))))
///     });
///     // Every HTTP/2 stream becomes a hookrt task named "h2-stream".
///     hyper::server::conn::http2::Builder::new(HookrtExecutor::new().name("h2-stream"))
///         .timer(HookrtTimer::new())
///         .serve_connection(HookrtIo::new(stream), service)
///         .await
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct HookrtExecutor {
    handle: Option<Handle>,
    name: Option<Arc<str>>,
}

impl HookrtExecutor {
    /// An executor that spawns on the current runtime (the one running the caller of
    /// `execute`).
    ///
    /// ```
    /// use hyper::rt::Executor;
    ///
    /// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let (tx, rx) = hookrt::sync::oneshot::channel();
    /// hookrt::hyper_rt::HookrtExecutor::new().execute(async move { tx.send(7).unwrap() });
    /// assert_eq!(rx.await.unwrap(), 7);
    /// # });
    /// ```
    pub fn new() -> HookrtExecutor {
        HookrtExecutor::default()
    }

    /// An executor that always spawns on the runtime of `handle`, from any thread.
    ///
    /// ```
    /// use hyper::rt::Executor;
    ///
    /// let rt = hookrt::runtime::Builder::new_multi_thread().build().unwrap();
    /// let exec = hookrt::hyper_rt::HookrtExecutor::with_handle(rt.handle().clone());
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// // Not on a runtime thread: the handle says where the task goes.
    /// exec.execute(async move { tx.send(7).unwrap() });
    /// assert_eq!(rx.recv().unwrap(), 7);
    /// ```
    pub fn with_handle(handle: Handle) -> HookrtExecutor {
        HookrtExecutor {
            handle: Some(handle),
            name: None,
        }
    }

    /// Names every task this executor spawns (hooks read it as `Resource::name()`).
    ///
    /// ```
    /// let exec = hookrt::hyper_rt::HookrtExecutor::new().name("hyper-conn");
    /// # drop(exec);
    /// ```
    pub fn name(self, name: impl Into<Arc<str>>) -> HookrtExecutor {
        HookrtExecutor {
            name: Some(name.into()),
            ..self
        }
    }
}

impl<F> hyper::rt::Executor<F> for HookrtExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `fut` as a detached hookrt task. The task's recorded location is hyper's
    /// call site (or yours, when you call `execute` directly).
    #[track_caller]
    fn execute(&self, fut: F) {
        let mut builder = crate::task::Builder::new();
        if let Some(name) = &self.name {
            builder = builder.name(name);
        }
        let spawned = match &self.handle {
            Some(handle) => builder.spawn_on(fut, handle),
            None => builder.spawn(fut),
        };
        // `task::Builder` returns an error only for tokio compatibility; dropping the
        // join handle detaches the task.
        drop(spawned.expect("hookrt::task::Builder::spawn does not fail"));
    }
}
