//! UDP sockets: echo, connected sockets, the try/readiness API, the poll API, wake
//! edges and resource events.

mod support;

use hookrt::hooks::{execution_async_id, AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::io::{Interest, ReadBuf};
use hookrt::net::UdpSocket;
use hookrt::time::{timeout, Duration};
use std::collections::HashSet;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use support::{check, Ev, Recorder};

/// How long any single wait may take before the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

async fn bind_local() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// The ids of every resource of `kind` initialised so far.
fn inits_of(rec: &Recorder, kind: ResourceKind) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind: k, .. } if *k == kind => Some(*id),
            _ => None,
        })
        .collect()
}

/// Waits (bounded) until every id in `ids` has its `destroy` recorded; returns how many
/// did.
fn destroyed_count(rec: &Recorder, ids: &[AsyncId]) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let destroyed: HashSet<AsyncId> = rec
            .events()
            .iter()
            .filter_map(|e| match e {
                Ev::Destroy(id) => Some(*id),
                _ => None,
            })
            .collect();
        let n = ids.iter().filter(|id| destroyed.contains(id)).count();
        if n == ids.len() || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn a_server_task_echoes_a_thousand_datagrams() {
    const N: u32 = 1_000;
    check(|rt, _rec| {
        rt.block_on(async {
            let server = bind_local().await;
            let server_addr = server.local_addr().unwrap();
            let echo = hookrt::spawn(async move {
                let mut buf = [0; 64];
                let mut echoed = 0;
                while echoed < N {
                    let Ok(received) = timeout(LIMIT, server.recv_from(&mut buf)).await else {
                        break;
                    };
                    let (n, from) = received.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                    echoed += 1;
                }
                echoed
            });

            let client = bind_local().await;
            let client_addr = client.local_addr().unwrap();
            let mut buf = [0; 64];
            for i in 0..N {
                let message = i.to_be_bytes();
                assert_eq!(client.send_to(&message, server_addr).await.unwrap(), 4);
                let (n, from) = timeout(LIMIT, client.recv_from(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("echo of datagram {i} never came"))
                    .unwrap();
                assert_eq!(from, server_addr);
                assert_eq!(&buf[..n], message);
            }
            assert_ne!(client_addr, server_addr);
            assert_eq!(timeout(LIMIT, echo).await.unwrap().unwrap(), N);
        });
    });
}

#[test]
fn connected_sockets_send_and_recv_with_their_peer_only() {
    check(|rt, _rec| {
        rt.block_on(async {
            let a = bind_local().await;
            let b = bind_local().await;
            let stranger = bind_local().await;
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            assert_eq!(
                a.peer_addr().unwrap_err().kind(),
                io::ErrorKind::NotConnected
            );
            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            assert_eq!(b.peer_addr().unwrap(), a_addr);

            // The OS drops what a connected socket gets from anyone but its peer.
            stranger.send_to(b"not for you", a_addr).await.unwrap();
            b.send(b"hello").await.unwrap();
            let mut buf = [0; 32];
            let n = timeout(LIMIT, a.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"hello");

            a.send(b"world").await.unwrap();
            let mut peeked = [0; 32];
            let n = timeout(LIMIT, b.peek(&mut peeked)).await.unwrap().unwrap();
            assert_eq!(&peeked[..n], b"world");
            let n = timeout(LIMIT, b.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"world");

            // A datagram longer than the buffer is truncated; the rest is gone.
            a.send(&[7; 100]).await.unwrap();
            a.send(b"next").await.unwrap();
            let mut small = [0; 10];
            let n = timeout(LIMIT, b.recv(&mut small)).await.unwrap().unwrap();
            assert_eq!(&small[..n], &[7; 10]);
            let n = timeout(LIMIT, b.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"next");
        });
    });
}

#[test]
fn try_recv_would_block_until_readable() {
    check(|rt, _rec| {
        rt.block_on(async {
            let a = bind_local().await;
            let b = bind_local().await;
            let a_addr = a.local_addr().unwrap();
            let mut buf = [0; 16];
            assert_eq!(
                a.try_recv_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            assert_eq!(
                a.try_peek_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );

            // try_send: wait for writability, retry on a spurious WouldBlock.
            let mut sent = None;
            for _ in 0..100 {
                timeout(LIMIT, b.writable()).await.unwrap().unwrap();
                match b.try_send_to(b"ready", a_addr) {
                    Ok(n) => {
                        sent = Some(n);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_send_to: {e}"),
                }
            }
            assert_eq!(sent, Some(5));

            let mut received = None;
            for _ in 0..100 {
                timeout(LIMIT, a.readable()).await.unwrap().unwrap();
                match a.try_recv_from(&mut buf) {
                    Ok(r) => {
                        received = Some(r);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_recv_from: {e}"),
                }
            }
            let (n, from) = received.expect("the datagram arrives");
            assert_eq!((&buf[..n], from), (&b"ready"[..], b.local_addr().unwrap()));
            // Drained: WouldBlock again.
            assert_eq!(
                a.try_recv_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );

            let ready = timeout(LIMIT, a.ready(Interest::READABLE | Interest::WRITABLE))
                .await
                .unwrap()
                .unwrap();
            assert!(ready.is_writable());
        });
    });
}

#[test]
fn a_task_woken_by_a_datagram_names_the_socket() {
    check(|rt, rec| {
        let (task, socket, creator) = rt.block_on(async {
            let receiver = bind_local().await;
            let socket = receiver.async_id();
            let addr = receiver.local_addr().unwrap();
            let handle = hookrt::spawn(async move {
                let mut buf = [0; 16];
                let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            let task = handle.id().async_id();
            // Parked on the socket before anything is sent.
            rec.polled(task).await;
            bind_local().await.send_to(b"wake up", addr).await.unwrap();
            let got = timeout(LIMIT, handle).await.unwrap().unwrap();
            assert_eq!(got, b"wake up");
            (task, socket, execution_async_id())
        });
        let wakes = rec.wakes_of(task);
        assert!(
            !wakes.is_empty() && wakes.iter().all(|by| *by == socket),
            "the socket {socket} woke the task: {wakes:?}"
        );
        rec.wait_destroyed(socket);
        let names = rec.names_for(socket);
        assert_eq!(names.first(), Some(&"init"));
        assert_eq!(names.last(), Some(&"destroy"));
        assert!(names.contains(&"before") && names.contains(&"after"));
        assert_eq!(rec.trigger_of(socket), Some(creator));
    });
}

#[test]
fn a_thousand_sockets_are_a_thousand_inits_and_destroys() {
    check(|rt, rec| {
        rt.block_on(async {
            for _ in 0..1_000 {
                let socket = bind_local().await;
                assert!(socket.local_addr().unwrap().port() != 0);
                drop(socket);
            }
        });
        let ids = inits_of(rec, ResourceKind::UdpSocket);
        assert_eq!(ids.len(), 1_000);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1_000);
        assert_eq!(destroyed_count(rec, &ids), 1_000);
    });
}

#[test]
fn shared_socket_with_several_receiving_tasks() {
    const TASKS: usize = 4;
    const EACH: usize = 25;
    check(|rt, _rec| {
        rt.block_on(async {
            let server = Arc::new(bind_local().await);
            let addr = server.local_addr().unwrap();
            let receivers: Vec<_> = (0..TASKS)
                .map(|_| {
                    let server = server.clone();
                    hookrt::spawn(async move {
                        let mut got = Vec::new();
                        let mut buf = [0; 8];
                        for _ in 0..EACH {
                            let (n, _) = timeout(LIMIT, server.recv_from(&mut buf))
                                .await
                                .expect("a datagram for every receiver")
                                .unwrap();
                            got.push(u32::from_be_bytes(buf[..n].try_into().unwrap()));
                        }
                        got
                    })
                })
                .collect();
            let client = bind_local().await;
            for i in 0..(TASKS * EACH) as u32 {
                client.send_to(&i.to_be_bytes(), addr).await.unwrap();
            }
            let mut all = Vec::new();
            for receiver in receivers {
                all.extend(timeout(LIMIT, receiver).await.unwrap().unwrap());
            }
            all.sort_unstable();
            assert_eq!(all, (0..(TASKS * EACH) as u32).collect::<Vec<_>>());
        });
    });
}

#[test]
fn the_poll_api() {
    check(|rt, _rec| {
        rt.block_on(async {
            let a = bind_local().await;
            let b = bind_local().await;
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

            poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
            let n = poll_fn(|cx| a.poll_send_to(cx, b"one", b_addr))
                .await
                .unwrap();
            assert_eq!(n, 3);

            let from = timeout(LIMIT, b.peek_sender()).await.unwrap().unwrap();
            assert_eq!(from, a_addr);
            let mut storage = [0; 16];
            let mut buf = ReadBuf::new(&mut storage);
            let from = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
            assert_eq!((buf.filled(), from), (&b"one"[..], a_addr));
            let mut buf = ReadBuf::new(&mut storage);
            let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
            assert_eq!((buf.filled(), from), (&b"one"[..], a_addr));

            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            assert_eq!(poll_fn(|cx| a.poll_send(cx, b"two")).await.unwrap(), 3);
            poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
            let mut buf = ReadBuf::new(&mut storage);
            poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap();
            assert_eq!(buf.filled(), b"two");
            let mut buf = ReadBuf::new(&mut storage);
            poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
            assert_eq!(buf.filled(), b"two");

            // The generic escape hatches.
            let n = a
                .async_io(Interest::WRITABLE, || a.try_send(b"three"))
                .await
                .unwrap();
            assert_eq!(n, 5);
            let n = b
                .async_io(Interest::READABLE, || b.try_recv(&mut storage))
                .await
                .unwrap();
            assert_eq!(&storage[..n], b"three");
        });
    });
}

#[test]
fn addresses_resolve_from_strings_tuples_and_host_names() {
    check(|rt, rec| {
        rt.block_on(async {
            let a = UdpSocket::bind(String::from("127.0.0.1:0")).await.unwrap();
            let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            let c = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .unwrap();
            let port = b.local_addr().unwrap().port();
            a.send_to(b"tuple", ("127.0.0.1", port)).await.unwrap();
            let b_addr = b.local_addr().unwrap();
            a.send_to(b"by reference", &b_addr).await.unwrap();
            a.send_to(b"string", format!("127.0.0.1:{port}"))
                .await
                .unwrap();
            let mut buf = [0; 16];
            for expected in [&b"tuple"[..], b"by reference", b"string"] {
                let n = timeout(LIMIT, b.recv(&mut buf)).await.unwrap().unwrap();
                assert_eq!(&buf[..n], expected);
            }
            c.connect(("127.0.0.1", port)).await.unwrap();
            assert_eq!(c.peer_addr().unwrap(), b.local_addr().unwrap());
            assert!(UdpSocket::bind("not an address").await.is_err());
        });
        // Only literal IPs resolve at once; the invalid string went to the blocking pool
        // (where its lookup failed).
        assert_eq!(inits_of(rec, ResourceKind::Blocking).len(), 1);
    });
}

#[test]
fn host_names_are_looked_up_on_the_blocking_pool() {
    check(|rt, rec| {
        let resolved = rt.block_on(async {
            match UdpSocket::bind("localhost:0").await {
                Ok(socket) => Some(socket.local_addr().unwrap()),
                // No `localhost` in this environment's resolver: nothing to check.
                Err(_) => None,
            }
        });
        if let Some(addr) = resolved {
            assert!(addr.ip().is_loopback());
            assert_eq!(inits_of(rec, ResourceKind::Blocking).len(), 1);
            assert!(rec.id_named("lookup_host").is_some());
        }
    });
}

#[test]
fn socket_options() {
    check(|rt, _rec| {
        rt.block_on(async {
            let socket = bind_local().await;
            assert!(!socket.broadcast().unwrap());
            socket.set_broadcast(true).unwrap();
            assert!(socket.broadcast().unwrap());
            socket.set_ttl(42).unwrap();
            assert_eq!(socket.ttl().unwrap(), 42);
            socket.set_multicast_ttl_v4(3).unwrap();
            assert_eq!(socket.multicast_ttl_v4().unwrap(), 3);
            socket.set_multicast_loop_v4(false).unwrap();
            assert!(!socket.multicast_loop_v4().unwrap());
            assert!(socket.take_error().unwrap().is_none());

            // Multicast membership depends on the host's routes; where joining works,
            // leaving must too.
            let group = Ipv4Addr::new(239, 255, 42, 99);
            let any = UdpSocket::bind("0.0.0.0:0").await.unwrap();
            if any.join_multicast_v4(group, Ipv4Addr::LOCALHOST).is_ok() {
                any.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
            }
            if let Ok(v6) = UdpSocket::bind("[::1]:0").await {
                let group = "ff02::1:ff00:42".parse().unwrap();
                if v6.join_multicast_v6(&group, 0).is_ok() {
                    v6.leave_multicast_v6(&group, 0).unwrap();
                }
                v6.set_multicast_loop_v6(true).unwrap();
                assert!(v6.multicast_loop_v6().unwrap());
            }
        });
    });
}

/// Records where each I/O resource was created.
#[derive(Default)]
struct Sites(Mutex<Vec<(AsyncId, ResourceKind, String, u32)>>);

impl Hook for Sites {
    fn init(&self, r: &Resource<'_>) {
        if matches!(r.kind(), ResourceKind::UdpSocket | ResourceKind::Blocking) {
            let (file, line) = r
                .location()
                .map_or((String::new(), 0), |l| (l.file().to_owned(), l.line()));
            self.0.lock().unwrap().push((r.id(), r.kind(), file, line));
        }
    }
}

#[test]
fn sockets_report_their_creation_site_and_convert_to_and_from_std() {
    for &flavor in support::FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let sites = Arc::new(Sites::default());
        let rt = support::builder(flavor)
            .enable_all()
            .hook(ledger.clone())
            .hook(sites.clone())
            .build()
            .unwrap();
        let (bind_line, std_line, lookup_line, ids) = rt.block_on(async {
            let (bound, bind_line) = (UdpSocket::bind("127.0.0.1:0"), line!());
            let bound = bound.await.unwrap();
            let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            std_socket.set_nonblocking(true).unwrap();
            let (wrapped, std_line) = (UdpSocket::from_std(std_socket), line!());
            let wrapped = wrapped.unwrap();
            let ids = [bound.async_id(), wrapped.async_id()];

            // Round trip through std: the socket keeps working, as a new resource.
            let back = wrapped.into_std().unwrap();
            let again = UdpSocket::try_from(back).unwrap();
            bound
                .send_to(b"x", again.local_addr().unwrap())
                .await
                .unwrap();
            let mut buf = [0; 4];
            let n = timeout(LIMIT, again.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"x");
            assert!(format!("{again:?}").contains("UdpSocket"));

            // A name lookup is a blocking job created at the user's call.
            let (lookup, lookup_line) = (again.connect("no port here"), line!());
            assert!(lookup.await.is_err());
            (bind_line, std_line, lookup_line, ids)
        });
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
        let mut sites = sites.0.lock().unwrap().clone();
        let lookup = sites.pop().unwrap();
        assert_eq!(lookup.1, ResourceKind::Blocking);
        assert_eq!((lookup.2.as_str(), lookup.3), (file!(), lookup_line));
        assert_eq!(sites.len(), 3, "bind, from_std, try_from");
        let here = file!();
        assert_eq!(
            (sites[0].0, sites[0].2.as_str(), sites[0].3),
            (ids[0], here, bind_line)
        );
        assert_eq!(
            (sites[1].0, sites[1].2.as_str(), sites[1].3),
            (ids[1], here, std_line)
        );
        assert_eq!(sites[2].2, here);
    }
}

#[test]
fn a_socket_outside_a_runtime_panics_with_the_fix() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let panic = std::panic::catch_unwind(move || UdpSocket::from_std(socket)).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("runtime"), "{message}");
}

#[test]
fn sockets_and_their_futures_are_send_and_sync() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<UdpSocket>();
    let (rt, _ledger, _rec) = support::runtime(support::Flavor::CurrentThread);
    rt.block_on(async {
        let socket = bind_local().await;
        let addr = socket.local_addr().unwrap();
        let mut buf = [0; 4];
        send(&UdpSocket::bind("localhost:0"));
        send(&socket.connect(("localhost", 1)));
        send(&socket.send_to(b"x", "localhost:1"));
        send(&socket.send_to(b"x", &addr));
        send(&socket.send(b"x"));
        send(&socket.recv(&mut buf));
        send(&socket.recv_from(&mut buf));
        send(&socket.peek_from(&mut buf));
        send(&socket.peek_sender());
        send(&socket.ready(Interest::READABLE));
        send(&socket.async_io(Interest::READABLE, || Ok(())));
    });
}
