//! [`FlowRecorder`]: a bounded recording of hook events, exported as a Chrome trace or
//! a Graphviz graph.

mod chrome;
mod dot;
mod ring;

pub use ring::{FlowEvent, FlowKind};

use crate::shard::{thread_name, thread_slot};
use hookrt::hooks::{AsyncId, Hook, Resource};
use ring::Ring;
use std::io;
use std::time::Instant;

/// Default ring capacity, in events (about 6 MB).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A hook that records the last `capacity` events in a ring buffer, for two exports:
///
/// - [`chrome_trace`](FlowRecorder::chrome_trace): Chrome Trace Event JSON, which
///   Perfetto (<https://ui.perfetto.dev>) and `chrome://tracing` open. One track per
///   thread with a slice per poll (tasks, blocking jobs, custom resources), timers and
///   sockets on tracks of their own per thread, and flow arrows from the poll that
///   created a resource to its first poll (trigger → child) and from the execution that
///   woke a task to the poll that followed (waker → wakee).
/// - [`dot`](FlowRecorder::dot): the async tree (who created whom) of one request or of
///   everything recorded, as Graphviz DOT.
///
/// When the ring wraps, the oldest events are lost: slices and arrows whose ends were
/// overwritten are left out of the exports, and so are tree nodes whose `init` was.
///
/// ```no_run
/// use hookrt_observe::FlowRecorder;
/// use std::sync::Arc;
///
/// let flow = Arc::new(FlowRecorder::new());
/// let rt = hookrt::runtime::Builder::new_multi_thread()
///     .hook(flow.clone())
///     .enable_all()
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     hookrt::spawn(async { hookrt::task::yield_now().await }).await.unwrap();
/// });
/// std::fs::write("trace.json", flow.chrome_trace()).unwrap();
/// std::fs::write("graph.dot", flow.dot(None)).unwrap();
/// ```
#[derive(Debug)]
pub struct FlowRecorder {
    start: Instant,
    ring: Ring,
}

impl FlowRecorder {
    /// A recorder of the last [`DEFAULT_CAPACITY`] events.
    pub fn new() -> FlowRecorder {
        FlowRecorder::with_capacity(DEFAULT_CAPACITY)
    }

    /// A recorder of the last `capacity` events.
    pub fn with_capacity(capacity: usize) -> FlowRecorder {
        FlowRecorder {
            start: Instant::now(),
            ring: Ring::new(capacity),
        }
    }

    /// How many events the ring holds at most.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// How many events were overwritten because the ring was full.
    pub fn lost(&self) -> u64 {
        self.ring
            .pushed()
            .saturating_sub(self.ring.capacity() as u64)
    }

    /// The recorded events, oldest first.
    pub fn events(&self) -> Vec<FlowEvent> {
        self.ring.snapshot()
    }

    /// Forgets every recorded event.
    pub fn clear(&self) {
        self.ring.clear();
    }

    /// The name of the thread numbered `thread` in [`FlowEvent::thread`].
    pub fn thread_name(thread: usize) -> String {
        thread_name(thread)
    }

    /// The recording as Chrome Trace Event JSON (an object with `traceEvents`).
    pub fn chrome_trace(&self) -> String {
        chrome::render(&self.events())
    }

    /// Writes [`chrome_trace`](FlowRecorder::chrome_trace) to `w`.
    pub fn write_chrome_trace(&self, mut w: impl io::Write) -> io::Result<()> {
        w.write_all(self.chrome_trace().as_bytes())
    }

    /// The async tree as Graphviz DOT: of `root` and its descendants, or of everything
    /// recorded when `root` is `None`. Edges go from trigger to child, one per line as
    /// `n<trigger> -> n<child>;`.
    pub fn dot(&self, root: Option<AsyncId>) -> String {
        dot::render(&self.events(), root, false)
    }

    /// As [`dot`](FlowRecorder::dot), with the wakes between the tree's nodes as dashed
    /// edges (`n<waker> -> n<wakee> [style=dashed ...];`).
    pub fn dot_with_wakes(&self, root: Option<AsyncId>) -> String {
        dot::render(&self.events(), root, true)
    }

    fn push(&self, r: &Resource<'_>, what: FlowKind, other: Option<AsyncId>) {
        let init = what == FlowKind::Init;
        self.ring.push(FlowEvent {
            seq: 0,
            ts_ns: self.start.elapsed().as_nanos() as u64,
            thread: thread_slot(),
            what,
            id: r.id(),
            other,
            kind: r.kind(),
            name: if init { r.name().map(Box::from) } else { None },
            location: if init { r.location() } else { None },
        });
    }
}

impl Default for FlowRecorder {
    fn default() -> FlowRecorder {
        FlowRecorder::new()
    }
}

impl Hook for FlowRecorder {
    fn init(&self, r: &Resource<'_>) {
        self.push(r, FlowKind::Init, Some(r.trigger_id()));
    }
    fn before(&self, r: &Resource<'_>) {
        self.push(r, FlowKind::Before, None);
    }
    fn after(&self, r: &Resource<'_>) {
        self.push(r, FlowKind::After, None);
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.push(r, FlowKind::Resolve, None);
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.push(r, FlowKind::Destroy, None);
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        self.push(r, FlowKind::Wake, Some(by));
    }
}
