//! FlowRecorder: the Chrome trace parses and its arrows link to existing parents; the
//! DOT graph of a request tree has exactly its edges.

mod support;

use hookrt::hooks::{execution_async_id, AsyncId, Hook, Resource};
use hookrt_observe::FlowRecorder;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{finish, runtime, FLAVORS};

/// Remembers each resource's trigger, independently of the recorder.
#[derive(Default)]
struct Triggers(Mutex<HashMap<u64, u64>>);

impl Hook for Triggers {
    fn init(&self, r: &Resource<'_>) {
        let mut m = self.0.lock().unwrap();
        m.insert(r.id().as_u64(), r.trigger_id().as_u64());
    }
}

/// A workload with nested tasks, timers, a blocking job and a TCP exchange.
async fn workload() {
    let listener = hookrt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = hookrt::spawn(async move {
        use hookrt::io::AsyncReadExt;
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
    });
    let client = hookrt::spawn(async move {
        use hookrt::io::AsyncWriteExt;
        hookrt::time::sleep(Duration::from_millis(2)).await;
        let mut s = hookrt::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"ping").await.unwrap();
    });
    let mut tasks = Vec::new();
    for i in 0..20u64 {
        tasks.push(hookrt::spawn(async move {
            let inner = hookrt::spawn(async move {
                hookrt::time::sleep(Duration::from_millis(i % 4)).await;
                hookrt::task::yield_now().await;
                i
            });
            inner.await.unwrap()
        }));
    }
    let blocking = hookrt::task::spawn_blocking(|| 7);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(blocking.await.unwrap(), 7);
    server.await.unwrap();
    client.await.unwrap();
}

/// A slice of the trace.
struct Slice {
    id: u64,
    ts: f64,
    end: f64,
}

/// Checks the trace: it parses, every arrow has one start and one end, the start lies
/// in a slice of its source and the end starts a slice of its target, and every spawn
/// arrow goes from the target's true trigger. Returns (spawn arrows, wake arrows,
/// track ids).
fn check_trace(json: &str, triggers: &Triggers) -> (usize, usize, BTreeSet<u64>) {
    let v: Value = serde_json::from_str(json).expect("the trace is valid JSON");
    let events = v["traceEvents"].as_array().expect("traceEvents");
    let mut slices: HashMap<u64, Vec<Slice>> = HashMap::new();
    let mut flows: HashMap<u64, Vec<&Value>> = HashMap::new();
    for e in events {
        match e["ph"].as_str().unwrap() {
            "X" => {
                let ts = e["ts"].as_f64().unwrap();
                slices
                    .entry(e["tid"].as_u64().unwrap())
                    .or_default()
                    .push(Slice {
                        id: e["args"]["id"].as_u64().unwrap(),
                        ts,
                        end: ts + e["dur"].as_f64().unwrap(),
                    });
            }
            "s" | "f" => flows.entry(e["id"].as_u64().unwrap()).or_default().push(e),
            "M" => {}
            other => panic!("unexpected phase {other}"),
        }
    }
    let triggers = triggers.0.lock().unwrap();
    let (mut spawns, mut wakes) = (0, 0);
    for (id, pair) in &flows {
        assert_eq!(pair.len(), 2, "flow {id}: {pair:?}");
        let s = pair.iter().find(|e| e["ph"] == "s").expect("a start");
        let f = pair.iter().find(|e| e["ph"] == "f").expect("an end");
        assert_eq!(s["cat"], f["cat"]);
        assert_eq!(f["bp"], "e");
        let from = s["args"]["from"].as_u64().unwrap();
        let to = s["args"]["to"].as_u64().unwrap();
        let (s_ts, f_ts) = (s["ts"].as_f64().unwrap(), f["ts"].as_f64().unwrap());
        assert!(s_ts <= f_ts, "flow {id} goes back in time");
        let on = |e: &Value| &slices[&e["tid"].as_u64().unwrap()];
        assert!(
            on(s)
                .iter()
                .any(|x| x.id == from && x.ts <= s_ts && s_ts <= x.end),
            "flow {id} starts outside a slice of its source {from}"
        );
        assert!(
            on(f).iter().any(|x| x.id == to && x.ts == f_ts),
            "flow {id} does not end at the start of a slice of {to}"
        );
        match s["cat"].as_str().unwrap() {
            "spawn" => {
                assert_eq!(triggers.get(&to), Some(&from), "spawn arrow {from} -> {to}");
                spawns += 1;
            }
            "wake" => wakes += 1,
            other => panic!("unexpected flow category {other}"),
        }
    }
    (spawns, wakes, slices.keys().copied().collect())
}

#[test]
fn chrome_trace_parses_and_every_arrow_links_to_its_parent() {
    for &flavor in FLAVORS {
        let flow = Arc::new(FlowRecorder::new());
        let triggers = Arc::new(Triggers::default());
        let (rt, ledger) = runtime(
            flavor,
            vec![Box::new(flow.clone()), Box::new(triggers.clone())],
        );
        rt.block_on(workload());
        let (spawns, wakes, tracks) = check_trace(&flow.chrome_trace(), &triggers);
        eprintln!("{flavor:?}: {spawns} spawn arrows, {wakes} wake arrows, tracks {tracks:?}");
        // 2 + 20 + 20 tasks and a blocking job were spawned from running polls.
        assert!(spawns >= 43, "{flavor:?}: {spawns} spawn arrows");
        assert!(wakes >= 20, "{flavor:?}: {wakes} wake arrows");
        assert!(
            tracks.iter().any(|t| *t >= 1_000_000 && *t < 2_000_000),
            "a timer track"
        );
        assert!(tracks.iter().any(|t| *t >= 2_000_000), "a socket track");
        assert_eq!(flow.lost(), 0);
        finish(rt, &ledger);
    }
}

#[test]
fn a_wrapped_ring_still_exports_a_consistent_trace() {
    let flow = Arc::new(FlowRecorder::with_capacity(300));
    let triggers = Arc::new(Triggers::default());
    let (rt, ledger) = runtime(
        FLAVORS[1],
        vec![Box::new(flow.clone()), Box::new(triggers.clone())],
    );
    rt.block_on(workload());
    assert_eq!(flow.events().len(), 300);
    assert!(flow.lost() > 0);
    check_trace(&flow.chrome_trace(), &triggers);
    finish(rt, &ledger);
}

/// The `a -> b` edges of a DOT graph (solid ones: no attributes).
fn tree_edges(dot: &str) -> BTreeSet<(u64, u64)> {
    dot.lines()
        .filter_map(|l| {
            let l = l.trim().strip_suffix(';')?;
            let (a, b) = l.split_once(" -> ")?;
            Some((
                a.strip_prefix('n')?.parse().ok()?,
                b.strip_prefix('n')?.parse().ok()?,
            ))
        })
        .collect()
}

/// A request: a root task with two children, each with two children. Returns the
/// tree's edges.
async fn three_level_request() -> (AsyncId, BTreeSet<(u64, u64)>) {
    let t = hookrt::spawn(async {
        let root = execution_async_id();
        let mut kids = Vec::new();
        for _ in 0..2 {
            kids.push(hookrt::spawn(async {
                let me = execution_async_id();
                let mut grandkids = Vec::new();
                for _ in 0..2 {
                    grandkids.push(hookrt::spawn(async { execution_async_id() }));
                }
                let mut edges = Vec::new();
                for g in grandkids {
                    edges.push((me.as_u64(), g.await.unwrap().as_u64()));
                }
                (me, edges)
            }));
        }
        let mut edges = BTreeSet::new();
        for k in kids {
            let (kid, sub) = k.await.unwrap();
            edges.insert((root.as_u64(), kid.as_u64()));
            edges.extend(sub);
        }
        (root, edges)
    });
    t.await.unwrap()
}

#[test]
fn dot_of_a_three_level_request_has_exactly_its_edges() {
    for &flavor in FLAVORS {
        let flow = Arc::new(FlowRecorder::new());
        let (rt, ledger) = runtime(flavor, vec![Box::new(flow.clone())]);
        let ((root, expected), (_, other)) = rt.block_on(async {
            // Two requests at once: the graph of one must not show the other.
            let a = hookrt::spawn(three_level_request());
            let b = hookrt::spawn(three_level_request());
            (a.await.unwrap(), b.await.unwrap())
        });
        assert_eq!(expected.len(), 6);
        let dot = flow.dot(Some(root));
        assert!(dot.starts_with("digraph"), "{dot}");
        assert_eq!(tree_edges(&dot), expected, "{flavor:?}:\n{dot}");
        assert_eq!(dot.matches("[label=").count(), 7, "7 nodes:\n{dot}");

        // The whole graph holds both trees (and the edges to their roots).
        let all = tree_edges(&flow.dot(None));
        assert!(all.is_superset(&expected) && all.is_superset(&other));
        // With wakes: the same tree edges, plus dashed wake edges (children waking
        // the parents that await them).
        let with_wakes = flow.dot_with_wakes(Some(root));
        assert_eq!(tree_edges(&with_wakes), expected);
        assert!(with_wakes.contains("style=dashed"), "{with_wakes}");
        finish(rt, &ledger);
    }
}
