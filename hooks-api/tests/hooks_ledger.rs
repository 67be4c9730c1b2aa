//! The Ledger detects each kind of invariant violation and accepts correct sequences.

use hookrt_hooks::*;
use std::panic::Location;
use std::sync::Arc;

/// The cap on stored violations documented on `LedgerReport::violations`.
const MAX_STORED_VIOLATIONS: usize = 50;

use std::panic::catch_unwind;
use std::thread;

static EMPTY: Context = Context::empty();

/// Feeds `script` to `ledger`: `;`-separated steps `event n [m]` over resources r0..r9
/// (tasks, except the timer r9). `init n m` inits rn triggered by rm and `wake n m`
/// wakes rn by rm; without `m`, ROOT. Returns the ids of r0..r9.
fn run(ledger: &Ledger, script: &str) -> Vec<AsyncId> {
    let ids: Vec<AsyncId> = (0..10).map(|_| AsyncId::allocate()).collect();
    let mut triggers = [AsyncId::ROOT; 10];
    for step in script.split(';') {
        let words: Vec<&str> = step.split_whitespace().collect();
        let n: usize = words[1].parse().unwrap();
        let m = words
            .get(2)
            .map_or(AsyncId::ROOT, |m| ids[m.parse::<usize>().unwrap()]);
        if words[0] == "init" {
            triggers[n] = m;
        }
        let kind = if n == 9 {
            ResourceKind::Timer
        } else {
            ResourceKind::Task
        };
        let r = Resource::new(ids[n], triggers[n], kind, &EMPTY);
        match words[0] {
            "init" => ledger.init(&r),
            "before" => ledger.before(&r),
            "after" => ledger.after(&r),
            "resolve" => ledger.resolve(&r),
            "destroy" => ledger.destroy(&r),
            "wake" => ledger.wake(&r, m),
            other => panic!("unknown step {other:?}"),
        }
    }
    ids
}

/// Asserts that `script` yields exactly one violation, about `event`, naming `problem`.
fn check(script: &str, event: &str, problem: &str) {
    let ledger = Ledger::new();
    run(&ledger, script);
    let report = ledger.report();
    assert_eq!(report.violation_count, 1, "{script}\n{report}");
    let message = &report.violations[0];
    assert!(message.starts_with(event), "{script}\n{report}");
    assert!(message.contains(problem), "{script}\n{report}");
    assert!(!report.is_consistent() && !report.is_balanced());
    assert!(catch_unwind(|| ledger.assert_consistent()).is_err());
}

#[test]
fn each_broken_invariant_is_reported() {
    check("init 0; init 0", "init", "initialised twice");
    check("init 1 2", "init", "trigger");
    check("init 0 0", "init", "trigger");
    check("before 0", "before", "never initialised");
    check("wake 0", "wake", "never initialised");
    check("init 0; destroy 0; destroy 0", "destroy", "destroyed");
    check("init 0; destroy 0; before 0", "before", "destroyed");
    check("init 0; destroy 0; resolve 0", "resolve", "destroyed");
    check("init 0; destroy 0; wake 0", "wake", "destroyed");
    check(
        "init 0; init 1; before 0; before 1; after 0",
        "after",
        "innermost",
    );
    check("init 0; after 0", "after", "no open before");
    check("init 0; wake 0 1", "wake", "waker");
    check("init 9; resolve 9", "resolve", "only tasks");
    check("init 0; resolve 0; resolve 0", "resolve", "twice");
}

#[test]
fn correct_sequences_are_balanced() {
    for script in [
        "init 0; before 0; after 0; destroy 0",
        "init 0; before 0; init 1 0; wake 1 0; after 0; destroy 0; wake 1 0; destroy 1",
        "init 9; init 0 9; destroy 9; init 1 0; before 0; before 1; after 1; after 0; \
         before 1; resolve 1; after 1; destroy 1; destroy 0",
    ] {
        let ledger = Ledger::new();
        run(&ledger, script);
        ledger.assert_balanced();
    }
}

#[test]
fn events_are_kept_per_id_in_order() {
    let ledger = Ledger::new();
    let name = Some("worker");
    let ids = run(&ledger, "init 0; before 0; init 1 0; wake 1 0; after 0");
    let me = thread::current().id();
    let child = Resource::new(ids[1], ids[0], ResourceKind::Task, &EMPTY).with_name(name);
    ledger.before(&child);
    ledger.resolve(&child);
    ledger.after(&child);
    ledger.destroy(&child);
    let init = LedgerEvent::Init {
        trigger: ids[0],
        kind: ResourceKind::Task,
        thread: me,
    };
    let wake = LedgerEvent::Wake {
        by: ids[0],
        thread: me,
    };
    let (before, resolve) = (LedgerEvent::Before(me), LedgerEvent::Resolve(me));
    let (after, destroy) = (LedgerEvent::After(me), LedgerEvent::Destroy(me));
    let expected = vec![init, wake, before, resolve, after, destroy];
    assert_eq!(ledger.events_for(ids[1]), expected);
    assert_eq!(ledger.wakes(), vec![(ids[1], ids[0])]);
    assert_eq!(ledger.trigger_of(ids[1]), Some(ids[0]));
    assert_eq!(ledger.kind_of(ids[1]), Some(ResourceKind::Task));
    assert_eq!(
        ledger.name_of(ids[1]),
        None,
        "the name is the one given at init"
    );
    assert_eq!(
        (ledger.inits(), ledger.destroys(), ledger.live()),
        (2, 1, 1)
    );
    ledger.assert_consistent();
}

#[test]
fn a_leak_or_an_open_bracket_is_consistent_but_not_balanced() {
    let ledger = Ledger::new();
    let here = Some(Location::caller());
    let leak = Resource::new(
        AsyncId::allocate(),
        AsyncId::ROOT,
        ResourceKind::Timer,
        &EMPTY,
    )
    .with_name(Some("leaky"))
    .with_location(here);
    ledger.init(&leak);
    ledger.before(&leak);
    let report = ledger.report();
    assert_eq!(report.live, vec![leak.id()]);
    assert_eq!(
        report.open_brackets,
        vec![(thread::current().id(), vec![leak.id()])]
    );
    let text = report.to_string();
    assert!(text.contains("Timer") && text.contains("\"leaky\"") && text.contains(file!()));
    assert_eq!(ledger.name_of(leak.id()).as_deref(), Some("leaky"));
    ledger.assert_consistent();
    assert!(catch_unwind(|| ledger.assert_balanced()).is_err());
}

#[test]
fn a_view_that_disagrees_with_its_init_is_reported() {
    let ledger = Ledger::new();
    let ids = run(&ledger, "init 0");
    ledger.destroy(&Resource::new(
        ids[0],
        AsyncId::ROOT,
        ResourceKind::Timer,
        &EMPTY,
    ));
    assert!(ledger.violations()[0].contains("differs from init"));
}

#[test]
fn violations_are_capped_but_all_counted() {
    let ledger = Ledger::without_event_log();
    run(
        &ledger,
        &["destroy 0"; MAX_STORED_VIOLATIONS + 10].join(";"),
    );
    let report = ledger.report();
    assert_eq!(report.violations.len(), MAX_STORED_VIOLATIONS);
    assert_eq!(report.violation_count, MAX_STORED_VIOLATIONS + 10);
    assert!(report.to_string().contains("... and 10 more"));
}

#[test]
fn brackets_are_per_thread_and_the_event_log_is_optional() {
    let ledger = Arc::new(Ledger::without_event_log());
    let script = "init 0; init 1 0; before 0; before 1; wake 0 1; after 1; after 0; \
                  destroy 1; destroy 0";
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let ledger = ledger.clone();
            thread::spawn(move || (0..500).for_each(|_| drop(run(&ledger, script))))
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    ledger.assert_balanced();
    assert_eq!((ledger.inits(), ledger.destroys()), (4000, 4000));
    let ids = run(&ledger, "init 0; wake 0");
    assert!(ledger.events_for(ids[0]).is_empty() && ledger.wakes().is_empty());
}

#[test]
fn an_async_resource_is_balanced_through_a_hook_set() {
    let ledger = Arc::new(Ledger::new());
    let set = HookSetBuilder::new().hook(ledger.clone()).build();
    let _enter = set.enter();
    let resource = AsyncResource::new("checkout");
    resource.in_scope(|| ());
    let id = resource.id();
    drop(resource);
    ledger.assert_balanced();
    assert_eq!(ledger.kind_of(id), Some(ResourceKind::Custom("checkout")));
    assert_eq!(ledger.events_for(id).len(), 4);
}
