//! The endpoint and service name come from the standard `OTEL_*` variables; a request
//! id storage stamps every span; `in_new_trace` starts a parentless trace (or, unsampled,
//! none); `current_span_context` names the running task's span. (Its own test binary:
//! it sets environment variables.)
#![cfg(feature = "otel")]

#[path = "support/otel.rs"]
mod otel_support;
mod support;

use hookrt::context::LocalStorage;
use hookrt::hooks::Hook;
use hookrt_observe::otel::{self, OtelExporter};
use otel_support::Receiver;
use std::sync::Arc;
use std::time::Duration;
use support::Flavor;

static REQUEST_ID: LocalStorage<u64> = LocalStorage::named("request_id");

#[test]
fn endpoint_from_environment_request_id_and_new_traces() {
    let receiver = Receiver::start();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    std::env::set_var("OTEL_SERVICE_NAME", "from-env");
    let otel = Arc::new(
        OtelExporter::builder()
            .request_id(&REQUEST_ID)
            .batch_interval(Duration::from_millis(20))
            .build()
            .unwrap(),
    );
    let hooks: Vec<Box<dyn Hook>> = vec![Box::new(otel.clone())];
    let (rt, ledger) = support::runtime(Flavor::MultiThread(2), hooks);
    let (seen, unsampled) = rt.block_on(async {
        let seen = REQUEST_ID
            .run(7, async {
                otel::in_new_trace("job", true, async {
                    hookrt::spawn(async { hookrt::time::sleep(Duration::from_millis(1)).await })
                        .await
                        .unwrap();
                    otel::current_span_context().expect("the job task is traced")
                })
                .await
            })
            .await;
        let unsampled = otel::in_new_trace("skipped", false, async {
            hookrt::spawn(async {}).await.unwrap();
            otel::current_span_context()
        })
        .await;
        (seen, unsampled)
    });
    support::finish(rt, &ledger);
    assert!(otel.shutdown());
    let spans = receiver.stop();

    assert!(unsampled.is_none(), "an unsampled trace has no spans");
    assert_eq!(otel.started_spans(), 2, "{otel:?}");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let root = spans
        .iter()
        .find(|s| s.name == "job")
        .expect("the job span");
    let child = spans.iter().find(|s| s.name != "job").expect("its child");
    for s in &spans {
        assert_eq!(s.service, "from-env");
        assert_eq!(s.attrs["request.id"], "7");
        assert_eq!(s.trace_id, seen.trace_id.to_bytes());
    }
    assert!(root.parent_span_id.is_empty() || root.parent_span_id == [0; 8]);
    assert_eq!(root.span_id, seen.span_id.to_bytes());
    assert_eq!(child.parent_span_id, root.span_id);
    assert!(
        root.attrs["code.filepath"].ends_with("otel_env.rs"),
        "{root:?}"
    );
    assert!(child.events.iter().any(|e| e == "timer.fired"), "{child:?}");
}
