//! Per-resource hook storage (`Resource::set_data`, `data`, `trigger_data`) as a tool
//! uses it: a record stored at `init` is found in every later event of the resource,
//! a child's `init` reaches its running trigger's record, each hook has its own cell,
//! and the values are dropped exactly once, after `destroy`. The tests run on every
//! flavour, with a Ledger registered first (so the hooks under test do not get cell 0;
//! test 1 also runs its tracker as the only hook).

mod support;

use hookrt::hooks::{
    execution_async_id, AsyncId, AsyncResource, Hook, Ledger, Resource, ResourceKind,
};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::runtime::{Builder, Handle, Runtime};
use hookrt::task::{self, JoinSet};
use hookrt::time::{sleep, timeout, Duration};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::pending;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use support::{builder, Flavor, FLAVORS};

const MS: Duration = Duration::from_millis(1);

/// Builds a runtime of `flavor` with a Ledger (unless `alone`) and then the hooks `add`
/// registers, runs `body`, drops the runtime and checks the Ledger is balanced.
fn run<T>(
    (flavor, alone): (Flavor, bool),
    add: impl FnOnce(&mut Builder),
    body: impl FnOnce(&Runtime) -> T,
) -> T {
    let ledger = Arc::new(Ledger::new());
    let mut b = builder(flavor);
    if !alone {
        b.hook(ledger.clone());
    }
    add(b.enable_all());
    let rt = b.build().expect("runtime builds");
    let out = body(&rt);
    drop(rt);
    let report = ledger.report();
    assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
    out
}

/// What a [`Tracker`] stores on every resource (`T` tells two tracker types apart). It
/// points to what its tracker saw, and notes its drop there.
struct Record<T> {
    id: AsyncId,
    polls: AtomicU64,
    parent: Option<Arc<Record<T>>>,
    seen: Arc<Seen>,
    _type: PhantomData<fn() -> T>,
}

/// What a tracker saw: the polls at each `destroy`, how many times each record was
/// dropped, and every event that missed its record or got the wrong one.
#[derive(Default)]
struct Seen {
    destroyed: Mutex<HashMap<AsyncId, u64>>,
    drops: Mutex<HashMap<AsyncId, usize>>,
    misses: Mutex<Vec<String>>,
}

impl<T> Drop for Record<T> {
    fn drop(&mut self) {
        if !self.seen.destroyed.lock().unwrap().contains_key(&self.id) {
            let miss = format!("record of {} dropped before its destroy", self.id);
            self.seen.misses.lock().unwrap().push(miss);
        }
        *self.seen.drops.lock().unwrap().entry(self.id).or_default() += 1;
    }
}

/// What a resource's `init` saw: its kind, its trigger, and the ids along the chain of
/// parent records it linked to, nearest first.
type Created = (ResourceKind, AsyncId, Vec<AsyncId>);

/// Record types of trackers that must not see each other's records.
#[derive(Default)]
struct A;
#[derive(Default)]
struct B;

/// Stores a `Record<T>` at `init`, linked to the trigger's record, and counts polls in
/// `before`. Keeps what each `init` saw, and notes in `seen` every event that missed its
/// own record or saw another tracker's (another instance's, or a `Record<Not>`).
#[derive(Default)]
struct Tracker<T = (), Not = B> {
    created: Mutex<HashMap<AsyncId, Created>>,
    seen: Arc<Seen>,
    _types: PhantomData<fn() -> (T, Not)>,
}

impl<T: 'static, Not: 'static> Tracker<T, Not> {
    fn miss(&self, event: &str, r: &Resource<'_>, what: &str) {
        let miss = format!("{event} of {:?} {}: {what}", r.kind(), r.id());
        self.seen.misses.lock().unwrap().push(miss);
    }

    fn mine(&self, rec: &Record<T>, id: AsyncId) -> bool {
        rec.id == id && Arc::ptr_eq(&rec.seen, &self.seen)
    }

    fn record<'a>(&self, r: &Resource<'a>, event: &str) -> Option<&'a Record<T>> {
        if r.data::<Record<Not>>().is_some() {
            self.miss(event, r, "sees the other type's record");
        }
        let rec = r.data::<Record<T>>().filter(|rec| self.mine(rec, r.id()));
        if rec.is_none() {
            self.miss(event, r, "no record of its own");
        }
        rec
    }

    /// No event missed its record, and each record was dropped once, after `destroy`.
    fn assert_right(&self, flavor: impl Debug) {
        let misses = self.seen.misses.lock().unwrap();
        assert!(misses.is_empty(), "on {flavor:?}: {misses:#?}");
        let created = self.created.lock().unwrap();
        let drops = self.seen.drops.lock().unwrap();
        let once = created.keys().all(|id| drops.get(id) == Some(&1));
        let ok = once && drops.len() == created.len();
        assert!(ok, "on {flavor:?}: {drops:?}");
    }

    /// `id` linked at `init` to the records of `expected`, nearest first.
    fn assert_chain(&self, flavor: impl Debug, id: AsyncId, expected: &[AsyncId]) {
        let chain = self.created.lock().unwrap()[&id].2.clone();
        assert_eq!(chain, expected, "on {flavor:?}: records linked to {id}");
    }

    /// How many records link, through their parents, to `root`'s.
    fn linked_to(&self, root: AsyncId) -> usize {
        let created = self.created.lock().unwrap();
        let linked = created.values().filter(|c| c.2.last() == Some(&root));
        linked.count()
    }
}

impl<T: 'static, Not: 'static> Hook for Tracker<T, Not> {
    fn init(&self, r: &Resource<'_>) {
        if r.trigger_data::<Record<Not>>().is_some() {
            self.miss("init", r, "trigger_data of the other type");
        }
        let parent = r.trigger_data::<Record<T>>();
        let mut chain = Vec::new();
        let mut link = parent.as_deref();
        while let Some(p) = link {
            if chain.is_empty() && !self.mine(p, r.trigger_id()) {
                self.miss("init", r, &format!("trigger_data is another's {}", p.id));
            }
            chain.push(p.id);
            link = p.parent.as_deref();
        }
        let (id, polls, seen, _type) = (r.id(), AtomicU64::new(0), self.seen.clone(), PhantomData);
        r.set_data(Record::<T> {
            id,
            polls,
            parent,
            seen,
            _type,
        });
        self.record(r, "init");
        let created = (r.kind(), r.trigger_id(), chain);
        self.created.lock().unwrap().insert(id, created);
    }
    fn before(&self, r: &Resource<'_>) {
        if let Some(rec) = self.record(r, "before") {
            rec.polls.fetch_add(1, Relaxed);
        }
    }
    fn after(&self, r: &Resource<'_>) {
        self.record(r, "after");
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.record(r, "resolve");
    }
    fn wake(&self, r: &Resource<'_>, _by: AsyncId) {
        self.record(r, "wake");
    }
    fn destroy(&self, r: &Resource<'_>) {
        if let Some(rec) = self.record(r, "destroy") {
            let polls = rec.polls.load(Relaxed);
            self.seen.destroyed.lock().unwrap().insert(r.id(), polls);
        }
    }
}

fn with_tracker<T>(flavor: (Flavor, bool), body: impl FnOnce(&Runtime) -> T) -> (T, Arc<Tracker>) {
    let tracker = Arc::new(Tracker::default());
    let out = run(flavor, |b| _ = b.hook(tracker.clone()), body);
    (out, tracker)
}

async fn yield_5_times() {
    for _ in 0..5 {
        task::yield_now().await;
    }
}

// 1. The record stored at `init` is what every later event of the resource reads: 200
// tasks yielding 5 times each count 6 polls on it, and no event of any resource (the
// tasks, their wakes, the block_on task) misses its record. With the Ledger, and with
// the tracker as the runtime's only hook.
#[test]
fn a_record_stored_at_init_is_read_back_in_every_event() {
    for flavor in FLAVORS.iter().flat_map(|&f| [(f, false), (f, true)]) {
        let (ids, tracker) = with_tracker(flavor, |rt| {
            rt.block_on(async {
                let handles: Vec<_> = (0..200).map(|_| hookrt::spawn(yield_5_times())).collect();
                let mut ids = Vec::new();
                for handle in handles {
                    ids.push(handle.id().async_id());
                    handle.await.unwrap();
                }
                ids
            })
        });
        let polls = tracker.seen.destroyed.lock().unwrap();
        for id in &ids {
            assert_eq!(polls.get(id), Some(&6), "on {flavor:?}: polls of task {id}");
        }
        tracker.assert_right(flavor);
    }
}

/// Creates a timer (waited on, so its storage moves to the driver's shared state) and a
/// listening socket in the running task, and returns the task's id.
async fn timer_and_listener() -> AsyncId {
    sleep(MS).await;
    let _listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    execution_async_id()
}

// 2. At `init`, trigger_data is the running trigger's record: tasks spawned from a task
// (grandchild -> child -> root -> block_on, since the block_on task is a resource too),
// timers and listeners created in a task, a blocking job and a task spawned from it.
#[test]
fn trigger_data_links_each_resource_to_its_creators_record() {
    for &flavor in FLAVORS {
        let (ids, tracker) = with_tracker((flavor, false), |rt| {
            rt.block_on(async {
                let block_on = execution_async_id();
                let root = hookrt::spawn(async {
                    let child = hookrt::spawn(async {
                        let grandchild = hookrt::spawn(timer_and_listener());
                        (timer_and_listener().await, grandchild.await.unwrap())
                    });
                    let root = timer_and_listener().await;
                    let job = task::spawn_blocking(|| {
                        let spawned = Handle::current().spawn(async { execution_async_id() });
                        (execution_async_id(), spawned)
                    });
                    let (job, from_job) = job.await.unwrap();
                    let (child, grandchild) = child.await.unwrap();
                    [root, child, grandchild, job, from_job.await.unwrap()]
                });
                let [root, child, grandchild, job, from_job] = root.await.unwrap();
                [block_on, root, child, grandchild, job, from_job]
            })
        });
        let [block_on, root, child, grandchild, job, from_job] = ids;
        tracker.assert_chain(flavor, block_on, &[]);
        tracker.assert_chain(flavor, root, &[block_on]);
        tracker.assert_chain(flavor, child, &[root, block_on]);
        tracker.assert_chain(flavor, grandchild, &[child, root, block_on]);
        tracker.assert_chain(flavor, job, &[root, block_on]);
        tracker.assert_chain(flavor, from_job, &[job, root, block_on]);
        let created = tracker.created.lock().unwrap();
        for task in [root, child, grandchild] {
            let made: Vec<_> = created.values().filter(|c| c.1 == task).collect();
            let has = |kind| made.iter().any(|c| c.0 == kind);
            let linked = made.iter().all(|c| c.2[0] == task);
            let ok = linked && has(ResourceKind::Timer) && has(ResourceKind::TcpListener);
            assert!(ok, "on {flavor:?}: made by {task}: {made:?}");
        }
        drop(created);
        tracker.assert_right(flavor);
    }
}

// 3. Cells are per hook: a tracker storing `Record<A>`, one storing `Record<B>` and a
// second one storing `Record<A>` each read back only their own record (own type, own
// instance) in every event, and reach only their own record of the trigger at `init`.
#[test]
fn each_hook_reads_back_only_its_own_value() {
    for &flavor in FLAVORS {
        let a1 = Arc::new(Tracker::<A, B>::default());
        let b2 = Arc::new(Tracker::<B, A>::default());
        let a3 = Arc::new(Tracker::<A, B>::default());
        let add = |b: &mut Builder| _ = b.hook(a1.clone()).hook(b2.clone()).hook(a3.clone());
        let block_on = run((flavor, false), add, |rt| {
            rt.block_on(async {
                let mut set = JoinSet::new();
                for _ in 0..20 {
                    set.spawn(async {
                        sleep(MS).await;
                        hookrt::spawn(task::yield_now()).await.unwrap();
                    });
                }
                while let Some(done) = set.join_next().await {
                    done.unwrap();
                }
                execution_async_id()
            })
        });
        a1.assert_right(flavor);
        b2.assert_right(flavor);
        a3.assert_right(flavor);
        // 20 tasks spawned from block_on, and the 20 timers and 20 tasks they created.
        let linked = [
            a1.linked_to(block_on),
            b2.linked_to(block_on),
            a3.linked_to(block_on),
        ];
        assert_eq!(linked, [60; 3], "on {flavor:?}");
    }
}

// 3b. Cells are per hook across runtimes too: a task that a task of runtime `a` spawns
// on runtime `b` has the `a` task as trigger, running on this thread; `b`'s tracker,
// which stored nothing there, must not be handed the record `a`'s tracker stored.
#[test]
fn trigger_data_is_not_another_runtimes_hooks_value() {
    let in_a = Arc::new(Tracker::<()>::default());
    let in_b = Arc::new(Tracker::<()>::default());
    let b = builder(Flavor::MultiThread(1)).hook(in_b.clone()).build();
    let a = builder(Flavor::CurrentThread).hook(in_a.clone()).build();
    let (a, b) = (a.unwrap(), b.unwrap());
    let b_handle = b.handle().clone();
    let (a_task, b_task) = a.block_on(async move {
        let a_task = hookrt::spawn(async move {
            let b_task = b_handle.spawn(async {});
            (execution_async_id(), b_task.id().async_id())
        });
        a_task.await.unwrap()
    });
    drop((a, b));
    in_a.assert_right(Flavor::CurrentThread);
    assert_eq!(in_b.created.lock().unwrap()[&b_task].1, a_task, "trigger");
    // Fails: "init of Task <b_task>: trigger_data is another's <a_task>".
    in_b.assert_right(Flavor::MultiThread(1));
    in_b.assert_chain("b, whose tracker never saw a_task", b_task, &[]);
}

// 4. A stored value is dropped exactly once, after its resource's `destroy`: tasks that
// finish, are aborted, are spawned just before or are pending at shutdown; timers that fire, time out
// or are pending; sockets; an `AsyncResource`; a blocking job; the block_on task.
#[test]
fn stored_values_are_dropped_once_after_destroy() {
    for &flavor in FLAVORS {
        let ((), tracker) = with_tracker((flavor, false), |rt| {
            rt.block_on(async {
                hookrt::spawn(async { sleep(MS).await }).await.unwrap();
                let forever = hookrt::spawn(pending::<()>());
                hookrt::spawn(async { sleep(Duration::from_secs(3600)).await });
                let aborted = hookrt::spawn(pending::<()>());
                aborted.abort();
                assert!(aborted.await.unwrap_err().is_cancelled());
                let _never_polled = hookrt::spawn(async {});
                timeout(MS, pending::<()>()).await.unwrap_err();
                task::spawn_blocking(|| ()).await.unwrap();
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let (client, server) = hookrt::join!(TcpStream::connect(addr), listener.accept());
                drop((client.unwrap(), server.unwrap(), listener));
                let job = hookrt::spawn(async { AsyncResource::new("job").in_scope(|| ()) });
                job.await.unwrap();
                drop(forever);
            })
        });
        let records = tracker.created.lock().unwrap().len();
        assert!(records >= 14, "on {flavor:?}: only {records} records");
        let destroyed = tracker.seen.destroyed.lock().unwrap().len();
        assert_eq!(destroyed, records, "on {flavor:?}");
        tracker.assert_right(flavor);
    }
}

// 5. An `AsyncResource` created in a task gets its own record, linked to the task's
// (one created in block_on, to the block_on task's); what is created inside its
// `in_scope` links to its record, and after the scope to the task's again. Its
// `before`/`after`/`destroy` find the record (2 scopes: 2 polls).
#[test]
fn async_resources_get_their_own_record_linked_to_the_task() {
    for &flavor in FLAVORS {
        let (ids, tracker) = with_tracker((flavor, false), |rt| {
            rt.block_on(async {
                let block_on = execution_async_id();
                let top = AsyncResource::new("top");
                let task = hookrt::spawn(async {
                    let step = AsyncResource::new("step");
                    let (inner, spawned) = step.in_scope(|| {
                        let inner = AsyncResource::new("inner").id();
                        (inner, hookrt::spawn(async { execution_async_id() }))
                    });
                    let spawned = spawned.await.unwrap();
                    let after = hookrt::spawn(async { execution_async_id() }).await.unwrap();
                    step.in_scope(|| ());
                    [execution_async_id(), step.id(), inner, spawned, after]
                });
                let [task, step, inner, spawned, after] = task.await.unwrap();
                [block_on, top.id(), task, step, inner, spawned, after]
            })
        });
        let [block_on, top, task, step, inner, spawned, after] = ids;
        tracker.assert_chain(flavor, top, &[block_on]);
        tracker.assert_chain(flavor, step, &[task, block_on]);
        tracker.assert_chain(flavor, inner, &[step, task, block_on]);
        tracker.assert_chain(flavor, spawned, &[step, task, block_on]);
        tracker.assert_chain(flavor, after, &[task, block_on]);
        let polls = tracker.seen.destroyed.lock().unwrap();
        let scopes = (polls.get(&step), polls.get(&inner));
        assert_eq!(scopes, (Some(&2), Some(&0)), "on {flavor:?}");
        drop(polls);
        tracker.assert_right(flavor);
    }
}
