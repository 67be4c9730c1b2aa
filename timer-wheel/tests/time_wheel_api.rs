//! Black-box tests of `Wheel`: when entries fire across level boundaries, past
//! deadlines, saturation, stale keys, reset, and firing order.

use hookrt_timer_wheel::{TimerKey, Wheel, MAX_DURATION};

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// Advances `wheel` to `now`, checks its invariants, and returns the fired values.
fn advance(wheel: &mut Wheel<usize>, now: u64) -> Vec<usize> {
    let mut fired = Vec::new();
    wheel.advance(now, &mut fired);
    wheel.check_invariants();
    fired.into_iter().map(|(_, value)| value).collect()
}

/// Inserts `deadlines` at clock 0 (value = position in the slice), then advances to each
/// of `steps` in turn and checks that exactly the entries due by then fire, in deadline
/// order with ties by position, and that `next_expiration` is never after the earliest
/// remaining deadline.
fn check(deadlines: &[u64], steps: &[u64]) {
    let mut wheel = Wheel::new();
    for (value, &deadline) in deadlines.iter().enumerate() {
        wheel.insert(deadline, value);
        wheel.check_invariants();
    }
    let mut remaining: Vec<(u64, usize)> = deadlines.iter().copied().zip(0..).collect();
    remaining.sort();
    for &now in steps {
        let earliest = remaining.first().map(|&(deadline, _)| deadline);
        match (wheel.next_expiration(), earliest) {
            (None, None) => {}
            (Some(next), Some(earliest)) => assert!(next <= earliest, "next {next} > {earliest}"),
            other => panic!("next_expiration / earliest deadline: {other:?}"),
        }
        let due = remaining.partition_point(|&(deadline, _)| deadline <= now);
        let expected: Vec<usize> = remaining.drain(..due).map(|(_, value)| value).collect();
        assert_eq!(
            advance(&mut wheel, now),
            expected,
            "advance({now}) of {deadlines:?}"
        );
        assert_eq!(wheel.elapsed(), now);
        assert_eq!(wheel.len(), remaining.len());
    }
}

/// Every tick from `boundary - 2` to `boundary + 2`.
fn around(boundary: u64) -> Vec<u64> {
    (boundary - 2..=boundary + 2).collect()
}

#[test]
fn fires_on_time_around_each_level_boundary() {
    for boundary in [64, 4_096, 262_144, 1 << 24, 1 << 30] {
        let deadlines = [boundary - 1, boundary, boundary + 1];
        check(&deadlines, &around(boundary));
        // Also with the clock already close, and with one jump across everything.
        let mut steps = vec![boundary.saturating_sub(70)];
        steps.extend(around(boundary));
        check(&deadlines, &steps);
        check(&deadlines, &[boundary + 1]);
    }
}

#[test]
fn fires_on_time_at_human_durations() {
    let deadlines = [
        63,
        64,
        65,
        4_095,
        4_096,
        4_097,
        4 * MINUTE - 1,
        4 * MINUTE,
        4 * MINUTE + 1,
        4 * HOUR - 1,
        4 * HOUR,
        4 * HOUR + 1,
        12 * 24 * HOUR,
        2 * 365 * 24 * HOUR,
    ];
    let mut steps = Vec::new();
    for &deadline in &deadlines {
        steps.extend([deadline - 1, deadline]);
    }
    check(&deadlines, &steps);
    check(&deadlines, &[u64::MAX]);
    // Advancing by coarse jumps that each cross several levels' slots.
    check(
        &deadlines,
        &[
            100,
            5_000,
            3 * MINUTE,
            5 * MINUTE,
            5 * HOUR,
            30 * 24 * HOUR,
            3 * 365 * 24 * HOUR,
        ],
    );
}

#[test]
fn equal_deadlines_fire_in_insertion_order_across_levels() {
    let mut wheel = Wheel::new();
    wheel.insert(10_000, 0); // level 2 when inserted
    advance(&mut wheel, 8_200); // cascades it to level 1
    wheel.insert(10_000, 1);
    wheel.insert(9_999, 2);
    advance(&mut wheel, 9_990); // both to level 0
    wheel.insert(10_000, 3);
    assert_eq!(advance(&mut wheel, 20_000), vec![2, 0, 1, 3]);
}

#[test]
fn past_deadlines_fire_on_the_next_advance_in_deadline_order() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 1_000);
    wheel.insert(1_000, 0);
    wheel.insert(10, 1);
    wheel.insert(1_001, 2);
    wheel.insert(500, 3);
    wheel.insert(10, 4);
    assert_eq!(wheel.next_expiration(), Some(1_000));
    // A `now` in the past moves nothing and fires nothing.
    assert!(advance(&mut wheel, 999).is_empty());
    assert_eq!(wheel.elapsed(), 1_000);
    // Advancing to the clock itself fires what is due.
    assert_eq!(advance(&mut wheel, 1_000), vec![1, 4, 3, 0]);
    assert_eq!(wheel.next_expiration(), Some(1_001));
    assert_eq!(advance(&mut wheel, 1_001), vec![2]);
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn far_deadlines_saturate_without_overflow() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 5);
    let max = wheel.insert(u64::MAX, 0);
    let beyond = wheel.insert(5 + MAX_DURATION + 1, 1);
    let last = wheel.insert(5 + MAX_DURATION, 2);
    for key in [max, beyond, last] {
        assert_eq!(wheel.deadline(key), Some(5 + MAX_DURATION));
    }
    wheel.check_invariants();
    assert!(advance(&mut wheel, 4 + MAX_DURATION).is_empty());
    assert_eq!(advance(&mut wheel, 5 + MAX_DURATION), vec![0, 1, 2]);

    // Reset saturates the same way, relative to the clock at the reset.
    let key = wheel.insert(10, 3);
    assert!(wheel.reset(key, u64::MAX));
    assert_eq!(wheel.deadline(key), Some(wheel.elapsed() + MAX_DURATION));

    // Near the end of u64 the deadline saturates to u64::MAX itself.
    let mut wheel = Wheel::new();
    advance(&mut wheel, u64::MAX - 3);
    let key = wheel.insert(u64::MAX, 4);
    assert_eq!(wheel.deadline(key), Some(u64::MAX));
    assert_eq!(wheel.next_expiration(), Some(u64::MAX));
    assert_eq!(advance(&mut wheel, u64::MAX), vec![4]);
    wheel.insert(u64::MAX, 5); // now in the past: pending
    assert_eq!(advance(&mut wheel, u64::MAX), vec![5]);
}

#[test]
fn stale_keys_touch_nothing() {
    let mut wheel = Wheel::new();
    let removed = wheel.insert(100, 0);
    assert_eq!(wheel.remove(removed), Some(0));
    assert_eq!(wheel.remove(removed), None);

    let fired = wheel.insert(5, 1);
    assert_eq!(advance(&mut wheel, 5), vec![1]);

    // The new entry reuses the slab slot of the old ones.
    let live = wheel.insert(1_000, 2);
    for stale in [removed, fired] {
        assert_ne!(stale, live);
        assert_eq!(wheel.get(stale), None);
        assert_eq!(wheel.get_mut(stale), None);
        assert_eq!(wheel.deadline(stale), None);
        assert!(!wheel.reset(stale, 10));
        assert_eq!(wheel.remove(stale), None);
    }
    wheel.check_invariants();
    assert_eq!(wheel.get(live), Some(&2));
    assert_eq!(wheel.deadline(live), Some(1_000));
    assert_eq!(advance(&mut wheel, 1_000), vec![2]);
}

#[test]
fn reset_moves_entries_earlier_and_later_keeping_the_key() {
    let mut wheel = Wheel::new();
    let key = wheel.insert(3 * HOUR, 0);
    let other = wheel.insert(700, 1);

    assert!(wheel.reset(key, 300)); // from level 3 to level 1, before `other`
    wheel.check_invariants();
    assert_eq!(wheel.deadline(key), Some(300));
    assert_eq!(wheel.next_expiration().map(|next| next <= 300), Some(true));
    assert!(advance(&mut wheel, 299).is_empty());

    assert!(wheel.reset(key, 2 * MINUTE)); // later than `other`, keeping the key
    assert_eq!(advance(&mut wheel, 700), vec![1]);
    *wheel.get_mut(key).unwrap() = 10;
    assert!(advance(&mut wheel, 2 * MINUTE - 1).is_empty());

    assert!(wheel.reset(key, 0)); // into the past: fires on the next advance
    let mut fired = Vec::new();
    wheel.advance(wheel.elapsed(), &mut fired);
    assert_eq!(fired, vec![(key, 10)]);
    assert!(!wheel.reset(key, 5));
    assert!(wheel.get(other).is_none());
}

#[test]
fn reset_counts_as_a_new_insertion_for_ties() {
    let mut wheel = Wheel::new();
    let first = wheel.insert(50, 0);
    wheel.insert(50, 1);
    assert!(wheel.reset(first, 50));
    assert_eq!(advance(&mut wheel, 50), vec![1, 0]);
}

#[test]
fn advance_jumps_over_empty_time_cheaply() {
    // Crossing many laps of the top level one occupied slot at a time: this would take
    // years of ticks if the wheel stepped tick by tick.
    let mut wheel = Wheel::new();
    let mut now = 0;
    for round in 0..1_000 {
        let key = wheel.insert(now + MAX_DURATION / 3, round);
        now += MAX_DURATION / 2;
        let mut fired: Vec<(TimerKey, usize)> = Vec::new();
        wheel.advance(now, &mut fired);
        assert_eq!(fired, vec![(key, round)]);
    }
    wheel.check_invariants();
}

#[test]
fn debug_output_does_not_need_debug_values() {
    struct Opaque;
    let mut wheel = Wheel::new();
    wheel.insert(70, Opaque);
    let text = format!("{wheel:?}");
    assert!(
        text.contains("elapsed: 0") && text.contains("len: 1"),
        "{text}"
    );
}

#[test]
fn wheel_and_key_are_send_sync_for_the_driver_mutex() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wheel<std::task::Waker>>();
    assert_send_sync::<TimerKey>();
    let wheel: Wheel<()> = Wheel::with_capacity(16);
    assert!(wheel.is_empty() && wheel.next_expiration().is_none());
}
