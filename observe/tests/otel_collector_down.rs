//! A collector that is down (closed port) or slow (accepts, never answers) never slows
//! request handling: the latency of requests through A -> B stays within noise of the
//! same services without an exporter, and the exporter counts what it could not send.
#![cfg(feature = "otel")]

#[path = "support/otel.rs"]
mod otel_support;
mod support;

use hookrt_observe::otel::OtelExporter;
use hookrt_observe::trace_context::TraceContext;
use otel_support::{run_client, Role, Service};
use std::sync::Arc;
use std::time::Duration;

/// Requests measured per configuration (after `WARMUP` unmeasured ones).
const REQUESTS: usize = 100;
const WARMUP: usize = 20;

/// Mean latency of `REQUESTS` traced requests through A -> B, each service with the
/// given exporter (or none).
fn mean_latency(a_otel: Option<Arc<OtelExporter>>, b_otel: Option<Arc<OtelExporter>>) -> Duration {
    let b = Service::start(Role::Back, b_otel);
    let a = Service::start(Role::Front(b.addr), a_otel);
    let headers = (0..WARMUP + REQUESTS)
        .map(|_| Some(TraceContext::new_root(true).traceparent()))
        .collect();
    let replies = run_client(a.addr, headers);
    a.stop();
    b.stop();
    assert!(replies.iter().all(|r| r.status == 200));
    let measured = &replies[WARMUP..];
    measured.iter().map(|r| r.latency).sum::<Duration>() / measured.len() as u32
}

/// An exporter to `endpoint` with a small queue, short timeouts and one retry.
fn exporter(service: &str, endpoint: &str) -> Arc<OtelExporter> {
    Arc::new(
        OtelExporter::builder()
            .endpoint(endpoint)
            .service_name(service)
            .queue_capacity(64)
            .max_batch(16)
            .batch_interval(Duration::from_millis(5))
            .export_timeout(Duration::from_millis(200))
            .retries(1)
            .build()
            .unwrap(),
    )
}

fn check_within_noise(what: &str, measured: Duration, baseline: Duration) {
    eprintln!("{what}: mean {measured:?} (no exporter: {baseline:?})");
    assert!(
        measured < baseline * 2 + Duration::from_millis(5),
        "{what}: mean latency {measured:?} vs {baseline:?} without exporter"
    );
}

#[test]
fn collector_down_or_slow_never_slows_requests_and_is_counted() {
    let baseline = mean_latency(None, None);

    // Down: nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (a, b) = (exporter("svc-a", &down), exporter("svc-b", &down));
    let with_down = mean_latency(Some(a.clone()), Some(b.clone()));
    assert!(a.shutdown() && b.shutdown(), "shutdown is bounded");
    check_within_noise("collector down", with_down, baseline);
    for otel in [&a, &b] {
        assert!(otel.started_spans() >= 2 * (WARMUP + REQUESTS) as u64);
        assert!(otel.failed_spans() > 0, "{otel:?}");
        assert!(otel.export_errors() > 0);
        assert!(otel.last_export_error().is_some());
        assert_eq!(otel.exported_spans(), 0);
        assert_eq!(
            otel.failed_spans() + otel.dropped_spans(),
            otel.started_spans(),
            "every span is either failed or dropped: {otel:?}"
        );
    }

    // Slow: the port accepts (kernel backlog) but never answers; each export waits for
    // its timeout, the small queue fills, and spans are dropped.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = format!("http://{}", black_hole.local_addr().unwrap());
    let (a, b) = (exporter("svc-a", &slow), exporter("svc-b", &slow));
    let with_slow = mean_latency(Some(a.clone()), Some(b.clone()));
    assert!(a.shutdown() && b.shutdown(), "shutdown is bounded");
    drop(black_hole);
    check_within_noise("collector slow", with_slow, baseline);
    for otel in [&a, &b] {
        assert!(
            otel.dropped_spans() > 0,
            "a slow collector fills the queue: {otel:?}"
        );
        assert!(otel.failed_spans() > 0, "{otel:?}");
        assert_eq!(otel.exported_spans(), 0);
        assert_eq!(
            otel.failed_spans() + otel.dropped_spans(),
            otel.started_spans(),
            "{otel:?}"
        );
    }
}
