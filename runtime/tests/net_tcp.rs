//! `hookrt::net` TCP: tokio's semantics (echo, half-close, refused and reset
//! connections, edge-triggered readiness, codecs, `select!`), and each socket as a
//! resource (init/destroy pairs, wake edges, triggers, creation sites).

mod support;

use futures::{SinkExt, StreamExt};
use hookrt::hooks::{execution_async_id, AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::io::{AsyncReadExt, AsyncWriteExt, Interest};
use hookrt::net::{lookup_host, TcpListener, TcpSocket, TcpStream};
use hookrt::task::JoinSet;
use hookrt::time::{sleep, timeout, Duration};
use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use support::{check, Ev, Recorder, FLAVORS};
use tokio_util::codec::{Framed, LinesCodec};

/// How long any single wait in these tests may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// A listener on an ephemeral loopback port, and its address.
async fn bind_local() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client side, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = bind_local().await;
    let (client, accepted) = hookrt::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// The ids of the resources of `kind` initialised so far.
fn inits_of(rec: &Recorder, kind: ResourceKind) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind: k, .. } if *k == kind => Some(*id),
            _ => None,
        })
        .collect()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

const CLIENTS: usize = 100;
const MESSAGES: usize = 1_000;

#[test]
fn echo_with_many_concurrent_clients() {
    check(|rt, rec| {
        let started = std::time::Instant::now();
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            let server = hookrt::spawn(async move {
                let mut connections = JoinSet::new();
                for _ in 0..CLIENTS {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    connections.spawn(async move {
                        let (mut reader, mut writer) = stream.split();
                        hookrt::io::copy(&mut reader, &mut writer).await
                    });
                }
                let mut echoed = 0;
                while let Some(copied) = connections.join_next().await {
                    echoed += copied.unwrap().unwrap();
                }
                echoed
            });
            let mut clients = JoinSet::new();
            for client in 0..CLIENTS {
                clients.spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut buf = [0; 16];
                    for message in 0..MESSAGES {
                        let line = format!("{client:05}:{message:09}\n");
                        stream.write_all(line.as_bytes()).await.unwrap();
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(&buf[..], line.as_bytes());
                    }
                    stream.shutdown().await.unwrap();
                    let mut rest = Vec::new();
                    stream.read_to_end(&mut rest).await.unwrap();
                    assert!(rest.is_empty());
                });
            }
            while let Some(done) = clients.join_next().await {
                done.unwrap();
            }
            let echoed = timeout(HANG, server).await.unwrap().unwrap();
            assert_eq!(echoed, (CLIENTS * MESSAGES * 16) as u64);
        });
        let streams = inits_of(rec, ResourceKind::TcpStream);
        assert_eq!(streams.len(), 2 * CLIENTS);
        eprintln!(
            "echo: {CLIENTS} clients x {MESSAGES} messages in {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn half_close_peer_reads_eof_and_still_writes_back() {
    check(|rt, _| {
        rt.block_on(async {
            let (mut client, mut server) = pair().await;
            let server = hookrt::spawn(async move {
                let mut request = Vec::new();
                // Ends with Ok(0): the client shut its write side down.
                server.read_to_end(&mut request).await.unwrap();
                assert_eq!(request, b"ping");
                assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0, "EOF stays");
                server.write_all(b"pong").await.unwrap();
            });
            client.write_all(b"ping").await.unwrap();
            client.shutdown().await.unwrap();
            let mut reply = Vec::new();
            timeout(HANG, client.read_to_end(&mut reply))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(reply, b"pong");
            server.await.unwrap();
        });
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    check(|rt, rec| {
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            drop(listener);
            let err = timeout(HANG, TcpStream::connect(addr))
                .await
                .expect("a refused connect is an error, not a hang")
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            let err = timeout(HANG, TcpSocket::new_v4().unwrap().connect(addr))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
        // The failed streams were resources too, and are gone.
        for id in inits_of(rec, ResourceKind::TcpStream) {
            rec.wait_destroyed(id);
        }
    });
}

#[test]
fn a_reset_peer_makes_reads_and_writes_fail() {
    check(|rt, _| {
        rt.block_on(async {
            let (mut client, server) = pair().await;
            server.set_linger(Some(Duration::ZERO)).unwrap();
            assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
            drop(server); // RST instead of FIN
            let err = timeout(HANG, client.read(&mut [0; 16]))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");

            // The write side of a reset connection fails too (reset, then broken pipe).
            let (mut client, server) = pair().await;
            server.set_linger(Some(Duration::ZERO)).unwrap();
            drop(server);
            client.readable().await.unwrap();
            let mut write_error = None;
            for _ in 0..100 {
                match client.write_all(b"data").await {
                    Ok(()) => sleep(Duration::from_millis(1)).await,
                    Err(e) => {
                        write_error = Some(e);
                        break;
                    }
                }
            }
            let err = write_error.expect("writes to a reset connection fail");
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ),
                "{err:?}"
            );
        });
    });
}

#[test]
fn ten_thousand_stream_resources_open_and_close() {
    const CONNECTIONS: usize = 5_000; // two streams each: client side and accepted side
    const BATCH: usize = 100;
    check(|rt, rec| {
        let started = std::time::Instant::now();
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            for _ in 0..CONNECTIONS / BATCH {
                let mut clients = Vec::with_capacity(BATCH);
                let mut accepted = Vec::with_capacity(BATCH);
                for _ in 0..BATCH {
                    clients.push(TcpStream::connect(addr).await.unwrap());
                    accepted.push(listener.accept().await.unwrap().0);
                }
                // The accepted side closes first, so TIME_WAIT stays on the listener's
                // port instead of using up ephemeral ports across runs.
                drop(accepted);
                for mut client in clients {
                    assert_eq!(client.read(&mut [0; 1]).await.unwrap(), 0);
                }
            }
        });
        let streams = inits_of(rec, ResourceKind::TcpStream);
        assert_eq!(streams.len(), 2 * CONNECTIONS);
        let destroyed: std::collections::HashSet<AsyncId> = rec
            .events()
            .iter()
            .filter_map(|e| match e {
                Ev::Destroy(id) => Some(*id),
                _ => None,
            })
            .collect();
        assert!(streams.iter().all(|id| destroyed.contains(id)));
        eprintln!(
            "{} stream resources opened and closed in {:?}",
            2 * CONNECTIONS,
            started.elapsed()
        );
    });
}

#[test]
fn readiness_wakes_name_the_socket() {
    check(|rt, rec| {
        let (listener_id, acceptor, accepted, connector, reader, stream) = rt.block_on(async {
            let (listener, addr) = bind_local().await;
            let listener_id = listener.async_id();
            let acceptor = hookrt::spawn(async move { listener.accept().await.unwrap().0 });
            let acceptor_id = acceptor.id().async_id();
            rec.polled(acceptor_id).await; // parked in accept
            let connector = execution_async_id();
            let mut client = TcpStream::connect(addr).await.unwrap();
            let server_side = timeout(HANG, acceptor).await.unwrap().unwrap();
            let stream = server_side.async_id();
            assert_eq!(rec.trigger_of(client.async_id()), Some(connector));

            let reader = hookrt::spawn(async move {
                let mut server_side = server_side;
                let mut buf = [0; 4];
                server_side.read_exact(&mut buf).await.unwrap();
                buf
            });
            let reader_id = reader.id().async_id();
            rec.polled(reader_id).await; // parked in read
            client.write_all(b"ping").await.unwrap();
            assert_eq!(&timeout(HANG, reader).await.unwrap().unwrap(), b"ping");
            (
                listener_id,
                acceptor_id,
                stream,
                connector,
                reader_id,
                stream,
            )
        });
        assert_eq!(
            rec.wakes_of(acceptor),
            [listener_id],
            "accept woken by the listener"
        );
        assert_eq!(rec.wakes_of(reader), [stream], "read woken by the stream");
        assert_eq!(
            rec.trigger_of(accepted),
            Some(acceptor),
            "an accepted stream is created by the accepting execution"
        );
        assert_ne!(connector, acceptor);
        // The wakes came from inside the sockets' before/after pairs. On a multi-thread
        // runtime the driver thread may still be between the wake and its `after`: wait
        // for the stream's last event first.
        rec.wait_destroyed(stream);
        let names = rec.names_for(stream);
        assert_eq!(names.first(), Some(&"init"));
        assert!(names.contains(&"before") && names.contains(&"after"));
        assert_eq!(names.last(), Some(&"destroy"));
    });
}

#[test]
fn readable_and_try_read_drain_edge_triggered() {
    const TOTAL: usize = 256 * 1024;
    check(|rt, _| {
        rt.block_on(async {
            let (mut client, server) = pair().await;
            let writer = hookrt::spawn(async move {
                let chunk = vec![7u8; 8 * 1024];
                for _ in 0..TOTAL / chunk.len() {
                    client.write_all(&chunk).await.unwrap();
                }
                client
            });
            let mut buf = vec![0; 4096];
            let mut received = 0;
            let mut would_blocks = 0;
            while received < TOTAL {
                timeout(HANG, server.readable()).await.unwrap().unwrap();
                // Drain until WouldBlock: readiness is edge-triggered.
                loop {
                    match server.try_read(&mut buf) {
                        Ok(0) => panic!("early EOF after {received} bytes"),
                        Ok(n) => {
                            assert!(buf[..n].iter().all(|&b| b == 7));
                            received += n;
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            would_blocks += 1;
                            break;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            assert_eq!(received, TOTAL);
            assert!(would_blocks >= 1);
            let client = writer.await.unwrap();
            // Drained and nothing more sent: readable() waits, because the WouldBlock
            // cleared the readiness. (An event for data already drained may still land
            // after that clear, a documented false positive: then try_read reports
            // WouldBlock again, clearing it for good.)
            let mut false_positives = 0;
            while timeout(Duration::from_millis(30), server.readable())
                .await
                .is_ok()
            {
                assert_eq!(
                    server.try_read(&mut buf).unwrap_err().kind(),
                    ErrorKind::WouldBlock
                );
                false_positives += 1;
                assert!(false_positives < 3, "readable() keeps returning");
            }
            assert_eq!(
                server.try_read(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            // try_write / writable / ready / vectored reads.
            client.writable().await.unwrap();
            assert_eq!(client.try_write(b"tail").unwrap(), 4);
            let mut tail = [0; 4];
            loop {
                let ready = server.ready(Interest::READABLE).await.unwrap();
                assert!(ready.is_readable());
                let mut bufs = [std::io::IoSliceMut::new(&mut tail)];
                match server.try_read_vectored(&mut bufs) {
                    Ok(n) => {
                        assert_eq!(n, 4);
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(&tail, b"tail");
            drop(client);
            loop {
                server.readable().await.unwrap();
                match server.try_read(&mut buf) {
                    Ok(n) => {
                        assert_eq!(n, 0, "EOF");
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        });
    });
}

#[test]
fn framed_lines_codec_round_trip() {
    check(|rt, _| {
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            let server = hookrt::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut lines = Framed::new(stream, LinesCodec::new());
                while let Some(line) = lines.next().await {
                    let line = line.unwrap();
                    lines.send(line.to_uppercase()).await.unwrap();
                }
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            for i in 0..100 {
                lines.send(format!("line number {i}")).await.unwrap();
                let reply = timeout(HANG, lines.next()).await.unwrap().unwrap().unwrap();
                assert_eq!(reply, format!("LINE NUMBER {i}"));
            }
            drop(lines);
            timeout(HANG, server).await.unwrap().unwrap();
        });
    });
}

#[test]
fn select_between_a_read_and_a_sleep() {
    check(|rt, _| {
        rt.block_on(async {
            let (mut client, mut server) = pair().await;
            let mut buf = [0; 16];
            // Nothing sent: the sleep wins.
            hookrt::select! {
                read = server.read(&mut buf) => panic!("read returned {read:?} with nothing sent"),
                _ = sleep(Duration::from_millis(20)) => {}
            }
            // The cancelled read lost nothing; now data arrives and the read wins.
            client.write_all(b"hello").await.unwrap();
            hookrt::select! {
                read = server.read(&mut buf) => assert_eq!(&buf[..read.unwrap()], b"hello"),
                _ = sleep(HANG) => panic!("the read never completed"),
            }
        });
    });
}

#[test]
fn dropping_a_listener_wakes_a_pending_accept_with_an_error() {
    check(|rt, rec| {
        rt.block_on(async {
            let (listener, _) = bind_local().await;
            let slot = Arc::new(Mutex::new(Some(listener)));
            let shared = slot.clone();
            // An accept pending on a listener someone else can drop: the poll reports
            // an error once the listener is gone.
            let acceptor =
                hookrt::spawn(poll_fn(move |cx| match shared.lock().unwrap().as_ref() {
                    Some(listener) => listener.poll_accept(cx).map_ok(drop),
                    None => Poll::Ready(Err(io::Error::new(
                        ErrorKind::NotConnected,
                        "the listener was dropped",
                    ))),
                }));
            let acceptor_id = acceptor.id().async_id();
            rec.polled(acceptor_id).await;
            let listener_id = slot.lock().unwrap().as_ref().unwrap().async_id();
            let dropper = execution_async_id();
            drop(slot.lock().unwrap().take());
            let err = timeout(HANG, acceptor)
                .await
                .expect("the drop wakes the pending accept")
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotConnected);
            rec.wait_destroyed(listener_id);
            assert_eq!(rec.wakes_of(acceptor_id), [dropper]);

            // Accepts waiting on a shared listener (list waiters) can be cancelled; the
            // listener then leaves the runtime cleanly.
            let (listener, _) = bind_local().await;
            let listener = Arc::new(listener);
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let listener = listener.clone();
                    hookrt::spawn(async move { listener.accept().await.map(drop) })
                })
                .collect();
            sleep(Duration::from_millis(5)).await;
            for waiter in &waiters {
                assert!(!waiter.is_finished());
                waiter.abort();
            }
            for waiter in waiters {
                assert!(waiter.await.unwrap_err().is_cancelled());
            }
            let listener = Arc::try_unwrap(listener).unwrap();
            let std = listener.into_std().unwrap();
            drop(std);
        });
    });
}

#[test]
fn runtime_shutdown_fails_a_pending_accept() {
    for &flavor in FLAVORS {
        let (rt, ledger, _) = support::runtime(flavor);
        let listener = rt.block_on(async { bind_local().await.0 });
        let (parked_tx, parked_rx) = std::sync::mpsc::channel();
        // Accept from a plain thread: the runtime's driver still delivers its wake-ups.
        let thread = std::thread::spawn(move || {
            let result = futures::executor::block_on(async {
                let accept = listener.accept();
                hookrt::pin!(accept);
                let mut parked = false;
                poll_fn(|cx| {
                    let polled = accept.as_mut().poll(cx);
                    if !std::mem::replace(&mut parked, true) {
                        parked_tx.send(()).unwrap();
                    }
                    polled
                })
                .await
                .map(drop)
            });
            drop(listener); // its destroy, after the runtime is gone
            result
        });
        parked_rx.recv().unwrap();
        drop(rt);
        let err = thread.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
        ledger.assert_balanced();
    }
}

#[test]
fn several_tasks_accept_on_one_listener() {
    check(|rt, _| {
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            let listener = Arc::new(listener);
            let acceptors: Vec<_> = (0..4)
                .map(|_| {
                    let listener = listener.clone();
                    hookrt::spawn(async move { listener.accept().await.unwrap().0 })
                })
                .collect();
            sleep(Duration::from_millis(5)).await;
            let mut clients = Vec::new();
            for _ in 0..4 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            for acceptor in acceptors {
                timeout(HANG, acceptor).await.unwrap().unwrap();
            }
        });
    });
}

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
            assert!(file.ends_with("net_tcp.rs"), "{kind} created at {file}");
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
