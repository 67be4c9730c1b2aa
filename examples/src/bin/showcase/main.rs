//! The showcase: an HTTP shop on hookrt + hyper, traced end to end by hookrt-observe.
//!
//! Two local services on loopback: `shop` (the front end) and `inventory` (which `shop`
//! calls). A load generator fires 1 000 requests over 64 keep-alive connections; each
//! request runs as its own task with its id in a `LocalStorage` (taken from the
//! `x-request-id` header, and passed on to `inventory` the same way), and does a timed
//! database query, a cache lookup through a channel, a call to `inventory` under a
//! timeout, a pricing job on the blocking pool and an audit child task. One request
//! forgets a timer.
//!
//! Registered hooks: `LeakDetector`, `TaskStats`, `FlowRecorder`; `tracing` logs go
//! through `CorrelationLayer` and the `CorrelatedJson` format. At the end it prints the
//! correlated logs of the slowest request, the latency breakdown of the 5 slowest, the
//! busiest creation sites and the leak report, and writes `trace.json` (open it in
//! <https://ui.perfetto.dev>), `graph.dot` (the async tree of the slowest request) and
//! `logs.jsonl` into `--out DIR` (default: `showcase-out/` next to the executable, that
//! is `target/debug/showcase-out/`). With `--otlp` it also exports every request tree as
//! OpenTelemetry spans over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (default
//! `http://localhost:4318`, e.g. a local Jaeger or OpenTelemetry Collector).
//!
//! Run it with `cargo run -p hookrt-examples --bin showcase`.

mod client;
mod report;
mod server;

use hookrt::context::LocalStorage;
use hookrt_examples::http;
use hookrt_observe::otel::OtelExporter;
use hookrt_observe::{
    CorrelatedJson, Correlation, CorrelationLayer, FlowRecorder, LeakDetector, TaskStats,
    DEFAULT_SLOW_POLL,
};
use server::{RequestRecord, Shop};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The id of the request being served, set around each request's task.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestId(pub(crate) u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The current request, for log lines and for `inventory`'s header.
pub(crate) static REQUEST_ID: LocalStorage<RequestId> = LocalStorage::named("request_id");

/// Where the JSON log lines go: memory, read back for the report.
#[derive(Clone, Default)]
pub(crate) struct LogSink(Arc<Mutex<Vec<u8>>>);

impl LogSink {
    /// Every line written so far.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = LogSink;
    fn make_writer(&'a self) -> LogSink {
        self.clone()
    }
}

/// What the run produced, for the report.
pub(crate) struct Run {
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    pub(crate) records: Vec<RequestRecord>,
    pub(crate) elapsed: Duration,
}

/// The hooks and outputs the report reads.
pub(crate) struct Tools {
    pub(crate) leaks: Arc<LeakDetector>,
    pub(crate) stats: Arc<TaskStats>,
    pub(crate) flow: Arc<FlowRecorder>,
    pub(crate) logs: LogSink,
    pub(crate) out: PathBuf,
}

/// Starts both services, runs the load, stops everything but the forgotten timer.
async fn serve_and_load() -> Result<Run, http::Error> {
    let start = Instant::now();
    let (inventory_addr, inventory_accept) =
        http::spawn_server("inventory-accept", 64, server::inventory).await?;
    let (shop, cache) = Shop::start(inventory_addr, 10 * client::REQUESTS as usize).await?;
    let handler = shop.clone();
    let (shop_addr, shop_accept) =
        http::spawn_server("shop-accept", 256, move |req| handler.clone().handle(req)).await?;

    let load = client::run(shop_addr).await?;

    shop_accept.abort();
    let _ = shop_accept.await;
    shop.stop().await;
    let _ = cache.await;
    inventory_accept.abort();
    let _ = inventory_accept.await;
    let records = shop.records.lock().map(|r| r.clone()).unwrap_or_default();
    Ok(Run {
        ok: load.ok,
        failed: load.failed,
        records,
        elapsed: start.elapsed(),
    })
}

/// `--otlp`: export the request trees over OTLP/HTTP (to `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// default `http://localhost:4318`), e.g. to a local Jaeger.
fn otlp_requested() -> bool {
    std::env::args().skip(1).any(|a| a == "--otlp")
}

/// `--out DIR`, or `showcase-out/` next to the executable.
fn out_dir() -> PathBuf {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            if let Some(dir) = args.next() {
                return PathBuf::from(dir);
            }
        }
    }
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("showcase-out")
}

fn main() -> ExitCode {
    let logs = LogSink::default();
    let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
    let subscriber = tracing_subscriber::registry()
        .with(CorrelationLayer::new(correlation.clone()))
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(CorrelatedJson::new(correlation))
                .with_writer(logs.clone()),
        );
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("a tracing subscriber is already installed");
        return ExitCode::FAILURE;
    }

    let tools = Tools {
        leaks: Arc::new(LeakDetector::new()),
        // Remember every finished resource of the run, for the per-request breakdown.
        // The memory is split evenly over 64 per-thread slots and only a few threads
        // fill theirs, so ask for far more than the ~12 000 resources of a run (it is
        // allocated as used).
        stats: Arc::new(TaskStats::with_settings(DEFAULT_SLOW_POLL, 2_000_000)),
        flow: Arc::new(FlowRecorder::with_capacity(400_000)),
        logs,
        out: out_dir(),
    };
    let otel = if otlp_requested() {
        match OtelExporter::builder()
            .service_name("hookrt-showcase")
            .build()
        {
            Ok(exporter) => Some(Arc::new(exporter)),
            Err(e) => {
                eprintln!("--otlp: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let mut builder = hookrt::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(2)
        .hook(tools.leaks.clone())
        .hook(tools.stats.clone())
        .hook(tools.flow.clone())
        .enable_all();
    if let Some(otel) = &otel {
        builder.hook(otel.clone());
    }
    let rt = builder.build();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "hookrt showcase: {} requests to a traced HTTP shop ...",
        client::REQUESTS
    );
    let run = match rt.block_on(serve_and_load()) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("showcase failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The runtime is still up: the forgotten timer is alive, waiting to be found.
    let ok = report::print(&run, &tools);
    drop(rt);
    if let Some(otel) = otel {
        // Every request span is complete once the runtime is down: send them all.
        let flushed = otel.shutdown();
        println!(
            "OTLP export: {} spans exported, {} dropped, {} failed{}",
            otel.exported_spans(),
            otel.dropped_spans(),
            otel.failed_spans(),
            if flushed { "" } else { " (flush timed out)" }
        );
        if let Some(error) = otel.last_export_error() {
            println!("  last export error: {error}");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
