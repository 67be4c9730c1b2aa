//! Registrations begin and end: init/destroy pairs, waiters woken by a close or a
//! driver shutdown, unpark from another thread, and the driver moving between threads.

mod support;

use hookrt_hooks::{Ledger, ResourceKind};
use hookrt_io_driver::{Direction, IoDriver, IoHandle, Registration};
use mio::net::{TcpListener, UdpSocket};
use mio::Interest;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};
use support::{hooks, CountingWaker, Log};

#[test]
fn the_driver_and_handles_cross_threads() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    send::<IoDriver>();
    send_sync::<IoHandle>();
    send_sync::<Registration>();
}

#[test]
fn a_thousand_registrations_make_a_thousand_init_destroy_pairs() {
    let ledger = Arc::new(Ledger::without_event_log());
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    for batch in 0..10 {
        let mut open: Vec<(UdpSocket, Registration)> = (0..100)
            .map(|_| {
                let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
                let r = handle
                    .register(&mut socket, Interest::READABLE, ResourceKind::UdpSocket)
                    .unwrap();
                (socket, r)
            })
            .collect();
        assert_eq!(handle.registration_count(), 100);
        assert_eq!(ledger.live(), 100);
        driver.turn(Some(Duration::ZERO)).unwrap();
        // Half are deregistered, half just dropped (in a different order each batch).
        for (i, (mut socket, mut registration)) in open.drain(..).enumerate() {
            if (i + batch) % 2 == 0 {
                registration.deregister(&mut socket).unwrap();
            }
        }
        assert_eq!(handle.registration_count(), 0);
    }
    assert_eq!(ledger.inits(), 1_000);
    assert_eq!(ledger.destroys(), 1_000);
    ledger.assert_balanced();
}

#[test]
fn dropping_a_registration_wakes_its_waiters() {
    let ledger = Arc::new(Ledger::new());
    let (_driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let registration = handle
        .register(&mut listener, Interest::READABLE, ResourceKind::TcpListener)
        .unwrap();
    let (acceptor, waker) = CountingWaker::new();
    let pending = registration.poll_io(&mut Context::from_waker(&waker), Direction::Read, || {
        listener.accept()
    });
    assert!(pending.is_pending(), "no connection yet");

    drop(registration);
    assert_eq!(acceptor.count(), 1, "the pending accept is woken");
    ledger.assert_balanced();
}

#[test]
fn a_deregistered_source_reports_an_error_to_its_waiters() {
    let ledger = Arc::new(Ledger::new());
    let (_driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut registration = handle
        .register(&mut listener, Interest::READABLE, ResourceKind::TcpListener)
        .unwrap();
    let (acceptor, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(registration
        .poll_ready(&mut cx, Direction::Read)
        .is_pending());

    registration.deregister(&mut listener).unwrap();
    assert_eq!(acceptor.count(), 1);
    match registration.poll_io(&mut cx, Direction::Read, || listener.accept()) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::NotConnected),
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(registration.deregister(&mut listener).is_ok(), "idempotent");
    drop(registration);
    ledger.assert_balanced();
}

#[test]
fn a_driver_shutdown_fails_pending_io() {
    let ledger = Arc::new(Ledger::new());
    let (driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let registration = handle
        .register(&mut listener, Interest::READABLE, ResourceKind::TcpListener)
        .unwrap();
    let (direct, direct_waker) = CountingWaker::new();
    let (listed, listed_waker) = CountingWaker::new();
    assert!(registration
        .poll_ready(&mut Context::from_waker(&direct_waker), Direction::Read)
        .is_pending());
    {
        let mut readiness = pin!(registration.readiness(Interest::READABLE));
        assert!(readiness
            .as_mut()
            .poll(&mut Context::from_waker(&listed_waker))
            .is_pending());

        drop(driver);
        assert_eq!(
            (direct.count(), listed.count()),
            (1, 1),
            "every waiter is woken"
        );
        assert!(handle.is_shutdown());
        let mut cx = Context::from_waker(&direct_waker);
        assert!(matches!(
            registration.poll_ready(&mut cx, Direction::Read),
            Poll::Ready(Err(_))
        ));
        assert!(matches!(readiness.poll(&mut cx), Poll::Ready(Err(_))));
    }
    let mut another = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    assert!(handle
        .register(&mut another, Interest::READABLE, ResourceKind::UdpSocket)
        .is_err());
    assert_eq!(ledger.inits(), 1, "a failed registration emits nothing");

    drop(registration);
    ledger.assert_balanced();
}

#[test]
fn an_unpark_from_another_thread_ends_a_blocking_turn() {
    let (mut driver, handle) = IoDriver::new(Default::default()).unwrap();
    let unparker = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        handle.unpark();
    });
    let start = Instant::now();
    assert_eq!(driver.turn(None).unwrap(), 0);
    assert!(start.elapsed() < Duration::from_secs(10));
    unparker.join().unwrap();
}

/// Wakes a thread parked in [`block_on`].
struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking between polls (the driver runs elsewhere).
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(Instant::now() < deadline, "block_on timed out");
        thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn a_driver_on_another_thread_serves_a_round_trip() {
    let ledger = Arc::new(Ledger::new());
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let driver_thread = thread::spawn({
        let stop = stop.clone();
        move || {
            while !stop.load(Ordering::Acquire) {
                driver.turn(None).unwrap();
            }
            driver
        }
    });

    let (mut server, client) = support::tcp_pair();
    let registration = handle
        .register(
            &mut server,
            Interest::READABLE | Interest::WRITABLE,
            ResourceKind::TcpStream,
        )
        .unwrap();
    let echo = thread::spawn(move || {
        let mut client = client;
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).unwrap();
        client.write_all(&buf).unwrap();
    });

    let written = block_on(registration.async_io(Interest::WRITABLE, || (&server).write(b"hello")));
    assert_eq!(written.unwrap(), 5);
    let mut buf = [0u8; 5];
    let mut read = 0;
    while read < 5 {
        let n = block_on(std::future::poll_fn(|cx| {
            registration.poll_io(cx, Direction::Read, || (&server).read(&mut buf[read..]))
        }))
        .unwrap();
        read += n;
    }
    assert_eq!(&buf, b"hello");
    echo.join().unwrap();

    stop.store(true, Ordering::Release);
    handle.unpark();
    let driver = driver_thread.join().unwrap();
    drop(registration);
    drop(driver);
    ledger.assert_balanced();
}
