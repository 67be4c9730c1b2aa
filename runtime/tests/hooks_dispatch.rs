//! Hook dispatch: panicking hooks, `AsyncResource`, id uniqueness, task names.

mod support;

use hookrt::hooks::{
    execution_async_id, trigger_async_id, AsyncId, AsyncResource, Hook, Ledger, Resource,
    ResourceKind,
};
use hookrt::runtime::Builder;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{check, Ev};

/// Panics on its second `init`; counts every call it gets.
#[derive(Default)]
struct PanicsOnSecondInit {
    inits: AtomicUsize,
    calls: AtomicUsize,
}

impl Hook for PanicsOnSecondInit {
    fn init(&self, _r: &Resource<'_>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.inits.fetch_add(1, Ordering::SeqCst) == 1 {
            panic!("hook failure on purpose");
        }
    }
    fn before(&self, _r: &Resource<'_>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_panicking_hook_is_disabled_and_other_hooks_keep_their_events() {
    let bad = Arc::new(PanicsOnSecondInit::default());
    let ledger = Arc::new(Ledger::new());
    let rt = Builder::new_current_thread()
        .hook(bad.clone())
        .hook(ledger.clone())
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let mut total = 0;
        for i in 0..10 {
            total += hookrt::spawn(async move { i }).await.unwrap();
        }
        total
    });
    assert_eq!(total, 45, "tasks ran normally through the hook panic");
    drop(rt);
    // init(block_on), before(block_on), then init(task 0) panics: nothing after that.
    assert_eq!(
        bad.calls.load(Ordering::SeqCst),
        3,
        "no call after the panic"
    );
    assert_eq!(
        ledger.inits(),
        11,
        "the ledger saw every init, the one after the panic too"
    );
    ledger.assert_balanced();
}

#[test]
fn async_resource_in_scope_sets_the_execution_frame() {
    check(|rt, rec| {
        let (resource_id, task_id, inside) = rt.block_on(async {
            hookrt::spawn(async {
                let task_id = execution_async_id();
                let resource = AsyncResource::new("db-checkout");
                assert_eq!(resource.trigger_id(), task_id);
                let inside = resource.in_scope(|| (execution_async_id(), trigger_async_id()));
                assert_eq!(execution_async_id(), task_id, "the frame is restored");
                (resource.id(), task_id, inside)
            })
            .await
            .unwrap()
        });
        assert_eq!(inside, (resource_id, task_id));
        assert_eq!(
            rec.names_for(resource_id),
            ["init", "before", "after", "destroy"]
        );
        assert!(rec.events().iter().any(|e| matches!(e,
            Ev::Init { id, kind: ResourceKind::Custom("db-checkout"), .. } if *id == resource_id)));
    });
}

#[test]
fn async_resource_in_scope_closes_its_bracket_on_panic() {
    check(|rt, rec| {
        let id = rt.block_on(async {
            let resource = AsyncResource::new("callback");
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                resource.in_scope(|| panic!("callback failure on purpose"))
            }));
            assert!(caught.is_err());
            resource.id()
        });
        assert_eq!(rec.names_for(id), ["init", "before", "after", "destroy"]);
    });
}

#[test]
fn task_builder_names_reach_hooks() {
    check(|rt, rec| {
        rt.block_on(async {
            hookrt::task::Builder::new()
                .name("fetch-user")
                .spawn(async {})
                .unwrap()
                .await
                .unwrap();
        });
        let id = rec
            .id_named("fetch-user")
            .expect("a task init with the name");
        assert_eq!(
            rec.names_for(id),
            ["init", "before", "resolve", "after", "destroy"]
        );
    });
}

/// Records spawn locations of task inits.
#[derive(Default)]
struct Locations(Mutex<Vec<(String, u32)>>);

impl Hook for Locations {
    fn init(&self, r: &Resource<'_>) {
        if let Some(loc) = r.location() {
            self.0
                .lock()
                .unwrap()
                .push((loc.file().to_owned(), loc.line()));
        }
    }
}

#[test]
fn spawn_reports_the_callers_location() {
    let locations = Arc::new(Locations::default());
    let rt = Builder::new_current_thread()
        .hook(locations.clone())
        .build()
        .unwrap();
    let line = line!() + 1;
    rt.block_on(async { hookrt::spawn(async {}).await.unwrap() });
    drop(rt);
    let seen = locations.0.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|(file, _)| file.ends_with("hooks_dispatch.rs")),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(file!().to_owned(), line)),
        "spawn at line {line}: {seen:?}"
    );
}

#[test]
fn ids_are_unique_across_a_million_resources() {
    let ledger = Arc::new(Ledger::without_event_log());
    let rt = Builder::new_current_thread()
        .hook(ledger.clone())
        .build()
        .unwrap();
    // 200 000 tasks and 800 000 ids from four other threads.
    let task_ids = rt.block_on(async {
        let handles: Vec<_> = (0..200_000).map(|_| hookrt::spawn(async {})).collect();
        let ids: Vec<AsyncId> = handles.iter().map(|h| h.id().async_id()).collect();
        for h in handles {
            h.await.unwrap();
        }
        ids
    });
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                (0..200_000)
                    .map(|_| AsyncId::allocate())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen: HashSet<AsyncId> = task_ids.into_iter().collect();
    for t in threads {
        for id in t.join().unwrap() {
            assert!(seen.insert(id), "id {id} handed out twice");
        }
    }
    assert_eq!(seen.len(), 1_000_000);
    assert!(!seen.contains(&AsyncId::ROOT));
    drop(rt);
    ledger.assert_balanced();
}
