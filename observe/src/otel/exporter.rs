//! [`OtelExporter`]: the hook that turns sampled request trees into OpenTelemetry spans,
//! and its builder.

use super::spans::{Entry, Parent, SpanRecord, WaitEvent};
use super::worker::{Counters, Msg};
use super::{HELPERS_FILE, ROOT_MARK};
use crate::shard::{lock, ById};
use crate::trace_context::{inject_context, SpanId, TraceContext, TRACE_CONTEXT};
use hookrt::context::Context;
use hookrt::hooks::{execution_async_id, AsyncId, Hook, Resource, ResourceKind};
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Reads a request id out of a resource's context.
pub(crate) type RequestIdFn = dyn Fn(&Context) -> Option<Arc<str>> + Send + Sync;

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
    /// Wraps a started exporter thread: the id table, registered for
    /// [`current_span_context`](super::current_span_context).
    pub(crate) fn start(
        tx: SyncSender<Msg>,
        counters: Arc<Counters>,
        max_events: usize,
        request_id: Option<Box<RequestIdFn>>,
        thread: JoinHandle<()>,
    ) -> OtelExporter {
        let shared = Arc::new(Shared {
            table: ById::new(),
            key: RandomState::new().hash_one(0x686f_6f6b_7274_u64),
        });
        register(&shared);
        OtelExporter {
            shared,
            tx,
            counters,
            max_events,
            request_id,
            thread: Mutex::new(Some(thread)),
            shut_down: AtomicBool::new(false),
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
