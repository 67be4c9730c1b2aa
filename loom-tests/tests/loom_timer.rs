//! Loom models of the time driver's timer protocol (`timer-wheel/src/driver/`: the
//! state word in `state.rs`, `TimerShared::fire` and the owner side in `timer.rs`,
//! `TimeDriver::process` in `mod.rs`): the driver fires a due timer on one thread while
//! its owner drops it, re-arms it or polls it on another.
//!
//! The models drive `hookrt-timer-wheel`'s public API (`TimeDriver`, `Timer`, `Clock`),
//! compiled with `--cfg loom` so the state word, the waker and key slots and the wheel
//! lock are loom's. The clock is not: it is a paused [`Clock`] (std mutex, invisible to
//! loom) that the model advances before it starts its threads, so "now" is fixed while
//! they run and `TimeDriver::process` fires exactly what the model arranged.
//!
//! Each model starts from [`armed`]: a timer due at tick 10, already in the wheel (its
//! first poll registered a waker), with the clock at tick 10. Hooks are an [`EventLog`];
//! after the threads joined and the timer is dropped, every model checks the timer's
//! life (`init` once and first, `destroy` once and last, `before`/`after` paired, so no
//! event after `destroy`) and that no wheel entry is left behind. Loom's leak tracking
//! covers the `TimerShared` (a loom `Arc`) and the wakers (`CountingWaker` holds a
//! `Track`).

#![cfg(loom)]

use hookrt_hooks::AsyncId;
use hookrt_loom_tests::{model, CountingWaker, Event, EventLog};
use hookrt_timer_wheel::{Clock, TimeDriver, Timer};
use loom::thread;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// A driver, one timer on it, and what the models check them with.
struct Armed {
    log: EventLog,
    driver: TimeDriver,
    timer: Timer,
    id: AsyncId,
    /// Tick 0 of the driver (the paused clock's reading when it was built).
    start: Instant,
    /// The waker of the timer's first poll (still registered).
    first: Arc<CountingWaker>,
}

/// A timer due at tick 10, inserted into the wheel by a first `Pending` poll with the
/// waker `first`, and the driver's clock advanced to tick 10: the next `process` fires
/// it unless someone else gets to it first.
fn armed() -> Armed {
    let log = EventLog::new();
    let driver = TimeDriver::new(log.hooks(), Clock::new(true), Box::new(|| {}));
    let start = driver.now();
    let mut timer = Timer::new(&driver, start + Duration::from_millis(10));
    let id = timer.id();
    let (first, waker) = CountingWaker::new();
    assert_eq!(timer.poll_elapsed(&waker), Poll::Pending);
    drop(waker);
    assert_eq!(driver.len(), 1, "the first poll inserts the timer");
    driver.clock().advance(Duration::from_millis(10)).unwrap();
    Armed {
        log,
        driver,
        timer,
        id,
        start,
        first,
    }
}

/// The timer is dropped on one thread while the driver fires it on another. Whoever
/// comes second sees the other's bit: a drop during the firing leaves `destroy` to the
/// driver (after its `after`), a drop before it keeps the driver from firing at all.
///
/// Checks: `init` once, `destroy` once and last (no `before`/`after` after it),
/// `before`/`after` paired and present exactly when `process` reports a firing, the
/// registered waker woken exactly when the timer fired, and the wheel empty.
///
/// Breaks tried: `TimerState::drop_timer` returning `true` whatever `FIRING` says (the
/// owner always emits `destroy`); loom finds the drop landing inside the firing, and
/// both the owner and the driver's `end_fire` (which sees `DROPPED`) emit `destroy`:
/// `[Init, Before, After, Destroy, Destroy]`. And `end_fire` clearing `FIRING` with a
/// load and a store instead of `fetch_and`; loom finds the drop's `DROPPED` landing in
/// between: the owner leaves `destroy` to the driver, whose store erased `DROPPED`, so
/// nobody emits it: `[Init, Before, After]`.
#[test]
fn cancel_vs_fire() {
    model(|| {
        let Armed {
            log,
            driver,
            timer,
            id,
            first,
            ..
        } = armed();

        let firer = {
            let driver = driver.clone();
            thread::spawn(move || driver.process())
        };
        let dropper = thread::spawn(move || drop(timer));
        let fired = firer.join().unwrap();
        dropper.join().unwrap();

        assert!(fired <= 1);
        assert_eq!(driver.len(), 0, "no entry left in the wheel");
        let events = log.check_finished(id);
        assert_eq!(
            log.count(id, Event::Before),
            fired,
            "a before/after pair exactly when it fired: {events:?}"
        );
        assert_eq!(first.wakes(), fired, "the waker is woken when it fires");
    });
}

/// The owner re-arms the timer for tick 20 while the driver fires it at tick 10. The
/// firing of the old deadline is either done before the reset (which clears `FIRED`) or
/// recognised as stale by its generation; either way the reset timer is not elapsed
/// after it, and it fires at tick 20.
///
/// Checks: after both threads, `is_elapsed()` is false (the clock stands at tick 10); a
/// poll is `Pending`; processing at tick 20 fires it once, wakes the waker of that poll,
/// and `is_elapsed()` is then true; the wheel is then empty; events well formed, one
/// `before`/`after` pair per firing.
///
/// Breaks tried: `TimerState::begin_fire` not comparing the generation (a firing of an
/// entry taken out of the wheel before the reset claims the new generation); loom finds
/// the reset landing between the wheel advance and `begin_fire`, and the reset timer is
/// reported elapsed at tick 10 ("fired old: 1"). And `Timer::reset` re-inserting the
/// timer with its old generation (`self.registered` instead of the new one): the entry
/// at tick 20 is stale and `process` at tick 20 fires nothing (not a race: every
/// execution fails). The breaks of the two other models are caught here too: `FIRED`
/// set in `end_fire` lands after the reset cleared it (elapsed at tick 10), and
/// `end_fire`'s load-and-store erases the reset's generation bump (nothing fires at
/// tick 20).
///
/// It does not check that the wheel holds exactly one entry between the two firings:
/// that is [`reset_vs_fire_leaves_one_entry`].
#[test]
fn reset_vs_fire() {
    model(|| reset_vs_fire_body(false));
}

/// [`reset_vs_fire`], also checking that after both threads the wheel holds one entry
/// for the timer. It found a real bug, since fixed (the key slot is now taken inside
/// the wheel lock by `TimeDriver::insert`/`remove`):
///
/// `process` re-inserts a due entry whose real deadline is later than "now" (meant for
/// deadlines capped to the wheel's range) when its generation is still current, and
/// stores the new key with `set_key` under the wheel lock; `Timer::reset` takes the old
/// key with `take_key` *outside* the wheel lock (against `TimerShared::key`'s "read and
/// written only with the wheel lock held"). Loom finds: the reset stores deadline 20;
/// the driver advances, sees deadline 20 with the old generation and decides to
/// re-insert; the reset bumps the generation and takes the old, already-fired key; the
/// driver inserts entry K2 (old generation) and stores K2; the reset removes the stale
/// key (a no-op) and inserts K3. The wheel then holds K2, which no one knows about: a
/// phantom entry that keeps the `TimerShared` (and the registered waker) alive and
/// counts in `len`/`next_expiration` until tick 20, where it is dropped as stale. If
/// the timer is dropped before then, the waker outlives it until that tick.
/// Taking the key under the wheel lock (in `TimeDriver::insert`/`remove`) would close it.
#[test]

fn reset_vs_fire_leaves_one_entry() {
    model(|| reset_vs_fire_body(true));
}

fn reset_vs_fire_body(check_one_entry: bool) {
    let Armed {
        log,
        driver,
        mut timer,
        id,
        start,
        first,
    } = armed();

    let firer = {
        let driver = driver.clone();
        thread::spawn(move || driver.process())
    };
    let resetter = thread::spawn(move || {
        timer.reset(start + Duration::from_millis(20), true);
        timer
    });
    let fired_old = firer.join().unwrap();
    let mut timer = resetter.join().unwrap();

    assert!(fired_old <= 1);
    assert!(
        !timer.is_elapsed(),
        "a stale firing must not mark the re-armed timer elapsed (fired old: {fired_old})"
    );
    if check_one_entry {
        assert_eq!(driver.len(), 1, "one wheel entry: the re-armed timer");
    }
    let (second, waker) = CountingWaker::new();
    assert_eq!(timer.poll_elapsed(&waker), Poll::Pending);
    drop(waker);

    driver.clock().advance(Duration::from_millis(10)).unwrap();
    assert_eq!(
        driver.process(),
        1,
        "the re-armed timer fires at its deadline"
    );
    assert!(timer.is_elapsed());
    assert_eq!(timer.poll_elapsed(Waker::noop()), Poll::Ready(()));
    assert_eq!(
        second.wakes(),
        1,
        "the waker registered after the reset is woken"
    );
    assert_eq!(
        first.wakes(),
        fired_old,
        "the first waker: only by the old firing"
    );
    assert_eq!(driver.len(), 0, "no entry left after tick 20");

    drop(timer);
    let events = log.check_finished(id);
    assert_eq!(
        log.count(id, Event::Before),
        fired_old + 1,
        "one before/after pair per firing: {events:?}"
    );
}

/// The owner polls the timer with a new waker while the driver fires it: no lost
/// wake-up. The driver sets `FIRED` before it takes the waker, and the poll stores its
/// waker before it re-checks `FIRED`, so either the poll sees `FIRED` (`Ready`) or the
/// driver takes (and wakes) the waker the poll stored.
///
/// Checks: the driver fires (the timer is due and nobody else touches it); if the poll
/// returned `Pending`, the waker it registered was woken; a poll afterwards is `Ready`;
/// events well formed, one `before`/`after` pair.
///
/// Break tried: setting `FIRED` in `end_fire` instead of `begin_fire` (the driver marks
/// the timer fired only after running its waker; the bug the driver once had); loom
/// finds the driver taking the old waker, then the poll storing its new one and
/// re-checking before `FIRED` is set: `Pending`, and the new waker is never woken
/// ("lost wake-up: the poll returned Pending and its waker was not woken").
#[test]
fn poll_vs_fire() {
    model(|| {
        let Armed {
            log,
            driver,
            mut timer,
            id,
            ..
        } = armed();

        let firer = {
            let driver = driver.clone();
            thread::spawn(move || driver.process())
        };
        let (second, waker) = CountingWaker::new();
        let polled = timer.poll_elapsed(&waker);
        drop(waker);
        let fired = firer.join().unwrap();

        assert_eq!(fired, 1, "the due timer fires");
        if polled.is_pending() {
            assert_eq!(
                second.wakes(),
                1,
                "lost wake-up: the poll returned Pending and its waker was not woken"
            );
        }
        assert_eq!(timer.poll_elapsed(Waker::noop()), Poll::Ready(()));
        assert_eq!(driver.len(), 0);

        drop(timer);
        let events = log.check_finished(id);
        assert_eq!(log.count(id, Event::Before), 1, "{events:?}");
    });
}
