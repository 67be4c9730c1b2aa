//! W3C Trace Context: the `traceparent` and `tracestate` headers that carry a
//! distributed trace from one service to the next, and the current trace of a
//! request as async context.
//!
//! # Design
//!
//! - [`TraceContext`] is one position in a trace: [`TraceId`], the caller's
//!   [`SpanId`], [`TraceFlags`] and [`TraceState`]. It is parsed strictly
//!   ([`TraceContext::parse`], level 1 and 2 of the spec: exact lengths, lowercase
//!   hex, version `ff` and all-zero ids invalid, later versions read by the
//!   forward-compatibility rule) and always sent as version `00`.
//! - [`TRACE_CONTEXT`] is a [`LocalStorage`](hookrt::context::LocalStorage): the trace
//!   follows the request into every task it spawns, with nothing passed down.
//! - [`extract`] never fails: no header starts a new trace, a malformed one starts a
//!   new trace and is counted ([`malformed_count`]); the client never sees an error.
//!   An invalid `tracestate` is dropped without losing the trace.
//!   [`inject`] writes the current trace into an outgoing request.
//! - Parsing works on bytes and never panics, whatever the header holds (a property
//!   test feeds it arbitrary bytes).
//! - Ids come from a per-thread generator seeded from std's randomly keyed hasher
//!   (no new dependency); they are unique, not secret.
//!
//! **Architecture Invariant:** this module knows nothing about span recording or
//! export. An exporter reads [`current`] and makes its own span ids, with the
//! context's `span_id` as the parent of a server span.
//!
//! # Example: a service that is called and calls on
//!
//! ```
//! use hookrt_observe::trace_context::{self, extract, inject, Extracted, TRACE_CONTEXT};
//!
//! async fn call_backend() -> http::HeaderMap {
//!     let mut outgoing = http::HeaderMap::new();
//!     inject(&mut outgoing); // traceparent (+ tracestate) of the current trace
//!     outgoing
//! }
//!
//! # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert(
//!     "traceparent",
//!     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse().unwrap(),
//! );
//! incoming.insert("tracestate", "congo=t61rcWkgMzE".parse().unwrap());
//!
//! // Server: continue the caller's trace for everything the handler does.
//! let parent = extract(&incoming);
//! assert!(matches!(parent, Extracted::Continued(_)));
//! let outgoing = TRACE_CONTEXT
//!     .run(parent.context().clone(), async { hookrt::spawn(call_backend()).await.unwrap() })
//!     .await;
//! assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
//! assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE");
//!
//! // A malformed header is a new trace, never an error.
//! incoming.insert("traceparent", "00-not-a-trace".parse().unwrap());
//! let before = trace_context::malformed_count();
//! assert!(extract(&incoming).is_malformed());
//! assert!(trace_context::malformed_count() > before);
//! # });
//! ```

mod context;
mod error;
mod ids;
mod propagate;
mod random;
mod state;

pub use context::TraceContext;
pub use error::ParseError;
pub use ids::{SpanId, TraceFlags, TraceId};
pub use propagate::{
    current, dropped_tracestate_count, extract, extract_with, inject, inject_context,
    malformed_count, Extracted, TRACEPARENT, TRACESTATE, TRACE_CONTEXT,
};
pub use state::TraceState;
