//! Sampler: probability 0 forwards nothing, 1 everything, 0.1 about a tenth of the
//! roots; descendants always follow their root.

mod support;

use hookrt::hooks::{AsyncId, Hook, Ledger, Resource};
use hookrt_observe::{SamplePolicy, Sampled, Sampler, SAMPLED};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{finish, runtime, wait_until, FLAVORS};

/// Records the id and trigger of every forwarded `init`, and counts every event.
#[derive(Default)]
struct Seen {
    inits: Mutex<HashMap<AsyncId, AsyncId>>,
    events: Mutex<u64>,
}

impl Seen {
    fn bump(&self) {
        *self.events.lock().unwrap() += 1;
    }
    fn events(&self) -> u64 {
        *self.events.lock().unwrap()
    }
    fn inits(&self) -> HashMap<AsyncId, AsyncId> {
        self.inits.lock().unwrap().clone()
    }
}

impl Hook for Seen {
    fn init(&self, r: &Resource<'_>) {
        self.inits.lock().unwrap().insert(r.id(), r.trigger_id());
        self.bump();
    }
    fn before(&self, _: &Resource<'_>) {
        self.bump();
    }
    fn after(&self, _: &Resource<'_>) {
        self.bump();
    }
    fn destroy(&self, _: &Resource<'_>) {
        self.bump();
    }
    fn wake(&self, _: &Resource<'_>, _: AsyncId) {
        self.bump();
    }
}

/// The outcome of one run of `roots` request trees of 3 resources each (a root task,
/// a child task and a timer in the child).
struct Run {
    /// Forwarded inits: id -> trigger.
    inits: HashMap<AsyncId, AsyncId>,
    /// Every root, with its child task.
    trees: Vec<(AsyncId, AsyncId)>,
    events: u64,
}

fn run(flavor: support::Flavor, policy: SamplePolicy, roots: usize) -> Run {
    let seen = Arc::new(Seen::default());
    // The inner Ledger checks that what it is shown is a consistent stream: every
    // trigger initialised before its children, nothing after destroy.
    let inner_ledger = Arc::new(Ledger::without_event_log());
    let sampler = Sampler::new(Both(seen.clone(), inner_ledger.clone()), policy);
    let (rt, ledger) = runtime(flavor, vec![Box::new(sampler)]);
    let trees = rt.block_on(async move {
        let mut joins = Vec::with_capacity(roots);
        for _ in 0..roots {
            joins.push(hookrt::spawn(async {
                let root = hookrt::hooks::execution_async_id();
                let child = hookrt::spawn(async {
                    let timer = hookrt::time::sleep(Duration::from_micros(1));
                    timer.await;
                    hookrt::hooks::execution_async_id()
                });
                let child_id = child.await.unwrap();
                (root, child_id)
            }));
        }
        let mut trees = Vec::with_capacity(roots);
        for j in joins {
            let (root, child) = j.await.unwrap();
            trees.push((root, child));
        }
        trees
    });
    finish(rt, &ledger);
    let report = inner_ledger.report();
    assert!(report.is_balanced(), "{report}");
    Run {
        inits: seen.inits(),
        trees,
        events: seen.events(),
    }
}

/// Two hooks as one: the test's recorder and a Ledger behind one Sampler.
struct Both(Arc<Seen>, Arc<Ledger>);

impl Hook for Both {
    fn init(&self, r: &Resource<'_>) {
        self.0.init(r);
        self.1.init(r);
    }
    fn before(&self, r: &Resource<'_>) {
        self.0.before(r);
        self.1.before(r);
    }
    fn after(&self, r: &Resource<'_>) {
        self.0.after(r);
        self.1.after(r);
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.0.resolve(r);
        self.1.resolve(r);
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.0.destroy(r);
        self.1.destroy(r);
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        self.0.wake(r, by);
        self.1.wake(r, by);
    }
}

/// Every tree is forwarded whole or not at all; returns how many were forwarded.
fn check_trees_follow_roots(run: &Run) -> usize {
    let mut sampled = 0;
    for (root, child) in &run.trees {
        let r = run.inits.contains_key(root);
        let c = run.inits.contains_key(child);
        assert_eq!(
            r, c,
            "root {root} sampled {r} but child {child} sampled {c}"
        );
        if c {
            assert_eq!(run.inits[child], *root);
            // The child's timer follows too.
            assert!(
                run.inits.values().any(|t| t == child),
                "the timer of sampled child {child} was not forwarded"
            );
        } else {
            assert!(!run.inits.values().any(|t| t == child));
        }
        sampled += usize::from(r);
    }
    sampled
}

#[test]
fn probability_zero_forwards_nothing() {
    for &flavor in FLAVORS {
        let run = run(flavor, SamplePolicy::Probability(0.0), 500);
        assert_eq!(run.events, 0, "{flavor:?}");
        assert_eq!(check_trees_follow_roots(&run), 0);
    }
}

#[test]
fn probability_one_forwards_everything() {
    for &flavor in FLAVORS {
        let run = run(flavor, SamplePolicy::Probability(1.0), 500);
        assert_eq!(check_trees_follow_roots(&run), 500, "{flavor:?}");
        // block_on + 500 x (root, child, timer).
        assert_eq!(run.inits.len(), 1 + 3 * 500, "{flavor:?}");
    }
}

#[test]
fn probability_a_tenth_samples_about_a_tenth_of_10_000_roots() {
    for &flavor in FLAVORS {
        let run = run(flavor, SamplePolicy::Probability(0.1), 10_000);
        let sampled = check_trees_follow_roots(&run);
        eprintln!("{flavor:?}: {sampled} of 10000 roots sampled at p = 0.1");
        // Binomial(10 000, 0.1): mean 1 000, standard deviation 30; allow 5 sd.
        assert!((850..=1150).contains(&sampled), "{flavor:?}: {sampled}");
    }
}

#[test]
fn every_nth_samples_exactly_that_many() {
    let run = run(FLAVORS[0], SamplePolicy::EveryNth(10), 1000);
    let sampled = check_trees_follow_roots(&run);
    // The block_on scope is the first root decided (sampled), then 1 000 request roots.
    assert_eq!(sampled, 100, "roots 10, 20, .. 1000 of the 1 001 decided");
}

#[test]
fn explicit_sampled_overrides_the_policy() {
    let seen = Arc::new(Seen::default());
    let sampler = Arc::new(Sampler::new(seen.clone(), SamplePolicy::Probability(0.0)));
    let (rt, ledger) = runtime(FLAVORS[1], vec![Box::new(sampler.clone())]);
    let (traced, untraced) = rt.block_on(async {
        let traced = SAMPLED.run_sync(Sampled(true), || {
            hookrt::spawn(async {
                hookrt::spawn(async { hookrt::hooks::execution_async_id() })
                    .await
                    .unwrap()
            })
        });
        let untraced = hookrt::spawn(async { hookrt::hooks::execution_async_id() });
        (traced.await.unwrap(), untraced.await.unwrap())
    });
    wait_until("destroys", || seen.inits().len() == 2);
    let inits = seen.inits();
    assert!(inits.contains_key(&traced), "{inits:?}");
    assert!(!inits.contains_key(&untraced));
    assert_eq!(inits.len(), 2, "the explicit root and its child: {inits:?}");
    finish(rt, &ledger);
}
