//! `LocalStorage` / `Context` conformance: the scoping rules that Node's own
//! `test/{async-hooks,parallel}/test-async-local-storage-*.js` tests check, translated
//! to Rust.
//!
//! Each test names the Node test it comes from. How values travel through timers,
//! sockets, the blocking pool and threads is in `context_propagation.rs`; what hooks see
//! is in `hooks_conformance.rs`.

mod support;

use futures::FutureExt;
use hookrt::context::{Context, LocalStorage};
use hookrt::task::{self, JoinSet};
use hookrt::time::{sleep, Duration};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use support::check;

static REQUEST: LocalStorage<u32> = LocalStorage::named("request");
static USER: LocalStorage<&'static str> = LocalStorage::named("user");

hookrt::task_local! {
    static TASK_LOCAL: u32;
}

fn request() -> Option<u32> {
    REQUEST.get().as_deref().copied()
}

fn user() -> Option<&'static str> {
    USER.get().as_deref().copied()
}

const MS: Duration = Duration::from_millis(1);

/// Runs `f` on a thread with a 64 MiB stack and propagates its panic, if any.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    let thread = std::thread::Builder::new()
        .name("big-stack".into())
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn a big-stack thread");
    if let Err(panic) = thread.join() {
        resume_unwind(panic);
    }
}

// test-async-local-storage-nested.js: an inner `run` shadows the outer value for its
// extent only, and the value is shared (the same object), not copied.
#[test]
fn nested_run_restores_the_outer_value() {
    check(|rt, _rec| {
        let seen = rt.block_on(REQUEST.run(1, async {
            let outer = REQUEST.get().unwrap();
            let inner = REQUEST
                .run(2, async {
                    let first = request();
                    task::yield_now().await;
                    let after_yield = request();
                    let innermost = REQUEST
                        .run(3, async {
                            sleep(MS).await;
                            request()
                        })
                        .await;
                    (first, after_yield, innermost, request())
                })
                .await;
            assert_eq!(
                request(),
                Some(1),
                "the outer value is back after the inner run"
            );
            assert!(
                Arc::ptr_eq(&outer, &REQUEST.get().unwrap()),
                "the same stored value, not a copy"
            );
            let in_child = hookrt::spawn(async { REQUEST.get().unwrap() })
                .await
                .unwrap();
            assert!(Arc::ptr_eq(&outer, &in_child), "a child shares the value");
            let sync = REQUEST.run_sync(4, || (request(), REQUEST.run_sync(5, request), request()));
            (inner, sync, request())
        }));
        assert_eq!(
            seen,
            (
                (Some(2), Some(2), Some(3), Some(2)),
                (Some(4), Some(5), Some(4)),
                Some(1)
            )
        );
        assert_eq!(request(), None, "nothing leaks out of block_on");
    });
}

// test-async-local-storage-exit-does-not-leak.js / test-async-local-storage-enable-disable.js:
// `exit` hides the value from everything it runs (awaits and children included) and
// the value is back afterwards; other storages are untouched.
#[test]
fn exit_hides_the_value_and_then_restores_it() {
    check(|rt, _rec| {
        rt.block_on(REQUEST.run(1, async {
            USER.run("ada", async {
                let inside = REQUEST
                    .exit(async {
                        let first = (request(), user());
                        task::yield_now().await;
                        let child = hookrt::spawn(async { (request(), user()) }).await.unwrap();
                        sleep(MS).await;
                        (first, child, (request(), user()))
                    })
                    .await;
                assert_eq!(
                    inside,
                    (
                        (None, Some("ada")),
                        (None, Some("ada")),
                        (None, Some("ada"))
                    )
                );
                assert_eq!((request(), user()), (Some(1), Some("ada")));
                assert_eq!(REQUEST.exit_sync(request), None);
                assert_eq!(request(), Some(1), "restored after exit_sync");
                let child = hookrt::spawn(async { request() }).await.unwrap();
                assert_eq!(child, Some(1), "children spawned after exit see the value");
            })
            .await
        }));
    });
}

// test-async-local-storage-exit-does-not-leak.js: a `run` (or `enter_with`) of the same
// storage inside `exit` is scoped to the exit, and the outer value comes back after it.
#[test]
fn run_and_enter_with_of_the_same_storage_inside_exit() {
    check(|rt, _rec| {
        rt.block_on(REQUEST.run(1, async {
            let seen = REQUEST
                .exit(async {
                    let inner = REQUEST
                        .run(2, async {
                            task::yield_now().await;
                            request()
                        })
                        .await;
                    (inner, request())
                })
                .await;
            assert_eq!(seen, (Some(2), None));
            assert_eq!(request(), Some(1));

            let entered = REQUEST
                .exit(async {
                    REQUEST.enter_with(3);
                    task::yield_now().await;
                    let child = hookrt::spawn(async { request() }).await.unwrap();
                    (request(), child)
                })
                .await;
            assert_eq!(entered, (Some(3), Some(3)));
            assert_eq!(
                request(),
                Some(1),
                "enter_with inside exit does not leak out"
            );
        }));
    });
}

// test-async-local-storage-no-mix-contexts.js: two storages never see each other's
// values, `exit` of one leaves the other, and two concurrent requests stay apart.
#[test]
fn two_storages_are_isolated() {
    check(|rt, _rec| {
        rt.block_on(async {
            let first = hookrt::spawn(REQUEST.run(1, async {
                USER.run("world", async {
                    sleep(MS).await;
                    let both = (request(), user());
                    let without_request = REQUEST.exit(async {
                        task::yield_now().await;
                        (request(), user())
                    });
                    let without_request = without_request.await;
                    let without_user = USER.exit_sync(|| (request(), user()));
                    (both, without_request, without_user)
                })
                .await
            }));
            let second = hookrt::spawn(REQUEST.run(2, async {
                sleep(MS).await;
                let before = (request(), user());
                let with_user = USER.run("earth", async { (request(), user()) }).await;
                (before, with_user, (request(), user()))
            }));
            let (first, second) = (first.await.unwrap(), second.await.unwrap());
            assert_eq!(
                first,
                (
                    (Some(1), Some("world")),
                    (None, Some("world")),
                    (Some(1), None)
                )
            );
            assert_eq!(
                second,
                ((Some(2), None), (Some(2), Some("earth")), (Some(2), None))
            );
            assert_eq!((request(), user()), (None, None));
        });
    });
}

const DEPTH: u32 = 10_000;

/// `DEPTH` nested `run_sync` calls; returns the value seen at the bottom.
fn nest_sync(depth: u32) -> Option<u32> {
    if depth == 0 {
        return request();
    }
    REQUEST.run_sync(depth, || {
        assert_eq!(request(), Some(depth));
        let bottom = nest_sync(depth - 1);
        assert_eq!(request(), Some(depth), "restored after level {}", depth - 1);
        bottom
    })
}

/// `depth` nested `run` futures (boxed, so the type is finite), with a suspension at
/// the bottom so the whole chain is polled twice and dropped after.
fn nest_async(depth: u32) -> Pin<Box<dyn Future<Output = Option<u32>> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            task::yield_now().await;
            return request();
        }
        let here = request();
        let bottom = REQUEST.run(depth, nest_async(depth - 1)).await;
        assert_eq!(request(), here, "restored after level {}", depth - 1);
        bottom
    })
}

// test-async-local-storage-deep-stack.js (nodejs/node#34556): deeply nested `run`
// calls must not overflow. The recursion is DEPTH = 10 000 levels deep (the user's own
// recursion plus each `run_sync` / `Scoped::poll` frame). Measured: it needs between
// 1 and 2 MiB with the workspace's dev profile (opt-level 1) and between 2 and 8 MiB at
// opt-level 0, so it would not fit the 2 MiB default test-thread stack in every build:
// the body runs on a 64 MiB thread (`block_on` polls on the calling thread, so the
// async chain runs there too).
#[test]
fn ten_thousand_nested_runs_do_not_overflow_the_stack() {
    on_big_stack(|| {
        check(|rt, _rec| {
            let (sync, deep) = rt.block_on(async {
                let sync = nest_sync(DEPTH);
                assert_eq!(request(), None);
                let deep = nest_async(DEPTH).await;
                assert_eq!(request(), None);
                (sync, deep)
            });
            assert_eq!((sync, deep), (Some(1), Some(1)));
        });
    });
}

// test-async-local-storage-snapshot.js (AsyncLocalStorage.snapshot()): a snapshot keeps
// the values it was taken with, wherever and whenever it is run later.
#[test]
fn a_snapshot_keeps_the_values_it_was_taken_with() {
    check(|rt, _rec| {
        let snapshot = REQUEST.run_sync(123, Context::current);
        let seen = rt.block_on(REQUEST.run(321, async {
            let sync = snapshot.run_sync(request);
            let later = snapshot
                .run(async {
                    task::yield_now().await;
                    let child = hookrt::spawn(async { request() }).await.unwrap();
                    (request(), child)
                })
                .await;
            (sync, later, request())
        }));
        assert_eq!(seen, (Some(123), (Some(123), Some(123)), Some(321)));

        // A snapshot taken before a change keeps the old value.
        let seen = rt.block_on(async {
            hookrt::spawn(async {
                REQUEST.enter_with(1);
                let before = Context::current();
                REQUEST.enter_with(2);
                task::yield_now().await;
                let after = Context::current();
                (
                    before.get(&REQUEST).as_deref().copied(),
                    before.run_sync(request),
                    after.get(&REQUEST).as_deref().copied(),
                    request(),
                )
            })
            .await
            .unwrap()
        });
        assert_eq!(seen, (Some(1), Some(1), Some(2), Some(2)));
    });
}

// test-async-local-storage-snapshot.js, the empty case: a snapshot taken outside any
// store (or `Context::empty()`) hides every storage while it runs.
#[test]
fn the_empty_context_hides_every_storage() {
    check(|rt, _rec| {
        let taken_outside = Context::current();
        assert!(taken_outside.is_empty());
        rt.block_on(REQUEST.run(1, async {
            USER.run("ada", async {
                assert_eq!(
                    Context::empty().run_sync(|| (request(), user())),
                    (None, None)
                );
                assert_eq!(taken_outside.run_sync(|| (request(), user())), (None, None));
                let inside = Context::empty()
                    .run(async {
                        task::yield_now().await;
                        let child = hookrt::spawn(async { (request(), user()) }).await.unwrap();
                        (child, (request(), user()))
                    })
                    .await;
                assert_eq!(inside, ((None, None), (None, None)));
                assert_eq!((request(), user()), (Some(1), Some("ada")));
            })
            .await
        }));
    });
}

// test-async-local-storage-errors.js (err1: thrown inside `run`, caught outside, where
// the store is back to what it was; err2: the exception handlers see the store of the
// throwing scope): an exception (a panic) thrown inside `run` does not leave the inner value behind: the
// outer value is intact, whether the panic is caught by a JoinHandle, by
// `catch_unwind` around a future in the same task, or around `run_sync`. Code that
// runs while the panic unwinds (drop guards) still sees the inner value, as Node's
// exception handlers see the store of the throwing scope.
#[test]
fn a_panic_inside_run_leaves_the_outer_value_intact() {
    struct Probe(Arc<Mutex<Option<Option<u32>>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(request());
        }
    }

    check(|rt, _rec| {
        let during_unwind = Arc::new(Mutex::new(None));
        let probe = Probe(during_unwind.clone());
        rt.block_on(REQUEST.run(1, async move {
            let handle = hookrt::spawn(REQUEST.run(2, async move {
                let _probe = probe;
                task::yield_now().await;
                panic!("panic inside run, on purpose");
            }));
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(request(), Some(1));

            let caught = AssertUnwindSafe(REQUEST.run(3, async {
                task::yield_now().await;
                panic!("panic inside run in the same task, on purpose");
            }))
            .catch_unwind()
            .await;
            assert!(caught.is_err());
            assert_eq!(request(), Some(1), "restored in the task that caught it");
            task::yield_now().await;
            assert_eq!(request(), Some(1), "and still after the next await");

            let caught = catch_unwind(|| {
                REQUEST.run_sync(4, || {
                    REQUEST.run_sync(5, || panic!("panic inside run_sync, on purpose"))
                })
            });
            assert!(caught.is_err());
            assert_eq!(request(), Some(1), "restored after run_sync unwinds");
            let child = hookrt::spawn(async { request() }).await.unwrap();
            assert_eq!(child, Some(1));
        }));
        assert_eq!(*during_unwind.lock().unwrap(), Some(Some(2)));

        // Tasks polled next on the thread that ran the panicking one see nothing of it.
        for _ in 0..16 {
            let handle = rt.spawn(async {
                task::yield_now().await;
                request()
            });
            assert_eq!(rt.block_on(handle).unwrap(), None);
        }
    });
}

// The contrast Node draws between AsyncLocalStorage and a plain "current value": a
// `task_local!` value is scoped to its future and NOT inherited by spawned tasks or
// blocking jobs, while a `LocalStorage` value IS.
#[test]
fn task_local_is_not_inherited_while_local_storage_is() {
    check(|rt, _rec| {
        let seen = rt.block_on(TASK_LOCAL.scope(
            5,
            REQUEST.run(5, async {
                assert_eq!((TASK_LOCAL.try_get().ok(), request()), (Some(5), Some(5)));
                let child = hookrt::spawn(async { (TASK_LOCAL.try_get().ok(), request()) })
                    .await
                    .unwrap();
                let blocking = task::spawn_blocking(|| (TASK_LOCAL.try_get().ok(), request()))
                    .await
                    .unwrap();
                let mut set = JoinSet::new();
                set.spawn(async { (TASK_LOCAL.try_get().ok(), request()) });
                let joined = set.join_next().await.unwrap().unwrap();
                (
                    child,
                    blocking,
                    joined,
                    (TASK_LOCAL.try_get().ok(), request()),
                )
            }),
        ));
        assert_eq!(
            seen,
            (
                (None, Some(5)),
                (None, Some(5)),
                (None, Some(5)),
                (Some(5), Some(5))
            )
        );
    });
}

// test-async-local-storage-enter-with.js, extended: a value entered in a task reaches
// the children it spawns afterwards *and their children*, never the children of a
// sibling spawned before, nor the parent; a grandchild's own `enter_with` stays its own.
#[test]
fn enter_with_reaches_grandchildren_but_not_the_siblings_line() {
    check(|rt, _rec| {
        let (early, later, own, parent) = rt.block_on(async {
            let parent = hookrt::spawn(async {
                let early = hookrt::spawn(async {
                    task::yield_now().await;
                    let grandchild = hookrt::spawn(async { request() }).await.unwrap();
                    (request(), grandchild)
                });
                REQUEST.enter_with(7);
                task::yield_now().await;
                let later = hookrt::spawn(async {
                    task::yield_now().await;
                    let grandchild = hookrt::spawn(async {
                        task::yield_now().await;
                        let great = hookrt::spawn(async { request() }).await.unwrap();
                        (request(), great)
                    });
                    REQUEST.enter_with(8);
                    let second = hookrt::spawn(async { request() }).await.unwrap();
                    (request(), grandchild.await.unwrap(), second)
                });
                (early.await.unwrap(), later.await.unwrap(), request())
            });
            let seen = parent.await.unwrap();
            (seen.0, seen.1, seen.2, request())
        });
        assert_eq!(
            early,
            (None, None),
            "a sibling spawned before, and its child"
        );
        assert_eq!(
            later,
            (Some(8), (Some(7), Some(7)), Some(8)),
            "the grandchild spawned before the child's own enter_with keeps 7"
        );
        assert_eq!(
            own,
            Some(7),
            "the child's enter_with does not reach its parent"
        );
        assert_eq!(parent, None);
    });
}

// test-async-local-storage-promises.js: a task spawned inside a synchronous scope keeps
// that scope's value when it is awaited outside it; a plain future created inside the
// scope (not wrapped in `run`) runs in the context of whoever polls it.
#[test]
fn values_follow_spawn_time_for_tasks_and_poll_time_for_plain_futures() {
    check(|rt, _rec| {
        let seen = rt.block_on(REQUEST.run(1, async {
            let (handle, plain, wrapped) = REQUEST.run_sync(2, || {
                (
                    hookrt::spawn(async {
                        task::yield_now().await;
                        request()
                    }),
                    async { request() },
                    REQUEST.run(3, async { request() }),
                )
            });
            (handle.await.unwrap(), plain.await, wrapped.await, request())
        }));
        assert_eq!(seen, (Some(2), Some(1), Some(3), Some(1)));
    });
}

/// A value whose liveness the test can observe.
struct Tracked(#[allow(dead_code)] Arc<()>);

static TRACKED: LocalStorage<Tracked> = LocalStorage::named("tracked");

// test-async-local-storage-gcable.js: a stored value is released once the scope has
// ended and every task (and blocking job) that inherited it is gone; the runtime keeps
// no reference of its own.
#[test]
fn a_value_is_released_when_its_scope_and_its_tasks_end() {
    check(|rt, _rec| {
        let token = Arc::new(());
        rt.block_on(async {
            TRACKED
                .run(Tracked(token.clone()), async {
                    assert_eq!(Arc::strong_count(&token), 2);
                    let mut set = JoinSet::new();
                    for i in 0..8u64 {
                        set.spawn(async move {
                            sleep(Duration::from_millis(i % 3)).await;
                            TRACKED.get().is_some()
                        });
                    }
                    // A detached task and a blocking job inherit it too.
                    drop(hookrt::spawn(async {
                        sleep(MS).await;
                    }));
                    let blocking = task::spawn_blocking(|| TRACKED.get().is_some());
                    while let Some(seen) = set.join_next().await {
                        assert!(seen.unwrap());
                    }
                    assert!(blocking.await.unwrap());
                })
                .await;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while Arc::strong_count(&token) > 1 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the value is still referenced ({} refs)",
                    Arc::strong_count(&token)
                );
                sleep(MS).await;
            }
        });
    });
}

const REQUESTS: u32 = 1_000;
const STEPS: u32 = 10;

/// One request: STEPS async steps of different kinds, asserting its value after each.
async fn request_steps(id: u32) -> u32 {
    for step in 0..STEPS {
        match (id + step) % 4 {
            0 => task::yield_now().await,
            1 => sleep(Duration::ZERO).await,
            2 => {
                let child = hookrt::spawn(async move {
                    task::yield_now().await;
                    request()
                });
                assert_eq!(
                    child.await.unwrap(),
                    Some(id),
                    "request {id} step {step} child"
                );
            }
            _ => {
                if step % 2 == 0 {
                    sleep(MS).await;
                } else {
                    task::yield_now().await;
                }
            }
        }
        assert_eq!(request(), Some(id), "request {id} after step {step}");
    }
    id
}

// test-async-local-storage-http-multiclients.js (and the project's seed scenario):
// many concurrent requests, each doing several async steps, never see another
// request's value. Half carry the value in their task frame (spawned inside
// `run_sync`), half in a `run` future (spawned from outside any scope).
#[test]
fn a_thousand_concurrent_requests_never_see_each_others_values() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            for id in 0..REQUESTS {
                if id % 2 == 0 {
                    REQUEST.run_sync(id, || set.spawn(request_steps(id)));
                } else {
                    set.spawn(REQUEST.run(id, request_steps(id)));
                }
                assert_eq!(request(), None);
            }
            let mut done = vec![false; REQUESTS as usize];
            while let Some(id) = set.join_next().await {
                done[id.unwrap() as usize] = true;
            }
            assert!(done.iter().all(|d| *d));
        });
    });
}
