//! `LocalStorage::enter_with` in a task: the rest of the task and the tasks it spawns
//! from then on see the value; siblings spawned before, and the parent, do not.

mod support;

use hookrt::context::LocalStorage;
use hookrt::task;
use support::check;

static REQUEST: LocalStorage<u32> = LocalStorage::new();

fn value() -> Option<u32> {
    REQUEST.get().map(|v| *v)
}

#[test]
fn enter_with_reaches_later_polls_and_later_children_only() {
    check(|rt, _rec| {
        rt.block_on(async {
            let parent = hookrt::spawn(async {
                let sibling = hookrt::spawn(async {
                    task::yield_now().await;
                    value()
                });
                REQUEST.enter_with(7);
                assert_eq!(value(), Some(7));
                task::yield_now().await;
                assert_eq!(value(), Some(7), "kept across polls of the same task");
                hookrt::time::sleep(std::time::Duration::from_millis(1)).await;
                assert_eq!(value(), Some(7), "kept across a timer wait");
                let child = hookrt::spawn(async { value() });
                (sibling.await.unwrap(), child.await.unwrap(), value())
            });
            let (sibling, child, own) = parent.await.unwrap();
            assert_eq!(
                sibling, None,
                "a sibling spawned before enter_with does not see it"
            );
            assert_eq!(
                child,
                Some(7),
                "a child spawned after enter_with inherits it"
            );
            assert_eq!(own, Some(7));
            assert_eq!(value(), None, "the parent (block_on) does not see it");
        });
    });
}

#[test]
fn enter_with_replaces_a_run_value_for_the_rest_of_the_task() {
    check(|rt, _rec| {
        let seen = rt.block_on(REQUEST.run(1, async {
            let task = hookrt::spawn(async {
                let before = value();
                REQUEST.enter_with(2);
                task::yield_now().await;
                (before, value())
            });
            let inner = task.await.unwrap();
            (inner, value())
        }));
        assert_eq!(seen, ((Some(1), Some(2)), Some(1)));
    });
}
