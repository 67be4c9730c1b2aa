//! What the exporter keeps per live resource, and the conversion of a finished span
//! to the SDK's [`SpanData`] (done on the exporter thread, never in a hook).

use crate::trace_context::{SpanId, TraceContext};
use hookrt::hooks::{AsyncId, ResourceKind};
use opentelemetry::trace::{
    Event, SpanContext, SpanKind, Status, TraceFlags as OtelFlags, TraceState as OtelState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::borrow::Cow;
use std::panic::Location;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What the exporter tracks for one live id.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A task, blocking job or custom resource of a sampled tree: one span.
    Span(Box<SpanRecord>),
    /// A timer or socket created by a task of a sampled tree: its readiness becomes an
    /// event on that task's span.
    Wait {
        /// The creating task (whose span gets the events).
        trigger: AsyncId,
        /// When the current wait started: creation, then the end of the last dispatch.
        since: Instant,
    },
}

/// Where a span's parent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parent {
    /// A span of this process (the triggering task's).
    Local(SpanId),
    /// The caller's span, from an incoming `traceparent`.
    Remote(SpanId),
    /// None: this span starts the trace.
    None,
}

/// One span under construction: identity, the hook timings so far, and the events.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    /// The trace this span belongs to (ids, flags, trace state), shared by the tree.
    pub(crate) trace: Arc<TraceContext>,
    /// This span's id.
    pub(crate) span_id: SpanId,
    /// Its parent.
    pub(crate) parent: Parent,
    /// The async id of the resource.
    pub(crate) id: AsyncId,
    /// Its trigger id.
    pub(crate) trigger: AsyncId,
    /// Its kind.
    pub(crate) kind: ResourceKind,
    /// Its name, if it was given one.
    pub(crate) name: Option<Box<str>>,
    /// Where it was created.
    pub(crate) location: Option<&'static Location<'static>>,
    /// The request id, when a storage was configured and set.
    pub(crate) request_id: Option<Arc<str>>,
    /// `init`.
    pub(crate) start: Instant,
    /// `resolve`, if seen.
    pub(crate) resolved: Option<Instant>,
    /// `destroy` (set when the span is finished).
    pub(crate) end: Option<Instant>,
    /// Pending wake (first `wake` since the last `before`).
    pub(crate) woken: Option<Instant>,
    /// Start of the running poll.
    pub(crate) polling: Option<Instant>,
    /// End of the last poll, while not woken since.
    pub(crate) idle_since: Option<Instant>,
    /// Polls so far.
    pub(crate) polls: u64,
    /// Sum of before → after.
    pub(crate) busy: Duration,
    /// Sum of wake → before, plus init → first before.
    pub(crate) scheduled: Duration,
    /// Sum of after → next wake.
    pub(crate) idle: Duration,
    /// Timer and socket waits, at most the configured number.
    pub(crate) events: Vec<WaitEvent>,
    /// Waits beyond that number.
    pub(crate) dropped_events: u32,
}

/// A timer firing or a socket becoming ready, seen on its creating task's span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitEvent {
    /// When the timer fired or the socket's readiness was dispatched.
    pub(crate) at: Instant,
    /// The timer or socket.
    pub(crate) resource: AsyncId,
    /// Its kind.
    pub(crate) kind: ResourceKind,
    /// Since its creation or previous dispatch.
    pub(crate) waited: Duration,
}

impl SpanRecord {
    /// A record opened at `init` time `start`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        trace: Arc<TraceContext>,
        span_id: SpanId,
        parent: Parent,
        id: AsyncId,
        trigger: AsyncId,
        kind: ResourceKind,
        name: Option<&str>,
        location: Option<&'static Location<'static>>,
        request_id: Option<Arc<str>>,
        start: Instant,
    ) -> SpanRecord {
        SpanRecord {
            trace,
            span_id,
            parent,
            id,
            trigger,
            kind,
            name: name.map(Box::from),
            location,
            request_id,
            start,
            resolved: None,
            end: None,
            woken: None,
            polling: None,
            idle_since: None,
            polls: 0,
            busy: Duration::ZERO,
            scheduled: Duration::ZERO,
            idle: Duration::ZERO,
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    /// `wake`: the first wake since the last poll starts the scheduled interval and
    /// ends an idle one.
    pub(crate) fn on_wake(&mut self, now: Instant) {
        if self.woken.is_none() {
            self.woken = Some(now);
        }
        if let Some(since) = self.idle_since.take() {
            self.idle += now.saturating_duration_since(since);
        }
    }

    /// `before`.
    pub(crate) fn on_before(&mut self, now: Instant) {
        let ready_since = match self.woken.take() {
            Some(w) => Some(w),
            None if self.polls == 0 => Some(self.start),
            None => None,
        };
        if let Some(since) = ready_since {
            self.scheduled += now.saturating_duration_since(since);
        }
        // Resources that are not woken (custom ones entered directly) go from idle to
        // running without a wake: the gap counts as idle.
        if let Some(since) = self.idle_since.take() {
            self.idle += now.saturating_duration_since(since);
        }
        self.polls += 1;
        self.polling = Some(now);
    }

    /// `after`.
    pub(crate) fn on_after(&mut self, now: Instant) {
        if let Some(start) = self.polling.take() {
            self.busy += now.saturating_duration_since(start);
        }
        self.idle_since = Some(now);
    }

    /// Adds a wait event, or counts it when `max` are kept already.
    pub(crate) fn push_event(&mut self, event: WaitEvent, max: usize) {
        if self.events.len() < max {
            self.events.push(event);
        } else {
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }
}

/// Maps the hooks' `Instant`s to wall-clock time: one pair taken when the exporter is
/// built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    wall: SystemTime,
    mono: Instant,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        Clock {
            wall: SystemTime::now(),
            mono: Instant::now(),
        }
    }

    pub(crate) fn wall(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.mono) {
            Some(after) => self.wall + after,
            None => self.wall - self.mono.duration_since(at),
        }
    }
}

/// Saturating nanoseconds as an OTLP integer attribute.
fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// An async id as an OTLP integer attribute.
fn id_attr(id: AsyncId) -> i64 {
    i64::try_from(id.as_u64()).unwrap_or(i64::MAX)
}

/// The `opentelemetry` span id of one of ours.
pub(crate) fn otel_span_id(id: SpanId) -> opentelemetry::SpanId {
    opentelemetry::SpanId::from_bytes(id.to_bytes())
}

/// Builds the SDK's span from a finished record.
pub(crate) fn to_span_data(
    r: &SpanRecord,
    clock: &Clock,
    scope: &InstrumentationScope,
) -> SpanData {
    let end = r.resolved.or(r.end).unwrap_or(r.start);
    let trace_state = if r.trace.state.is_empty() {
        OtelState::default()
    } else {
        OtelState::from_str(&r.trace.state.to_string()).unwrap_or_default()
    };
    let span_context = SpanContext::new(
        opentelemetry::TraceId::from_bytes(r.trace.trace_id.to_bytes()),
        otel_span_id(r.span_id),
        OtelFlags::SAMPLED,
        false,
        trace_state,
    );
    let (parent_span_id, parent_span_is_remote) = match r.parent {
        Parent::Local(p) => (otel_span_id(p), false),
        Parent::Remote(p) => (otel_span_id(p), true),
        Parent::None => (opentelemetry::SpanId::INVALID, false),
    };
    let span_kind = match r.parent {
        Parent::Local(_) => SpanKind::Internal,
        Parent::Remote(_) | Parent::None => SpanKind::Server,
    };
    let name: Cow<'static, str> = match &r.name {
        Some(n) => Cow::Owned(n.to_string()),
        None => Cow::Borrowed(r.kind.as_str()),
    };

    let mut attributes = Vec::with_capacity(12);
    attributes.push(KeyValue::new("async.id", id_attr(r.id)));
    attributes.push(KeyValue::new("async.trigger_id", id_attr(r.trigger)));
    attributes.push(KeyValue::new("async.kind", r.kind.as_str()));
    if let Some(loc) = r.location {
        attributes.push(KeyValue::new("code.filepath", loc.file()));
        attributes.push(KeyValue::new("code.lineno", i64::from(loc.line())));
        attributes.push(KeyValue::new("code.column", i64::from(loc.column())));
    }
    attributes.push(KeyValue::new("hookrt.polls", r.polls as i64));
    attributes.push(KeyValue::new("hookrt.busy_ns", nanos(r.busy)));
    attributes.push(KeyValue::new("hookrt.scheduled_ns", nanos(r.scheduled)));
    attributes.push(KeyValue::new("hookrt.idle_ns", nanos(r.idle)));
    if let Some(rid) = &r.request_id {
        attributes.push(KeyValue::new("request.id", rid.to_string()));
    }

    let mut events = SpanEvents::default();
    events.events = r
        .events
        .iter()
        .map(|e| {
            let name = if e.kind == ResourceKind::Timer {
                "timer.fired"
            } else {
                "io.ready"
            };
            Event::new(
                name,
                clock.wall(e.at),
                vec![
                    KeyValue::new("async.id", id_attr(e.resource)),
                    KeyValue::new("async.kind", e.kind.as_str()),
                    KeyValue::new("hookrt.wait_ns", nanos(e.waited)),
                ],
                0,
            )
        })
        .collect();
    events.dropped_count = r.dropped_events;

    SpanData {
        span_context,
        parent_span_id,
        parent_span_is_remote,
        span_kind,
        name,
        start_time: clock.wall(r.start),
        end_time: clock.wall(end),
        attributes,
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: scope.clone(),
    }
}
