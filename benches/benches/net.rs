//! TCP workloads over loopback, each run on tokio and on hookrt in the same process so
//! that their ratio means something.
//!
//! - `tcp_echo_throughput`: [`CONNECTIONS`] (50) client connections to an echo server,
//!   each doing [`MESSAGES`] (200) round trips of [`MESSAGE_LEN`] (64) bytes (write the
//!   message, `read_exact` its echo), all connections concurrently; one iteration is
//!   every round trip done. The connections are opened once per function, outside the
//!   measured loop (the next workload measures connection set-up); `TCP_NODELAY` is set
//!   on both ends.
//! - `tcp_accept_rate`: [`CONNECTS`] (1 000) connects to a listener whose accept loop
//!   spawns a task per connection that closes it; one iteration is every connection
//!   accepted and closed (counted down on an atomic, the last one notifies). The connects
//!   come from [`CONNECTORS`] (10) tasks in turn, each waiting for the server's close
//!   (end of stream) before its next connect: the server closes first, so the
//!   `TIME_WAIT` sockets are on its side and the clients never run out of ephemeral
//!   ports, and at most 10 connections are pending at a time, far below the backlog.
//!
//! Every workload is one criterion group with three functions: `tokio`, `hookrt` and
//! `hookrt+noop` (one hook with empty methods). All runtimes are multi-thread with
//! `WORKER_THREADS` (2) workers and the I/O driver enabled; each is built once per
//! function, and its server bound on `127.0.0.1:0` and started, outside the measured
//! loop. The server is the same code on both runtimes: an accept loop spawned on the
//! runtime, and a task per accepted connection.
//!
//! `cargo run -p hookrt-benches --bin report` prints the table of medians and ratios.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hookrt::sync::Notify;
use hookrt_benches::{timing, BenchRuntime, Contender};
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::sync::Arc;
use std::time::Duration;
// `hookrt::io` re-exports these: the same traits serve both runtimes' streams.
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Client connections of `tcp_echo_throughput`, all active at once.
const CONNECTIONS: usize = 50;
/// Round trips per connection and iteration of `tcp_echo_throughput`.
const MESSAGES: usize = 200;
/// Bytes of each message of `tcp_echo_throughput`.
const MESSAGE_LEN: usize = 64;
/// Connections accepted per iteration of `tcp_accept_rate`.
const CONNECTS: usize = 1_000;
/// Tasks sharing the connects of `tcp_accept_rate`, each connecting in turn.
const CONNECTORS: usize = 10;

/// Where every server listens: loopback, a port the OS chooses.
const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// A workload: registers one benchmark function named `id` in the group, on `rt`.
type Workload<R> = fn(&mut Group<'_>, &'static str, &R);

/// The TCP API of a runtime, as the workloads use it.
trait Net: BenchRuntime {
    /// The runtime's `net::TcpListener`.
    type Listener: Send + Sync + 'static;
    /// The runtime's `net::TcpStream`.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// `TcpListener::bind`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// `TcpListener::local_addr`.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;

    /// `TcpListener::accept`, without the peer's address.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;

    /// `TcpStream::connect`.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// `TcpStream::set_nodelay(true)`.
    fn set_nodelay(stream: &Self::Stream) -> io::Result<()>;
}

impl Net for tokio::runtime::Runtime {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        listener.accept().await.map(|(stream, _)| stream)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        tokio::net::TcpStream::connect(addr)
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }
}

impl Net for hookrt::runtime::Runtime {
    type Listener = hookrt::net::TcpListener;
    type Stream = hookrt::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        hookrt::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        listener.accept().await.map(|(stream, _)| stream)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        hookrt::net::TcpStream::connect(addr)
    }

    fn set_nodelay(stream: &Self::Stream) -> io::Result<()> {
        stream.set_nodelay(true)
    }
}

/// Runs one workload on every [`Contender`], in one criterion group called `name`.
///
/// The same generic function is passed twice: Rust needs one monomorphised copy per
/// runtime type.
fn compare(
    c: &mut Criterion,
    name: &str,
    on_tokio: Workload<tokio::runtime::Runtime>,
    on_hookrt: Workload<hookrt::runtime::Runtime>,
) {
    let (warm_up, measurement) = timing(Duration::from_secs(1), Duration::from_secs(3));
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        // Iterations take milliseconds: the same count per sample keeps the run short.
        .sampling_mode(SamplingMode::Flat);
    for contender in Contender::CORE {
        if contender.is_tokio() {
            on_tokio(
                &mut group,
                contender.name(),
                &Contender::tokio_runtime_with_io(),
            );
        } else {
            on_hookrt(
                &mut group,
                contender.name(),
                &contender.hookrt_runtime_with_io(),
            );
        }
    }
    group.finish();
}

/// Binds a listener on [`LOOPBACK`] and spawns its accept loop on `rt`: every accepted
/// connection is handed to a new task running `handle`. Returns the listener's address.
///
/// The loop runs until the runtime is dropped; an accept error panics it (the clients
/// then fail, and so does the benchmark).
fn serve<R, H, F>(rt: &R, handle: H) -> SocketAddr
where
    R: Net,
    H: Fn(R::Stream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = rt.block_on(R::bind(LOOPBACK)).expect("binding the server");
    let addr = R::local_addr(&listener).expect("the server's address");
    drop(rt.spawn(async move {
        loop {
            let stream = R::accept(&listener).await.expect("accepting a connection");
            drop(R::spawn_here(handle(stream)));
        }
    }));
    addr
}

/// Echoes everything `stream` reads back to it, until the end of the stream.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("echo server: reading");
        if n == 0 {
            return;
        }
        stream
            .write_all(&buf[..n])
            .await
            .expect("echo server: writing");
    }
}

/// [`MESSAGES`] round trips on `stream`, the `i`th message filled with byte
/// `first + i`; checks each echo and hands the stream back for the next iteration.
async fn round_trips<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, first: u8) -> S {
    let mut message = [0; MESSAGE_LEN];
    let mut reply = [0; MESSAGE_LEN];
    let mut byte = first;
    for _ in 0..MESSAGES {
        message.fill(byte);
        stream.write_all(&message).await.expect("client: writing");
        stream
            .read_exact(&mut reply)
            .await
            .expect("client: reading the echo");
        assert_eq!(reply, message, "the echo differs from the message");
        byte = byte.wrapping_add(1);
    }
    stream
}

/// [`CONNECTIONS`] connections to an echo server, opened once; each iteration runs
/// [`round_trips`] on every one of them in its own task, and awaits them all.
fn tcp_echo_throughput<R: Net>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let addr = serve(rt, |stream: R::Stream| async move {
        R::set_nodelay(&stream).expect("echo server: setting TCP_NODELAY");
        echo(stream).await;
    });
    let mut clients: Vec<R::Stream> = rt.block_on(async {
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let stream = R::connect(addr)
                .await
                .expect("connecting to the echo server");
            R::set_nodelay(&stream).expect("client: setting TCP_NODELAY");
            clients.push(stream);
        }
        clients
    });
    group.bench_function(id, |b| {
        b.iter(|| {
            let streams = std::mem::take(&mut clients);
            clients = rt.block_on(async move {
                let tasks: Vec<_> = (0_u8..)
                    .zip(streams)
                    .map(|(first, stream)| R::spawn_here(round_trips(stream, first)))
                    .collect();
                let mut streams = Vec::with_capacity(CONNECTIONS);
                for task in tasks {
                    streams.push(task.await.unwrap());
                }
                streams
            });
        })
    });
}

/// A server whose connection tasks close their connection at once and count down
/// `remaining`; [`CONNECTORS`] tasks connect [`CONNECTS`] times in all, each waiting for
/// the server's close before connecting again; the iteration ends when the last
/// connection task has counted down.
fn tcp_accept_rate<R: Net>(group: &mut Group<'_>, id: &'static str, rt: &R) {
    let remaining = Arc::new(AtomicUsize::new(0));
    let all_accepted = Arc::new(Notify::new());
    let addr = {
        let remaining = remaining.clone();
        let all_accepted = all_accepted.clone();
        serve(rt, move |stream: R::Stream| {
            let remaining = remaining.clone();
            let all_accepted = all_accepted.clone();
            async move {
                drop(stream);
                if remaining.fetch_sub(1, AcqRel) == 1 {
                    // Stores a permit if the `block_on` future is not waiting yet.
                    all_accepted.notify_one();
                }
            }
        })
    };
    group.bench_function(id, |b| {
        b.iter(|| {
            remaining.store(CONNECTS, Relaxed);
            rt.block_on(async {
                let connectors: Vec<_> = (0..CONNECTORS)
                    .map(|_| {
                        R::spawn_here(async move {
                            for _ in 0..CONNECTS / CONNECTORS {
                                let mut stream =
                                    R::connect(addr).await.expect("connecting to the server");
                                let n = stream
                                    .read(&mut [0; 1])
                                    .await
                                    .expect("client: waiting for the server's close");
                                assert_eq!(n, 0, "the server sent data");
                            }
                        })
                    })
                    .collect();
                for connector in connectors {
                    connector.await.unwrap();
                }
                all_accepted.notified().await;
            });
        })
    });
}

fn benches(c: &mut Criterion) {
    compare(
        c,
        "tcp_echo_throughput",
        tcp_echo_throughput,
        tcp_echo_throughput,
    );
    compare(c, "tcp_accept_rate", tcp_accept_rate, tcp_accept_rate);
}

// What `criterion_group!` + `criterion_main!` expand to, without their undocumented
// `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
