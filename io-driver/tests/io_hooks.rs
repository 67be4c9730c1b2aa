//! Sockets as resources: `init` with trigger and location, wakers run inside the
//! socket's `before`/`after` with the execution frame set to it, `destroy` last.

mod support;

use hookrt_hooks::{AsyncId, Context as AsyncContext, Ledger, LedgerEvent, Resource, ResourceKind};
use hookrt_io_driver::{Direction, IoDriver};
use mio::net::{TcpListener, UdpSocket};
use mio::Interest;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use support::{drive_until, hooks, Entry, Log};

#[test]
fn a_listener_wakes_its_acceptor_inside_its_own_frame() {
    let ledger = Arc::new(Ledger::new());
    let log = Log::default();
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &log)).unwrap();

    // Register from inside an execution, to see it become the trigger.
    let ctx = AsyncContext::empty();
    let outer = AsyncId::allocate();
    let outer_view = Resource::new(outer, AsyncId::ROOT, ResourceKind::Custom("outer"), &ctx);
    handle.hooks().init(&outer_view);
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let (line, mut registration) = {
        let _frame = hookrt_hooks::enter(outer, AsyncId::ROOT, ctx.clone());
        let line = line!() + 1;
        let r = handle.register(&mut listener, Interest::READABLE, ResourceKind::TcpListener);
        (line, r.unwrap())
    };
    let id = registration.id();
    assert_eq!(ledger.trigger_of(id), Some(outer));
    assert_eq!(ledger.kind_of(id), Some(ResourceKind::TcpListener));
    let location = log.location_of(id).expect("init carries a location");
    assert!(location.file().ends_with("io_hooks.rs"), "{location}");
    assert_eq!(location.line(), line);

    let (woken, waker) = log.waker(1);
    let mut cx = Context::from_waker(&waker);
    assert!(registration
        .poll_ready(&mut cx, Direction::Read)
        .is_pending());
    log.clear();

    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let dispatched = drive_until(&mut driver, || woken.count() > 0);
    assert_eq!(dispatched, 1, "one registration had a waiter woken");
    assert_eq!(
        log.entries(),
        vec![
            Entry::Before(id),
            Entry::Woken {
                waker: 1,
                execution: id
            },
            Entry::After(id),
        ],
        "the waker runs inside the socket's before/after, with the socket as execution"
    );
    assert_eq!(
        hookrt_hooks::execution_async_id(),
        AsyncId::ROOT,
        "frame restored"
    );

    let accepted = match registration.poll_io(&mut cx, Direction::Read, || listener.accept()) {
        Poll::Ready(result) => result.unwrap(),
        Poll::Pending => panic!("readable after the wake"),
    };
    drop(accepted);
    registration.deregister(&mut listener).unwrap();
    handle.hooks().destroy(&outer_view);

    let thread = std::thread::current().id();
    assert_eq!(
        ledger.events_for(id),
        vec![
            LedgerEvent::Init {
                trigger: outer,
                kind: ResourceKind::TcpListener,
                thread
            },
            LedgerEvent::Before(thread),
            LedgerEvent::After(thread),
            LedgerEvent::Destroy(thread),
        ]
    );
    ledger.assert_balanced();
}

#[test]
fn readiness_futures_are_all_woken_by_one_dispatch() {
    let ledger = Arc::new(Ledger::new());
    let log = Log::default();
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &log)).unwrap();
    let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut registration = handle
        .register(
            &mut socket,
            Interest::READABLE | Interest::WRITABLE,
            ResourceKind::UdpSocket,
        )
        .unwrap();
    let id = registration.id();
    // A fresh UDP socket is writable at once: consume that first.
    drive_until(&mut driver, || {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        registration
            .poll_ready(&mut cx, Direction::Write)
            .is_ready()
    });

    let (a, waker_a) = log.waker(1);
    let (b, waker_b) = log.waker(2);
    {
        let mut first = pin!(registration.readiness(Interest::READABLE));
        let mut second = pin!(registration.readiness(Interest::READABLE));
        assert!(first
            .as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending());
        assert!(second
            .as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending());
        log.clear();

        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send_to(b"x", socket.local_addr().unwrap())
            .unwrap();
        drive_until(&mut driver, || a.count() > 0 && b.count() > 0);
        let entries = log.entries();
        assert_eq!(entries.first(), Some(&Entry::Before(id)));
        assert_eq!(entries.last(), Some(&Entry::After(id)));
        assert_eq!(
            entries.len(),
            4,
            "one bracket around both wakers: {entries:?}"
        );
        for entry in &entries[1..3] {
            assert!(matches!(entry, Entry::Woken { execution, .. } if *execution == id));
        }

        for (future, waker) in [(first, &waker_a), (second, &waker_b)] {
            match future.poll(&mut Context::from_waker(waker)) {
                Poll::Ready(Ok(event)) => assert!(event.ready().is_readable()),
                other => panic!("expected readable, got {other:?}"),
            }
        }
    }
    registration.deregister(&mut socket).unwrap();
    ledger.assert_balanced();
}

#[test]
fn a_panicking_waker_does_not_stop_the_driver() {
    struct Panics;
    impl std::task::Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("waker panics on purpose");
        }
    }

    let ledger = Arc::new(Ledger::new());
    let log = Log::default();
    let (mut driver, handle) = IoDriver::new(hooks(&ledger, &log)).unwrap();
    let (mut server, mut client) = support::tcp_pair();
    let mut registration = handle
        .register(&mut server, Interest::READABLE, ResourceKind::TcpStream)
        .unwrap();
    let id = registration.id();
    log.clear();
    let waker = std::task::Waker::from(Arc::new(Panics));
    assert!(registration
        .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        .is_pending());
    std::io::Write::write_all(&mut client, b"x").unwrap();
    // Turn without polling in between (a poll would replace the panicking waker).
    drive_until(&mut driver, || log.entries().contains(&Entry::After(id)));
    assert_eq!(
        log.entries(),
        vec![Entry::Before(id), Entry::After(id)],
        "the panic is contained between before and after"
    );
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(registration.poll_ready(&mut cx, Direction::Read).is_ready());
    assert!(driver.turn(Some(std::time::Duration::ZERO)).is_ok());
    registration.deregister(&mut server).unwrap();
    ledger.assert_balanced();
}
