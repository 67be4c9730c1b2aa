//! Intervals against tokio's documented tick sequences, resets, timeouts with deadlines,
//! `Sleep::reset`, and paused time across the wheel's level boundaries.
//!
//! Sequences are checked on paused time (current-thread runtime), where they are exact:
//! each expected tick is `(scheduled, fired)` in milliseconds after the start, where
//! `scheduled` is what `tick()` returns and `fired` is the clock when it returned.

mod support;

use hookrt::hooks::{Ledger, ResourceKind};
use hookrt::runtime::Builder;
use hookrt::time::{self, Duration, Instant, Interval, MissedTickBehavior};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use support::{Ev, Flavor, Recorder};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Milliseconds from `start` to `at`, exactly (paused time moves in whole milliseconds).
fn ms_after(start: Instant, at: Instant) -> u64 {
    let d = at.duration_since(start);
    assert_eq!(
        d.subsec_nanos() % 1_000_000,
        0,
        "{d:?} is not whole milliseconds"
    );
    u64::try_from(d.as_millis()).unwrap()
}

/// Runs `body` on a paused current-thread runtime with a Ledger and a Recorder, then
/// drops the runtime and checks the Ledger.
fn paused<F: Future>(body: impl FnOnce(Arc<Recorder>) -> F) -> F::Output {
    let ledger = Arc::new(Ledger::new());
    let recorder = Arc::new(Recorder::default());
    let rt = Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .hook(ledger.clone())
        .hook(recorder.clone())
        .build()
        .unwrap();
    let output = rt.block_on(body(recorder));
    drop(rt);
    ledger.assert_balanced();
    output
}

/// Awaits `n` ticks; each as `(scheduled, fired)` ms after `start`.
async fn ticks(interval: &mut Interval, start: Instant, n: usize) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let scheduled = interval.tick().await;
        out.push((ms_after(start, scheduled), ms_after(start, Instant::now())));
    }
    out
}

/// One `poll_tick` with the current task's waker.
async fn poll_tick(interval: &mut Interval) -> Poll<Instant> {
    poll_fn(|cx| Poll::Ready(interval.poll_tick(cx))).await
}

/// The ticks due at this instant, as ms after `start`: polls until `Pending`, giving the
/// driver a turn (`advance(0)`) before believing a `Pending`. Time does not move.
///
/// This is what tokio's `check_interval_poll!` observes, except that hookrt's timers
/// fire on a turn of the driver, never inside the poll that re-arms them.
async fn due(interval: &mut Interval, start: Instant) -> Vec<u64> {
    let now = Instant::now();
    let mut out = Vec::new();
    loop {
        let mut polled = poll_tick(interval).await;
        if polled.is_pending() {
            time::advance(Duration::ZERO).await;
            polled = poll_tick(interval).await;
        }
        match polled {
            Poll::Ready(at) => out.push(ms_after(start, at)),
            Poll::Pending => break,
        }
    }
    assert_eq!(Instant::now(), now, "checking the due ticks moved time");
    out
}

// tokio's `MissedTickBehavior` docs, period 50 ms, a stall after the first tick.

#[test]
fn burst_fires_missed_ticks_back_to_back_then_keeps_the_schedule() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
        assert_eq!(ticks(&mut i, start, 1).await, [(0, 0)]);
        time::advance(ms(130)).await;
        let expected = [(50, 130), (100, 130), (150, 150), (200, 200), (250, 250)];
        assert_eq!(ticks(&mut i, start, 5).await, expected);

        // The docs' example: a 200 ms stall, four ticks at once, the fifth 50 ms later.
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.tick().await;
        time::advance(ms(200)).await;
        let expected = [(50, 200), (100, 200), (150, 200), (200, 200), (250, 250)];
        assert_eq!(ticks(&mut i, start, 5).await, expected);
    });
}

#[test]
fn delay_reschedules_from_the_late_tick() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Delay);
        i.tick().await;
        time::advance(ms(130)).await;
        let expected = [(50, 130), (180, 180), (230, 230)];
        assert_eq!(ticks(&mut i, start, 3).await, expected);

        // The docs' example: the stall comes before the first tick.
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        time::advance(ms(75)).await;
        assert_eq!(ticks(&mut i, start, 2).await, [(0, 75), (125, 125)]);
    });
}

#[test]
fn skip_jumps_to_the_next_multiple_of_the_period() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.set_missed_tick_behavior(MissedTickBehavior::Skip);
        i.tick().await;
        time::advance(ms(130)).await;
        let expected = [(50, 130), (150, 150), (200, 200)];
        assert_eq!(ticks(&mut i, start, 3).await, expected);

        // The docs' example: a 75 ms stall before the first tick; the next is at 100.
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.set_missed_tick_behavior(MissedTickBehavior::Skip);
        time::advance(ms(75)).await;
        assert_eq!(ticks(&mut i, start, 2).await, [(0, 75), (100, 100)]);
    });
}

#[test]
fn up_to_five_ms_late_counts_as_on_time() {
    paused(|_| async {
        for behavior in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
            let start = Instant::now();
            let mut i = time::interval(ms(50));
            i.set_missed_tick_behavior(behavior);
            i.tick().await;
            time::advance(ms(55)).await;
            assert_eq!(ticks(&mut i, start, 2).await, [(50, 55), (100, 100)]);
            time::advance(ms(56)).await;
            let next = match behavior {
                MissedTickBehavior::Delay => (206, 206),
                _ => (200, 200),
            };
            assert_eq!(
                ticks(&mut i, start, 2).await,
                [(150, 156), next],
                "{behavior:?}"
            );
        }
    });
}

// tokio's own `tests/time_interval.rs` sequences (period 300 ms, polled after each
// `advance`), with the same numbers.

#[test]
fn tokio_sequences_burst_delay_skip() {
    type Steps = &'static [(u64, &'static [u64])];
    // (advance by, ticks due then), after a first tick at 0.
    let cases: [(MissedTickBehavior, Steps); 3] = [
        (
            MissedTickBehavior::Burst,
            &[
                (100, &[]),
                (200, &[300]),
                (650, &[600, 900]),
                (200, &[]),
                (100, &[1200]),
                (250, &[1500]),
                (300, &[1800]),
            ],
        ),
        (
            MissedTickBehavior::Delay,
            &[
                (100, &[]),
                (200, &[300]),
                (650, &[600]),
                (100, &[]),
                (201, &[1251]),
                (300, &[1551]),
                (300, &[1851]),
            ],
        ),
        (
            MissedTickBehavior::Skip,
            &[
                (100, &[]),
                (200, &[300]),
                (650, &[600]),
                (250, &[1200]),
                (300, &[1500]),
                (300, &[1800]),
            ],
        ),
    ];
    paused(|_| async move {
        for (behavior, steps) in cases {
            let start = Instant::now();
            // As in tokio's tests: the clock 1 ms ahead of the schedule.
            time::advance(ms(1)).await;
            let mut i = time::interval_at(start, ms(300));
            i.set_missed_tick_behavior(behavior);
            assert_eq!(due(&mut i, start).await, [0]);
            for &(by, expected) in steps {
                time::advance(ms(by)).await;
                let at = ms_after(start, Instant::now());
                assert_eq!(due(&mut i, start).await, expected, "{behavior:?} at {at}");
            }
        }
    });
}

#[test]
fn tokio_sequence_reset() {
    paused(|_| async {
        let start = Instant::now();
        time::advance(ms(1)).await;
        let mut i = time::interval_at(start, ms(300));
        assert_eq!(due(&mut i, start).await, [0]);
        let mut seen = Vec::new();
        for (by, reset) in [(100, false), (200, false), (100, true), (250, false)] {
            time::advance(ms(by)).await;
            seen.push(due(&mut i, start).await);
            if reset {
                i.reset();
            }
        }
        for by in [50, 300] {
            time::advance(ms(by)).await;
            seen.push(due(&mut i, start).await);
        }
        let expected: [&[u64]; 6] = [&[], &[300], &[], &[], &[701], &[1001]];
        assert_eq!(seen, expected);
    });
}

/// tokio's `check_interval_poll!(i, start, 600, 900)` at a poll level: in tokio a timer
/// whose deadline has already passed is `Ready` on the poll that registers it (so the
/// first tick and every Burst catch-up tick complete inside one poll each). hookrt once
/// queued such a timer for the driver's next turn and returned `Pending`; now the poll
/// fires it inline.
#[test]
fn burst_catch_up_ticks_are_ready_on_consecutive_polls_like_tokio() {
    paused(|_| async {
        let start = Instant::now();
        time::advance(ms(1)).await;
        let mut i = time::interval_at(start, ms(300));
        assert_eq!(poll_tick(&mut i).await, Poll::Ready(start), "first tick");
        time::advance(ms(950)).await;
        assert_eq!(poll_tick(&mut i).await, Poll::Ready(start + ms(300)));
        assert_eq!(poll_tick(&mut i).await, Poll::Ready(start + ms(600)));
        assert_eq!(poll_tick(&mut i).await, Poll::Ready(start + ms(900)));
    });
}

// Starts, resets, accessors.

#[test]
fn first_tick_is_immediate_and_interval_at_starts_later() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        assert_eq!(i.period(), ms(50));
        assert_eq!(
            i.tick().await,
            start,
            "the first tick is scheduled at creation"
        );
        assert_eq!(Instant::now(), start, "and completes without time passing");

        let mut i = time::interval_at(start + ms(200), ms(50));
        assert_eq!(i.period(), ms(50));
        assert_eq!(
            ticks(&mut i, start, 3).await,
            [(200, 200), (250, 250), (300, 300)]
        );

        // A start in the past: Burst catches up from it.
        let start = Instant::now();
        time::advance(ms(200)).await;
        let mut i = time::interval_at(start + ms(50), ms(40));
        let expected = [(50, 200), (90, 200), (130, 200), (170, 200), (210, 210)];
        assert_eq!(ticks(&mut i, start, 5).await, expected);
    });
}

#[test]
fn reset_variants_move_the_next_tick() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.tick().await;
        time::advance(ms(20)).await;
        i.reset();
        assert_eq!(ticks(&mut i, start, 2).await, [(70, 70), (120, 120)]);

        time::advance(ms(10)).await;
        i.reset_immediately();
        assert_eq!(ticks(&mut i, start, 2).await, [(130, 130), (180, 180)]);

        time::advance(ms(5)).await;
        i.reset_after(ms(7));
        assert_eq!(ticks(&mut i, start, 2).await, [(192, 192), (242, 242)]);

        i.reset_at(start + ms(1_000));
        assert_eq!(
            ticks(&mut i, start, 2).await,
            [(1_000, 1_000), (1_050, 1_050)]
        );

        // A reset before the first tick (the timer is not in the wheel yet).
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.reset_after(ms(10));
        assert_eq!(ticks(&mut i, start, 2).await, [(10, 10), (60, 60)]);

        // `reset_at` in the past: that instant at once, then the missed-tick rule.
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.tick().await;
        time::advance(ms(30)).await;
        i.reset_at(start + ms(10));
        assert_eq!(ticks(&mut i, start, 2).await, [(10, 30), (60, 60)]);
    });
}

#[test]
fn tick_is_cancel_safe() {
    paused(|_| async {
        let start = Instant::now();
        let mut i = time::interval(ms(50));
        i.tick().await;
        assert!(time::timeout(ms(20), i.tick()).await.is_err());
        assert_eq!(ticks(&mut i, start, 2).await, [(50, 50), (100, 100)]);
    });
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn interval_with_a_zero_period_panics() {
    paused(|_| async { drop(time::interval(Duration::ZERO)) });
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn interval_at_with_a_zero_period_panics() {
    paused(|_| async { drop(time::interval_at(Instant::now(), Duration::ZERO)) });
}

#[hookrt::test(start_paused = true)]
async fn the_test_macro_starts_paused() {
    let start = Instant::now();
    let mut i = time::interval(Duration::from_secs(3_600));
    i.set_missed_tick_behavior(MissedTickBehavior::Skip);
    for k in 0..4u64 {
        assert_eq!(i.tick().await, start + Duration::from_secs(3_600 * k));
        assert_eq!(start.elapsed(), Duration::from_secs(3_600 * k));
    }
}

// Events.

#[test]
fn an_interval_is_one_timer_with_one_firing_per_tick_on_every_flavor() {
    const TICKS: usize = 6;
    support::check_flavors(|flavor, rt, rec| {
        let (task, timer, scheduled) = rt.block_on(async {
            let handle = hookrt::spawn(async {
                let mut i = time::interval(ms(2));
                let timer = i.async_id();
                let mut start = None;
                let mut scheduled = Vec::new();
                for _ in 0..TICKS {
                    let at = i.tick().await;
                    assert!(Instant::now() >= at, "a tick completed before its instant");
                    scheduled.push(at.duration_since(*start.get_or_insert(at)));
                }
                drop(i);
                (timer, scheduled)
            });
            let task = handle.id().async_id();
            let (timer, scheduled) = handle.await.unwrap();
            (task, timer, scheduled)
        });
        // On a multi-thread runtime the dropped interval may be firing on a worker: its
        // `destroy` then comes from that worker, after the firing's `after`.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while rec.names_for(timer).last() != Some(&"destroy") {
            assert!(
                std::time::Instant::now() < deadline,
                "no destroy for the interval"
            );
            std::thread::sleep(ms(1));
        }
        // Burst keeps the schedule however late the task was.
        let expected: Vec<Duration> = (0..TICKS as u32).map(|k| ms(2) * k).collect();
        assert_eq!(scheduled, expected, "on {flavor:?}");

        let names = rec.names_for(timer);
        assert_eq!(names.first(), Some(&"init"), "on {flavor:?}: {names:?}");
        assert_eq!(names.last(), Some(&"destroy"), "on {flavor:?}: {names:?}");
        let firings = &names[1..names.len() - 1];
        assert!(
            firings.chunks(2).all(|pair| pair == ["before", "after"]),
            "on {flavor:?}: {names:?}"
        );
        // On the current-thread runtime nothing can fire between the last tick and the
        // drop; on a multi-thread runtime the re-armed timer may fire once more.
        let pairs = firings.len() / 2;
        match flavor {
            Flavor::CurrentThread => assert_eq!(pairs, TICKS, "{names:?}"),
            Flavor::MultiThread(_) => {
                assert!(
                    (TICKS..=TICKS + 1).contains(&pairs),
                    "on {flavor:?}: {names:?}"
                )
            }
        }
        assert_eq!(rec.trigger_of(timer), Some(task));
        assert!(rec.events().iter().any(|e| matches!(e,
            Ev::Init { id, kind: ResourceKind::Timer, .. } if *id == timer)));
        let wakes = rec.wakes_of(task);
        assert!(
            wakes.len() >= TICKS - 1 && wakes.iter().all(|by| *by == timer),
            "on {flavor:?}: the interval woke the task: {wakes:?}"
        );
    });
}

#[test]
fn skip_and_delay_keep_their_shape_on_real_time_on_every_flavor() {
    support::check(|rt, _rec| {
        rt.block_on(async {
            let period = ms(3);
            for behavior in [MissedTickBehavior::Skip, MissedTickBehavior::Delay] {
                let start = Instant::now();
                let mut i = time::interval_at(start, period);
                i.set_missed_tick_behavior(behavior);
                let mut last: Option<Instant> = None;
                for n in 0..8 {
                    let at = i.tick().await;
                    assert!(Instant::now() >= at);
                    if n == 3 {
                        // Be late on purpose: a blocking stall of several periods.
                        std::thread::sleep(ms(12));
                    }
                    if let Some(last) = last {
                        assert!(at.duration_since(last) >= period, "{behavior:?}");
                    }
                    if behavior == MissedTickBehavior::Skip {
                        let since = at.duration_since(start).as_nanos();
                        assert_eq!(since % period.as_nanos(), 0, "off the grid: {since}ns");
                    }
                    last = Some(at);
                }
            }
        });
    });
}

#[test]
fn sleep_reset_keeps_its_id_and_fires_twice() {
    let (timer, rec) = paused(|rec| async move {
        let start = Instant::now();
        let mut sleep = time::sleep(ms(10));
        let timer = sleep.async_id();
        (&mut sleep).await;
        assert_eq!(Instant::now(), start + ms(10));
        assert!(sleep.is_elapsed());
        Pin::new(&mut sleep).reset(start + ms(40));
        assert!(!sleep.is_elapsed(), "reset re-arms");
        assert_eq!(sleep.deadline(), start + ms(40));
        (&mut sleep).await;
        assert_eq!(Instant::now(), start + ms(40));
        assert_eq!(sleep.async_id(), timer);
        drop(sleep);
        (timer, rec)
    });
    let names = rec.names_for(timer);
    assert_eq!(
        names,
        ["init", "before", "after", "before", "after", "destroy"]
    );
}

#[test]
fn sleep_reset_moves_a_registered_deadline_both_ways() {
    paused(|_| async {
        let start = Instant::now();
        let mut early = pin!(time::sleep(Duration::from_secs(3_600)));
        let mut late = pin!(time::sleep(ms(5)));
        poll_fn(|cx| {
            assert!(early.as_mut().poll(cx).is_pending());
            assert!(late.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        early.as_mut().reset(start + ms(3));
        late.as_mut().reset(start + ms(20));
        time::advance(ms(3)).await;
        assert!(early.is_elapsed() && !late.is_elapsed());
        time::advance(ms(16)).await;
        assert!(!late.is_elapsed(), "fired at its old or an early deadline");
        time::advance(ms(1)).await;
        assert!(late.is_elapsed());
    });
}

// Paused time across the wheel's levels.

#[test]
fn advance_fires_sleeps_exactly_at_deadlines_around_level_boundaries() {
    // Level boundaries of the 64-slot wheel: 64 ms, ~4 s, ~4.4 min, ~4.7 h.
    const BOUNDARIES: [u64; 4] = [64, 4_096, 262_144, 16_777_216];
    // The driver's tick 0 is the runtime's start; the sleeps start 37 ms later, so
    // boundaries both of the sleeps' durations and of the wheel's ticks are crossed.
    const OFFSET: u64 = 37;
    paused(|_| async {
        time::advance(ms(OFFSET)).await;
        let start = Instant::now();
        let mut deadlines: Vec<u64> = BOUNDARIES
            .iter()
            .flat_map(|&b| [b - 1, b, b + 1, b - OFFSET - 1, b - OFFSET, b - OFFSET + 1])
            .chain([5 * 3_600_000])
            .collect();
        deadlines.sort_unstable();
        let mut sleeps: Vec<_> = deadlines.iter().map(|&d| time::sleep(ms(d))).collect();
        poll_fn(|cx| {
            for sleep in &mut sleeps {
                assert!(Pin::new(sleep).poll(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
        let check = |sleeps: &[time::Sleep], now: u64| {
            assert_eq!(ms_after(start, Instant::now()), now);
            for (sleep, &d) in sleeps.iter().zip(&deadlines) {
                assert_eq!(sleep.is_elapsed(), d <= now, "{d} ms sleep at {now} ms");
            }
        };
        let mut now = 0;
        for &d in &deadlines {
            if d - 1 > now {
                time::advance(ms(d - 1 - now)).await;
                now = d - 1;
                check(&sleeps, now);
            }
            time::advance(ms(d - now)).await;
            now = d;
            check(&sleeps, now);
        }

        // The same deadlines crossed in one jump each, from an unaligned instant.
        let start = Instant::now();
        let mut sleeps: Vec<_> = deadlines.iter().map(|&d| time::sleep(ms(d))).collect();
        poll_fn(|cx| {
            for sleep in &mut sleeps {
                assert!(Pin::new(sleep).poll(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
        for &to in &[BOUNDARIES[1], BOUNDARIES[3] - OFFSET, 5 * 3_600_000] {
            time::advance(start + ms(to) - Instant::now()).await;
            for (sleep, &d) in sleeps.iter().zip(&deadlines) {
                assert_eq!(
                    sleep.is_elapsed(),
                    d <= to,
                    "{d} ms sleep after a jump to {to}"
                );
            }
        }
    });
}

// Timeouts.

/// A future that is pending until it has been polled `ready_after` times.
#[derive(Debug)]
struct Polls {
    count: usize,
    ready_after: usize,
}

impl Future for Polls {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.count += 1;
        if self.count >= self.ready_after {
            Poll::Ready(self.count)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn timeout_at_fires_at_its_deadline_exactly() {
    paused(|_| async {
        let start = Instant::now();
        let err = time::timeout_at(start + ms(100), std::future::pending::<()>()).await;
        assert!(err.is_err());
        assert_eq!(Instant::now(), start + ms(100));
        let io: std::io::Error = err.unwrap_err().into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);

        let start = Instant::now();
        let ok = time::timeout_at(start + ms(100), async {
            time::sleep(ms(99)).await;
            7
        })
        .await;
        assert_eq!(ok, Ok(7));
        assert_eq!(Instant::now(), start + ms(99));

        // A passed deadline: a ready future still wins, a pending one loses at once.
        let start = Instant::now();
        assert_eq!(time::timeout_at(start - ms(1), async { 8 }).await, Ok(8));
        let late = time::timeout_at(start - ms(1), std::future::pending::<()>()).await;
        assert!(late.is_err());
        assert_eq!(Instant::now(), start);
    });
}

#[test]
fn timeout_accessors_reach_the_inner_future() {
    let rec = paused(|rec| async move {
        let deadline = Instant::now() + ms(10);
        let polls = |count, ready_after| Polls { count, ready_after };
        // `Timeout<Polls>` is `Unpin`: the accessors need no pinning.
        let mut t = time::timeout_at(deadline, polls(0, 3));
        assert_eq!(t.get_ref().count, 0);
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut t).poll(cx))).await;
        assert_eq!(first, Poll::Pending, "the deadline is now in the wheel");
        assert_eq!(t.get_ref().count, 1);
        t.get_mut().count = 10;
        assert_eq!((&mut t).await, Ok(11));
        drop(t);

        let mut t = time::timeout_at(deadline, polls(0, 3));
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut t).poll(cx))).await;
        assert_eq!(first, Poll::Pending);
        let mut inner = t.into_inner();
        assert_eq!(inner.count, 1);
        assert_eq!((&mut inner).await, 3, "into_inner gives the future back");

        let t = time::timeout_at(deadline, polls(4, 6));
        assert_eq!(t.into_inner().await, 6);
        // Past every deadline: a timer still in the wheel would fire now.
        time::advance(ms(20)).await;
        rec
    });
    let timers: Vec<_> = rec
        .events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init {
                id,
                kind: ResourceKind::Timer,
                ..
            } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(timers.len(), 3);
    for timer in timers {
        assert_eq!(
            rec.names_for(timer),
            ["init", "destroy"],
            "no timeout fired"
        );
    }
}
