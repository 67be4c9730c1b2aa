//! What the integration tests share: counting wakers, an ordered event log hook, and
//! small loops that drive an `IoDriver` by hand (no runtime).

#![allow(dead_code, unreachable_pub)]

use hookrt_hooks::{AsyncId, Hook, HookSet, HookSetBuilder, Ledger, Resource};
use hookrt_io_driver::IoDriver;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// One entry of a [`Log`], in the order things happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Init(AsyncId),
    Before(AsyncId),
    After(AsyncId),
    Destroy(AsyncId),
    /// A test waker ran; the execution id current on the waking thread.
    Woken {
        waker: usize,
        execution: AsyncId,
    },
}

/// A hook that appends every event to one ordered list, which test wakers append to too,
/// plus the creation sites `init` reported.
#[derive(Clone, Default)]
pub struct Log {
    entries: Arc<Mutex<Vec<Entry>>>,
    locations: Arc<Mutex<Vec<(AsyncId, &'static Location<'static>)>>>,
}

impl Log {
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap().clear();
    }

    fn push(&self, entry: Entry) {
        self.entries.lock().unwrap().push(entry);
    }

    pub fn location_of(&self, id: AsyncId) -> Option<&'static Location<'static>> {
        let locations = self.locations.lock().unwrap();
        locations.iter().find(|(i, _)| *i == id).map(|(_, l)| *l)
    }

    /// A waker that counts its wakes and logs [`Entry::Woken`] with tag `tag`.
    pub fn waker(&self, tag: usize) -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker {
            count: AtomicUsize::new(0),
            tag,
            log: Some(self.clone()),
        });
        (counter.clone(), Waker::from(counter))
    }
}

impl Hook for Log {
    fn init(&self, r: &Resource<'_>) {
        self.push(Entry::Init(r.id()));
        if let Some(location) = r.location() {
            self.locations.lock().unwrap().push((r.id(), location));
        }
    }
    fn before(&self, r: &Resource<'_>) {
        self.push(Entry::Before(r.id()));
    }
    fn after(&self, r: &Resource<'_>) {
        self.push(Entry::After(r.id()));
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.push(Entry::Destroy(r.id()));
    }
}

/// A `Wake` impl that counts how often it was woken (and logs it, if it has a log).
pub struct CountingWaker {
    count: AtomicUsize,
    tag: usize,
    log: Option<Log>,
}

impl CountingWaker {
    /// A waker that only counts.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker {
            count: AtomicUsize::new(0),
            tag: 0,
            log: None,
        });
        (counter.clone(), Waker::from(counter))
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(log) = &self.log {
            log.push(Entry::Woken {
                waker: self.tag,
                execution: hookrt_hooks::execution_async_id(),
            });
        }
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// A hook set with `ledger` and `log`.
pub fn hooks(ledger: &Arc<Ledger>, log: &Log) -> HookSet {
    HookSetBuilder::new()
        .hook(ledger.clone())
        .hook(log.clone())
        .build()
}

/// Turns `driver` (10 ms at a time) until `done` holds; panics after 10 s. Returns the
/// sum of what the turns returned.
pub fn drive_until(driver: &mut IoDriver, mut done: impl FnMut() -> bool) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut woken = 0;
    while !done() {
        assert!(Instant::now() < deadline, "condition not met within 10 s");
        woken += driver.turn(Some(Duration::from_millis(10))).unwrap();
    }
    woken
}

/// A connected pair: the accepted side as a non-blocking mio stream, the client as a
/// blocking std stream.
pub fn tcp_pair() -> (mio::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    (mio::net::TcpStream::from_std(server), client)
}
