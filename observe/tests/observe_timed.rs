//! timed(): one async function as a Custom resource, seen by TaskStats and the flow
//! graph.

mod support;

use hookrt::hooks::{execution_async_id, AsyncId, ResourceKind};
use hookrt_observe::{timed, FlowRecorder, TaskStats};
use serde_json::Value;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use support::{finish, runtime, wait_until, FLAVORS};

fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// An async function with 10 ms of CPU around a 20 ms wait, which also spawns a task.
async fn load_user() -> (AsyncId, AsyncId) {
    spin(Duration::from_millis(5));
    hookrt::time::sleep(Duration::from_millis(20)).await;
    spin(Duration::from_millis(5));
    let section = execution_async_id();
    let inner = hookrt::spawn(async { hookrt::hooks::trigger_async_id() })
        .await
        .unwrap();
    (section, inner)
}

#[test]
fn a_timed_section_shows_in_task_stats_and_the_flow_graph() {
    for &flavor in FLAVORS {
        let stats = Arc::new(TaskStats::new());
        let flow = Arc::new(FlowRecorder::new());
        let (rt, ledger) = runtime(
            flavor,
            vec![Box::new(stats.clone()), Box::new(flow.clone())],
        );
        let (task, section, inner_trigger, call_line) = rt.block_on(async {
            hookrt::spawn(async {
                let task = execution_async_id();
                let line = line!() + 1;
                let timed = timed("load_user", load_user());
                let id = timed.async_id();
                let (section, inner_trigger) = timed.await;
                assert_eq!(section, id, "polls run inside the section's frame");
                (task, section, inner_trigger, line)
            })
            .await
            .unwrap()
        });
        wait_until("the section's destroy", || {
            stats.resource(section).is_some_and(|s| s.finished)
        });
        // A task spawned inside the section has the section as its trigger.
        assert_eq!(inner_trigger, section);

        let s = stats.resource(section).unwrap();
        eprintln!("{flavor:?}: {s}");
        assert_eq!(s.kind, ResourceKind::Custom("load_user"));
        assert_eq!(s.site.location().unwrap().line(), call_line);
        assert!(s.polls >= 2, "{s}");
        assert!(s.busy >= Duration::from_millis(10), "{s}");
        assert!(s.wall >= Duration::from_millis(30), "{s}");
        assert!(
            s.wall >= s.busy + Duration::from_millis(19),
            "the wait is not busy: {s}"
        );
        let site = stats
            .sites()
            .into_iter()
            .find(|x| x.kind == ResourceKind::Custom("load_user"))
            .expect("the section's site");
        assert_eq!((site.created, site.finished), (1, 1));

        // The flow graph: task -> section -> inner task.
        let dot = flow.dot(Some(task));
        assert!(dot.contains(&format!("n{task} -> n{section};")), "{dot}");
        assert!(dot.contains("load_user #"), "{dot}");
        // The trace: each section slice lies inside a slice of its task, on one track.
        let trace: Value = serde_json::from_str(&flow.chrome_trace()).unwrap();
        let slices: Vec<&Value> = trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "X")
            .collect();
        let of = |id: AsyncId| {
            slices
                .iter()
                .filter(move |e| e["args"]["id"].as_u64() == Some(id.as_u64()))
        };
        let mut n = 0;
        for sec in of(section) {
            let (ts, end) = (
                sec["ts"].as_f64().unwrap(),
                sec["ts"].as_f64().unwrap() + sec["dur"].as_f64().unwrap(),
            );
            assert!(
                of(task).any(|t| t["tid"] == sec["tid"]
                    && t["ts"].as_f64().unwrap() <= ts
                    && end <= t["ts"].as_f64().unwrap() + t["dur"].as_f64().unwrap()),
                "section slice {sec} outside its task's polls"
            );
            n += 1;
        }
        assert_eq!(n as u64, s.polls);
        finish(rt, &ledger);
    }
}

#[test]
fn timed_outside_a_runtime_just_runs_the_future() {
    let mut f = pin!(timed("plain", async { 7 }));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(7));
}
