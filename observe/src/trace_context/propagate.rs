//! The current trace ([`TRACE_CONTEXT`]) and its propagation through HTTP headers
//! ([`inject`], [`extract`]).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use hookrt::context::LocalStorage;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::context::parse_traceparent;
use super::{TraceContext, TraceState};

/// The `traceparent` header name.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `tracestate` header name.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The trace of the request being handled. Set it around a request's future with
/// `TRACE_CONTEXT.run(ctx, future)`: like every `LocalStorage`, it is inherited by
/// every task, blocking call and timer that the request spawns, however deep.
///
/// ```
/// use hookrt_observe::trace_context::{self, TraceContext, TRACE_CONTEXT};
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = TraceContext::new_root(true);
/// let seen = TRACE_CONTEXT
///     .run(ctx.clone(), async { hookrt::spawn(async { trace_context::current() }).await })
///     .await
///     .unwrap();
/// assert_eq!(seen, Some(ctx));
/// # });
/// ```
pub static TRACE_CONTEXT: LocalStorage<TraceContext> = LocalStorage::named("trace_context");

/// Extractions that found a malformed `traceparent` (see [`malformed_count`]).
static MALFORMED: AtomicU64 = AtomicU64::new(0);
/// Extractions that continued a trace but dropped an invalid `tracestate`.
static DROPPED_TRACESTATE: AtomicU64 = AtomicU64::new(0);

/// The current trace ([`TRACE_CONTEXT`]), cloned; `None` outside any.
pub fn current() -> Option<TraceContext> {
    TRACE_CONTEXT.with(|ctx| ctx.cloned())
}

/// Writes the current trace into outgoing request headers: `traceparent`, and
/// `tracestate` when it has entries. Does nothing outside a trace.
///
/// The current context is sent as it is, so the callee sees the current span as its
/// parent; to give the call its own span, run it inside
/// `TRACE_CONTEXT.run(ctx.child(), ...)` (an exporter does this when it records
/// client spans).
pub fn inject(headers: &mut HeaderMap) {
    TRACE_CONTEXT.with(|ctx| {
        if let Some(ctx) = ctx {
            inject_context(ctx, headers);
        }
    });
}

/// Writes `ctx` into request headers, replacing any `traceparent` and `tracestate`
/// already there (a stale `tracestate` is removed when `ctx` has none).
///
/// ```
/// use hookrt_observe::trace_context::{extract, inject_context, TraceContext};
///
/// let ctx = TraceContext::new_root(true);
/// let mut headers = http::HeaderMap::new();
/// inject_context(&ctx, &mut headers);
/// assert_eq!(extract(&headers).into_context(), ctx);
/// ```
pub fn inject_context(ctx: &TraceContext, headers: &mut HeaderMap) {
    // Both values are printable ASCII by construction, so conversion cannot fail.
    if let Ok(value) = HeaderValue::try_from(ctx.traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    match ctx.tracestate().map(HeaderValue::try_from) {
        Some(Ok(value)) => {
            headers.insert(TRACESTATE, value);
        }
        _ => {
            headers.remove(TRACESTATE);
        }
    }
}

/// What [`extract`] found in a request's headers. Every case holds a usable context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// A valid `traceparent`: the caller's trace, continued (its span is the parent).
    Continued(TraceContext),
    /// No `traceparent`: a new root trace.
    New(TraceContext),
    /// A malformed `traceparent` (or several of them): a new root trace, counted in
    /// [`malformed_count`]. Never an error to the client.
    Malformed(TraceContext),
}

impl Extracted {
    /// The context to run the request in.
    pub fn context(&self) -> &TraceContext {
        match self {
            Extracted::Continued(ctx) | Extracted::New(ctx) | Extracted::Malformed(ctx) => ctx,
        }
    }

    /// The context to run the request in, by value.
    pub fn into_context(self) -> TraceContext {
        match self {
            Extracted::Continued(ctx) | Extracted::New(ctx) | Extracted::Malformed(ctx) => ctx,
        }
    }

    /// Whether the caller's trace is continued.
    pub fn is_continued(&self) -> bool {
        matches!(self, Extracted::Continued(_))
    }

    /// Whether the `traceparent` was malformed.
    pub fn is_malformed(&self) -> bool {
        matches!(self, Extracted::Malformed(_))
    }
}

/// Reads the trace context of an incoming request; never fails.
///
/// - one valid `traceparent`: [`Extracted::Continued`], with the `tracestate` headers
///   (joined with `,` when there are several) when they parse, else an empty state
///   (counted in [`dropped_tracestate_count`]);
/// - none: [`Extracted::New`], a root trace;
/// - an invalid one, or more than one: [`Extracted::Malformed`], a root trace, with
///   `tracestate` ignored, counted in [`malformed_count`].
///
/// New roots are sampled (so an exporter records requests that arrive without a
/// trace); use [`extract_with`] to choose. Header bytes that are not ASCII or UTF-8 are
/// simply malformed.
///
/// A server continues the caller's trace by running its handler in the result:
///
/// ```
/// use hookrt_observe::trace_context::{self, extract, TRACE_CONTEXT};
///
/// async fn handler() -> String {
///     // Deep inside the request, in any task it spawned:
///     trace_context::current().unwrap().trace_id.to_string()
/// }
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// let parent = extract(&headers);
/// let trace = TRACE_CONTEXT.run(parent.context().clone(), handler()).await;
/// assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
/// # });
/// ```
///
/// The server's own span (a child of `span_id`) is made by whoever records spans,
/// such as an exporter; the context holds the caller's span until then.
pub fn extract(headers: &HeaderMap) -> Extracted {
    extract_with(headers, true)
}

/// [`extract`], with the sampled flag of a new root trace given (for a server that
/// samples requests arriving without a trace, or one that records none).
pub fn extract_with(headers: &HeaderMap, root_sampled: bool) -> Extracted {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let Some(traceparent) = values.next() else {
        return Extracted::New(TraceContext::new_root(root_sampled));
    };
    let parsed = match values.next() {
        Some(_) => None,
        None => parse_traceparent(traceparent.as_bytes()).ok(),
    };
    let Some((trace_id, span_id, flags)) = parsed else {
        MALFORMED.fetch_add(1, Ordering::Relaxed);
        return Extracted::Malformed(TraceContext::new_root(root_sampled));
    };
    let state = match joined_tracestate(headers) {
        None => TraceState::new(),
        Some(bytes) => TraceState::parse(&bytes).unwrap_or_else(|_| {
            DROPPED_TRACESTATE.fetch_add(1, Ordering::Relaxed);
            TraceState::new()
        }),
    };
    Extracted::Continued(TraceContext {
        trace_id,
        span_id,
        flags,
        state,
    })
}

/// The `tracestate` header values joined with `,` (the HTTP rule for combining a
/// list-valued field), or `None` without any.
fn joined_tracestate(headers: &HeaderMap) -> Option<Cow<'_, [u8]>> {
    let mut values = headers.get_all(TRACESTATE).iter();
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first.as_bytes()));
    };
    let mut joined = first.as_bytes().to_vec();
    for value in std::iter::once(second).chain(values) {
        joined.push(b',');
        joined.extend_from_slice(value.as_bytes());
    }
    Some(Cow::Owned(joined))
}

/// How many extractions, process-wide, found a malformed `traceparent` and started
/// a new trace.
pub fn malformed_count() -> u64 {
    MALFORMED.load(Ordering::Relaxed)
}

/// How many extractions, process-wide, continued a trace but dropped its invalid
/// `tracestate`.
pub fn dropped_tracestate_count() -> u64 {
    DROPPED_TRACESTATE.load(Ordering::Relaxed)
}
