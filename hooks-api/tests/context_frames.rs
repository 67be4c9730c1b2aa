//! The context frame representation seen from the public API: `run_sync` scopes that
//! are captured, deep nesting, `enter_with` inside borrowed and stack scopes, value
//! reuse, and release of a context left on an exiting thread.

use hookrt_hooks::{Context, LocalStorage};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static A: LocalStorage<u64> = LocalStorage::named("a");
static B: LocalStorage<String> = LocalStorage::named("b");

fn a() -> Option<u64> {
    A.get().as_deref().copied()
}

fn b() -> Option<String> {
    B.get().as_deref().cloned()
}

#[test]
fn a_snapshot_taken_inside_nested_run_sync_outlives_the_scopes() {
    let (first, second) = A.run_sync(1, || {
        B.run_sync("x".into(), || (Context::current(), Context::current()))
    });
    assert!(first.ptr_eq(&second), "the scope's frame is built once");
    assert_eq!((a(), b()), (None, None));
    assert_eq!(first.len(), 2);
    assert_eq!(first.get(&A).as_deref(), Some(&1));
    assert_eq!(first.get(&B).as_deref().map(String::as_str), Some("x"));
    // A later scope reuses value allocations; the snapshot's values are its own.
    A.run_sync(2, || assert_eq!(a(), Some(2)));
    assert_eq!(first.run_sync(a), Some(1));
}

#[test]
fn inner_settings_shadow_outer_ones_and_exit_sync_hides_them() {
    A.run_sync(1, || {
        B.run_sync("outer".into(), || {
            A.run_sync(2, || {
                assert_eq!((a(), b()), (Some(2), Some("outer".into())));
                A.exit_sync(|| {
                    assert_eq!((a(), b()), (None, Some("outer".into())));
                    let snapshot = Context::current();
                    assert_eq!(snapshot.len(), 1, "only B is set");
                    assert_eq!(snapshot.get(&A), None);
                });
                assert_eq!(a(), Some(2));
            });
            assert_eq!(a(), Some(1));
        });
    });
    assert_eq!((a(), b()), (None, None));
}

#[test]
fn deep_alternating_nesting_reads_every_level_right() {
    fn nest(level: u64) {
        if level == 60 {
            return;
        }
        if level % 2 == 0 {
            A.run_sync(level, || {
                assert_eq!(a(), Some(level));
                let expected_b = level.checked_sub(1).map(|l| l.to_string());
                assert_eq!(b(), expected_b, "the other storage, set one level up");
                nest(level + 1);
                assert_eq!(a(), Some(level));
            });
        } else {
            B.run_sync(level.to_string(), || {
                assert_eq!(a(), Some(level - 1));
                nest(level + 1);
                assert_eq!(b(), Some(level.to_string()));
            });
        }
    }
    nest(0);
    assert_eq!((a(), b()), (None, None));
}

#[test]
fn enter_with_inside_run_sync_ends_with_the_scope() {
    A.run_sync(1, || {
        B.enter_with("entered".into());
        assert_eq!((a(), b()), (Some(1), Some("entered".into())));
        A.enter_with(5);
        assert_eq!(a(), Some(5));
    });
    assert_eq!((a(), b()), (None, None));

    let ctx = A.run_sync(7, Context::current);
    ctx.run_sync(|| {
        A.enter_with(8);
        assert_eq!(a(), Some(8));
    });
    assert_eq!(ctx.get(&A).as_deref(), Some(&7), "snapshots never change");
    assert_eq!(a(), None);
}

#[test]
fn with_keeps_its_borrow_valid_across_enter_with() {
    Context::empty().run_sync(|| {
        A.enter_with(1);
        A.with(|value| {
            A.enter_with(2); // releases the frame that held 1, unless `with` kept it
            A.enter_with(3);
            assert_eq!(value, Some(&1));
        });
        assert_eq!(a(), Some(3));
    });
}

#[test]
fn a_context_left_on_an_exiting_thread_is_released() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    static C: LocalStorage<Counted> = LocalStorage::new();
    std::thread::spawn(|| {
        C.enter_with(Counted);
        assert!(C.get().is_some());
    })
    .join()
    .unwrap();
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}

#[test]
fn run_sync_values_are_dropped_at_the_end_of_their_scope() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    static C: LocalStorage<Counted> = LocalStorage::new();
    C.run_sync(Counted, || {});
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    let kept: Arc<Counted> = C.run_sync(Counted, || C.get().unwrap());
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "a reader still holds it");
    drop(kept);
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
}

#[test]
fn a_snapshot_taken_inside_a_run_future_outlives_it() {
    use std::future::Future;
    use std::task::{Poll, Wake, Waker};
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = std::task::Context::from_waker(&waker);

    let mut snapshots = Vec::new();
    // `run` builds on the context current when it is called (as in Node).
    let mut future = B.run_sync("base".into(), || {
        Box::pin(A.run(
            4,
            std::future::poll_fn(|_| {
                snapshots.push(Context::current());
                if snapshots.len() < 3 {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }),
        ))
    });
    while future.as_mut().poll(&mut cx).is_pending() {
        assert_eq!((a(), b()), (None, None), "restored between polls");
    }
    drop(future);
    assert!(
        snapshots[0].ptr_eq(&snapshots[2]),
        "built once, then reused: {snapshots:?}"
    );
    for snapshot in &snapshots {
        assert_eq!(snapshot.get(&A).as_deref(), Some(&4));
        assert_eq!(
            snapshot.get(&B).as_deref().map(String::as_str),
            Some("base")
        );
    }
}
