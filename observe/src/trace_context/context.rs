//! [`TraceContext`]: one position in a distributed trace, and the strict
//! `traceparent` parser.

use std::fmt;

use super::state::trim_ows;
use super::{random, ParseError, SpanId, TraceFlags, TraceId, TraceState};

/// Length of a version `00` `traceparent`: `2 + 1 + 32 + 1 + 16 + 1 + 2`.
const TRACEPARENT_LEN: usize = 55;
/// Byte offsets of the fields and delimiters in `traceparent`.
const TRACE_ID: std::ops::Range<usize> = 3..35;
const SPAN_ID: std::ops::Range<usize> = 36..52;
const FLAGS: std::ops::Range<usize> = 53..55;

/// Parses the fixed fields of a `traceparent` value (see [`TraceContext::parse`]).
pub(super) fn parse_traceparent(
    header: &[u8],
) -> Result<(TraceId, SpanId, TraceFlags), ParseError> {
    let header = trim_ows(header);
    if header.len() < TRACEPARENT_LEN {
        return Err(ParseError::Length {
            found: header.len(),
        });
    }
    let version = &header[..2];
    if TraceFlags::from_hex(version).is_none() || header[2] != b'-' {
        return Err(ParseError::Version);
    }
    if version == b"ff" {
        return Err(ParseError::ForbiddenVersion);
    }
    if version == b"00" && header.len() != TRACEPARENT_LEN {
        return Err(ParseError::Length {
            found: header.len(),
        });
    }
    for at in [TRACE_ID.end, SPAN_ID.end] {
        if header[at] != b'-' {
            return Err(ParseError::Delimiter { at });
        }
    }
    let trace_id = TraceId::from_hex(&header[TRACE_ID])
        .ok_or(ParseError::NotLowerHex { field: "trace-id" })?;
    let span_id =
        SpanId::from_hex(&header[SPAN_ID]).ok_or(ParseError::NotLowerHex { field: "parent-id" })?;
    let flags = TraceFlags::from_hex(&header[FLAGS]).ok_or(ParseError::NotLowerHex {
        field: "trace-flags",
    })?;
    // A later version may append fields, each after a '-'; they are not ours to read.
    if header.len() > TRACEPARENT_LEN && header[TRACEPARENT_LEN] != b'-' {
        return Err(ParseError::Delimiter {
            at: TRACEPARENT_LEN,
        });
    }
    if !trace_id.is_valid() {
        return Err(ParseError::ZeroTraceId);
    }
    if !span_id.is_valid() {
        return Err(ParseError::ZeroSpanId);
    }
    Ok((trace_id, span_id, flags))
}

/// Where a request sits in a distributed trace: the `traceparent` fields and the
/// `tracestate` list (W3C Trace Context).
///
/// `span_id` is the `parent-id` field: the span of whoever made the request. A
/// server that records its own span gives it a new id with this one as parent; a
/// client call sends its own span's id (see [`child`](TraceContext::child)).
///
/// `Clone` is cheap (ids are copied, the trace state is shared); the type is `Send`
/// and `Sync`, so it lives in [`TRACE_CONTEXT`](super::TRACE_CONTEXT) and follows the
/// request into every task it spawns.
///
/// ```
/// use hookrt_observe::trace_context::TraceContext;
///
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let ctx = TraceContext::parse(header.as_bytes(), Some(b"congo=t61rcWkgMzE")).unwrap();
/// assert!(ctx.flags.is_sampled());
/// assert_eq!(ctx.traceparent(), header);
/// assert_eq!(ctx.state.get("congo"), Some("t61rcWkgMzE"));
///
/// let call = ctx.child();
/// assert_eq!(call.trace_id, ctx.trace_id);
/// assert_ne!(call.span_id, ctx.span_id);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TraceContext {
    /// The whole trace's id; never all zeroes.
    pub trace_id: TraceId,
    /// The `parent-id` field: the caller's span; never all zeroes.
    pub span_id: SpanId,
    /// The `trace-flags` field (sampled, random).
    pub flags: TraceFlags,
    /// The `tracestate` entries; empty when absent or invalid.
    pub state: TraceState,
}

impl TraceContext {
    /// Parses `traceparent` (and `tracestate`, if given) strictly, per W3C Trace
    /// Context level 1 and 2:
    ///
    /// - the version is two lowercase hex digits and `-`; `ff` is forbidden;
    /// - version `00` is exactly 55 characters; a later version is at least 55, its
    ///   first four fields are read as `00`'s and anything after them must start with
    ///   `-` (the spec's forward-compatibility rule); it is re-sent as version `00`;
    /// - ids and flags are lowercase hex; an all-zero trace id or span id is invalid;
    /// - optional whitespace (space, tab) around the value is ignored.
    ///
    /// Any byte string is accepted as input, never a panic. A `tracestate` that fails
    /// [`TraceState::parse`] is dropped and the trace still continues, as the spec
    /// asks; it is not read at all when `traceparent` is invalid.
    pub fn parse(
        traceparent: &[u8],
        tracestate: Option<&[u8]>,
    ) -> Result<TraceContext, ParseError> {
        let (trace_id, span_id, flags) = parse_traceparent(traceparent)?;
        let state = tracestate
            .and_then(|s| TraceState::parse(s).ok())
            .unwrap_or_default();
        Ok(TraceContext {
            trace_id,
            span_id,
            flags,
            state,
        })
    }

    /// The `traceparent` header value: `00-<trace-id>-<span-id>-<flags>`.
    pub fn traceparent(&self) -> String {
        self.to_string()
    }

    /// The `tracestate` header value, or `None` when there are no entries (then no
    /// header is sent).
    pub fn tracestate(&self) -> Option<String> {
        (!self.state.is_empty()).then(|| self.state.to_string())
    }

    /// A new trace: random non-zero trace and span ids, the sampled flag as given, no
    /// trace state.
    pub fn new_root(sampled: bool) -> TraceContext {
        TraceContext {
            trace_id: random::trace_id(),
            span_id: random::span_id(),
            flags: TraceFlags::default().with_sampled(sampled),
            state: TraceState::new(),
        }
    }

    /// The same trace one span further: a new random span id, the same flags (bits
    /// the spec does not define cleared) and trace state. This is what a client sends
    /// for a call made from inside the span `self.span_id`.
    pub fn child(&self) -> TraceContext {
        TraceContext {
            trace_id: self.trace_id,
            span_id: random::span_id(),
            flags: self.flags & TraceFlags::KNOWN,
            state: self.state.clone(),
        }
    }

    /// Whether the caller sampled (may have recorded) this trace.
    pub fn is_sampled(&self) -> bool {
        self.flags.is_sampled()
    }
}

/// Writes the `traceparent` header value.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}
