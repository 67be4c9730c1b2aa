//! Loom models of the readiness protocol (`src/state.rs`, `src/scheduled_io.rs`,
//! `src/waiters.rs`): the driver sets readiness and wakes waiters on one thread while
//! the owner polls, clears after `WouldBlock`, waits in a `Readiness` future, or closes
//! the registration on another.
//!
//! The models drive the real code through the hidden `loom_api::LoomIo` (one
//! registration's shared state, without mio), compiled with `--cfg loom` so the state
//! word and the waiter mutex are loom's:
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p hookrt-io-driver --release --test loom_readiness --target-dir target/loom
//! ```
//!
//! Each model checks, after its threads joined: no lost wake-up (a waiter left
//! `Pending` was woken, and its next poll is ready), and the resource's life (`init`
//! first, `destroy` exactly once and last, `before`/`after` paired).

#![cfg(loom)]

use hookrt_hooks::{Hook, HookSet, HookSetBuilder, Resource};
use hookrt_io_driver::loom_api::LoomIo;
use hookrt_io_driver::{Direction, Ready};
use loom::sync::atomic::{AtomicBool, AtomicUsize as LoomUsize, Ordering};
use loom::thread;
use mio::Interest;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Runs `f` under loom with a preemption bound (`LOOM_MAX_PREEMPTIONS`, default 3), and
/// prints how many executions it explored (shown with `--nocapture`).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    println!(
        "{}: {} executions",
        std::thread::current().name().unwrap_or("model"),
        executions.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Init,
    Before,
    After,
    Destroy,
}

/// Records hook events in the order loom ran them. Each event first touches a loom
/// atomic (`Relaxed`: no synchronisation), so loom may switch threads around it as
/// around real hook work; the log itself is a std mutex, invisible to loom (a model's
/// threads are coroutines on one OS thread, so it is never contended).
#[derive(Clone, Default)]
struct EventLog(Arc<(LoomUsize, Mutex<Vec<Event>>)>);

impl EventLog {
    fn hooks(&self) -> HookSet {
        HookSetBuilder::new().hook(self.clone()).build()
    }

    fn push(&self, event: Event) {
        self.0 .0.fetch_add(1, Ordering::Relaxed);
        self.0 .1.lock().unwrap().push(event);
    }

    /// `init` first, `destroy` exactly once and last, `before`/`after` alternating.
    fn check_life(&self) -> Vec<Event> {
        let events = self.0 .1.lock().unwrap().clone();
        assert_eq!(events.first(), Some(&Event::Init), "{events:?}");
        let destroys = events.iter().filter(|e| **e == Event::Destroy).count();
        assert_eq!(destroys, 1, "destroy exactly once: {events:?}");
        assert_eq!(
            events.last(),
            Some(&Event::Destroy),
            "destroy last: {events:?}"
        );
        let middle = &events[1..events.len() - 1];
        assert_eq!(middle.len() % 2, 0, "unpaired bracket: {events:?}");
        for pair in middle.chunks(2) {
            assert_eq!(pair, [Event::Before, Event::After], "{events:?}");
        }
        events
    }
}

impl Hook for EventLog {
    fn init(&self, _: &Resource<'_>) {
        self.push(Event::Init);
    }
    fn before(&self, _: &Resource<'_>) {
        self.push(Event::Before);
    }
    fn after(&self, _: &Resource<'_>) {
        self.push(Event::After);
    }
    fn destroy(&self, _: &Resource<'_>) {
        self.push(Event::Destroy);
    }
}

/// A waker that counts its wakes (std atomic: read only after the threads joined).
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

fn woken(count: &Count) -> usize {
    count.0.load(std::sync::atomic::Ordering::SeqCst)
}

/// A socket with at most one pending byte: `read` takes it or reports `WouldBlock`.
#[derive(Default)]
struct Socket(AtomicBool);

impl Socket {
    fn arrive(&self) {
        // A swap, not a store: loom 0.7 lets a plain store slip between the read and the
        // write of a concurrent RMW (tokio-rs/loom#254), which would "lose" the byte
        // after the threads joined. The real state word has no plain stores.
        self.0.swap(true, Ordering::AcqRel);
    }

    fn read(&self) -> io::Result<()> {
        if self.0.swap(false, Ordering::AcqRel) {
            Ok(())
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }
}

/// The task read stale readiness (turn 1, already drained), gets `WouldBlock` and
/// clears, while the driver records new data in turn 2. The clear must not erase the
/// turn-2 readiness, or the task parks with its wake-up already spent.
///
/// Break tried: `IoState::clear` ignoring the tick. Loom finds the driver's turn-2
/// dispatch landing between the task's failed read and its clear: the clear erases the
/// new readiness, the dispatch found no waker, and the task stays `Pending`, never
/// woken ("lost wake-up").
#[test]
fn clear_after_would_block_vs_new_readiness() {
    model(|| {
        let log = EventLog::default();
        let io = Arc::new(LoomIo::new(log.hooks()));
        let socket = Arc::new(Socket::default());
        // Turn 1 announced data that the task has already read.
        assert!(!io.dispatch(1, Ready::READABLE));

        let driver = thread::spawn({
            let (io, socket) = (io.clone(), socket.clone());
            move || {
                socket.arrive();
                io.dispatch(2, Ready::READABLE);
            }
        });

        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let first = io.poll_io(&mut cx, Direction::Read, || socket.read());
        driver.join().unwrap();

        match first {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending => {
                assert!(woken(&count) >= 1, "lost wake-up");
                match io.poll_io(&mut cx, Direction::Read, || socket.read()) {
                    Poll::Ready(result) => result.unwrap(),
                    Poll::Pending => panic!("woken, but the data is not announced: {io:?}"),
                }
            }
        }
        io.close();
        log.check_life();
    });
}

/// A `Readiness` future (list waiter) polls while the driver dispatches.
#[test]
fn readiness_waiter_vs_dispatch() {
    model(|| {
        let log = EventLog::default();
        let io = Arc::new(LoomIo::new(log.hooks()));
        let driver = thread::spawn({
            let io = io.clone();
            move || {
                io.dispatch(1, Ready::READABLE | Ready::WRITABLE);
            }
        });

        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        {
            let mut readiness = pin!(io.readiness(Interest::READABLE));
            let first = readiness.as_mut().poll(&mut cx);
            driver.join().unwrap();
            let event = match first {
                Poll::Ready(result) => result.unwrap(),
                Poll::Pending => {
                    assert_eq!(woken(&count), 1, "lost wake-up");
                    match readiness.poll(&mut cx) {
                        Poll::Ready(result) => result.unwrap(),
                        Poll::Pending => panic!("woken, but not ready"),
                    }
                }
            };
            assert_eq!(event.ready(), Ready::READABLE, "only the flags asked for");
        }
        io.close();
        log.check_life();
    });
}

/// The owner closes (deregisters or drops) the registration while the driver
/// dispatches to its parked reader. `destroy` must come exactly once, after the
/// dispatch's `after`, and the reader must be woken.
///
/// Break tried: `IoState::close` returning `true` whatever `DISPATCHING` says (the
/// owner always emits `destroy`). Loom finds the close landing inside the dispatch:
/// the driver's `end_dispatch` sees `CLOSED` and emits a second `destroy`
/// (`[Init, Before, After, Destroy, Destroy]`).
#[test]
fn close_vs_dispatch() {
    model(|| {
        let log = EventLog::default();
        let io = Arc::new(LoomIo::new(log.hooks()));
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());

        let driver = thread::spawn({
            let io = io.clone();
            move || io.dispatch(1, Ready::READABLE)
        });
        io.close();
        let dispatched = driver.join().unwrap();

        assert!(
            woken(&count) >= 1,
            "the reader is woken by one side or the other"
        );
        let events = log.check_life();
        assert_eq!(
            events.contains(&Event::Before),
            dispatched,
            "a bracket exactly when the dispatch woke someone: {events:?}"
        );
        assert!(matches!(
            io.poll_ready(&mut cx, Direction::Read),
            Poll::Ready(Err(_))
        ));
    });
}

/// The driver shuts down while a reader parks: the reader is woken, and its next poll
/// reports the error.
#[test]
fn shutdown_vs_poll() {
    model(|| {
        let log = EventLog::default();
        let io = Arc::new(LoomIo::new(log.hooks()));
        let driver = thread::spawn({
            let io = io.clone();
            move || io.shutdown()
        });

        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let first = io.poll_ready(&mut cx, Direction::Write);
        driver.join().unwrap();
        match first {
            Poll::Ready(result) => assert!(result.is_err()),
            Poll::Pending => {
                assert_eq!(woken(&count), 1, "lost wake-up");
                assert!(matches!(
                    io.poll_ready(&mut cx, Direction::Write),
                    Poll::Ready(Err(_))
                ));
            }
        }
        io.close();
        let events = log.check_life();
        assert_eq!(events, [Event::Init, Event::Destroy]);
    });
}
