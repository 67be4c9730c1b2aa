//! Async-hooks conformance: what Node's `test/async-hooks/*` and
//! `test/parallel/test-async-hooks-*.js` tests check about ids, trigger ids, the
//! execution frame and resource lifecycles, translated to Rust; plus the resource
//! context a hook reads (`Resource::context`, the request-tracing pattern of
//! test-async-exec-resource-http.js, whose `init` hook copies request state from the
//! current resource onto the new one).

mod support;

use hookrt::context::LocalStorage;
use hookrt::hooks::{
    execution_async_id, trigger_async_id, AsyncId, AsyncResource, Hook, Ledger, Resource,
    ResourceKind,
};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::runtime::Runtime;
use hookrt::task::{self, JoinSet};
use hookrt::time::{interval, sleep, timeout, Duration};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use support::{builder, check, Ev, Recorder, FLAVORS};

static REQUEST: LocalStorage<u32> = LocalStorage::named("request");

fn request() -> Option<u32> {
    REQUEST.get().as_deref().copied()
}

const MS: Duration = Duration::from_millis(1);
const LONG: Duration = Duration::from_secs(10);

/// One event as the probe saw it: which event, and the `REQUEST` value in the
/// resource's context at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    Init(ResourceKind, Option<u32>),
    Before(Option<u32>),
    After(Option<u32>),
    Resolve(Option<u32>),
    Destroy(Option<u32>),
    Wake(Option<u32>),
}

/// A hook that reads the request id from `Resource::context()` in every event.
#[derive(Default)]
struct ContextProbe(Mutex<Vec<(AsyncId, Seen)>>);

impl ContextProbe {
    fn record(&self, r: &Resource<'_>, seen: impl FnOnce(Option<u32>) -> Seen) {
        let value = r.context().get(&REQUEST).as_deref().copied();
        self.0.lock().unwrap().push((r.id(), seen(value)));
    }

    /// Everything seen for `id`, in order.
    fn of(&self, id: AsyncId) -> Vec<Seen> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, s)| *s)
            .collect()
    }

    /// Every initialised resource: id -> (kind, value at init).
    fn inits(&self) -> HashMap<AsyncId, (ResourceKind, Option<u32>)> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter_map(|(id, s)| match s {
                Seen::Init(kind, value) => Some((*id, (*kind, *value))),
                _ => None,
            })
            .collect()
    }

    /// The value seen at `id`'s destroy.
    fn at_destroy(&self, id: AsyncId) -> Option<Option<u32>> {
        self.of(id).into_iter().find_map(|s| match s {
            Seen::Destroy(value) => Some(value),
            _ => None,
        })
    }
}

impl Hook for ContextProbe {
    fn init(&self, r: &Resource<'_>) {
        let kind = r.kind();
        self.record(r, |v| Seen::Init(kind, v));
    }
    fn before(&self, r: &Resource<'_>) {
        self.record(r, Seen::Before);
    }
    fn after(&self, r: &Resource<'_>) {
        self.record(r, Seen::After);
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.record(r, Seen::Resolve);
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.record(r, Seen::Destroy);
    }
    fn wake(&self, r: &Resource<'_>, _by: AsyncId) {
        self.record(r, Seen::Wake);
    }
}

/// As `support::check`, with a [`ContextProbe`] installed next to the Ledger and the
/// Recorder; the probe is handed to `after` once the runtime has been dropped, so the
/// shutdown's events are in it.
fn check_with_probe<T>(
    body: impl Fn(&Runtime, &Recorder, &ContextProbe) -> T,
    after: impl Fn(T, &Recorder, &ContextProbe),
) {
    for &flavor in FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let recorder = Arc::new(Recorder::default());
        let probe = Arc::new(ContextProbe::default());
        let rt = builder(flavor)
            .enable_all()
            .hook(ledger.clone())
            .hook(recorder.clone())
            .hook(probe.clone())
            .build()
            .expect("runtime builds");
        let out = body(&rt, &recorder, &probe);
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
        after(out, &recorder, &probe);
    }
}

/// The ids of the resources of `kind` that `trigger` created.
fn created_by(rec: &Recorder, kind: ResourceKind, trigger: AsyncId) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init {
                id,
                kind: k,
                trigger: t,
                ..
            } if *k == kind && *t == trigger => Some(*id),
            _ => None,
        })
        .collect()
}

/// The ids of every resource of `kind`.
fn all_of(rec: &Recorder, kind: ResourceKind) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind: k, .. } if *k == kind => Some(*id),
            _ => None,
        })
        .collect()
}

/// What `init_reads_the_request_id_from_the_resource_context` hands to its checks.
struct Created {
    outside_task: AsyncId,
    inside_task: AsyncId,
    block_on: AsyncId,
}

// test-async-exec-resource-http.js / test-async-exec-resource-match.js (an `init` hook
// reads the request state current at a resource's creation): a hook reads
// the request id from `Resource::context()` in `init`. Tasks spawned inside
// `REQUEST.run(42, ..)` are reported with 42, and so are the timers, sockets, blocking
// jobs and `AsyncResource`s created there; a nested scope's resources carry its value;
// resources created outside carry none. `destroy` reports the creation context even
// when the resource is dropped outside the scope.
#[test]
fn init_reads_the_request_id_from_the_resource_context() {
    check_with_probe(
        |rt, _rec, _probe| {
            rt.block_on(async {
                let block_on = execution_async_id();
                let outside = hookrt::spawn(async {});
                let outside_task = outside.id().async_id();
                outside.await.unwrap();
                let (inside_task, leftovers) = REQUEST
                    .run(42, async {
                        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let addr = listener.local_addr().unwrap();
                        let task = hookrt::spawn(async move {
                            sleep(MS).await;
                            let (client, accepted) =
                                hookrt::join!(TcpStream::connect(addr), listener.accept());
                            timeout(LONG, async {}).await.unwrap();
                            interval(MS).tick().await;
                            REQUEST.run(7, async { sleep(MS).await }).await;
                            (client.unwrap(), accepted.unwrap().0)
                        });
                        let inside_task = task.id().async_id();
                        task::spawn_blocking(|| ()).await.unwrap();
                        let resource = AsyncResource::new("request-step");
                        (inside_task, (task.await.unwrap(), resource))
                    })
                    .await;
                drop(leftovers); // sockets and the AsyncResource die outside the scope
                Created {
                    outside_task,
                    inside_task,
                    block_on,
                }
            })
        },
        |created, rec, probe| {
            let inits = probe.inits();
            assert_eq!(inits[&created.block_on], (ResourceKind::Task, None));
            assert_eq!(inits[&created.outside_task], (ResourceKind::Task, None));
            assert_eq!(inits[&created.inside_task], (ResourceKind::Task, Some(42)));
            let values = |kind| -> Vec<Option<u32>> {
                let mut v: Vec<_> = all_of(rec, kind).iter().map(|id| inits[id].1).collect();
                v.sort_unstable();
                v
            };
            assert_eq!(
                values(ResourceKind::Timer),
                [Some(7), Some(42), Some(42), Some(42)],
                "sleep, timeout, interval in the task; the sleep inside run(7)"
            );
            assert_eq!(values(ResourceKind::TcpListener), [Some(42)]);
            assert_eq!(values(ResourceKind::TcpStream), [Some(42), Some(42)]);
            assert_eq!(values(ResourceKind::Blocking), [Some(42)]);
            assert_eq!(values(ResourceKind::Custom("request-step")), [Some(42)]);
            for (id, (kind, value)) in &inits {
                assert_eq!(
                    probe.at_destroy(*id),
                    Some(*value),
                    "{kind} {id}: destroy shows the creation context"
                );
            }
        },
    );
}

// The same from the other side, over many concurrent requests: the value a hook reads
// at a task's `init` is the value that task itself sees when it runs.
#[test]
fn the_value_a_hook_reads_is_the_value_the_task_sees() {
    check_with_probe(
        |rt, _rec, _probe| {
            rt.block_on(async {
                let mut set = JoinSet::new();
                for id in 0..100u32 {
                    set.spawn(REQUEST.run(id, async move {
                        let mut children = JoinSet::new();
                        for _ in 0..3 {
                            children.spawn(async {
                                task::yield_now().await;
                                (task::id().async_id(), request())
                            });
                        }
                        let mut seen = vec![(task::id().async_id(), request())];
                        while let Some(child) = children.join_next().await {
                            seen.push(child.unwrap());
                        }
                        seen
                    }));
                }
                let mut seen = Vec::new();
                while let Some(done) = set.join_next().await {
                    seen.extend(done.unwrap());
                }
                seen
            })
        },
        |seen, _rec, probe| {
            assert_eq!(seen.len(), 400);
            let inits = probe.inits();
            for (id, value) in seen {
                let (_, at_init) = inits[&id];
                if at_init.is_none() {
                    // The request task itself: spawned outside the scope, its value
                    // comes from the `run` future it polls.
                    assert!(value.is_some());
                } else {
                    assert_eq!(at_init, value, "task {id}");
                }
            }
        },
    );
}

// test/async-hooks/test-timers.setTimeout.js, test-queue-microtask.js,
// test-embedder.api.async-resource.js, test-fsreqcallback-readFile.js, test-tcpwrap.js:
// a resource's trigger is the execution that created it. A timer, a child task, a
// blocking job, sockets and an `AsyncResource` created in a task name that task; an
// `AsyncResource` or a task created inside `in_scope` names the resource. (Unlike
// Node's test-tcpwrap.js, where a server-side connection names the server, hookrt's
// accepted stream names the execution that accepted it: net/tcp/listener.rs.)
#[test]
fn trigger_ids_name_the_creating_execution() {
    check(|rt, rec| {
        let (parent, child, resource, in_resource, spawned_in_resource) = rt.block_on(async {
            hookrt::spawn(async {
                let me = execution_async_id();
                sleep(MS).await;
                let child = hookrt::spawn(async { execution_async_id() });
                let child = child.await.unwrap();
                let resource = AsyncResource::new("conformance");
                assert_eq!(resource.trigger_id(), me);
                let in_resource = resource.in_scope(|| AsyncResource::new("inner"));
                assert_eq!(in_resource.trigger_id(), resource.id());
                let spawned = resource.in_scope(|| hookrt::spawn(async {}));
                let spawned_in_resource = spawned.id().async_id();
                spawned.await.unwrap();
                task::spawn_blocking(|| ()).await.unwrap();
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let (client, accepted) = hookrt::join!(TcpStream::connect(addr), listener.accept());
                drop((client.unwrap(), accepted.unwrap()));
                (
                    me,
                    child,
                    resource.id(),
                    in_resource.id(),
                    spawned_in_resource,
                )
            })
            .await
            .unwrap()
        });
        assert_eq!(
            rec.trigger_of(child),
            Some(parent),
            "a task spawned in a task"
        );
        assert_eq!(rec.trigger_of(resource), Some(parent), "an AsyncResource");
        assert_eq!(rec.trigger_of(in_resource), Some(resource));
        assert_eq!(rec.trigger_of(spawned_in_resource), Some(resource));
        let timers = all_of(rec, ResourceKind::Timer);
        assert_eq!(timers.len(), 1);
        assert_eq!(rec.trigger_of(timers[0]), Some(parent), "a timer");
        assert_eq!(
            created_by(rec, ResourceKind::Blocking, parent).len(),
            1,
            "a blocking job"
        );
        assert_eq!(created_by(rec, ResourceKind::TcpListener, parent).len(), 1);
        assert_eq!(
            created_by(rec, ResourceKind::TcpStream, parent).len(),
            2,
            "the connecting and the accepted stream both name the task that made them"
        );
    });
}

// test/async-hooks/test-timers.setTimeout.js: a timer's life is init, before, after,
// destroy; the callback (here: waking the task) runs between its before and after,
// and the task's wake names the timer.
#[test]
fn a_timer_brackets_the_wake_of_its_task() {
    check(|rt, rec| {
        // A sleep already due at its first poll (the thread stalled 20 ms between
        // creating and polling it, which a loaded machine can do) fires inline, with
        // nobody to wake: then try again, a few times at most.
        for _attempt in 0..5 {
            let task = rt.block_on(async {
                let handle = hookrt::spawn(async { sleep(Duration::from_millis(20)).await });
                let id = handle.id().async_id();
                handle.await.unwrap();
                id
            });
            let timers = created_by(rec, ResourceKind::Timer, task);
            assert_eq!(timers.len(), 1);
            let timer = timers[0];
            rec.wait_destroyed(timer);
            assert_eq!(rec.names_for(timer), ["init", "before", "after", "destroy"]);
            if rec.wakes_of(task).is_empty() {
                continue; // fired inline at the first poll
            }
            assert_eq!(rec.wakes_of(task), [timer]);
            let events = rec.events();
            let at = |wanted: &Ev| events.iter().position(|e| e == wanted).unwrap();
            let woken = at(&Ev::Wake {
                id: task,
                by: timer,
            });
            assert!(at(&Ev::Before(timer)) < woken && woken < at(&Ev::After(timer)));
            return;
        }
        panic!("the sleep fired inline at its first poll five times in a row");
    });
}

// test-embedder.api.async-resource.js, test-async-hooks-asyncresource-constructor.js:
// inside `in_scope` the execution id is the resource's and the trigger id its
// creator's, whoever calls it; the resource's context is the one captured at `new`;
// each call is one before/after pair; everything is restored afterwards.
#[test]
fn in_scope_runs_as_the_resource() {
    check(|rt, rec| {
        let (resource, nested) = rt.block_on(async {
            let (creator, resource) = hookrt::spawn(async {
                let resource = REQUEST.run_sync(5, || AsyncResource::new("callback"));
                (execution_async_id(), resource)
            })
            .await
            .unwrap();
            let caller = hookrt::spawn(REQUEST.run(6, async move {
                let me = execution_async_id();
                let inside = resource.in_scope(|| (execution_async_id(), trigger_async_id()));
                assert_eq!(inside, (resource.id(), creator));
                assert_eq!(resource.in_scope(request), Some(5), "the creation context");
                let nested = AsyncResource::new("nested");
                let seen = resource.in_scope(|| {
                    let inner =
                        nested.in_scope(|| (execution_async_id(), trigger_async_id(), request()));
                    (inner, execution_async_id(), request())
                });
                assert_eq!(seen, ((nested.id(), me, Some(6)), resource.id(), Some(5)));
                assert_eq!((execution_async_id(), request()), (me, Some(6)), "restored");
                (resource.id(), nested.id())
            }));
            caller.await.unwrap()
        });
        assert_eq!(
            rec.names_for(resource),
            ["init", "before", "after", "before", "after", "before", "after", "destroy"]
        );
        assert_eq!(
            rec.names_for(nested),
            ["init", "before", "after", "destroy"]
        );
    });
}

/// Node's recursive `runInAsyncScope` check, one level.
fn recurse(depth: u32) {
    let resource = AsyncResource::new("recursive");
    resource.in_scope(|| {
        assert_eq!(execution_async_id(), resource.id());
        assert_eq!(trigger_async_id(), resource.trigger_id());
        if depth > 0 {
            recurse(depth - 1);
        }
        assert_eq!(execution_async_id(), resource.id());
        assert_eq!(trigger_async_id(), resource.trigger_id());
    });
}

// test/parallel/test-async-hooks-recursive-stack-runInAsyncScope.js: 1 000 resources, each created
// and entered inside the previous one's scope: each sees its own ids before and after
// the deeper levels, and each names the previous level as its trigger.
#[test]
fn recursive_in_scope_keeps_each_levels_ids() {
    check(|rt, rec| {
        let task = rt.block_on(async {
            hookrt::spawn(async {
                recurse(999);
                execution_async_id()
            })
            .await
            .unwrap()
        });
        let chain = all_of(rec, ResourceKind::Custom("recursive"));
        assert_eq!(chain.len(), 1_000);
        assert_eq!(rec.trigger_of(chain[0]), Some(task));
        for pair in chain.windows(2) {
            assert_eq!(rec.trigger_of(pair[1]), Some(pair[0]));
        }
    });
}

// test-async-wrap-getasyncid.js (top-level ids), test-fsreqcallback-readFile.js (pool
// work runs as its own resource): outside any resource the ids are ROOT; inside a
// task, its own id and its spawner's; a blocking job runs as itself. Where Node runs a
// timer callback as the timer, here the timer only wakes the task, and the code after
// the `sleep` still runs as the task.
#[test]
fn execution_ids_in_tasks_blocking_jobs_and_outside() {
    check(|rt, rec| {
        assert_eq!(
            (execution_async_id(), trigger_async_id()),
            (AsyncId::ROOT, AsyncId::ROOT)
        );
        let (block_on, task, in_task, blocking) = rt.block_on(async {
            let block_on = execution_async_id();
            assert_ne!(block_on, AsyncId::ROOT);
            assert_eq!(trigger_async_id(), AsyncId::ROOT);
            let handle = hookrt::spawn(async {
                let before = (execution_async_id(), trigger_async_id());
                assert_eq!(before.0, task::id().async_id());
                sleep(MS).await;
                assert_eq!((execution_async_id(), trigger_async_id()), before);
                before
            });
            let task = handle.id().async_id();
            let in_task = handle.await.unwrap();
            let blocking = task::spawn_blocking(|| (execution_async_id(), trigger_async_id()));
            let blocking = blocking.await.unwrap();
            assert_eq!(execution_async_id(), block_on, "restored after each await");
            (block_on, task, in_task, blocking)
        });
        assert_eq!(in_task, (task, block_on));
        assert_eq!(
            created_by(rec, ResourceKind::Blocking, block_on),
            [blocking.0],
            "the job runs as its own resource"
        );
        assert_eq!(blocking.1, block_on);
        assert_eq!(
            (execution_async_id(), trigger_async_id()),
            (AsyncId::ROOT, AsyncId::ROOT)
        );
    });
}

// test-async-local-storage-enter-with.js seen from a hook: `enter_with` changes the
// current resource's store, so a task's later `before`, `resolve` and `destroy` show
// the entered value (and resources it creates afterwards carry it), while `init` shows
// the spawn-time value and `wake` (which may run on any thread) keeps showing it.
#[test]
fn hooks_see_an_enter_with_in_the_tasks_later_events() {
    check_with_probe(
        |rt, _rec, _probe| {
            rt.block_on(async {
                let handle = REQUEST.run_sync(1, || {
                    hookrt::spawn(async {
                        REQUEST.enter_with(2);
                        task::yield_now().await;
                        sleep(MS).await;
                    })
                });
                let id = handle.id().async_id();
                handle.await.unwrap();
                id
            })
        },
        |task, rec, probe| {
            let seen = probe.of(task);
            assert_eq!(seen[0], Seen::Init(ResourceKind::Task, Some(1)));
            assert_eq!(
                seen[1],
                Seen::Before(Some(1)),
                "the first poll starts at spawn time"
            );
            let befores: Vec<_> = seen
                .iter()
                .filter(|s| matches!(s, Seen::Before(_)))
                .collect();
            assert!(befores.len() >= 2, "the yield makes a second poll");
            assert!(befores[1..].iter().all(|s| **s == Seen::Before(Some(2))));
            assert!(seen.contains(&Seen::Resolve(Some(2))));
            assert_eq!(probe.at_destroy(task), Some(Some(2)));
            let wakes: Vec<_> = seen.iter().filter(|s| matches!(s, Seen::Wake(_))).collect();
            assert!(!wakes.is_empty());
            assert!(
                wakes.iter().all(|s| **s == Seen::Wake(Some(1))),
                "{wakes:?}"
            );
            let timer = created_by(rec, ResourceKind::Timer, task);
            assert_eq!(
                probe.inits()[&timer[0]],
                (ResourceKind::Timer, Some(2)),
                "a timer created after enter_with"
            );
        },
    );
}
