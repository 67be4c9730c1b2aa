//! The readiness protocol on real sockets: ticks protect a newer event from a stale
//! clear, edge-triggered readiness is drained until `WouldBlock`, and events for a
//! token whose slot was reused are ignored.

mod support;

use hookrt_hooks::{Ledger, ResourceKind};
use hookrt_io_driver::{Direction, IoDriver, ReadyEvent};
use mio::net::TcpListener;
use mio::Interest;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::{drive_until, hooks, CountingWaker, Entry, Log};

fn noop() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// Reads from `source` until `WouldBlock`; returns the bytes read.
fn read_to_block(source: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match source.read(&mut buf) {
            Ok(0) => panic!("unexpected EOF"),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

#[test]
fn a_clear_after_would_block_keeps_a_newer_event() {
    let ledger = Arc::new(Ledger::new());
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let (mut server, mut client) = support::tcp_pair();
    let mut registration = handle
        .register(&mut server, Interest::READABLE, ResourceKind::TcpStream)
        .unwrap();

    client.write_all(b"a").unwrap();
    let mut first: Option<ReadyEvent> = None;
    drive_until(&mut driver, || {
        if let Poll::Ready(event) = registration.poll_ready(&mut noop(), Direction::Read) {
            first = Some(event.unwrap());
        }
        first.is_some()
    });
    let first = first.unwrap();
    assert!(first.ready().is_readable());
    // The task drains the socket and sees WouldBlock ...
    assert_eq!(read_to_block(&mut server), b"a");

    // ... but before it clears, new data arrives and the driver records it.
    client.write_all(b"b").unwrap();
    let mut second = first;
    drive_until(&mut driver, || {
        if let Poll::Ready(event) = registration.poll_ready(&mut noop(), Direction::Read) {
            second = event.unwrap();
        }
        second.tick() != first.tick()
    });

    // The stale clear erases nothing: the new data is still announced.
    registration.clear_readiness(first);
    match registration.poll_ready(&mut noop(), Direction::Read) {
        Poll::Ready(Ok(event)) => assert_eq!(event, second),
        other => panic!("the newer event was lost: {other:?}"),
    }
    assert_eq!(read_to_block(&mut server), b"b");

    // A clear with the current tick does clear.
    registration.clear_readiness(second);
    assert!(registration
        .poll_ready(&mut noop(), Direction::Read)
        .is_pending());

    registration.deregister(&mut server).unwrap();
    ledger.assert_balanced();
}

#[test]
fn edge_triggered_readiness_is_drained_until_would_block() {
    const LEN: usize = 64 * 1024;
    let ledger = Arc::new(Ledger::new());
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &Log::default())).unwrap();
    let (mut server, client) = support::tcp_pair();
    let mut registration = handle
        .register(&mut server, Interest::READABLE, ResourceKind::TcpStream)
        .unwrap();

    let writer = std::thread::spawn(move || {
        let mut client = client;
        client.write_all(&vec![7u8; LEN]).unwrap();
        client
    });

    let (woken, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut buf = vec![0u8; 8192];
    let mut total = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while total < LEN {
        assert!(
            std::time::Instant::now() < deadline,
            "only {total} bytes read"
        );
        match registration.poll_io(&mut cx, Direction::Read, || (&server).read(&mut buf)) {
            Poll::Ready(Ok(n)) => {
                assert!(n > 0, "unexpected EOF");
                total += n;
            }
            Poll::Ready(Err(e)) => panic!("read failed: {e}"),
            Poll::Pending => {
                driver.turn(Some(Duration::from_millis(100))).unwrap();
            }
        }
    }
    assert_eq!(total, LEN);
    let mut client = writer.join().unwrap();

    // Drained: the next read hits WouldBlock, clears the readiness and waits.
    assert!(registration
        .poll_io(&mut cx, Direction::Read, || (&server).read(&mut buf))
        .is_pending());
    let before = woken.count();
    assert_eq!(driver.turn(Some(Duration::from_millis(50))).unwrap(), 0);
    assert_eq!(woken.count(), before, "nothing new arrived");

    // A new write is a new edge: it wakes the reader again.
    client.write_all(b"more").unwrap();
    drive_until(&mut driver, || woken.count() > before);
    match registration.poll_io(&mut cx, Direction::Read, || (&server).read(&mut buf)) {
        Poll::Ready(Ok(n)) => assert_eq!(&buf[..n], b"more"),
        other => panic!("expected the new data, got {other:?}"),
    }

    registration.deregister(&mut server).unwrap();
    ledger.assert_balanced();
}

#[test]
fn an_event_for_a_reused_slot_is_ignored() {
    let ledger = Arc::new(Ledger::new());
    let log = Log::default();
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &log)).unwrap();

    // The first listener's registration is dropped without deregistering: the OS keeps
    // reporting it under its old token.
    let old_listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut old_source = old_listener;
    let old = handle
        .register(
            &mut old_source,
            Interest::READABLE,
            ResourceKind::TcpListener,
        )
        .unwrap();
    drop(old);
    assert_eq!(handle.registration_count(), 0);

    // Its slot is reused by the only live registration.
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut registration = handle
        .register(&mut listener, Interest::READABLE, ResourceKind::TcpListener)
        .unwrap();
    let id = registration.id();
    let (woken, waker) = CountingWaker::new();
    assert!(registration
        .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        .is_pending());
    log.clear();

    let _stale_client = std::net::TcpStream::connect(old_source.local_addr().unwrap()).unwrap();
    let mut dispatched = 0;
    for _ in 0..5 {
        dispatched += driver.turn(Some(Duration::from_millis(20))).unwrap();
    }
    assert_eq!(dispatched, 0, "the stale token reached no registration");
    assert_eq!(woken.count(), 0);
    assert!(
        log.entries().is_empty(),
        "no event for the new registration"
    );
    assert!(registration
        .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        .is_pending());

    // The live registration's own events still arrive.
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    drive_until(&mut driver, || woken.count() > 0);
    assert_eq!(log.entries()[0], Entry::Before(id));

    registration.deregister(&mut listener).unwrap();
    ledger.assert_balanced();
}
