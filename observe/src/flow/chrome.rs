//! Chrome Trace Event JSON from recorded events.
//!
//! The format: <https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU>.
//! Used here: `X` (complete) events, one per poll, `s`/`f` flow events for arrows, and
//! `M` metadata for track names. Timestamps are microseconds since the recorder started.
//!
//! Tracks (`tid`): thread `n`'s polls of tasks, blocking jobs and custom resources are
//! on track `n`; its timer firings on `TIMER_TRACKS + n`; its socket dispatches on
//! `SOCKET_TRACKS + n`. An arrow starts inside the slice that is running on the
//! emitting thread when the event happens, and only when that slice belongs to the
//! arrow's source (the trigger of an `init`, the waker of a `wake`); it ends at the
//! start of the target's next poll (`bp: "e"` binds it to that slice).

use super::ring::{FlowEvent, FlowKind};
use crate::shard::thread_name;
use hookrt::hooks::{AsyncId, ResourceKind};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// First track id of the per-thread timer tracks.
const TIMER_TRACKS: usize = 1_000_000;
/// First track id of the per-thread socket tracks.
const SOCKET_TRACKS: usize = 2_000_000;
/// The one process id of the trace.
const PID: u32 = 1;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn track(thread: usize, kind: ResourceKind) -> usize {
    match kind {
        ResourceKind::Timer => TIMER_TRACKS + thread,
        ResourceKind::TcpListener
        | ResourceKind::TcpStream
        | ResourceKind::UdpSocket
        | ResourceKind::UnixListener
        | ResourceKind::UnixStream
        | ResourceKind::UnixDatagram => SOCKET_TRACKS + thread,
        _ => thread,
    }
}

fn track_name(tid: usize) -> String {
    if tid >= SOCKET_TRACKS {
        format!("sockets on {}", thread_name(tid - SOCKET_TRACKS))
    } else if tid >= TIMER_TRACKS {
        format!("timers on {}", thread_name(tid - TIMER_TRACKS))
    } else {
        thread_name(tid)
    }
}

/// What `init` said about a resource.
struct Info {
    label: String,
    trigger: AsyncId,
    site: Option<String>,
}

/// A poll in progress on one thread.
struct Open {
    id: AsyncId,
    kind: ResourceKind,
    ts: u64,
    tid: usize,
}

/// An arrow whose start was seen, waiting for its target's next poll.
struct PendingArrow {
    ts: u64,
    tid: usize,
    from: AsyncId,
}

#[derive(Default)]
struct Builder {
    out: Vec<Value>,
    info: HashMap<AsyncId, Info>,
    stacks: HashMap<usize, Vec<Open>>,
    spawns: HashMap<AsyncId, PendingArrow>,
    wakes: HashMap<AsyncId, PendingArrow>,
    tracks: BTreeMap<usize, ()>,
    next_flow: u64,
}

impl Builder {
    fn label(&self, id: AsyncId, kind: ResourceKind) -> String {
        match self.info.get(&id) {
            Some(i) => i.label.clone(),
            None => format!("{kind} #{id}"),
        }
    }

    /// The start of an arrow from `from`, if `from` is polling on `thread` now.
    fn arrow_start(&self, thread: usize, from: AsyncId, ts: u64) -> Option<PendingArrow> {
        let top = self.stacks.get(&thread)?.last()?;
        (top.id == from).then_some(PendingArrow {
            ts,
            tid: top.tid,
            from,
        })
    }

    fn arrow(&mut self, cat: &str, a: PendingArrow, to: AsyncId, ts: u64, tid: usize) {
        self.next_flow += 1;
        let id = self.next_flow;
        let args = json!({ "from": a.from.as_u64(), "to": to.as_u64() });
        self.out.push(json!({
            "ph": "s", "cat": cat, "name": cat, "id": id, "pid": PID, "tid": a.tid,
            "ts": us(a.ts), "args": args,
        }));
        self.out.push(json!({
            "ph": "f", "bp": "e", "cat": cat, "name": cat, "id": id, "pid": PID, "tid": tid,
            "ts": us(ts), "args": args,
        }));
    }

    fn slice(&mut self, open: Open, end: u64, unfinished: bool) {
        let mut args = json!({ "id": open.id.as_u64() });
        if let Some(i) = self.info.get(&open.id) {
            args["trigger"] = json!(i.trigger.as_u64());
            if let Some(site) = &i.site {
                args["site"] = json!(site);
            }
        }
        if unfinished {
            args["unfinished"] = json!(true);
        }
        self.out.push(json!({
            "ph": "X", "cat": open.kind.as_str(), "name": self.label(open.id, open.kind),
            "pid": PID, "tid": open.tid, "ts": us(open.ts),
            "dur": us(end.saturating_sub(open.ts)), "args": args,
        }));
    }

    fn event(&mut self, e: &FlowEvent) {
        match e.what {
            FlowKind::Init => {
                let trigger = e.other.unwrap_or(AsyncId::ROOT);
                let mut label = format!("{} #{}", e.kind, e.id);
                if let Some(name) = &e.name {
                    label = format!("{label} {name}");
                }
                let site = e
                    .location
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                self.info.insert(
                    e.id,
                    Info {
                        label,
                        trigger,
                        site,
                    },
                );
                if let Some(a) = self.arrow_start(e.thread, trigger, e.ts_ns) {
                    self.spawns.insert(e.id, a);
                }
            }
            FlowKind::Wake => {
                let by = e.other.unwrap_or(AsyncId::ROOT);
                if let Some(a) = self.arrow_start(e.thread, by, e.ts_ns) {
                    // The first wake before a poll is the one that scheduled it.
                    self.wakes.entry(e.id).or_insert(a);
                }
            }
            FlowKind::Before => {
                let tid = track(e.thread, e.kind);
                self.tracks.insert(tid, ());
                if let Some(a) = self.spawns.remove(&e.id) {
                    self.arrow("spawn", a, e.id, e.ts_ns, tid);
                }
                if let Some(a) = self.wakes.remove(&e.id) {
                    self.arrow("wake", a, e.id, e.ts_ns, tid);
                }
                self.stacks.entry(e.thread).or_default().push(Open {
                    id: e.id,
                    kind: e.kind,
                    ts: e.ts_ns,
                    tid,
                });
            }
            FlowKind::After => {
                let stack = self.stacks.entry(e.thread).or_default();
                // An `after` whose `before` was overwritten matches nothing.
                if let Some(pos) = stack.iter().rposition(|o| o.id == e.id) {
                    let open = stack.remove(pos);
                    self.slice(open, e.ts_ns, false);
                }
            }
            FlowKind::Resolve => {}
            FlowKind::Destroy => {
                self.spawns.remove(&e.id);
                self.wakes.remove(&e.id);
            }
        }
    }

    fn finish(mut self, last_ts: u64) -> Value {
        let open: Vec<Open> = self.stacks.drain().flat_map(|(_, s)| s).collect();
        for o in open {
            self.slice(o, last_ts, true);
        }
        let tracks: Vec<usize> = self.tracks.keys().copied().collect();
        for tid in tracks {
            self.out.push(json!({
                "ph": "M", "name": "thread_name", "pid": PID, "tid": tid,
                "args": { "name": track_name(tid) },
            }));
            self.out.push(json!({
                "ph": "M", "name": "thread_sort_index", "pid": PID, "tid": tid,
                "args": { "sort_index": tid },
            }));
        }
        self.out.push(json!({
            "ph": "M", "name": "process_name", "pid": PID, "args": { "name": "hookrt" },
        }));
        json!({ "traceEvents": self.out, "displayTimeUnit": "ms" })
    }
}

/// Renders `events` (in sequence order) as a Chrome trace.
pub(super) fn render(events: &[FlowEvent]) -> String {
    let mut b = Builder::default();
    for e in events {
        b.event(e);
    }
    let last = events.iter().map(|e| e.ts_ns).max().unwrap_or(0);
    b.finish(last).to_string()
}
