//! Shared test support: runtimes with the Ledger installed, and an event recorder.
#![allow(dead_code, unreachable_pub)]

use hookrt::hooks::{AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::runtime::{Builder, Runtime};
use std::sync::{Arc, Mutex};

/// One recorded event: `(event, id, detail)` where detail is the trigger for `init` and
/// the waker for `wake`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Init {
        id: AsyncId,
        trigger: AsyncId,
        kind: ResourceKind,
        name: Option<String>,
    },
    Before(AsyncId),
    After(AsyncId),
    Resolve(AsyncId),
    Destroy(AsyncId),
    Wake {
        id: AsyncId,
        by: AsyncId,
    },
}

/// Records every event in order (one global order across threads).
#[derive(Default)]
pub struct Recorder(Mutex<Vec<Ev>>);

impl Recorder {
    pub fn events(&self) -> Vec<Ev> {
        self.0.lock().unwrap().clone()
    }

    /// The events of one id, in order, as short names.
    pub fn names_for(&self, id: AsyncId) -> Vec<&'static str> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Ev::Init { id: i, .. } if *i == id => Some("init"),
                Ev::Before(i) if *i == id => Some("before"),
                Ev::After(i) if *i == id => Some("after"),
                Ev::Resolve(i) if *i == id => Some("resolve"),
                Ev::Destroy(i) if *i == id => Some("destroy"),
                Ev::Wake { id: i, .. } if *i == id => Some("wake"),
                _ => None,
            })
            .collect()
    }

    pub fn trigger_of(&self, id: AsyncId) -> Option<AsyncId> {
        self.events().iter().find_map(|e| match e {
            Ev::Init { id: i, trigger, .. } if *i == id => Some(*trigger),
            _ => None,
        })
    }

    pub fn wakes_of(&self, id: AsyncId) -> Vec<AsyncId> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Ev::Wake { id: i, by } if *i == id => Some(*by),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, f: impl Fn(&Ev) -> bool) -> usize {
        self.events().iter().filter(|e| f(e)).count()
    }

    /// Whether a poll of `id` has ended (an `after` was recorded): the task is parked on
    /// whatever it awaits, or done.
    pub fn has_been_polled(&self, id: AsyncId) -> bool {
        self.events()
            .iter()
            .any(|e| matches!(e, Ev::After(i) if *i == id))
    }

    /// Yields (inside a runtime) until `id` has been polled once.
    pub async fn polled(&self, id: AsyncId) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.has_been_polled(id) {
            assert!(
                std::time::Instant::now() < deadline,
                "task {id} was never polled"
            );
            hookrt::task::yield_now().await;
        }
    }

    /// Blocks the calling (non-runtime) thread until `id` has been polled once.
    pub fn wait_polled(&self, id: AsyncId) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.has_been_polled(id) {
            assert!(
                std::time::Instant::now() < deadline,
                "task {id} was never polled"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Blocks until `id`'s `destroy` was recorded. A resource dropped while a driver
    /// thread dispatches it gets its `after` and `destroy` from that thread, a moment
    /// after the code that dropped it went on.
    pub fn wait_destroyed(&self, id: AsyncId) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self
            .events()
            .iter()
            .any(|e| matches!(e, Ev::Destroy(i) if *i == id))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{id} was never destroyed"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// The id of the first resource initialised with this name.
    pub fn id_named(&self, name: &str) -> Option<AsyncId> {
        self.events().iter().find_map(|e| match e {
            Ev::Init {
                id, name: Some(n), ..
            } if n == name => Some(*id),
            _ => None,
        })
    }
}

impl Hook for Recorder {
    fn init(&self, r: &Resource<'_>) {
        self.0.lock().unwrap().push(Ev::Init {
            id: r.id(),
            trigger: r.trigger_id(),
            kind: r.kind(),
            name: r.name().map(str::to_owned),
        });
    }
    fn before(&self, r: &Resource<'_>) {
        self.0.lock().unwrap().push(Ev::Before(r.id()));
    }
    fn after(&self, r: &Resource<'_>) {
        self.0.lock().unwrap().push(Ev::After(r.id()));
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.0.lock().unwrap().push(Ev::Resolve(r.id()));
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.0.lock().unwrap().push(Ev::Destroy(r.id()));
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        self.0.lock().unwrap().push(Ev::Wake { id: r.id(), by });
    }
}

/// A runtime flavour the suite runs on.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    CurrentThread,
    MultiThread(usize),
}

/// Every test runs on each of these: current-thread, multi-thread with 1 and 2 workers.
pub const FLAVORS: &[Flavor] = &[
    Flavor::CurrentThread,
    Flavor::MultiThread(1),
    Flavor::MultiThread(2),
];

/// A runtime builder of `flavor`, with nothing enabled or registered yet.
pub fn builder(flavor: Flavor) -> Builder {
    match flavor {
        Flavor::CurrentThread => Builder::new_current_thread(),
        Flavor::MultiThread(workers) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(workers);
            b
        }
    }
}

/// A runtime of `flavor` with a Ledger and a Recorder installed.
pub fn runtime(flavor: Flavor) -> (Runtime, Arc<Ledger>, Arc<Recorder>) {
    let ledger = Arc::new(Ledger::new());
    let recorder = Arc::new(Recorder::default());
    let rt = builder(flavor)
        .enable_all()
        .hook(ledger.clone())
        .hook(recorder.clone())
        .build()
        .expect("runtime builds");
    (rt, ledger, recorder)
}

/// Runs `body` on every flavour with a fresh runtime, drops the runtime, and checks the
/// Ledger is balanced.
pub fn check(body: impl Fn(&Runtime, &Recorder)) {
    for &flavor in FLAVORS {
        let (rt, ledger, recorder) = runtime(flavor);
        body(&rt, &recorder);
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
    }
}

/// As [`check`], telling the body which flavour it runs on.
pub fn check_flavors(body: impl Fn(Flavor, &Runtime, &Recorder)) {
    for &flavor in FLAVORS {
        let (rt, ledger, recorder) = runtime(flavor);
        body(flavor, &rt, &recorder);
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
    }
}
pub mod net;
