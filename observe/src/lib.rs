//! Ready-made observability tools for hookrt, built only on the public hooks and
//! context API (`hookrt::hooks`, `hookrt::context`).
//!
//! Every tool is a [`Hook`](hookrt::hooks::Hook) registered when the runtime is built;
//! keep an `Arc` to read what it gathered. Hooks compose: register several, or wrap one
//! in a [`Sampler`]. All of them take events from every thread at once without a
//! global lock (per-resource state lives in the resource itself, through
//! [`Resource::set_data`](hookrt::hooks::Resource::set_data); the rest is kept per
//! thread or striped), never panic on an
//! id they do not know, and cost nothing for the events they do not use.
//!
//! ```no_run
//! use hookrt_observe::{FlowRecorder, LeakDetector, SamplePolicy, Sampler, TaskStats};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let leaks = Arc::new(LeakDetector::new());
//! let stats = Arc::new(TaskStats::new());
//! let flow = Arc::new(FlowRecorder::new());
//! let rt = hookrt::runtime::Builder::new_multi_thread()
//!     .hook(leaks.clone())
//!     .hook(stats.clone())
//!     .hook(Sampler::new(flow.clone(), SamplePolicy::Probability(0.01)))
//!     .enable_all()
//!     .build()
//!     .unwrap();
//! rt.block_on(async { /* serve */ });
//! println!("{}", leaks.report(Duration::from_secs(60)));
//! for site in stats.sites().iter().take(5) {
//!     println!("{site}");
//! }
//! std::fs::write("trace.json", flow.chrome_trace()).unwrap();
//! ```
//!
//! # The tools
//!
//! - [`LeakDetector`]: the table of live resources (id, kind, name, creating location,
//!   age, trigger chain). [`report`](LeakDetector::report) groups the ones older than
//!   a threshold by creating location; [`outlived`](LeakDetector::outlived) lists what
//!   a finished request left behind (the forgotten timer, listener or task).
//!
//!   ```no_run
//!   # let leaks = hookrt_observe::LeakDetector::new();
//!   # let request = hookrt::hooks::AsyncId::ROOT;
//!   for r in leaks.outlived(request) {
//!       eprintln!("left behind: {r}"); // "Timer #812 at src/cache.rs:40:13, age 2.001s, chain <- 790 <- 2"
//!   }
//!   ```
//!
//! - [`TaskStats`]: tokio-metrics' measures taken at the source — polls, busy time,
//!   scheduled delay (wake → poll), idle time, first-poll delay, slow polls — per
//!   resource ([`resource`](TaskStats::resource)) and per creating site with latency
//!   histograms ([`sites`](TaskStats::sites), [`LatencyHistogram`]).
//!
//! - [`FlowRecorder`]: a bounded ring of events, exported as a Chrome trace (one track
//!   per thread, slices per poll, spawn and wake arrows; open it in Perfetto) or as the
//!   Graphviz tree of one request ([`dot`](FlowRecorder::dot)).
//!
//!   ```no_run
//!   # let flow = hookrt_observe::FlowRecorder::new();
//!   # let request = hookrt::hooks::AsyncId::ROOT;
//!   std::fs::write("request.dot", flow.dot(Some(request))).unwrap();
//!   // dot -Tsvg request.dot > request.svg
//!   ```
//!
//! - [`Sampler`]: forwards to any hook only the events of sampled request trees; the
//!   decision is taken once per root ([`SamplePolicy`], or explicitly through the
//!   [`SAMPLED`] storage) and inherited by every descendant.
//!
//! - Log correlation: [`Correlation`] names the values to add (`async_id`,
//!   `trigger_id`, chosen `LocalStorage`s such as a request id); [`CorrelationLayer`]
//!   and [`CorrelatedJson`] add them to `tracing` spans and JSON lines,
//!   [`CorrelatedLogger`] to `log` records.
//!
//!   ```no_run
//!   use hookrt::context::LocalStorage;
//!   use hookrt_observe::{CorrelatedJson, Correlation, CorrelationLayer};
//!   use tracing_subscriber::layer::SubscriberExt;
//!
//!   static REQUEST_ID: LocalStorage<u64> = LocalStorage::new();
//!   let c = Correlation::new().with_storage("request_id", &REQUEST_ID);
//!   tracing::subscriber::set_global_default(
//!       tracing_subscriber::registry()
//!           .with(CorrelationLayer::new(c.clone()))
//!           .with(tracing_subscriber::fmt::layer().event_format(CorrelatedJson::new(c))),
//!   )
//!   .unwrap();
//!   ```
//!
//! - [`timed`]: runs one async function as a `Custom` resource, so its busy and wall
//!   time show in [`TaskStats`] and the flow graph next to the tasks.
//!
//!   ```no_run
//!   # async fn query() -> u32 { 1 }
//!   # async fn demo() {
//!   let rows = hookrt_observe::timed("db.query", query()).await;
//!   # }
//!   ```
//!
//! - [`trace_context`]: W3C Trace Context (`traceparent`, `tracestate`) so a trace
//!   crosses services: strict parsing, [`TRACE_CONTEXT`](trace_context::TRACE_CONTEXT)
//!   as async context, and [`inject`](trace_context::inject) /
//!   [`extract`](trace_context::extract) for `http::HeaderMap` (a malformed incoming
//!   header starts a new trace and is counted, never an error).
//!
//! - `otel` (feature `otel`): `otel::OtelExporter` sends sampled
//!   request trees to an OpenTelemetry collector (Jaeger, Tempo, the Collector) over
//!   OTLP/HTTP, a span per task parented by trigger ids, with the hooks' timings;
//!   `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318` points it at one.

mod clock;
mod correlation;
mod flow;
mod id_cache;
mod leaks;
mod live_set;
mod log_bridge;
mod log_layer;
#[cfg(feature = "otel")]
pub mod otel;
mod sampler;
mod shard;
mod site;
mod stats;
mod timed;
pub mod trace_context;

pub use correlation::{Correlation, CorrelationFields};
pub use flow::{FlowEvent, FlowKind, FlowRecorder, DEFAULT_CAPACITY};
pub use leaks::{LeakDetector, LeakGroup, LeakReport, LiveResource, MAX_CHAIN};
pub use log_bridge::CorrelatedLogger;
pub use log_layer::{CorrelatedJson, CorrelationLayer};
pub use sampler::{SamplePolicy, Sampled, Sampler, SAMPLED};
pub use site::Site;
pub use stats::{
    LatencyHistogram, ResourceStats, SiteStats, TaskStats, DEFAULT_FINISHED, DEFAULT_SLOW_POLL,
};
pub use timed::{timed, Timed};
