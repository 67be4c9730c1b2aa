//! Log correlation: every log line of a request carries its request id and async ids,
//! through `tracing` (`CorrelationLayer` + the `CorrelatedJson` format, one JSON object
//! per line) and through the `log` facade (`CorrelatedLogger` adds key-values).
//!
//! Run it with `cargo run -p hookrt-examples --bin log_correlation`.

use hookrt::context::LocalStorage;
use hookrt::time::{sleep, Duration};
use hookrt_observe::{CorrelatedJson, CorrelatedLogger, Correlation, CorrelationLayer};
use log::kv::{Key, Value, VisitSource};
use std::process::ExitCode;
use tracing_subscriber::layer::SubscriberExt;

/// The request id every line is stamped with.
static REQUEST_ID: LocalStorage<u64> = LocalStorage::named("request_id");

/// A tiny `log` backend that prints a record and its key-values on stdout.
struct PrintLogger;

struct Pairs(String);

impl<'kvs> VisitSource<'kvs> for Pairs {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        self.0.push_str(&format!(" {key}={value}"));
        Ok(())
    }
}

impl log::Log for PrintLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let mut kv = Pairs(String::new());
        let _ = record.key_values().visit(&mut kv);
        println!("log  {:<5} {}{}", record.level(), record.args(), kv.0);
    }
    fn flush(&self) {}
}

async fn handle() {
    tracing::info!(path = "/cart", "request received");
    let child = hookrt::spawn(async {
        sleep(Duration::from_millis(2)).await;
        log::info!(items = 3; "cart loaded in a child task");
    });
    child.await.ok();
    tracing::info!(status = 200, "request done");
}

fn main() -> ExitCode {
    let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
    let subscriber = tracing_subscriber::registry()
        .with(CorrelationLayer::new(correlation.clone()))
        .with(
            tracing_subscriber::fmt::layer().event_format(CorrelatedJson::new(correlation.clone())),
        );
    if tracing::subscriber::set_global_default(subscriber).is_err()
        || log::set_boxed_logger(Box::new(CorrelatedLogger::new(PrintLogger, correlation))).is_err()
    {
        return ExitCode::FAILURE;
    }
    log::set_max_level(log::LevelFilter::Info);

    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    println!("== Three concurrent requests; group the lines by request_id");
    rt.block_on(async {
        let tasks: Vec<_> = (101..=103u64)
            .map(|id| hookrt::spawn(REQUEST_ID.run(id, handle())))
            .collect();
        for t in tasks {
            t.await.ok();
        }
    });
    ExitCode::SUCCESS
}
