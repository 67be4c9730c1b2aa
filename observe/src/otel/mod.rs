//! OpenTelemetry export (feature `otel`): sampled request trees as OTLP spans.
//!
//! [`OtelExporter`] is a hook. Register it on each runtime whose requests you want to
//! see; it makes one span per task (and blocking job, and custom resource such as
//! [`timed`](crate::timed)) of every sampled request tree, and sends them over
//! OTLP/HTTP (protobuf) to the endpoint named by the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` variables (or
//! [`OtelExporterBuilder::endpoint`]); `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` fill the resource.
//!
//! - **Which trees.** A tree starts at a task created where
//!   [`TRACE_CONTEXT`] holds a trace whose
//!   `sampled` flag is set; everything it spawns belongs to it. [`continue_trace`]
//!   runs a request handler as such a task, in the trace of its `traceparent` header
//!   (or a new one); [`in_new_trace`] starts a trace in a client. Unsampled traces
//!   cost one table lookup per event. To sample on top of the flag, wrap the exporter
//!   in a [`Sampler`](crate::Sampler).
//! - **Spans.** Parent = the span of the trigger (the spawning task); the tree's root
//!   has the caller's span as its (remote) parent, so a hookrt service called by
//!   another shows under the caller's span. Start = `init`, end = `resolve` (else
//!   `destroy`). Attributes: `async.id`, `async.trigger_id`, `async.kind`,
//!   `code.filepath`/`code.lineno`/`code.column` (where it was spawned),
//!   `hookrt.polls`, `hookrt.busy_ns` (before → after), `hookrt.scheduled_ns` (wake →
//!   before, and init → first poll), `hookrt.idle_ns` (after → next wake), and
//!   `request.id` when [`OtelExporterBuilder::request_id`] names a storage. Timers and
//!   sockets created by a traced task become events on its span (`timer.fired`,
//!   `io.ready`, with `hookrt.wait_ns`).
//! - **Propagation.** An outgoing call from a traced task should carry that task's
//!   span as the parent: [`inject_current`] (or [`OtelExporter::inject_current`])
//!   writes `traceparent` from [`current_span_context`].
//! - **Off the hot path.** Hooks update a table striped by id and, at `destroy`,
//!   `try_send` the finished span into a bounded queue; one exporter thread converts,
//!   batches and sends. A full queue drops and counts
//!   ([`OtelExporter::dropped_spans`]); failed sends are counted
//!   ([`OtelExporter::failed_spans`]). A collector that is down or slow never blocks a
//!   hook: only the exporter thread waits, each request bounded by a timeout.
//! - **Shutdown.** Drop the runtime (its shutdown destroys the last tasks, which
//!   finishes their spans), then call [`OtelExporter::shutdown`], or hold a
//!   [`FlushOnDrop`] declared before the runtime.
//! - **Transport.** [`StdHttpClient`], HTTP/1.1 over `std::net` (no tokio runtime;
//!   plain `http://` only).
//!
//! ```no_run
//! use hookrt_observe::otel::{self, OtelExporter};
//! use std::sync::Arc;
//!
//! // OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 in the environment.
//! let exporter = Arc::new(OtelExporter::builder().service_name("frontend").build().unwrap());
//! let _flush = exporter.flush_on_drop(); // declared before the runtime: dropped after
//! let rt = hookrt::runtime::Builder::new_multi_thread()
//!     .hook(exporter.clone())
//!     .enable_all()
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     // In a hyper `service_fn`:
//!     let headers = http::HeaderMap::new(); // the request's headers
//!     let reply = otel::continue_trace(&headers, async {
//!         let mut outgoing = http::HeaderMap::new();
//!         otel::inject_current(&mut outgoing); // the call's parent: this task's span
//!         "ok"
//!     })
//!     .await;
//!     # let _ = reply;
//! });
//! ```

mod builder;
mod exporter;
mod http_client;
mod spans;
mod worker;

pub use builder::{
    ExporterBuildError, OtelExporterBuilder, DEFAULT_BATCH_INTERVAL, DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_MAX_BATCH, DEFAULT_MAX_EVENTS, DEFAULT_QUEUE_CAPACITY,
};
pub use exporter::{FlushOnDrop, OtelExporter};
pub use http_client::StdHttpClient;

use crate::trace_context::{extract, inject_context, SpanId, TraceContext, TRACE_CONTEXT};
use hookrt::context::LocalStorage;
use hookrt::hooks::execution_async_id;
use std::future::Future;
use std::panic::Location;

/// What the request helpers tell the exporter about the root task they spawn.
#[derive(Debug)]
pub(crate) struct RootMark {
    /// For a trace started in this process, the fictitious caller span id of the new
    /// root context: the root span then gets no parent instead of that one.
    pub(crate) new_trace: Option<SpanId>,
    /// Where the helper was called: the root span's `code.*` attributes (the task
    /// itself is spawned in this module).
    pub(crate) site: &'static Location<'static>,
}

/// Set by the helpers around the spawn of a request's root task.
pub(crate) static ROOT_MARK: LocalStorage<RootMark> = LocalStorage::named("otel_root_mark");

/// This file, as spawn locations name it.
pub(crate) const HELPERS_FILE: &str = file!();

/// The trace context of the running task's span, from whichever live
/// [`OtelExporter`] traces it: what an outgoing call made here should send (same trace,
/// this span as the parent). `None` outside a sampled tree.
pub fn current_span_context() -> Option<TraceContext> {
    exporter::span_context_anywhere(execution_async_id())
}

/// Writes `traceparent`/`tracestate` for a call made by the running task: its span as
/// the parent ([`current_span_context`]) when it is traced, else the current
/// [`TRACE_CONTEXT`] as it is. Returns whether a span of this task was used.
pub fn inject_current(headers: &mut http::HeaderMap) -> bool {
    match current_span_context() {
        Some(cx) => {
            inject_context(&cx, headers);
            true
        }
        None => {
            crate::trace_context::inject(headers);
            false
        }
    }
}

/// Runs a request handler in the trace its headers carry: [`extract`]s the context
/// (a valid `traceparent` continues the caller's trace; none or a malformed one starts
/// a new sampled trace, the malformed case counted in
/// [`malformed_count`](crate::trace_context::malformed_count)) and spawns `future` as
/// a task named `"request"` in it, so the task is the root of the request's tree and its
/// span the server span. The returned future awaits that task and borrows nothing.
///
/// # Panics
///
/// When called outside a hookrt runtime. The returned future re-raises a panic of
/// `future`, and panics if the runtime cancels the task (shutdown).
#[track_caller]
pub fn continue_trace<F>(
    headers: &http::HeaderMap,
    future: F,
) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    continue_trace_named("request", headers, future)
}

/// [`continue_trace`] with the task (and span) named `name`.
///
/// # Panics
///
/// As [`continue_trace`].
#[track_caller]
pub fn continue_trace_named<F>(
    name: &str,
    headers: &http::HeaderMap,
    future: F,
) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let extracted = extract(headers);
    let started_here = !extracted.is_continued();
    spawn_in_trace(name, extracted.into_context(), started_here, future)
}

/// [`continue_trace`] for a whole `http::Request`: the trace comes from its headers,
/// then `handler` gets the request.
///
/// # Panics
///
/// As [`continue_trace`].
#[track_caller]
pub fn continue_request<B, H, F>(
    request: http::Request<B>,
    handler: H,
) -> impl Future<Output = F::Output> + Send + 'static
where
    H: FnOnce(http::Request<B>) -> F,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let extracted = extract(request.headers());
    let started_here = !extracted.is_continued();
    let future = handler(request);
    spawn_in_trace("request", extracted.into_context(), started_here, future)
}

/// Runs `future` as the root task of a new trace (sampled or not), for a client or a
/// batch job that starts requests: its span has no parent.
///
/// # Panics
///
/// As [`continue_trace`].
#[track_caller]
pub fn in_new_trace<F>(
    name: &str,
    sampled: bool,
    future: F,
) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_in_trace(name, TraceContext::new_root(sampled), true, future)
}

/// Spawns `future` as a task created inside `cx` (and a [`RootMark`]), and returns a
/// future that awaits it.
#[track_caller]
fn spawn_in_trace<F>(
    name: &str,
    cx: TraceContext,
    started_here: bool,
    future: F,
) -> impl Future<Output = F::Output> + Send + 'static
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mark = RootMark {
        new_trace: started_here.then_some(cx.span_id),
        site: Location::caller(),
    };
    let spawn = move || {
        hookrt::task::Builder::new()
            .name(name)
            .spawn(future)
            .expect("spawning the request task")
    };
    let handle = TRACE_CONTEXT.run_sync(cx, || ROOT_MARK.run_sync(mark, spawn));
    async move {
        match handle.await {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the request task was cancelled: {e}"),
        }
    }
}
