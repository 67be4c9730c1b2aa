//! Log correlation: the tracing layer's JSON lines of 100 concurrent requests each carry
//! their request's id; the `log` wrapper adds the same fields.

mod support;

use hookrt::context::LocalStorage;
use hookrt_observe::{CorrelatedJson, CorrelatedLogger, Correlation, CorrelationLayer};
use serde_json::Value;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{finish, runtime, FLAVORS};
use tracing_subscriber::layer::SubscriberExt;

static REQUEST_ID: LocalStorage<u64> = LocalStorage::named("request_id");

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// One request: logs from its root task, a span, a child task and a blocking job,
/// interleaved with every other request by sleeps and yields.
async fn request(n: u64) {
    tracing::info!(n, "request start");
    let span = tracing::info_span!("handler", n);
    {
        let _e = span.enter();
        tracing::debug!("inside the handler span");
    }
    hookrt::time::sleep(Duration::from_millis(n % 7)).await;
    hookrt::spawn(async move {
        hookrt::task::yield_now().await;
        tracing::info!(n, "child task");
    })
    .await
    .unwrap();
    hookrt::task::spawn_blocking(move || tracing::info!(n, "blocking job"))
        .await
        .unwrap();
    tracing::warn!(n, "request end");
}

#[test]
fn json_lines_of_100_concurrent_requests_carry_their_request_id() {
    let buffer = Buffer::default();
    let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
    let subscriber = tracing_subscriber::registry()
        .with(CorrelationLayer::new(correlation.clone()))
        .with(
            tracing_subscriber::fmt::layer()
                .event_format(CorrelatedJson::new(correlation))
                .with_writer(buffer.clone()),
        );
    // Global: events come from worker and blocking-pool threads.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for &flavor in FLAVORS {
        buffer.0.lock().unwrap().clear();
        let (rt, ledger) = runtime(flavor, vec![]);
        rt.block_on(async {
            let mut joins = Vec::new();
            for n in 0..100u64 {
                // The request id is set around the spawn, so the task carries it.
                joins.push(REQUEST_ID.run_sync(n, || hookrt::spawn(request(n))));
            }
            for j in joins {
                j.await.unwrap();
            }
            tracing::info!("outside any request");
        });
        finish(rt, &ledger);

        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        // 5 lines per request, and one outside.
        assert_eq!(lines.len(), 501, "{flavor:?}");
        let mut per_request = [0usize; 100];
        for line in &lines {
            assert!(line["async_id"].as_u64().is_some(), "{line}");
            assert!(line["trigger_id"].as_u64().is_some(), "{line}");
            let msg = line["fields"]["message"].as_str().unwrap();
            if msg == "outside any request" {
                assert!(line.get("request_id").is_none(), "{line}");
                continue;
            }
            // Each line's own `n` field says which request logged it.
            let n = match line["fields"]["n"].as_u64() {
                Some(n) => n,
                None => line["spans"][0]["request_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
            };
            assert_eq!(line["request_id"], n.to_string(), "{flavor:?}: {line}");
            per_request[n as usize] += 1;
            if msg == "inside the handler span" {
                assert_eq!(line["spans"][0]["name"], "handler");
                assert_eq!(line["spans"][0]["request_id"], n.to_string());
                assert_eq!(line["spans"][0]["async_id"], line["async_id"]);
            }
            if msg == "child task" {
                assert_ne!(line["async_id"], line["trigger_id"]);
            }
        }
        assert!(per_request.iter().all(|&c| c == 5), "{per_request:?}");
    }
}

/// A record as captured: its message and key-values.
type CapturedRecord = (String, Vec<(String, String)>);

/// A logger that keeps each record's message and key-values.
#[derive(Default)]
struct Captured(Mutex<Vec<CapturedRecord>>);

impl log::Log for Captured {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        struct Collect(Vec<(String, String)>);
        impl<'kvs> log::kv::VisitSource<'kvs> for Collect {
            fn visit_pair(
                &mut self,
                k: log::kv::Key<'kvs>,
                v: log::kv::Value<'kvs>,
            ) -> Result<(), log::kv::Error> {
                self.0.push((k.to_string(), v.to_string()));
                Ok(())
            }
        }
        let mut c = Collect(Vec::new());
        record.key_values().visit(&mut c).unwrap();
        self.0
            .lock()
            .unwrap()
            .push((record.args().to_string(), c.0));
    }
    fn flush(&self) {}
}

#[test]
fn log_records_get_the_correlation_fields() {
    use log::Log;
    let correlation = Correlation::new().with_storage("request_id", &REQUEST_ID);
    let logger = Arc::new(CorrelatedLogger::new(Captured::default(), correlation));
    let (rt, ledger) = runtime(FLAVORS[1], vec![]);
    let l = logger.clone();
    let ids = rt.block_on(async move {
        let mut joins = Vec::new();
        for n in 0..20u64 {
            let l = l.clone();
            joins.push(REQUEST_ID.run_sync(n, || {
                hookrt::spawn(async move {
                    hookrt::task::yield_now().await;
                    let kvs = [("user", "ada")];
                    l.log(
                        &log::Record::builder()
                            .args(format_args!("request {n}"))
                            .level(log::Level::Info)
                            .key_values(&kvs)
                            .build(),
                    );
                    hookrt::hooks::execution_async_id()
                })
            }));
        }
        let mut ids = Vec::new();
        for j in joins {
            ids.push(j.await.unwrap());
        }
        ids
    });
    finish(rt, &ledger);
    let records = logger.inner().0.lock().unwrap().clone();
    assert_eq!(records.len(), 20);
    for (msg, kvs) in records {
        let n: usize = msg.strip_prefix("request ").unwrap().parse().unwrap();
        let get = |k: &str| kvs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("user").as_deref(),
            Some("ada"),
            "the record's own pairs stay"
        );
        assert_eq!(get("request_id"), Some(n.to_string()));
        assert_eq!(get("async_id"), Some(ids[n].to_string()));
        assert!(get("trigger_id").is_some());
    }
}
