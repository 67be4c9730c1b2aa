//! TCP sockets beyond plain reads and writes: split halves, peek, socket options and
//! std conversions, name resolution, resource locations, and the `enable_io` check.

mod support;

use hookrt::hooks::{Hook, Ledger, Resource, ResourceKind};
use hookrt::io::{AsyncReadExt, AsyncWriteExt};
use hookrt::net::{lookup_host, TcpListener, TcpSocket, TcpStream};
use hookrt::time::timeout;
use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use support::net::{bind_local, inits_of, pair, panic_message, HANG};
use support::{check, FLAVORS};

#[test]
fn split_halves_and_reunite() {
    check(|rt, rec| {
        rt.block_on(async {
            let (mut client, server) = pair().await;
            // Borrowed halves: read and write concurrently within one task.
            {
                let (mut reader, mut writer) = client.split();
                assert_eq!(reader.peer_addr().unwrap(), writer.peer_addr().unwrap());
                let echo = hookrt::spawn(async move {
                    let mut server = server;
                    let mut buf = [0; 5];
                    server.read_exact(&mut buf).await.unwrap();
                    server.write_all(&buf).await.unwrap();
                    server
                });
                let mut got = [0; 5];
                let (written, read) =
                    hookrt::join!(writer.write_all(b"split"), reader.read_exact(&mut got));
                written.unwrap();
                read.unwrap();
                assert_eq!(&got, b"split");
                drop(echo.await.unwrap());
            }

            // Owned halves in separate tasks; dropping the write half shuts it down.
            let (client, mut server) = pair().await;
            let client_id = client.async_id();
            let (mut reader, mut writer) = client.into_split();
            let write_task = hookrt::spawn(async move {
                writer.write_all(b"owned").await.unwrap();
                // dropped here: shutdown(Write)
            });
            let mut request = Vec::new();
            server.read_to_end(&mut request).await.unwrap();
            assert_eq!(request, b"owned");
            write_task.await.unwrap();
            server.write_all(b"back").await.unwrap();
            let mut reply = [0; 4];
            reader.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"back");
            drop(reader);
            rec.wait_destroyed(client_id);

            // Reunite: same stream comes back; halves of different streams do not.
            let (a, _a_peer) = pair().await;
            let (b, _b_peer) = pair().await;
            let a_id = a.async_id();
            let (a_read, a_write) = a.into_split();
            let (b_read, b_write) = b.into_split();
            let err = a_read.reunite(b_write).unwrap_err();
            assert!(err.to_string().contains("not from the same socket"));
            let hookrt::net::tcp::ReuniteError(a_read, b_write) = err;
            let a = a_read.reunite(a_write).unwrap();
            assert_eq!(a.async_id(), a_id);
            let b = b_write.reunite(b_read).unwrap();
            // Reuniting shut nothing down: the stream still writes.
            let (mut a, mut b) = (a, b);
            a.write_all(b"x").await.unwrap();
            b.write_all(b"y").await.unwrap();
        });
    });
}

#[test]
fn peek_does_not_consume() {
    check(|rt, _| {
        rt.block_on(async {
            let (mut client, mut server) = pair().await;
            client.write_all(b"peekaboo").await.unwrap();
            let mut buf = [0; 8];
            let mut peeked = 0;
            while peeked < 8 {
                peeked = timeout(HANG, server.peek(&mut buf)).await.unwrap().unwrap();
            }
            assert_eq!(&buf, b"peekaboo");
            let mut storage = [0; 4];
            let mut read_buf = hookrt::io::ReadBuf::new(&mut storage);
            let n = poll_fn(|cx| server.poll_peek(cx, &mut read_buf))
                .await
                .unwrap();
            assert_eq!(n, 4);
            assert_eq!(read_buf.filled(), b"peek");
            let mut all = [0; 8];
            server.read_exact(&mut all).await.unwrap();
            assert_eq!(&all, b"peekaboo");
        });
    });
}

#[test]
fn socket_options_and_std_conversions() {
    check(|rt, rec| {
        rt.block_on(async {
            // TcpSocket: options before listen/connect.
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            assert!(socket.reuseaddr().unwrap());
            socket.set_reuseport(true).unwrap();
            assert!(socket.reuseport().unwrap());
            socket.set_send_buffer_size(64 * 1024).unwrap();
            assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
            socket.set_recv_buffer_size(64 * 1024).unwrap();
            assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = socket.local_addr().unwrap();
            let listener = socket.listen(64).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);
            listener.set_ttl(42).unwrap();
            assert_eq!(listener.ttl().unwrap(), 42);

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            let (stream, accepted) = hookrt::join!(client.connect(addr), listener.accept());
            let stream = stream.unwrap();
            let (accepted, peer) = accepted.unwrap();
            assert_eq!(peer, stream.local_addr().unwrap());
            assert!(stream.nodelay().unwrap());
            stream.set_nodelay(false).unwrap();
            assert!(!stream.nodelay().unwrap());
            stream.set_ttl(17).unwrap();
            assert_eq!(stream.ttl().unwrap(), 17);
            assert_eq!(stream.linger().unwrap(), None);
            assert!(stream.take_error().unwrap().is_none());

            // into_std ends the resource; from_std starts a new one.
            let old_id = stream.async_id();
            let std_stream = stream.into_std().unwrap();
            rec.wait_destroyed(old_id);
            let mut stream = TcpStream::from_std(std_stream).unwrap();
            assert_ne!(stream.async_id(), old_id);
            stream.write_all(b"still connected").await.unwrap();
            let mut accepted = accepted;
            let mut buf = [0; 15];
            accepted.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still connected");

            let std_listener = listener.into_std().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            let std_client = std::net::TcpStream::connect(addr).unwrap();
            let (_, peer) = timeout(HANG, listener.accept()).await.unwrap().unwrap();
            assert_eq!(peer, std_client.local_addr().unwrap());
            let socket = TcpSocket::from_std_stream(std_client);
            assert_eq!(socket.local_addr().unwrap(), peer);
        });
    });
}

#[test]
fn name_resolution_uses_the_blocking_pool_only_for_names() {
    check(|rt, rec| {
        rt.block_on(async {
            let numeric: Vec<_> = lookup_host("127.0.0.1:80").await.unwrap().collect();
            assert_eq!(numeric, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
            let pairs: Vec<_> = lookup_host(("::1", 81)).await.unwrap().collect();
            assert_eq!(pairs, ["[::1]:81".parse::<SocketAddr>().unwrap()]);
            assert!(inits_of(rec, ResourceKind::Blocking).is_empty());

            let (listener, addr) = bind_local().await;
            let local: Vec<_> = lookup_host(format!("localhost:{}", addr.port()))
                .await
                .unwrap()
                .collect();
            assert!(!local.is_empty());
            assert!(local
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == addr.port()));
            assert!(rec.id_named("lookup_host").is_some());
            // connect by name tries each address until one connects (::1 may refuse).
            let (client, accepted) = hookrt::join!(
                TcpStream::connect(("localhost", addr.port())),
                listener.accept()
            );
            assert_eq!(client.unwrap().peer_addr().unwrap(), addr);
            drop(accepted.unwrap());
            assert_eq!(inits_of(rec, ResourceKind::Blocking).len(), 2);

            // The futures are Send (they can be spawned) for Send arguments.
            fn assert_send<T: Send + 'static>(_: &T) {}
            assert_send(&TcpStream::connect(("localhost".to_string(), 1)));
            assert_send(&TcpListener::bind(String::from("localhost:0")));
            assert_send(&lookup_host("localhost:1"));
            assert_send(&TcpSocket::new_v4().unwrap().connect(addr));

            let Err(err) = lookup_host("no port here").await else {
                panic!("a host without a port resolved");
            };
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        });
    });
}

/// Records where each socket resource was created.
#[derive(Default)]
struct Sites(Mutex<Vec<(ResourceKind, String)>>);

impl Hook for Sites {
    fn init(&self, r: &Resource<'_>) {
        if matches!(
            r.kind(),
            ResourceKind::TcpStream | ResourceKind::TcpListener | ResourceKind::Blocking
        ) {
            let site = r
                .location()
                .map(|l| l.file().to_owned())
                .unwrap_or_default();
            self.0.lock().unwrap().push((r.kind(), site));
        }
    }
}

#[test]
fn sockets_are_located_at_the_users_call() {
    for &flavor in FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let sites = Arc::new(Sites::default());
        let rt = support::builder(flavor)
            .enable_all()
            .hook(ledger.clone())
            .hook(sites.clone())
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("localhost:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (client, accepted) = hookrt::join!(TcpStream::connect(addr), listener.accept());
            drop((client.unwrap(), accepted.unwrap()));
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            drop(socket.listen(8).unwrap());
        });
        drop(rt);
        ledger.assert_balanced();
        let sites = sites.0.lock().unwrap();
        let kinds: Vec<_> = sites.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [
                ResourceKind::Blocking, // resolving "localhost"
                ResourceKind::TcpListener,
                ResourceKind::TcpStream,
                ResourceKind::TcpStream,
                ResourceKind::TcpListener,
            ],
            "{flavor:?}"
        );
        for (kind, file) in sites.iter() {
            assert!(
                file.ends_with("net_tcp_socket.rs"),
                "{kind} created at {file}"
            );
        }
    }
}

#[test]
fn sockets_need_a_runtime_with_enable_io() {
    for &flavor in FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let rt = support::builder(flavor)
            .enable_time()
            .hook(ledger.clone())
            .build()
            .unwrap();
        let joined = rt.block_on(async {
            hookrt::spawn(async { TcpListener::bind("127.0.0.1:0").await.map(drop) }).await
        });
        let message = panic_message(&*joined.unwrap_err().into_panic());
        assert!(message.contains("enable_io()"), "{message}");

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let std_stream = std::net::TcpStream::connect(addr).unwrap();
        let guard = rt.enter();
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            TcpStream::from_std(std_stream).map(drop)
        }))
        .unwrap_err();
        assert!(panic_message(&*panicked).contains("enable_io()"));
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            TcpListener::from_std(std_listener).map(drop)
        }))
        .unwrap_err();
        assert!(panic_message(&*panicked).contains("enable_io()"));
        drop(guard);
        drop(rt);
        ledger.assert_balanced();
    }
}
