//! `task_local!` and `task::LocalKey`: tokio's scoped, non-inherited task-local values
//! (contrast with `context::LocalStorage`, which spawned tasks inherit).

mod support;

use hookrt::context::LocalStorage;
use hookrt::sync::oneshot;
use hookrt::task::{self, AccessError, LocalKey};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use support::check;

hookrt::task_local! {
    static NUMBER: u32;
    static NAME: String;
}

hookrt::task_local! {
    static OTHER: u32
}

/// Declarations keep their attributes and visibility; the last one may omit its `;`.
mod keys {
    hookrt::task_local! {
        /// A documented public key.
        pub static PUBLIC: u64;

        #[allow(dead_code)]
        pub(crate) static CRATE: Vec<u8>;

        #[allow(dead_code)]
        static PRIVATE: ()
    }
}

/// What `with` panics with outside a scope (the start of it: tokio's message).
const NOT_SET: &str = "cannot access a task-local storage value without setting it first";

/// A waker that does nothing, to poll futures by hand.
fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// Polls `future` once by hand.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = noop_waker();
    future.poll(&mut Context::from_waker(&waker))
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn scope_sets_the_value_across_awaits() {
    check(|rt, _rec| {
        rt.block_on(async {
            assert_eq!(NUMBER.try_get(), Err(first_error()));
            let out = NUMBER
                .scope(7, async {
                    assert_eq!(NUMBER.get(), 7);
                    task::yield_now().await;
                    assert_eq!(NUMBER.get(), 7);
                    hookrt::time::sleep(Duration::from_millis(1)).await;
                    assert_eq!(NUMBER.get(), 7);
                    task::yield_now().await;
                    NUMBER.with(|n| *n + 1)
                })
                .await;
            assert_eq!(out, 8);
            assert!(NUMBER.try_with(|_| ()).is_err());
        });
    });
}

/// An `AccessError` obtained the ordinary way (it has no public constructor).
fn first_error() -> AccessError {
    NUMBER.try_with(|_| ()).unwrap_err()
}

#[test]
fn nested_scopes_restore_the_outer_value() {
    check(|rt, _rec| {
        rt.block_on(async {
            NUMBER
                .scope(1, async {
                    assert_eq!(NUMBER.get(), 1);
                    let inner = NUMBER
                        .scope(2, async {
                            assert_eq!(NUMBER.get(), 2);
                            hookrt::time::sleep(Duration::from_millis(1)).await;
                            NUMBER.scope(3, async { NUMBER.get() }).await + NUMBER.get()
                        })
                        .await;
                    assert_eq!(inner, 5);
                    assert_eq!(NUMBER.get(), 1);
                    task::yield_now().await;
                    assert_eq!(NUMBER.get(), 1);
                })
                .await;
            assert!(NUMBER.try_get().is_err());
        });
    });
}

#[test]
#[should_panic(expected = "cannot access a task-local storage value without setting it first")]
fn with_outside_a_scope_panics() {
    NUMBER.with(|_| ());
}

#[test]
fn with_outside_a_scope_panics_naming_the_fix() {
    let payload = catch_unwind(|| NAME.get()).unwrap_err();
    let message = panic_message(&*payload);
    assert!(message.starts_with(NOT_SET), "{message}");
    assert!(message.contains("`NAME.scope(value, future)`"), "{message}");
    assert!(message.contains("`NAME.sync_scope(value, f)`"), "{message}");
    assert!(message.contains("LocalStorage"), "{message}");
}

#[test]
fn try_with_outside_a_scope_is_an_error() {
    assert_eq!(NUMBER.try_with(|n| *n), Err(first_error()));
    assert_eq!(
        NUMBER.try_get().unwrap_err().to_string(),
        "task-local value not set"
    );
    check(|rt, _rec| {
        rt.block_on(async {
            assert!(NUMBER.try_with(|n| *n).is_err());
            let spawned = hookrt::spawn(async { NAME.try_get() }).await.unwrap();
            assert!(spawned.is_err());
            assert_eq!(NUMBER.scope(4, async { NUMBER.try_get() }).await, Ok(4));
        });
    });
}

#[test]
fn sync_scope_sets_the_value_for_the_closure() {
    assert_eq!(NUMBER.sync_scope(3, || NUMBER.get() * 2), 6);
    assert!(NUMBER.try_get().is_err());

    // Nested, and mixed with async scopes.
    NUMBER.sync_scope(1, || {
        NUMBER.sync_scope(2, || assert_eq!(NUMBER.get(), 2));
        assert_eq!(NUMBER.get(), 1);
        let mut future = pin!(NUMBER.scope(5, async { NUMBER.get() }));
        assert_eq!(poll_once(future.as_mut()), Poll::Ready(5));
        assert_eq!(NUMBER.get(), 1);
    });

    // Restored when the closure panics.
    NUMBER.sync_scope(1, || {
        let result = catch_unwind(|| NUMBER.sync_scope(2, || panic!("boom")));
        assert!(result.is_err());
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_get().is_err());

    check(|rt, _rec| {
        rt.block_on(async {
            let name = NAME.sync_scope("ada".to_string(), || NAME.with(|n| n.clone()));
            assert_eq!(name, "ada");
            NUMBER
                .scope(10, async {
                    task::yield_now().await;
                    assert_eq!(NUMBER.sync_scope(11, || NUMBER.get()), 11);
                    assert_eq!(NUMBER.get(), 10);
                })
                .await;
        });
    });
}

#[test]
fn spawned_tasks_do_not_inherit_the_value_but_local_storage_does() {
    static INHERITED: LocalStorage<u32> = LocalStorage::named("inherited");

    check(|rt, _rec| {
        rt.block_on(async {
            let seen = INHERITED
                .run(
                    1,
                    NUMBER.scope(1, async {
                        assert_eq!(NUMBER.get(), 1);
                        assert_eq!(INHERITED.get().as_deref(), Some(&1));
                        hookrt::spawn(async {
                            task::yield_now().await;
                            (NUMBER.try_get(), INHERITED.get().as_deref().copied())
                        })
                        .await
                        .unwrap()
                    }),
                )
                .await;
            // The documented difference: `task_local!` is scoped to the future,
            // `LocalStorage` follows it into the tasks it spawns.
            assert!(
                seen.0.is_err(),
                "task_local! value leaked into a spawned task"
            );
            assert_eq!(seen.1, Some(1), "LocalStorage value not inherited");

            // The same through `spawn_blocking`.
            let blocking = NUMBER
                .scope(2, async {
                    task::spawn_blocking(|| NUMBER.try_get()).await.unwrap()
                })
                .await;
            assert!(blocking.is_err());

            // And `with` in a spawned task panics with the message naming the fix.
            let err = NUMBER
                .scope(3, async { hookrt::spawn(async { NUMBER.get() }).await })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert!(panic_message(&*err.into_panic()).starts_with(NOT_SET));
        });
    });
}

#[test]
fn the_value_is_restored_after_a_panicking_poll() {
    let mut polls = 0;
    let mut future = pin!(NUMBER.scope(
        2,
        std::future::poll_fn(|_| {
            polls += 1;
            assert_eq!(NUMBER.get(), 2);
            if polls == 1 {
                panic!("first poll panics");
            }
            Poll::Ready(NUMBER.get())
        })
    ));

    NUMBER.sync_scope(1, || {
        let result = catch_unwind(AssertUnwindSafe(|| poll_once(future.as_mut())));
        assert!(result.is_err());
        assert_eq!(NUMBER.get(), 1, "outer value not restored after the panic");
        // The scoped future kept its value and can be polled again.
        assert_eq!(poll_once(future.as_mut()), Poll::Ready(2));
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_get().is_err());

    // Without an outer scope, the key is unset again after the panic.
    let mut future = pin!(NUMBER.scope(5, async { panic!("always") }));
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(future.as_mut()))).is_err());
    assert!(NUMBER.try_get().is_err());

    // On the runtime: a task whose scoped future panics leaves no value behind on its
    // worker thread.
    check(|rt, _rec| {
        rt.block_on(async {
            let err = hookrt::spawn(NUMBER.scope(6, async {
                task::yield_now().await;
                panic!("in a scope");
            }))
            .await
            .unwrap_err();
            assert!(err.is_panic());
            for _ in 0..4 {
                let after = hookrt::spawn(async { NUMBER.try_get() }).await.unwrap();
                assert!(after.is_err());
            }
            assert!(NUMBER.try_get().is_err());
        });
    });
}

#[test]
fn get_copies_copy_values_and_clones_clone_values() {
    check(|rt, _rec| {
        rt.block_on(async {
            let n: u32 = NUMBER.scope(9, async { NUMBER.get() + NUMBER.get() }).await;
            assert_eq!(n, 18);
            let name = NAME
                .scope("grace".to_string(), async {
                    hookrt::time::sleep(Duration::from_millis(1)).await;
                    NAME.get()
                })
                .await;
            assert_eq!(name, "grace");
            assert_eq!(
                keys::PUBLIC
                    .scope(u64::MAX, async { keys::PUBLIC.get() })
                    .await,
                u64::MAX
            );
        });
    });
}

#[test]
fn two_keys_are_independent() {
    check(|rt, _rec| {
        rt.block_on(async {
            NUMBER
                .scope(1, async {
                    assert!(OTHER.try_get().is_err());
                    OTHER
                        .scope(2, async {
                            task::yield_now().await;
                            assert_eq!((NUMBER.get(), OTHER.get()), (1, 2));
                            NUMBER
                                .scope(3, async {
                                    hookrt::time::sleep(Duration::from_millis(1)).await;
                                    assert_eq!((NUMBER.get(), OTHER.get()), (3, 2));
                                })
                                .await;
                            assert_eq!((NUMBER.get(), OTHER.get()), (1, 2));
                        })
                        .await;
                    assert!(OTHER.try_get().is_err());
                    assert_eq!(NUMBER.get(), 1);
                })
                .await;
        });
    });
}

#[test]
fn interleaved_tasks_each_see_their_own_value() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut handles = Vec::new();
            for i in 0..8u32 {
                handles.push(hookrt::spawn(NUMBER.scope(i, async move {
                    for round in 0..20 {
                        assert_eq!(NUMBER.get(), i, "round {round}");
                        if round % 5 == 0 {
                            hookrt::time::sleep(Duration::from_millis(1)).await;
                        } else {
                            task::yield_now().await;
                        }
                    }
                    NUMBER.get()
                })));
            }
            for (i, handle) in handles.into_iter().enumerate() {
                assert_eq!(handle.await.unwrap(), i as u32);
            }
        });
    });
}

/// Records, when dropped, the value of `NUMBER` it sees.
struct ReadOnDrop(Arc<Mutex<Vec<Option<u32>>>>);

impl Drop for ReadOnDrop {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(NUMBER.try_get().ok());
    }
}

#[test]
fn the_value_is_set_while_the_future_is_dropped() {
    // Dropped before completion, by hand.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let guard = ReadOnDrop(seen.clone());
    let mut future = Box::pin(NUMBER.scope(4, async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }));
    assert_eq!(poll_once(future.as_mut()), Poll::Pending);
    NUMBER.sync_scope(1, || {
        drop(future);
        assert_eq!(NUMBER.get(), 1);
    });
    // Never polled.
    let guard = ReadOnDrop(seen.clone());
    drop(NUMBER.scope(5, async move { drop(guard) }));
    // Completed: the inner future's locals are dropped inside the poll.
    let guard = ReadOnDrop(seen.clone());
    let mut future = pin!(NUMBER.scope(6, async move { drop(guard) }));
    assert_eq!(poll_once(future.as_mut()), Poll::Ready(()));
    assert_eq!(*seen.lock().unwrap(), [Some(4), Some(5), Some(6)]);
    assert!(NUMBER.try_get().is_err());

    // On the runtime: an aborted task.
    check(|rt, _rec| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (started_tx, started_rx) = oneshot::channel();
        let guard = ReadOnDrop(seen.clone());
        let handle = rt.spawn(NUMBER.scope(7, async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        }));
        rt.block_on(async {
            started_rx.await.unwrap();
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
        });
        assert_eq!(*seen.lock().unwrap(), [Some(7)]);
    });

    // And a task cancelled by shutdown (started or not).
    for &flavor in support::FLAVORS {
        let (rt, ledger, _rec) = support::runtime(flavor);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (started_tx, started_rx) = oneshot::channel();
        let guard = ReadOnDrop(seen.clone());
        rt.spawn(NUMBER.scope(8, async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        }));
        rt.block_on(async { started_rx.await.unwrap() });
        let guard = ReadOnDrop(seen.clone());
        rt.spawn(NUMBER.scope(9, async move { drop(guard) }));
        drop(rt);
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        assert_eq!(seen, [Some(8), Some(9)], "on {flavor:?}");
        ledger.assert_balanced();
    }
}

#[test]
fn entering_a_scope_inside_with_on_the_same_key_panics() {
    let payload = catch_unwind(|| {
        NUMBER.sync_scope(1, || NUMBER.with(|_| NUMBER.sync_scope(2, || ())));
    })
    .unwrap_err();
    assert!(panic_message(&*payload)
        .starts_with("cannot enter a task-local scope while the task-local storage is borrowed"));
    // The outer scope was unwound and restored.
    assert!(NUMBER.try_get().is_err());
    // Another key is fine.
    let both = NUMBER.sync_scope(1, || {
        NUMBER.with(|n| OTHER.sync_scope(2, || *n + OTHER.get()))
    });
    assert_eq!(both, 3);
}

#[test]
fn take_value_returns_the_value_once() {
    check(|rt, _rec| {
        rt.block_on(async {
            let mut future = Box::pin(NUMBER.scope(42, async {
                task::yield_now().await;
                NUMBER.get()
            }));
            assert_eq!(future.as_mut().await, 42);
            assert_eq!(future.as_mut().take_value(), Some(42));
            assert_eq!(future.as_mut().take_value(), None);
        });
    });

    // Taken before completion: the inner future no longer sees it.
    let mut future = pin!(NUMBER.scope(1, async {
        task::yield_now().await;
        NUMBER.try_get()
    }));
    assert_eq!(poll_once(future.as_mut()), Poll::Pending);
    assert_eq!(future.as_mut().take_value(), Some(1));
    assert!(matches!(poll_once(future.as_mut()), Poll::Ready(Err(_))));
}

#[test]
#[should_panic(expected = "`TaskLocalFuture` polled after completion")]
fn polling_after_completion_panics() {
    let mut future = pin!(NUMBER.scope(1, async {}));
    assert_eq!(poll_once(future.as_mut()), Poll::Ready(()));
    let _ = poll_once(future.as_mut());
}

#[test]
fn keys_are_statics_usable_through_references() {
    fn read(key: &'static LocalKey<u32>) -> Option<u32> {
        key.try_get().ok()
    }
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    assert_eq!(read(&NUMBER), None);
    assert_eq!(
        NUMBER.sync_scope(12, || {
            COUNT.fetch_add(1, Ordering::SeqCst);
            read(&NUMBER)
        }),
        Some(12)
    );
    assert_eq!(COUNT.load(Ordering::SeqCst), 1);
    assert_eq!(
        format!("{:?}", keys::PUBLIC),
        "LocalKey { name: \"PUBLIC\", .. }"
    );
}
