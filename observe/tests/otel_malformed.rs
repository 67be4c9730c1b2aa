//! A malformed incoming `traceparent` starts a new trace, is counted, and is never an
//! error to the client; the new trace is exported with a parentless root span.
#![cfg(feature = "otel")]

#[path = "support/otel.rs"]
mod otel_support;
mod support;

use hookrt_observe::otel::OtelExporter;
use hookrt_observe::trace_context::{malformed_count, TraceContext};
use otel_support::{hex, run_client, Receiver, Role, Service};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn malformed_traceparent_starts_a_counted_new_trace_and_answers_200() {
    let receiver = Receiver::start();
    let otel = Arc::new(
        OtelExporter::builder()
            .endpoint(receiver.endpoint())
            .service_name("svc-b")
            .batch_interval(Duration::from_millis(20))
            .build()
            .unwrap(),
    );
    let b = Service::start(Role::Back, Some(otel.clone()));
    let valid = TraceContext::new_root(true);
    let bad_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let malformed = [
        "garbage".to_owned(),
        format!("00-{}-00F067AA0BA902B7-01", bad_trace.to_uppercase()),
        format!("ff-{bad_trace}-00f067aa0ba902b7-01"),
        format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
    ];
    let before = malformed_count();
    let mut headers: Vec<Option<String>> = malformed.iter().cloned().map(Some).collect();
    headers.push(Some(valid.traceparent()));
    let replies = run_client(b.addr, headers);
    let counted = malformed_count() - before;
    b.stop();
    assert!(otel.shutdown());
    let spans = receiver.stop();

    assert_eq!(
        counted,
        malformed.len() as u64,
        "each malformed header counted"
    );
    assert_eq!(replies.len(), malformed.len() + 1);
    let mut new_traces = Vec::new();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{reply:?}");
        let trace = reply
            .body
            .strip_prefix("b ")
            .expect("B's answer")
            .to_owned();
        assert_eq!(trace.len(), 32);
        assert_ne!(trace, bad_trace, "nothing taken from a malformed header");
        assert_ne!(trace, "0".repeat(32));
        new_traces.push(trace);
    }
    // The valid one continued its trace; the malformed ones got distinct new traces.
    assert_eq!(new_traces.pop().unwrap(), valid.trace_id.to_string());
    let mut distinct = new_traces.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), malformed.len());

    assert_eq!(otel.dropped_spans() + otel.failed_spans(), 0);
    assert_eq!(spans.len() as u64, otel.started_spans());
    for trace in &new_traces {
        let roots: Vec<_> = spans
            .iter()
            .filter(|s| &hex(&s.trace_id) == trace && s.name == "request")
            .collect();
        assert_eq!(roots.len(), 1, "the new trace was exported");
        assert!(
            roots[0].parent_span_id.is_empty() || roots[0].parent_span_id == [0; 8],
            "a trace started here has a parentless root: {:?}",
            roots[0]
        );
    }
    let continued = spans
        .iter()
        .find(|s| s.trace_id == valid.trace_id.to_bytes() && s.name == "request")
        .expect("the continued trace was exported");
    assert_eq!(continued.parent_span_id, valid.span_id.to_bytes());
}
