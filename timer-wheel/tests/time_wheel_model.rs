//! Property test: random sequences of insert / remove / reset / advance run against the
//! wheel and against a `BTreeMap` model; the same entries must fire at the same advance
//! calls, in deadline order (ties in insertion order, a reset counting as an insertion).
//!
//! Deadlines are spread over every level, its boundaries, the past and beyond the range;
//! advances are mostly short with occasional far jumps (across laps of the top level).
//! The wheel's invariants are checked after every operation.

use std::collections::{BTreeMap, HashMap};

use hookrt_timer_wheel::{TimerKey, Wheel, MAX_DURATION};
use proptest::prelude::*;

/// Operations per case.
const OPERATIONS: usize = 10_000;
/// Cases per run (each of [`OPERATIONS`] operations).
const CASES: u32 = 24;

/// A deadline relative to the clock at the time the operation runs.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    /// `elapsed + ticks` (saturating).
    Ahead(u64),
    /// `elapsed - ticks` (saturating): already due.
    Past(u64),
    /// An absolute tick (e.g. `u64::MAX`).
    Absolute(u64),
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Deadline),
    /// Remove the key issued `n`-th (modulo keys issued so far); often stale.
    Remove(usize),
    /// Reset the key issued `n`-th to a new deadline.
    Reset(usize, Deadline),
    /// Advance the clock by this many ticks.
    Advance(u64),
    /// Call `advance` with a `now` this far before the clock (a no-op).
    AdvanceBack(u64),
}

/// Deltas spread over all levels, hugging level boundaries, and past the range.
fn ahead() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..64u64,
        3 => 0..4_096u64,
        3 => 0..262_144u64,
        2 => 0..1u64 << 24,
        2 => 0..1u64 << 30,
        2 => 0..1u64 << 36,
        3 => (0..6u32, 1..64u64, 0..3u64).prop_map(|(level, k, d)| (k << (6 * level)) + d - 1),
        1 => MAX_DURATION - 2..MAX_DURATION + 3,
        1 => (1u64 << 36)..u64::MAX,
    ]
}

fn deadline() -> impl Strategy<Value = Deadline> {
    prop_oneof![
        12 => ahead().prop_map(Deadline::Ahead),
        1 => (0..100_000u64).prop_map(Deadline::Past),
        1 => Just(Deadline::Absolute(u64::MAX)),
    ]
}

fn advance_by() -> impl Strategy<Value = u64> {
    // Mostly short steps so that hundreds of entries coexist on all levels; now and then
    // a far jump (about 15 per case) that empties most of the wheel at once.
    prop_oneof![
        80 => 0..4u64,
        50 => 0..64u64,
        30 => 0..4_096u64,
        16 => 0..1u64 << 20,
        3 => 0..1u64 << 28,
        1 => 0..1u64 << 32,
        2 => Just(1u64 << 30), // exactly a level-5 slot
        1 => 0..1u64 << 37,    // across laps of the top level
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => deadline().prop_map(Op::Insert),
        3 => any::<usize>().prop_map(Op::Remove),
        3 => (any::<usize>(), deadline()).prop_map(|(n, d)| Op::Reset(n, d)),
        6 => advance_by().prop_map(Op::Advance),
        1 => (1..100u64).prop_map(Op::AdvanceBack),
    ]
}

/// The reference: entries ordered by `(deadline, sequence)`, the order they must fire in.
#[derive(Default)]
struct Model {
    elapsed: u64,
    /// `(deadline, sequence)` -> `(key, value)`.
    by_deadline: BTreeMap<(u64, u64), (TimerKey, u64)>,
    /// `key` -> `(deadline, sequence)`.
    by_key: HashMap<TimerKey, (u64, u64)>,
    /// Bumped by every insert and reset (ties fire in this order).
    next_sequence: u64,
}

impl Model {
    fn resolve(&self, deadline: Deadline) -> u64 {
        let requested = match deadline {
            Deadline::Ahead(ticks) => self.elapsed.saturating_add(ticks),
            Deadline::Past(ticks) => self.elapsed.saturating_sub(ticks),
            Deadline::Absolute(tick) => tick,
        };
        requested.min(self.elapsed.saturating_add(MAX_DURATION))
    }

    fn insert(&mut self, key: TimerKey, deadline: u64, value: u64) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.by_deadline.insert((deadline, sequence), (key, value));
        self.by_key.insert(key, (deadline, sequence));
    }

    fn remove(&mut self, key: TimerKey) -> Option<u64> {
        let position = self.by_key.remove(&key)?;
        Some(self.by_deadline.remove(&position).unwrap().1)
    }

    fn advance(&mut self, now: u64) -> Vec<(TimerKey, u64)> {
        if now < self.elapsed {
            return Vec::new();
        }
        self.elapsed = now;
        let later = self.by_deadline.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.by_deadline, later);
        due.into_values()
            .inspect(|(key, _)| {
                self.by_key.remove(key);
            })
            .collect()
    }

    fn earliest_deadline(&self) -> Option<u64> {
        self.by_deadline
            .keys()
            .next()
            .map(|&(deadline, _)| deadline)
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut wheel: Wheel<u64> = Wheel::new();
    let mut model = Model::default();
    let mut keys: Vec<TimerKey> = Vec::new();
    let mut fired = Vec::new();
    let mut fired_total = 0;
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Insert(deadline) => {
                let deadline = model.resolve(deadline);
                let value = step as u64;
                let key = wheel.insert(deadline, value);
                prop_assert!(!model.by_key.contains_key(&key), "key {key:?} reused");
                model.insert(key, deadline, value);
                keys.push(key);
                prop_assert_eq!(wheel.deadline(key), Some(deadline));
            }
            Op::Remove(n) if !keys.is_empty() => {
                let key = keys[n % keys.len()];
                prop_assert_eq!(wheel.remove(key), model.remove(key), "remove {:?}", key);
            }
            Op::Reset(n, deadline) if !keys.is_empty() => {
                let key = keys[n % keys.len()];
                let deadline = model.resolve(deadline);
                let live = model.remove(key);
                prop_assert_eq!(
                    wheel.reset(key, deadline),
                    live.is_some(),
                    "reset {:?}",
                    key
                );
                if let Some(value) = live {
                    model.insert(key, deadline, value);
                    prop_assert_eq!(wheel.get(key), Some(&value));
                    prop_assert_eq!(wheel.deadline(key), Some(deadline));
                } else {
                    prop_assert_eq!(wheel.get(key), None);
                }
            }
            Op::Remove(_) | Op::Reset(..) => {}
            Op::Advance(by) | Op::AdvanceBack(by) => {
                let now = match *op {
                    Op::Advance(_) => model.elapsed.saturating_add(by),
                    _ => model.elapsed.saturating_sub(by),
                };
                fired.clear();
                wheel.advance(now, &mut fired);
                let expected = model.advance(now);
                fired_total += expected.len();
                prop_assert_eq!(&fired, &expected, "step {}: advance({})", step, now);
            }
        }
        wheel.check_invariants();
        prop_assert_eq!(wheel.elapsed(), model.elapsed);
        prop_assert_eq!(wheel.len(), model.by_key.len());
        let next = wheel.next_expiration();
        match model.earliest_deadline() {
            None => prop_assert_eq!(next, None),
            Some(earliest) if earliest <= model.elapsed => {
                prop_assert_eq!(next, Some(model.elapsed))
            }
            Some(earliest) => {
                let next = next.expect("an entry is in the wheel");
                prop_assert!(
                    model.elapsed < next && next <= earliest,
                    "step {step}: next {next}, earliest {earliest}"
                );
            }
        }
    }
    // The generators must actually exercise firing.
    prop_assert!(fired_total > 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn wheel_matches_btreemap_model(ops in proptest::collection::vec(op(), OPERATIONS..=OPERATIONS + 2_000)) {
        run(&ops)?;
    }
}
