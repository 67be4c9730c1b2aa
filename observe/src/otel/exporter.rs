//! [`OtelExporter`]: the hook that turns sampled request trees into OpenTelemetry spans,
//! and its builder.

use super::spans::{Clock, Entry, Parent, SpanRecord, WaitEvent};
use super::worker::{Counters, Msg, Worker};
use super::{StdHttpClient, HELPERS_FILE, ROOT_MARK};
use crate::shard::{lock, ById};
use crate::trace_context::{inject_context, SpanId, TraceContext, TRACE_CONTEXT};
use hookrt::context::{Context, LocalStorage};
use hookrt::hooks::{execution_async_id, AsyncId, Hook, Resource, ResourceKind};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, RetryPolicy, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SpanExporter as _;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use opentelemetry_otlp::ExporterBuildError;

/// Default capacity of the queue between the hooks and the exporter thread.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;
/// Default largest batch sent in one OTLP request.
pub const DEFAULT_MAX_BATCH: usize = 512;
/// Default time a partial batch waits before it is sent.
pub const DEFAULT_BATCH_INTERVAL: Duration = Duration::from_millis(1000);
/// Default timeout of one OTLP request (connect, send, answer), as the OTLP spec's.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of timer/socket events kept per span.
pub const DEFAULT_MAX_EVENTS: usize = 64;

/// Reads a request id out of a resource's context.
type RequestIdFn = dyn Fn(&Context) -> Option<Arc<str>> + Send + Sync;

/// Configures an [`OtelExporter`]; see [`OtelExporter::builder`].
pub struct OtelExporterBuilder {
    endpoint: Option<String>,
    service_name: Option<String>,
    attributes: Vec<KeyValue>,
    queue_capacity: usize,
    max_batch: usize,
    interval: Duration,
    timeout: Option<Duration>,
    retries: Option<usize>,
    max_events: usize,
    request_id: Option<Box<RequestIdFn>>,
}

impl fmt::Debug for OtelExporterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelExporterBuilder")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("queue_capacity", &self.queue_capacity)
            .field("max_batch", &self.max_batch)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("max_events", &self.max_events)
            .field("request_id", &self.request_id.is_some())
            .finish_non_exhaustive()
    }
}

impl OtelExporterBuilder {
    /// The collector's URL, overriding `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`. A URL without a path (`http://host:4318`) gets
    /// `/v1/traces` appended, as the base variable does; one with a path is used as is.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        let has_path = url
            .split_once("://")
            .map_or(url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
            .contains('/');
        self.endpoint = Some(if has_path {
            url
        } else {
            format!("{}/v1/traces", url.trim_end_matches('/'))
        });
        self
    }

    /// The `service.name` resource attribute (else `OTEL_SERVICE_NAME`, else the SDK's
    /// `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute (on top of `OTEL_RESOURCE_ATTRIBUTES`).
    pub fn resource_attribute(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attributes.push(KeyValue::new(key, value.into()));
        self
    }

    /// Capacity of the queue between the hooks and the exporter thread
    /// ([`DEFAULT_QUEUE_CAPACITY`]); a span finished while it is full is dropped and
    /// counted in [`OtelExporter::dropped_spans`].
    pub fn queue_capacity(mut self, spans: usize) -> Self {
        self.queue_capacity = spans.max(1);
        self
    }

    /// Largest batch per OTLP request ([`DEFAULT_MAX_BATCH`]).
    pub fn max_batch(mut self, spans: usize) -> Self {
        self.max_batch = spans.max(1);
        self
    }

    /// How long a partial batch waits ([`DEFAULT_BATCH_INTERVAL`]).
    pub fn batch_interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Timeout of one OTLP request (else `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` /
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` in milliseconds, else [`DEFAULT_EXPORT_TIMEOUT`]).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries of a failed request (the OTLP exporter's recommended policy when not
    /// set: 3, with exponential backoff from 100 ms).
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Timer and socket events kept per span ([`DEFAULT_MAX_EVENTS`]); the rest are
    /// counted as dropped events.
    pub fn max_events(mut self, events: usize) -> Self {
        self.max_events = events;
        self
    }

    /// Stamps every span of a request with `request.id`, read (by `Display`) from
    /// `storage` where the request's root task was created.
    pub fn request_id<T>(mut self, storage: &'static LocalStorage<T>) -> Self
    where
        T: fmt::Display + Send + Sync + 'static,
    {
        self.request_id = Some(Box::new(move |cx: &Context| {
            cx.get(storage).map(|v| Arc::from(v.to_string()))
        }));
        self
    }

    /// Builds the OTLP/HTTP exporter and starts the exporter thread.
    ///
    /// Fails when an endpoint (given or from the environment) is not a valid URL.
    pub fn build(self) -> Result<OtelExporter, ExporterBuildError> {
        let timeout = self
            .timeout
            .or_else(|| env_millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"))
            .or_else(|| env_millis("OTEL_EXPORTER_OTLP_TIMEOUT"))
            .unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let retry = match self.retries {
            Some(n) => RetryPolicy::recommended().with_max_retries(n),
            None => RetryPolicy::recommended(),
        };
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(StdHttpClient::new(timeout))
            .with_timeout(timeout)
            .with_retry_policy(retry);
        if let Some(url) = &self.endpoint {
            builder = builder.with_endpoint(url.clone());
        }
        let mut exporter = builder.build()?;
        let mut resource = opentelemetry_sdk::Resource::builder();
        if let Some(name) = self.service_name {
            resource = resource.with_service_name(name);
        }
        let resource = resource
            .with_attribute(KeyValue::new("telemetry.sdk.runtime", "hookrt"))
            .with_attributes(self.attributes)
            .build();
        exporter.set_resource(&resource);

        let (tx, rx) = sync_channel(self.queue_capacity);
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            rx,
            exporter,
            counters: counters.clone(),
            clock: Clock::now(),
            scope: InstrumentationScope::builder("hookrt-observe")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            max_batch: self.max_batch,
            interval: self.interval,
        };
        let thread = std::thread::Builder::new()
            .name("hookrt-otel-export".into())
            .spawn(move || worker.run())
            .map_err(|e| {
                ExporterBuildError::InternalFailure(format!("spawning the export thread: {e}"))
            })?;

        let shared = Arc::new(Shared {
            table: ById::new(),
            key: RandomState::new().hash_one(0x686f_6f6b_7274_u64),
        });
        register(&shared);
        Ok(OtelExporter {
            shared,
            tx,
            counters,
            max_events: self.max_events,
            request_id: self.request_id,
            thread: Mutex::new(Some(thread)),
            shut_down: AtomicBool::new(false),
        })
    }
}

/// `name` as a number of milliseconds, if set and valid.
fn env_millis(name: &str) -> Option<Duration> {
    let v = std::env::var(name).ok()?;
    v.trim().parse().ok().map(Duration::from_millis)
}

/// The part of the exporter [`current_span_context`](super::current_span_context)
/// reaches through the registry: the live ids and the span-id key.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Every tracked live id: span records and waits.
    pub(crate) table: ById<Entry>,
    /// Per-exporter random key of the span-id bijection.
    key: u64,
}

impl Shared {
    /// The span id of async id `id`: a SplitMix64 finalizer (a bijection on `u64`)
    /// of the id xor a random key, so ids never collide within one process and are
    /// unpredictable across processes, without shared state on the hook path.
    fn span_id(&self, id: AsyncId) -> SpanId {
        let mut z = id.as_u64() ^ self.key;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        SpanId::from_bytes(if z == 0 { 1 } else { z }.to_be_bytes())
    }

    /// The trace context a call made from inside `id` sends: the trace, with `id`'s
    /// span as the parent.
    pub(crate) fn span_context(&self, id: AsyncId) -> Option<TraceContext> {
        self.table
            .with(id, |e| match e {
                Entry::Span(s) => Some(TraceContext {
                    trace_id: s.trace.trace_id,
                    span_id: s.span_id,
                    flags: s.trace.flags,
                    state: s.trace.state.clone(),
                }),
                Entry::Wait { .. } => None,
            })
            .flatten()
    }
}

/// The live exporters, for [`current_span_context`](super::current_span_context).
static REGISTRY: RwLock<Vec<Weak<Shared>>> = RwLock::new(Vec::new());

fn register(shared: &Arc<Shared>) {
    let mut all = REGISTRY
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(shared));
}

/// Looks `id` up in every live exporter.
pub(crate) fn span_context_anywhere(id: AsyncId) -> Option<TraceContext> {
    let all = REGISTRY
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.iter()
        .filter_map(Weak::upgrade)
        .find_map(|s| s.span_context(id))
}

/// Exports sampled request trees to an OpenTelemetry collector over OTLP/HTTP
/// (protobuf): one span per task (and blocking job and custom resource) of the tree,
/// parented by trigger ids, with the hooks' timings as attributes and timer and socket
/// waits as events.
///
/// A tree starts at a task created where [`TRACE_CONTEXT`] holds a sampled trace
/// (see [`continue_trace`](super::continue_trace)); its span's parent is the remote
/// caller's span. Everything that task spawns, transitively, is in the tree.
///
/// Hooks only update a striped table and, at `destroy`, `try_send` the finished span
/// into a bounded queue; an exporter thread batches, encodes and sends. A full queue
/// drops and counts ([`dropped_spans`](Self::dropped_spans)); a collector that is down
/// or slow only delays that thread (every request has a timeout). Call
/// [`shutdown`](Self::shutdown) after the runtime is dropped (or hold a
/// [`FlushOnDrop`]) so the last spans are sent and confirmed; dropping the exporter
/// without it lets the thread send what is queued in the background.
pub struct OtelExporter {
    shared: Arc<Shared>,
    tx: SyncSender<Msg>,
    counters: Arc<Counters>,
    max_events: usize,
    request_id: Option<Box<RequestIdFn>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    shut_down: AtomicBool,
}

impl fmt::Debug for OtelExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelExporter")
            .field("started_spans", &self.started_spans())
            .field("exported_spans", &self.exported_spans())
            .field("dropped_spans", &self.dropped_spans())
            .field("failed_spans", &self.failed_spans())
            .finish_non_exhaustive()
    }
}

impl OtelExporter {
    /// A builder with the defaults; the endpoint comes from the environment unless
    /// [`endpoint`](OtelExporterBuilder::endpoint) is called.
    pub fn builder() -> OtelExporterBuilder {
        OtelExporterBuilder {
            endpoint: None,
            service_name: None,
            attributes: Vec::new(),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_batch: DEFAULT_MAX_BATCH,
            interval: DEFAULT_BATCH_INTERVAL,
            timeout: None,
            retries: None,
            max_events: DEFAULT_MAX_EVENTS,
            request_id: None,
        }
    }

    /// Spans opened for sampled trees so far.
    pub fn started_spans(&self) -> u64 {
        Counters::get(&self.counters.started)
    }

    /// Finished spans handed to the exporter thread.
    pub fn queued_spans(&self) -> u64 {
        Counters::get(&self.counters.queued)
    }

    /// Finished spans dropped because the queue was full (the collector is slower than
    /// the spans come) or the exporter had shut down.
    pub fn dropped_spans(&self) -> u64 {
        Counters::get(&self.counters.dropped)
    }

    /// Spans the collector accepted.
    pub fn exported_spans(&self) -> u64 {
        Counters::get(&self.counters.exported)
    }

    /// Spans lost in failed exports (collector down, too slow, or refusing).
    pub fn failed_spans(&self) -> u64 {
        Counters::get(&self.counters.failed)
    }

    /// Failed OTLP requests (after retries).
    pub fn export_errors(&self) -> u64 {
        Counters::get(&self.counters.export_errors)
    }

    /// The last export error, if any.
    pub fn last_export_error(&self) -> Option<String> {
        lock(&self.counters.last_error).clone()
    }

    /// The trace context of the running task's span (trace id, this span's id as the
    /// parent, flags, trace state): what an outgoing call should carry. `None` when
    /// the running task is not in a sampled tree of this exporter.
    pub fn current_span_context(&self) -> Option<TraceContext> {
        self.shared.span_context(execution_async_id())
    }

    /// Writes `traceparent`/`tracestate` for a call made by the running task: its own
    /// span as the parent when it is traced, else the current [`TRACE_CONTEXT`] (so an
    /// unsampled trace still propagates). Returns whether this task's span was used.
    pub fn inject_current(&self, headers: &mut http::HeaderMap) -> bool {
        match self.current_span_context() {
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

    /// Sends every span finished so far, waiting at most `timeout`; `true` when the
    /// exporter thread confirmed (the spans were sent or counted as failed).
    pub fn flush_timeout(&self, timeout: Duration) -> bool {
        self.request(timeout, Msg::Flush)
    }

    /// [`flush_timeout`](Self::flush_timeout) with 30 seconds.
    pub fn flush(&self) -> bool {
        self.flush_timeout(Duration::from_secs(30))
    }

    /// Flushes, shuts the OTLP exporter down and joins the exporter thread, waiting at
    /// most 30 seconds. Spans finished afterwards are counted as dropped. Call it
    /// after dropping the runtime (whose shutdown destroys the last tasks, finishing
    /// their spans). Idempotent.
    pub fn shutdown(&self) -> bool {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return true;
        }
        let done = self.request(Duration::from_secs(30), Msg::Shutdown);
        if done {
            if let Some(thread) = lock(&self.thread).take() {
                let _ = thread.join();
            }
        }
        done
    }

    /// A guard that calls [`shutdown`](Self::shutdown) when dropped.
    pub fn flush_on_drop(self: &Arc<Self>) -> FlushOnDrop {
        FlushOnDrop(self.clone())
    }

    /// Sends a control message (waiting for room in the queue) and waits for its
    /// answer, all within `timeout`.
    fn request(&self, timeout: Duration, make: fn(SyncSender<()>) -> Msg) -> bool {
        let deadline = Instant::now() + timeout;
        let (ack_tx, ack_rx) = sync_channel(1);
        let mut msg = make(ack_tx);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(m)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    msg = m;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        ack_rx.recv_timeout(left).is_ok()
    }

    /// Opens a span for a task, blocking job or custom resource in a sampled tree.
    fn open_span(&self, r: &Resource<'_>, now: Instant) {
        let table = &self.shared.table;
        let inherited = table
            .with(r.trigger_id(), |e| match e {
                Entry::Span(p) => Some((p.trace.clone(), p.span_id, p.request_id.clone())),
                Entry::Wait { .. } => None,
            })
            .flatten();
        let own = r.context().get(&TRACE_CONTEXT);
        let mut location = r.location();
        let (trace, parent, request_id) = match (inherited, own) {
            // A task of a traced tree, unless it was put in another trace.
            (Some((trace, parent, rid)), own)
                if own.as_ref().is_none_or(|o| o.trace_id == trace.trace_id) =>
            {
                (trace, Parent::Local(parent), rid)
            }
            // The root of a tree: the caller's span (from `traceparent`) is the parent,
            // unless the trace was started here.
            (_, Some(own)) if own.is_sampled() => {
                let mark = r.context().get(&ROOT_MARK);
                let parent = match &mark {
                    Some(m) if m.new_trace == Some(own.span_id) => Parent::None,
                    _ => Parent::Remote(own.span_id),
                };
                if r.location().is_some_and(|l| l.file() == HELPERS_FILE) {
                    location = mark.map(|m| m.site);
                }
                let rid = self.request_id.as_ref().and_then(|f| f(r.context()));
                (own, parent, rid)
            }
            _ => return,
        };
        let record = SpanRecord::new(
            trace,
            self.shared.span_id(r.id()),
            parent,
            r.id(),
            r.trigger_id(),
            r.kind(),
            r.name(),
            location,
            request_id,
            now,
        );
        Counters::add(&self.counters.started, 1);
        table.insert(r.id(), Entry::Span(Box::new(record)));
    }

    /// Starts watching a timer or socket created by a traced task.
    fn open_wait(&self, r: &Resource<'_>, now: Instant) {
        let table = &self.shared.table;
        let traced = table
            .with(r.trigger_id(), |e| matches!(e, Entry::Span(_)))
            .unwrap_or(false);
        if traced {
            table.insert(
                r.id(),
                Entry::Wait {
                    trigger: r.trigger_id(),
                    since: now,
                },
            );
        }
    }
}

impl Hook for OtelExporter {
    fn init(&self, r: &Resource<'_>) {
        let now = Instant::now();
        match r.kind() {
            ResourceKind::Task | ResourceKind::Blocking | ResourceKind::Custom(_) => {
                self.open_span(r, now)
            }
            _ => self.open_wait(r, now),
        }
    }

    fn before(&self, r: &Resource<'_>) {
        let now = Instant::now();
        let wait = self
            .shared
            .table
            .with(r.id(), |e| match e {
                Entry::Span(s) => {
                    s.on_before(now);
                    None
                }
                Entry::Wait { trigger, since } => Some((
                    *trigger,
                    WaitEvent {
                        at: now,
                        resource: r.id(),
                        kind: r.kind(),
                        waited: now.saturating_duration_since(*since),
                    },
                )),
            })
            .flatten();
        if let Some((trigger, event)) = wait {
            self.shared.table.with(trigger, |e| {
                if let Entry::Span(s) = e {
                    s.push_event(event, self.max_events);
                }
            });
        }
    }

    fn after(&self, r: &Resource<'_>) {
        let now = Instant::now();
        self.shared.table.with(r.id(), |e| match e {
            Entry::Span(s) => s.on_after(now),
            Entry::Wait { since, .. } => *since = now,
        });
    }

    fn resolve(&self, r: &Resource<'_>) {
        let now = Instant::now();
        self.shared.table.with(r.id(), |e| {
            if let Entry::Span(s) = e {
                s.resolved.get_or_insert(now);
            }
        });
    }

    fn destroy(&self, r: &Resource<'_>) {
        let now = Instant::now();
        if let Some(Entry::Span(mut s)) = self.shared.table.remove(r.id()) {
            s.end = Some(now);
            match self.tx.try_send(Msg::Span(s)) {
                Ok(()) => Counters::add(&self.counters.queued, 1),
                Err(_) => Counters::add(&self.counters.dropped, 1),
            }
        }
    }

    fn wake(&self, r: &Resource<'_>, _by: AsyncId) {
        let now = Instant::now();
        self.shared.table.with(r.id(), |e| {
            if let Entry::Span(s) = e {
                s.on_wake(now);
            }
        });
    }
}

/// Calls [`OtelExporter::shutdown`] when dropped. Declare it *before* the runtime, so
/// the runtime is dropped first (its shutdown finishes the last spans), then this:
///
/// ```no_run
/// # use std::sync::Arc;
/// # use hookrt_observe::otel::OtelExporter;
/// let otel = Arc::new(OtelExporter::builder().build().unwrap());
/// let _flush = otel.flush_on_drop();
/// let rt = hookrt::runtime::Builder::new_multi_thread()
///     .hook(otel.clone())
///     .enable_all()
///     .build()
///     .unwrap();
/// rt.block_on(async { /* serve */ });
/// // `rt` drops, then `_flush` sends the rest.
/// ```
#[derive(Debug)]
pub struct FlushOnDrop(Arc<OtelExporter>);

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}
