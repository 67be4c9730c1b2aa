//! Unix-domain sockets: stream echo, half-close, pairs and split halves, datagrams,
//! wake edges and resource events.
#![cfg(unix)]

mod support;

use hookrt::hooks::{execution_async_id, AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf};
use hookrt::net::{UnixDatagram, UnixListener, UnixStream};
use hookrt::time::{timeout, Duration};
use std::collections::HashSet;
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::{check, Ev, Recorder};

/// How long any single wait may take before the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// A fresh directory for socket paths, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hookrt-net-unix-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the socket directory");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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

/// Echoes everything read back until EOF, then closes.
async fn echo(mut stream: UnixStream) -> io::Result<u64> {
    let (mut reader, mut writer) = stream.split();
    let copied = hookrt::io::copy(&mut reader, &mut writer).await?;
    writer.shutdown().await?;
    Ok(copied)
}

#[test]
fn ten_clients_each_echo_a_hundred_messages() {
    const CLIENTS: usize = 10;
    const MESSAGES: usize = 100;
    check(|rt, rec| {
        let dir = TempDir::new();
        let path = dir.path("echo.sock");
        let listener_id = rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let listener_id = listener.async_id();
            assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
            let server = hookrt::spawn(async move {
                let mut connections = Vec::new();
                for _ in 0..CLIENTS {
                    let (stream, peer) = listener.accept().await.unwrap();
                    assert!(peer.is_unnamed());
                    connections.push(hookrt::spawn(echo(stream)));
                }
                let mut total = 0;
                for connection in connections {
                    total += connection.await.unwrap().unwrap();
                }
                total
            });
            let clients: Vec<_> = (0..CLIENTS)
                .map(|c| {
                    let path = path.clone();
                    hookrt::spawn(async move {
                        let mut stream = UnixStream::connect(&path).await.unwrap();
                        assert_eq!(stream.peer_addr().unwrap().as_pathname(), Some(&*path));
                        let mut buf = [0; 16];
                        for m in 0..MESSAGES {
                            let message = format!("c{c:02}m{m:03}.........");
                            stream.write_all(message.as_bytes()).await.unwrap();
                            stream.read_exact(&mut buf).await.unwrap();
                            assert_eq!(&buf, message.as_bytes());
                        }
                        stream.shutdown().await.unwrap();
                        assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "EOF");
                    })
                })
                .collect();
            for client in clients {
                timeout(LIMIT, client).await.unwrap().unwrap();
            }
            let total = timeout(LIMIT, server).await.unwrap().unwrap();
            assert_eq!(total, (CLIENTS * MESSAGES * 16) as u64);
            listener_id
        });
        let streams = inits_of(rec, ResourceKind::UnixStream);
        assert_eq!(
            streams.len(),
            2 * CLIENTS,
            "a client and an accepted end each"
        );
        assert_eq!(destroyed_count(rec, &streams), 2 * CLIENTS);
        assert_eq!(inits_of(rec, ResourceKind::UnixListener), [listener_id]);
        assert_eq!(destroyed_count(rec, &[listener_id]), 1);
    });
}

#[test]
fn half_close_lets_the_peer_answer() {
    check(|rt, _rec| {
        let dir = TempDir::new();
        let path = dir.path("half.sock");
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let server = hookrt::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                // Reads to EOF: the client's write side is shut down.
                stream.read_to_end(&mut request).await.unwrap();
                stream.write_all(&request.repeat(2)).await.unwrap();
                // Dropping closes the server's side.
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(b"question").await.unwrap();
            client.shutdown().await.unwrap();
            let mut answer = Vec::new();
            timeout(LIMIT, client.read_to_end(&mut answer))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(answer, b"questionquestion");
            // Writing after our own shutdown fails.
            assert!(client.write_all(b"more").await.is_err());
            timeout(LIMIT, server).await.unwrap().unwrap();
        });
    });
}

#[test]
fn pairs_split_and_reunite() {
    check(|rt, rec| {
        let pair_ids = rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let ids = [a.async_id(), b.async_id()];
            assert!(a.local_addr().unwrap().is_unnamed());
            assert!(a.peer_addr().unwrap().is_unnamed());

            // Borrowed halves, used at once.
            {
                let (mut read, mut write) = a.split();
                let (b_read, b_write) = (&b, &b);
                let reader = async {
                    let mut buf = [0; 5];
                    read.read_exact(&mut buf).await.unwrap();
                    buf
                };
                let writer = async {
                    write.write_all(b"split").await.unwrap();
                };
                let peer = async {
                    let mut buf = [0; 5];
                    let mut filled = 0;
                    while filled < 5 {
                        b_read.readable().await.unwrap();
                        match b_read.try_read(&mut buf[filled..]) {
                            Ok(n) => filled += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    b_write.writable().await.unwrap();
                    assert_eq!(b_write.try_write(&buf).unwrap(), 5);
                };
                let (got, (), ()) = timeout(LIMIT, async { hookrt::join!(reader, writer, peer) })
                    .await
                    .unwrap();
                assert_eq!(&got, b"split");
            }

            // Owned halves in two tasks, then reunited.
            let (mut read, mut write) = a.into_split();
            let writer = hookrt::spawn(async move {
                write.write_all(b"owned").await.unwrap();
                write
            });
            let mut b = b;
            let mut buf = [0; 5];
            timeout(LIMIT, b.read_exact(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf, b"owned");
            b.write_all(b"back!").await.unwrap();
            let reader = hookrt::spawn(async move {
                let mut buf = [0; 5];
                read.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"back!");
                read
            });
            let write = timeout(LIMIT, writer).await.unwrap().unwrap();
            let read = timeout(LIMIT, reader).await.unwrap().unwrap();

            let (other, _other_peer) = UnixStream::pair().unwrap();
            let (other_read, other_write) = other.into_split();
            let err = read.reunite(other_write).unwrap_err();
            assert_eq!(
                err.to_string(),
                "tried to reunite halves that are not from the same socket"
            );
            let (read, _) = (err.0, err.1);
            drop(other_read);
            let a = read.reunite(write).expect("halves of one stream");
            assert_eq!(a.async_id(), ids[0], "the same resource");

            // Dropping an owned write half shuts the write side down.
            let (read, write) = a.into_split();
            drop(write);
            let mut rest = Vec::new();
            timeout(LIMIT, b.read_to_end(&mut rest))
                .await
                .unwrap()
                .unwrap();
            assert!(rest.is_empty());
            drop(read);
            ids
        });
        let streams = inits_of(rec, ResourceKind::UnixStream);
        assert_eq!(streams.len(), 4, "two pairs");
        assert_eq!(&streams[..2], &pair_ids);
        assert_eq!(destroyed_count(rec, &streams), 4);
    });
}

#[test]
fn datagram_pairs_and_bound_sockets() {
    check(|rt, rec| {
        let dir = TempDir::new();
        let (a_path, b_path) = (dir.path("a.sock"), dir.path("b.sock"));
        rt.block_on(async {
            let (x, y) = UnixDatagram::pair().unwrap();
            x.send(b"to y").await.unwrap();
            let mut buf = [0; 32];
            let n = timeout(LIMIT, y.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"to y");
            y.send(b"to x").await.unwrap();
            let (n, from) = timeout(LIMIT, x.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf[..n], b"to x");
            assert!(from.is_unnamed());

            let a = UnixDatagram::bind(&a_path).unwrap();
            let b = UnixDatagram::bind(&b_path).unwrap();
            assert_eq!(a.local_addr().unwrap().as_pathname(), Some(&*a_path));
            a.send_to(b"hello b", &b_path).await.unwrap();
            let (n, from) = timeout(LIMIT, b.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf[..n], b"hello b");
            assert_eq!(from.as_pathname(), Some(&*a_path));

            // An unbound sender is unnamed; it can be answered only once connected.
            let anonymous = UnixDatagram::unbound().unwrap();
            anonymous.send_to(b"who?", &b_path).await.unwrap();
            let (n, from) = timeout(LIMIT, b.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!((&buf[..n], from.is_unnamed()), (&b"who?"[..], true));

            // Connected: send/recv, peer_addr.
            a.connect(&b_path).unwrap();
            b.connect(&a_path).unwrap();
            assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(&*b_path));
            a.send(b"connected").await.unwrap();
            let n = timeout(LIMIT, b.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"connected");

            // try_recv: WouldBlock, then readable.
            assert_eq!(
                a.try_recv(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            b.send(b"reply").await.unwrap();
            let mut received = None;
            for _ in 0..100 {
                timeout(LIMIT, a.readable()).await.unwrap().unwrap();
                match a.try_recv(&mut buf) {
                    Ok(n) => {
                        received = Some(n);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_recv: {e}"),
                }
            }
            assert_eq!(&buf[..received.expect("the reply arrives")], b"reply");
            timeout(LIMIT, b.writable()).await.unwrap().unwrap();
            let mut sent = None;
            for _ in 0..100 {
                match b.try_send(b"again") {
                    Ok(n) => {
                        sent = Some(n);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        timeout(LIMIT, b.writable()).await.unwrap().unwrap();
                    }
                    Err(e) => panic!("try_send: {e}"),
                }
            }
            assert_eq!(sent, Some(5));

            // The poll API.
            let mut storage = [0; 32];
            let mut read_buf = ReadBuf::new(&mut storage);
            let from = poll_fn(|cx| a.poll_recv_from(cx, &mut read_buf))
                .await
                .unwrap();
            assert_eq!(read_buf.filled(), b"again");
            assert_eq!(from.as_pathname(), Some(&*b_path));
            poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
            poll_fn(|cx| a.poll_send_to(cx, b"polled", &b_path))
                .await
                .unwrap();
            let mut read_buf = ReadBuf::new(&mut storage);
            poll_fn(|cx| b.poll_recv(cx, &mut read_buf)).await.unwrap();
            assert_eq!(read_buf.filled(), b"polled");

            let ready = a
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert!(ready.is_writable());
        });
        let datagrams = inits_of(rec, ResourceKind::UnixDatagram);
        assert_eq!(datagrams.len(), 5, "a pair, two bound, one unbound");
        assert_eq!(destroyed_count(rec, &datagrams), 5);
    });
}

#[test]
fn an_accepting_task_is_woken_by_the_listener() {
    check(|rt, rec| {
        let dir = TempDir::new();
        let path = dir.path("wake.sock");
        let (task, listener_id, stream_id, creator) = rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let listener_id = listener.async_id();
            let accepting = hookrt::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                (stream.async_id(), execution_async_id())
            });
            let task = accepting.id().async_id();
            rec.polled(task).await;
            let _client = UnixStream::connect(&path).await.unwrap();
            let (stream_id, accepter) = timeout(LIMIT, accepting).await.unwrap().unwrap();
            assert_eq!(accepter, task);
            (task, listener_id, stream_id, execution_async_id())
        });
        let wakes = rec.wakes_of(task);
        assert!(
            !wakes.is_empty() && wakes.iter().all(|by| *by == listener_id),
            "the listener {listener_id} woke the task: {wakes:?}"
        );
        assert_eq!(rec.trigger_of(listener_id), Some(creator));
        assert_eq!(
            rec.trigger_of(stream_id),
            Some(task),
            "accepted by the task"
        );
        rec.wait_destroyed(listener_id);
        let names = rec.names_for(listener_id);
        assert_eq!(names.first(), Some(&"init"));
        assert_eq!(names.last(), Some(&"destroy"));
        assert!(names.contains(&"before"));
    });
}

#[test]
fn a_stream_read_wakes_the_reader_by_the_stream() {
    check(|rt, rec| {
        let (task, stream_id) = rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            let stream_id = a.async_id();
            let reader = hookrt::spawn(async move {
                let mut buf = [0; 4];
                a.read_exact(&mut buf).await.unwrap();
                buf
            });
            let task = reader.id().async_id();
            rec.polled(task).await;
            b.writable().await.unwrap();
            assert_eq!(b.try_write(b"ping").unwrap(), 4);
            assert_eq!(&timeout(LIMIT, reader).await.unwrap().unwrap(), b"ping");
            (task, stream_id)
        });
        let wakes = rec.wakes_of(task);
        assert!(
            !wakes.is_empty() && wakes.iter().all(|by| *by == stream_id),
            "the stream {stream_id} woke the task: {wakes:?}"
        );
    });
}

#[test]
fn poll_accept_and_std_conversions() {
    check(|rt, rec| {
        let dir = TempDir::new();
        let path = dir.path("std.sock");
        rt.block_on(async {
            let std_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
            std_listener.set_nonblocking(true).unwrap();
            let listener = UnixListener::from_std(std_listener).unwrap();
            let connecting = hookrt::spawn({
                let path = path.clone();
                async move { UnixStream::connect(path).await.unwrap() }
            });
            let (accepted, _) = timeout(LIMIT, poll_fn(|cx| listener.poll_accept(cx)))
                .await
                .unwrap()
                .unwrap();
            let client = timeout(LIMIT, connecting).await.unwrap().unwrap();

            // Out to std and back: the connection survives, as new resources.
            let std_client = client.into_std().unwrap();
            let mut client = UnixStream::try_from(std_client).unwrap();
            let std_accepted = accepted.into_std().unwrap();
            let mut accepted = UnixStream::from_std(std_accepted).unwrap();
            client.write_all(b"std").await.unwrap();
            let mut buf = [0; 3];
            timeout(LIMIT, accepted.read_exact(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf, b"std");

            let listener = UnixListener::try_from(listener.into_std().unwrap()).unwrap();
            assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
            assert!(listener.take_error().unwrap().is_none());

            let (x, y) = UnixDatagram::pair().unwrap();
            let x = UnixDatagram::from_std(x.into_std().unwrap()).unwrap();
            x.send(b"d").await.unwrap();
            let n = timeout(LIMIT, y.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], b"d");
            assert!(format!("{x:?} {listener:?} {client:?}").contains("UnixDatagram"));
        });
        let count = |kind| inits_of(rec, kind).len();
        assert_eq!(count(ResourceKind::UnixListener), 2);
        assert_eq!(count(ResourceKind::UnixStream), 4);
        assert_eq!(count(ResourceKind::UnixDatagram), 3);
        let all: Vec<_> = [
            ResourceKind::UnixListener,
            ResourceKind::UnixStream,
            ResourceKind::UnixDatagram,
        ]
        .into_iter()
        .flat_map(|kind| inits_of(rec, kind))
        .collect();
        assert_eq!(destroyed_count(rec, &all), all.len());
    });
}

#[test]
fn connecting_to_nothing_fails_and_binding_twice_fails() {
    check(|rt, rec| {
        let dir = TempDir::new();
        let path = dir.path("nobody.sock");
        rt.block_on(async {
            let err = UnixStream::connect(&path).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            let _listener = UnixListener::bind(&path).unwrap();
            let err = UnixListener::bind(&path).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
            let err = UnixDatagram::bind(&path).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        });
        // Failed sockets never became resources.
        assert_eq!(inits_of(rec, ResourceKind::UnixStream).len(), 0);
        assert_eq!(inits_of(rec, ResourceKind::UnixListener).len(), 1);
        assert_eq!(inits_of(rec, ResourceKind::UnixDatagram).len(), 0);
    });
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_namespace_on_linux() {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    check(|rt, _rec| {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("hookrt-test-{}-{n}", std::process::id());
        let path = PathBuf::from(format!("\0{name}"));
        rt.block_on(async {
            let listener = match UnixListener::bind(&path) {
                Ok(listener) => listener,
                // Some sandboxes have no abstract namespace.
                Err(_) => return,
            };
            let local = listener.local_addr().unwrap();
            assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
            assert_eq!(local.as_pathname(), None);
            let mut client = UnixStream::connect(&path).await.unwrap();
            let (mut server, _) = timeout(LIMIT, listener.accept()).await.unwrap().unwrap();
            client.write_all(b"abstract").await.unwrap();
            let mut buf = [0; 8];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abstract");
        });
    });
}

/// Records where each Unix socket was created.
#[derive(Default)]
struct Sites(Mutex<Vec<(ResourceKind, String, u32)>>);

impl Hook for Sites {
    fn init(&self, r: &Resource<'_>) {
        if matches!(
            r.kind(),
            ResourceKind::UnixListener | ResourceKind::UnixStream | ResourceKind::UnixDatagram
        ) {
            let (file, line) = r
                .location()
                .map_or((String::new(), 0), |l| (l.file().to_owned(), l.line()));
            self.0.lock().unwrap().push((r.kind(), file, line));
        }
    }
}

#[test]
fn sockets_report_the_callers_location() {
    for &flavor in support::FLAVORS {
        let ledger = Arc::new(Ledger::new());
        let sites = Arc::new(Sites::default());
        let rt = support::builder(flavor)
            .enable_all()
            .hook(ledger.clone())
            .hook(sites.clone())
            .build()
            .unwrap();
        let dir = TempDir::new();
        let path = dir.path("site.sock");
        let lines = rt.block_on(async {
            let (listener, l1) = (UnixListener::bind(&path).unwrap(), line!());
            let (connect, l2) = (UnixStream::connect(&path), line!());
            let (accept, l3) = (listener.accept(), line!());
            let (client, (accepted, _)) = hookrt::try_join!(connect, accept).unwrap();
            let (pair, l4) = (UnixStream::pair().unwrap(), line!());
            let (datagram, l5) = (UnixDatagram::unbound().unwrap(), line!());
            drop((client, accepted, pair, datagram));
            [l1, l2, l3, l4, l4, l5]
        });
        drop(rt);
        let report = ledger.report();
        assert!(report.is_balanced(), "on {flavor:?}:\n{report}");
        let mut sites = sites.0.lock().unwrap().clone();
        // connect and accept register in either order.
        sites[1..3].sort_by_key(|s| s.2);
        let expected = [
            ResourceKind::UnixListener,
            ResourceKind::UnixStream,
            ResourceKind::UnixStream,
            ResourceKind::UnixStream,
            ResourceKind::UnixStream,
            ResourceKind::UnixDatagram,
        ];
        assert_eq!(sites.len(), expected.len(), "{sites:?}");
        for ((kind, file, line), (want_kind, want_line)) in
            sites.iter().zip(expected.iter().zip(lines))
        {
            assert_eq!(
                (kind, file.as_str(), *line),
                (want_kind, file!(), want_line)
            );
        }
        assert!(
            Path::new(&path).exists(),
            "dropping a listener leaves its path"
        );
    }
}

#[test]
fn sockets_and_their_futures_are_send_and_sync() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<UnixListener>();
    send_sync::<UnixStream>();
    send_sync::<UnixDatagram>();
    send_sync::<hookrt::net::unix::OwnedReadHalf>();
    send_sync::<hookrt::net::unix::OwnedWriteHalf>();
    send_sync::<hookrt::net::unix::SocketAddr>();
    let (rt, _ledger, _rec) = support::runtime(support::Flavor::CurrentThread);
    let dir = TempDir::new();
    let path = dir.path("send.sock");
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let (stream, _) = UnixStream::pair().unwrap();
        let (datagram, _) = UnixDatagram::pair().unwrap();
        let mut buf = [0; 4];
        send(&UnixStream::connect(&path));
        send(&listener.accept());
        send(&stream.ready(Interest::READABLE));
        send(&datagram.send_to(b"x", &path));
        send(&datagram.recv_from(&mut buf));
    });
}
