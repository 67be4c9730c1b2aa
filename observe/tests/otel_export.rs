//! OpenTelemetry export end to end: a client calls service A, A calls service B (both
//! hyper on hookrt, each with its own `OtelExporter`), the exporters send OTLP/HTTP to a
//! receiver in the test that decodes with `opentelemetry-proto`'s types.
#![cfg(feature = "otel")]

#[path = "support/otel.rs"]
mod otel_support;
mod support;

use hookrt_observe::otel::OtelExporter;
use hookrt_observe::trace_context::TraceContext;
use otel_support::{hex, run_client, ReceivedSpan, Receiver, Role, Service};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Requests sent through A.
const REQUESTS: usize = 100;

fn exporter(service: &str, receiver: &Receiver) -> Arc<OtelExporter> {
    Arc::new(
        OtelExporter::builder()
            .endpoint(receiver.endpoint())
            .service_name(service)
            .batch_interval(Duration::from_millis(50))
            .export_timeout(Duration::from_secs(5))
            .build()
            .expect("exporter builds"),
    )
}

/// 100 requests through A produce 100 traces, each with spans from A and B linked
/// across the hop; every span started is received (none dropped, none failed), with
/// the hook attributes and the timer event of B's child task.
#[test]
fn two_services_export_linked_traces_and_lose_nothing_at_shutdown() {
    let receiver = Receiver::start();
    let a_otel = exporter("svc-a", &receiver);
    let b_otel = exporter("svc-b", &receiver);
    let b = Service::start(Role::Back, Some(b_otel.clone()));
    let a = Service::start(Role::Front(b.addr), Some(a_otel.clone()));

    // The client's own spans (not exported): each request a new sampled trace.
    let callers: Vec<TraceContext> = (0..REQUESTS)
        .map(|_| TraceContext::new_root(true))
        .collect();
    let replies = run_client(
        a.addr,
        callers.iter().map(|c| Some(c.traceparent())).collect(),
    );

    // Stop the services (their runtimes' shutdown finishes the last spans), then
    // flush: nothing may be lost.
    a.stop();
    b.stop();
    assert!(a_otel.shutdown(), "A's exporter flushed");
    assert!(b_otel.shutdown(), "B's exporter flushed");
    let receiver_requests = receiver.requests();
    let spans = receiver.stop();

    for (reply, caller) in replies.iter().zip(&callers) {
        assert_eq!(reply.status, 200);
        // B ran in the caller's trace.
        assert!(
            reply.body.ends_with(&format!("b {}", caller.trace_id)),
            "{}",
            reply.body
        );
    }

    for (name, otel) in [("A", &a_otel), ("B", &b_otel)] {
        assert_eq!(otel.dropped_spans(), 0, "{name}: dropped");
        assert_eq!(
            otel.failed_spans(),
            0,
            "{name}: failed: {:?}",
            otel.last_export_error()
        );
        assert!(
            otel.started_spans() >= 2 * REQUESTS as u64,
            "{name}: {otel:?}"
        );
        assert_eq!(
            otel.exported_spans(),
            otel.started_spans(),
            "{name}: {otel:?}"
        );
    }
    let started = a_otel.started_spans() + b_otel.started_spans();
    eprintln!(
        "A: {a_otel:?}, B: {b_otel:?}, {} OTLP requests, {} spans",
        receiver_requests,
        spans.len()
    );
    assert_eq!(
        spans.len() as u64,
        started,
        "received exactly what was started"
    );
    let ids: HashSet<_> = spans.iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(ids.len(), spans.len(), "span ids are unique");

    let mut traces: BTreeMap<String, Vec<&ReceivedSpan>> = BTreeMap::new();
    for s in &spans {
        traces.entry(hex(&s.trace_id)).or_default().push(s);
    }
    assert_eq!(traces.len(), REQUESTS, "one trace per request");

    let mut timer_events = 0;
    for (caller, reply) in callers.iter().zip(&replies) {
        let trace = &traces[&caller.trace_id.to_string()];
        let of = |svc: &str| -> Vec<&ReceivedSpan> {
            trace.iter().copied().filter(|s| s.service == svc).collect()
        };
        let (a_spans, b_spans) = (of("svc-a"), of("svc-b"));
        assert_eq!(
            a_spans.len() + b_spans.len(),
            trace.len(),
            "only our services"
        );

        // A's root: the request task, child of the caller's (remote) span.
        let a_roots: Vec<_> = a_spans
            .iter()
            .filter(|s| s.parent_span_id == caller.span_id.to_bytes())
            .collect();
        assert_eq!(a_roots.len(), 1, "one A root per trace: {trace:#?}");
        let a_root: &ReceivedSpan = a_roots[0];
        assert_eq!(a_root.name, "request");
        // Its span id is what A sent to B as the parent.
        let sent = TraceContext::parse(
            &reply.body.split(" | ").next().unwrap().as_bytes()["a ".len()..],
            None,
        )
        .expect("A sent a valid traceparent");
        assert_eq!(sent.trace_id, caller.trace_id);
        assert_eq!(sent.span_id.to_bytes().to_vec(), a_root.span_id);

        // B's root: parent = the A span that made the call.
        let b_roots: Vec<_> = b_spans
            .iter()
            .filter(|s| s.parent_span_id == a_root.span_id)
            .collect();
        assert_eq!(b_roots.len(), 1, "one B root under A's root: {trace:#?}");
        let b_root: &ReceivedSpan = b_roots[0];

        // Every other span is parented within its own service's part of the trace.
        for s in trace {
            if std::ptr::eq(*s, a_root) || std::ptr::eq(*s, b_root) {
                continue;
            }
            let same_service: Vec<_> = trace.iter().filter(|p| p.service == s.service).collect();
            assert!(
                same_service.iter().any(|p| p.span_id == s.parent_span_id),
                "orphan span {s:#?}"
            );
        }
        // B's child task (the sleep) has a timer event.
        let b_child = b_spans
            .iter()
            .find(|s| s.parent_span_id == b_root.span_id && s.attrs["async.kind"] == "Task")
            .expect("B's child task span");
        timer_events += b_child
            .events
            .iter()
            .filter(|e| *e == "timer.fired")
            .count();

        // Hook attributes.
        for s in trace {
            for key in [
                "async.id",
                "async.kind",
                "hookrt.busy_ns",
                "hookrt.scheduled_ns",
                "hookrt.idle_ns",
                "hookrt.polls",
            ] {
                assert!(s.attrs.contains_key(key), "{key} missing on {s:#?}");
            }
            assert!(s.end_ns >= s.start_ns);
        }
        // The roots point at the code that called `continue_trace`.
        for root in [a_root, b_root] {
            assert!(
                root.attrs["code.filepath"].ends_with("support/otel.rs"),
                "{root:#?}"
            );
            assert!(root.attrs["code.lineno"].parse::<u32>().unwrap() > 0);
        }
        assert!(a_root.start_ns <= b_root.start_ns && b_root.end_ns <= a_root.end_ns);
    }
    assert_eq!(timer_events, REQUESTS, "one timer event per B child");
}
