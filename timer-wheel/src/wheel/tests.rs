//! Unit tests that look inside the wheel: where entries sit, level by level, as the
//! clock crosses level boundaries. Behaviour seen from outside is tested in `tests/`.

use super::*;

/// Asserts the invariants and returns `(level, slot)` of `key`'s entry, or `None` if it
/// is pending.
fn location(wheel: &Wheel<u32>, key: TimerKey) -> Option<(usize, usize)> {
    wheel.check_invariants();
    match wheel.entries[wheel.index_of(key).expect("live key")].location {
        Location::Pending => None,
        Location::Slot { level, slot } => Some((level as usize, slot as usize)),
    }
}

/// Advances `wheel` to `now`, checks invariants, and returns the fired values.
fn advance(wheel: &mut Wheel<u32>, now: u64) -> Vec<u32> {
    let mut fired = Vec::new();
    wheel.advance(now, &mut fired);
    wheel.check_invariants();
    assert_eq!(wheel.elapsed(), now);
    fired.into_iter().map(|(_, value)| value).collect()
}

/// One case: `deadline` inserted at clock 0 lands on `(level, slot)`.
fn check_placement(deadline: u64, level: usize, slot: usize) {
    let mut wheel = Wheel::new();
    let key = wheel.insert(deadline, 0);
    assert_eq!(
        location(&wheel, key),
        Some((level, slot)),
        "deadline {deadline}"
    );
}

#[test]
fn placement_at_level_boundaries() {
    const MS: u64 = 1;
    const MIN: u64 = 60_000 * MS;
    const HOUR: u64 = 60 * MIN;
    for (deadline, level, slot) in [
        (1, 0, 1),
        (63, 0, 63),
        (64, 1, 1),
        (65, 1, 1),
        (127, 1, 1),
        (128, 1, 2),
        (4_095, 1, 63),
        (4_096, 2, 1),
        (4 * MIN, 2, (4 * MIN / 4_096) as usize),
        (262_143, 2, 63),
        (262_144, 3, 1),
        (4 * HOUR, 3, (4 * HOUR / 262_144) as usize),
        ((1 << 24) - 1, 3, 63),
        (1 << 24, 4, 1),
        ((1 << 30) - 1, 4, 63),
        (1 << 30, 5, 1),
        (MAX_DURATION, 5, 63),
        (u64::MAX, 5, 63), // saturated to MAX_DURATION
    ] {
        check_placement(deadline, level, slot);
    }
}

#[test]
fn entries_cascade_down_as_the_clock_passes_slot_starts() {
    let mut wheel = Wheel::new();
    let deadline = 3 * 262_144 + 5 * 4_096 + 7 * 64 + 9; // level 3, slot 3
    let key = wheel.insert(deadline, 1);
    assert_eq!(location(&wheel, key), Some((3, 3)));

    assert_eq!(wheel.next_expiration(), Some(3 * 262_144));
    assert!(advance(&mut wheel, 3 * 262_144).is_empty());
    assert_eq!(location(&wheel, key), Some((2, 5)));

    assert_eq!(wheel.next_expiration(), Some(3 * 262_144 + 5 * 4_096));
    assert!(advance(&mut wheel, 3 * 262_144 + 5 * 4_096 + 1).is_empty());
    assert_eq!(location(&wheel, key), Some((1, 7)));

    assert_eq!(wheel.next_expiration(), Some(deadline - 9));
    assert!(advance(&mut wheel, deadline - 1).is_empty());
    assert_eq!(location(&wheel, key), Some((0, 9)));
    assert_eq!(wheel.next_expiration(), Some(deadline));
    assert_eq!(advance(&mut wheel, deadline), vec![1]);
    assert!(wheel.is_empty());
}

#[test]
fn a_coarse_slot_start_fires_entries_due_at_it() {
    let mut wheel = Wheel::new();
    let key = wheel.insert(4_096, 1); // level 2, slot 1 starts at 4096 itself
    assert_eq!(location(&wheel, key), Some((2, 1)));
    assert_eq!(wheel.next_expiration(), Some(4_096));
    assert!(advance(&mut wheel, 4_095).is_empty());
    assert_eq!(advance(&mut wheel, 4_096), vec![1]);
}

#[test]
fn placement_depends_on_the_clock() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 63);
    let key = wheel.insert(64, 1); // one tick ahead, but across a level-1 boundary
    assert_eq!(location(&wheel, key), Some((1, 1)));
    assert_eq!(wheel.next_expiration(), Some(64));
    assert_eq!(advance(&mut wheel, 64), vec![1]);

    let key = wheel.insert(127, 2); // same level-1 slot as the clock
    assert_eq!(location(&wheel, key), Some((0, 63)));
}

#[test]
fn top_level_wraps_into_its_next_lap() {
    let mut wheel = Wheel::new();
    let clock = MAX_DURATION - 10; // in slot 63 of level 5's first lap
    advance(&mut wheel, clock);
    let near = wheel.insert(MAX_DURATION + 1, 1); // next lap, slot 0
    let far = wheel.insert(u64::MAX, 2); // saturates to clock + MAX_DURATION: next lap, slot 63
    assert_eq!(wheel.deadline(far), Some(clock + MAX_DURATION));
    assert_eq!(location(&wheel, near), Some((5, 0)));
    assert_eq!(location(&wheel, far), Some((5, 63)));
    assert_eq!(wheel.next_expiration(), Some(MAX_DURATION + 1));
    assert_eq!(advance(&mut wheel, MAX_DURATION + 1), vec![1]);
    assert_eq!(location(&wheel, far), Some((5, 63)));
    assert!(advance(&mut wheel, clock + MAX_DURATION - 1).is_empty());
    assert_eq!(
        location(&wheel, far),
        Some((0, slot_for(clock + MAX_DURATION, 0)))
    );
    assert_eq!(advance(&mut wheel, clock + MAX_DURATION), vec![2]);
}

#[test]
fn past_deadlines_go_to_the_pending_list() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 1_000);
    let key = wheel.insert(1_000, 1);
    assert_eq!(location(&wheel, key), None);
    assert_eq!(wheel.next_expiration(), Some(1_000));
    let key = wheel.insert(1_001, 2);
    assert!(wheel.reset(key, 3)); // into the past: pending too
    assert_eq!(location(&wheel, key), None);
    assert!(wheel.reset(key, 1_010)); // and out again
    assert_eq!(location(&wheel, key), Some((0, 50)));
}

#[test]
fn removing_the_last_entry_of_a_slot_clears_its_bit() {
    let mut wheel = Wheel::new();
    let a = wheel.insert(100, 1);
    let b = wheel.insert(101, 2);
    assert_eq!(wheel.levels[1].occupied(), 1 << 1);
    wheel.remove(a);
    assert_eq!(wheel.levels[1].occupied(), 1 << 1);
    wheel.remove(b);
    assert_eq!(wheel.levels[1].occupied(), 0);
    assert_eq!(wheel.next_expiration(), None);
    wheel.check_invariants();
}
