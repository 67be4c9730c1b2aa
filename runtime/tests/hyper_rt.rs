//! hyper 1.x on hookrt (feature `hyper`): HTTP/1 and HTTP/2 servers and clients over
//! hookrt sockets, with hookrt's executor and timer; hooks and async context through the
//! executor; hyper's timeouts on hookrt's timers. Everything on loopback, on every
//! runtime flavour, with the Ledger checked balanced after each runtime is dropped.
#![cfg(feature = "hyper")]

mod support;

use bytes::Bytes;
use hookrt::context::LocalStorage;
use hookrt::hooks::{execution_async_id, AsyncId};
use hookrt::hyper_rt::{HookrtExecutor, HookrtIo, HookrtSleep, HookrtTimer};
use hookrt::io::{AsyncReadExt, AsyncWriteExt};
use hookrt::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::rt::{Executor, Timer};
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use support::{check_flavors, Ev, Flavor, Recorder};

/// Set around the server's accept loop; the service reports what it sees.
static SCOPE: LocalStorage<&'static str> = LocalStorage::named("scope");

/// Requests each client sends.
const REQUESTS: usize = 5;

/// Bound on anything that should take milliseconds.
const BOUND: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    Http1,
    Http2,
}

/// Echoes method, path and body, plus the `SCOPE` value and the executing task's id.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.expect("request body").to_bytes();
    let scope = SCOPE.get().map_or("none", |s| *s);
    let reply = format!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&body)
    );
    let res = Response::builder()
        .header("x-scope", scope)
        .header("x-task", execution_async_id().to_string())
        .body(Full::new(Bytes::from(reply)))
        .expect("response");
    Ok(res)
}

/// What one exchange saw.
struct Exchange {
    /// The accept loop's task id.
    accept_task: AsyncId,
    /// `(body, x-scope, x-task)` of each response, in request order.
    responses: Vec<(String, String, String)>,
}

/// Accepts one connection inside `SCOPE = "server"` and serves it on a task spawned
/// through a `HookrtExecutor` named `"conn"` (HTTP/2 streams: tasks named `"h2-server"`);
/// returns when the connection has closed.
async fn serve_one(listener: TcpListener, proto: Proto) -> AsyncId {
    SCOPE
        .run("server", async move {
            let accept_task = execution_async_id();
            let (stream, _) = listener.accept().await.expect("accept");
            let io = HookrtIo::new(stream);
            let (done_tx, done_rx) = hookrt::sync::oneshot::channel();
            let conn_exec = HookrtExecutor::new().name("conn");
            match proto {
                Proto::Http1 => {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(HookrtTimer::new())
                        .serve_connection(io, service_fn(echo));
                    conn_exec.execute(async move { done_tx.send(conn.await).unwrap() });
                }
                Proto::Http2 => {
                    let streams = HookrtExecutor::new().name("h2-server");
                    let conn = hyper::server::conn::http2::Builder::new(streams)
                        .timer(HookrtTimer::new())
                        .serve_connection(io, service_fn(echo));
                    conn_exec.execute(async move { done_tx.send(conn.await).unwrap() });
                }
            }
            done_rx.await.unwrap().expect("server connection");
            accept_task
        })
        .await
}

/// A client outside any scope: `REQUESTS` requests over one connection (HTTP/2: the
/// second half concurrently).
async fn exchange(flavor: Flavor, proto: Proto) -> Exchange {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = hookrt::spawn(serve_one(listener, proto));
    let responses = hookrt::time::timeout(BOUND, client(addr, proto))
        .await
        .unwrap_or_else(|_| panic!("{flavor:?} {proto:?}: client timed out"));
    let accept_task = hookrt::time::timeout(BOUND, server)
        .await
        .unwrap_or_else(|_| panic!("{flavor:?} {proto:?}: server did not finish"))
        .unwrap();
    Exchange {
        accept_task,
        responses,
    }
}

fn request(i: usize) -> Request<Full<Bytes>> {
    Request::post(format!("/item/{i}"))
        .body(Full::new(Bytes::from(format!("body{i}"))))
        .unwrap()
}

async fn read_response(res: Response<Incoming>) -> (String, String, String) {
    assert_eq!(res.status(), 200);
    let header = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
    let (scope, task) = (header("x-scope"), header("x-task"));
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (String::from_utf8(body.to_vec()).unwrap(), scope, task)
}

async fn client(addr: SocketAddr, proto: Proto) -> Vec<(String, String, String)> {
    assert!(SCOPE.get().is_none());
    let io = HookrtIo::new(TcpStream::connect(addr).await.unwrap());
    let mut out = Vec::new();
    match proto {
        Proto::Http1 => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            let driver = hookrt::spawn(conn);
            for i in 0..REQUESTS {
                sender.ready().await.unwrap();
                let res = sender.send_request(request(i)).await.unwrap();
                out.push(read_response(res).await);
            }
            drop(sender);
            driver.await.unwrap().unwrap();
        }
        Proto::Http2 => {
            let (mut sender, conn) =
                hyper::client::conn::http2::Builder::new(HookrtExecutor::new().name("h2-client"))
                    .timer(HookrtTimer::new())
                    .handshake(io)
                    .await
                    .unwrap();
            let driver = hookrt::spawn(conn);
            let half = REQUESTS / 2;
            for i in 0..half {
                let res = sender.send_request(request(i)).await.unwrap();
                out.push(read_response(res).await);
            }
            // The rest at once: HTTP/2 multiplexes them over the connection.
            let concurrent: Vec<_> = (half..REQUESTS)
                .map(|i| {
                    let mut sender = sender.clone();
                    hookrt::spawn(async move {
                        read_response(sender.send_request(request(i)).await.unwrap()).await
                    })
                })
                .collect();
            for task in concurrent {
                out.push(task.await.unwrap());
            }
            drop(sender);
            driver.await.unwrap().unwrap();
        }
    }
    out
}

fn check_responses(ex: &Exchange) {
    assert_eq!(ex.responses.len(), REQUESTS);
    for (i, (body, _, _)) in ex.responses.iter().enumerate() {
        assert_eq!(body, &format!("POST /item/{i} body{i}"));
    }
}

/// Inits of resources named `name`, as `(id, trigger)`.
fn inits_named(recorder: &Recorder, name: &str) -> Vec<(AsyncId, AsyncId)> {
    recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Ev::Init {
                id,
                trigger,
                name: Some(n),
                ..
            } if n == name => Some((id, trigger)),
            _ => None,
        })
        .collect()
}

#[test]
fn http1_server_and_client_exchange_requests() {
    check_flavors(|flavor, rt, _| {
        let ex = rt.block_on(exchange(flavor, Proto::Http1));
        check_responses(&ex);
    });
}

#[test]
fn http2_server_and_client_exchange_requests() {
    check_flavors(|flavor, rt, _| {
        let ex = rt.block_on(exchange(flavor, Proto::Http2));
        check_responses(&ex);
    });
}

#[test]
fn executor_tasks_are_hookrt_tasks_triggered_by_their_spawner() {
    for proto in [Proto::Http1, Proto::Http2] {
        check_flavors(|flavor, rt, recorder| {
            let ex = rt.block_on(exchange(flavor, proto));
            check_responses(&ex);
            // The connection task: spawned by the accept loop through the executor.
            let conns = inits_named(recorder, "conn");
            assert_eq!(conns.len(), 1, "{flavor:?} {proto:?}");
            let (conn, trigger) = conns[0];
            assert_eq!(trigger, ex.accept_task, "{flavor:?} {proto:?}");
            let names = recorder.names_for(conn);
            assert_eq!(names.first(), Some(&"init"));
            assert!(names.contains(&"before") && names.contains(&"resolve"));
            if proto == Proto::Http2 {
                // hyper spawned one task per stream through the executor, from inside
                // the connection task; the service ran in them.
                let streams = inits_named(recorder, "h2-server");
                assert!(streams.len() >= REQUESTS, "{flavor:?}: {streams:?}");
                assert!(streams.iter().all(|&(_, t)| t == conn), "{flavor:?}");
                for (_, _, task) in &ex.responses {
                    assert!(
                        streams.iter().any(|(id, _)| id.to_string() == *task),
                        "{flavor:?}: service ran in {task}, not a stream task"
                    );
                }
                // The client's connection tasks too.
                assert!(!inits_named(recorder, "h2-client").is_empty(), "{flavor:?}");
            }
        });
        // (check_flavors asserts the Ledger balanced after each runtime is dropped.)
    }
}

#[test]
fn context_set_around_the_accept_loop_reaches_the_service() {
    for proto in [Proto::Http1, Proto::Http2] {
        check_flavors(|flavor, rt, _| {
            let ex = rt.block_on(exchange(flavor, proto));
            for (body, scope, _) in &ex.responses {
                assert_eq!(scope, "server", "{flavor:?} {proto:?}: {body}");
            }
            assert!(rt.block_on(async { SCOPE.get() }).is_none());
        });
    }
}

#[test]
fn http1_header_read_timeout_fires_on_hookrt_timer() {
    check_flavors(|flavor, rt, recorder| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let timeout = Duration::from_millis(100);
            let server = hookrt::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let started = Instant::now();
                let result = hyper::server::conn::http1::Builder::new()
                    .timer(HookrtTimer::new())
                    .header_read_timeout(timeout)
                    .serve_connection(HookrtIo::new(stream), service_fn(echo))
                    .await;
                (result, started.elapsed())
            });
            // A client that starts a request and never finishes its headers.
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
                .await
                .unwrap();
            let (result, elapsed) = hookrt::time::timeout(BOUND, server)
                .await
                .unwrap_or_else(|_| panic!("{flavor:?}: the header timeout never fired"))
                .unwrap();
            let err = result.expect_err("the connection must fail with a timeout");
            assert!(err.is_timeout(), "{flavor:?}: {err:?}");
            assert!(elapsed >= timeout, "{flavor:?}: fired after {elapsed:?}");
            // The server closed the connection: the client reads to EOF.
            let mut rest = Vec::new();
            hookrt::time::timeout(BOUND, stream.read_to_end(&mut rest))
                .await
                .expect("server closed the connection")
                .unwrap();
        });
        // hyper's timeout was a hookrt timer resource.
        assert!(
            recorder.count(|e| matches!(e, Ev::Init { kind, .. } if *kind == hookrt::hooks::ResourceKind::Timer)) >= 1,
            "{flavor:?}"
        );
    });
}

#[test]
fn timer_sleep_reset_and_now() {
    check_flavors(|flavor, rt, recorder| {
        rt.block_on(async {
            let timer = HookrtTimer::new();

            // `sleep` completes after its duration.
            let start = Instant::now();
            timer.sleep(Duration::from_millis(30)).await;
            assert!(start.elapsed() >= Duration::from_millis(30), "{flavor:?}");

            // `sleep_until` a past deadline completes at once.
            timer
                .sleep_until(Instant::now() - Duration::from_millis(1))
                .await;

            // `reset` moves the deadline of the same timer resource, earlier...
            let mut sleep = timer.sleep(Duration::from_secs(3600));
            let id = sleep
                .as_mut()
                .downcast_mut_pin::<HookrtSleep>()
                .unwrap()
                .async_id();
            let start = Instant::now();
            timer.reset(&mut sleep, Instant::now() + Duration::from_millis(20));
            hookrt::time::timeout(BOUND, sleep.as_mut())
                .await
                .expect("reset sleep fired");
            assert!(start.elapsed() >= Duration::from_millis(20), "{flavor:?}");
            let ours = sleep.as_mut().downcast_mut_pin::<HookrtSleep>().unwrap();
            assert_eq!(ours.async_id(), id, "{flavor:?}: reset made a new timer");
            assert_eq!(
                recorder
                    .names_for(id)
                    .iter()
                    .filter(|e| **e == "init")
                    .count(),
                1
            );

            // ... and later, after it completed: it is armed again.
            let start = Instant::now();
            timer.reset(&mut sleep, Instant::now() + Duration::from_millis(30));
            sleep.await;
            assert!(start.elapsed() >= Duration::from_millis(30), "{flavor:?}");

            // A sleep some other timer made is replaced by one of ours.
            let mut foreign: std::pin::Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
            timer.reset(&mut foreign, Instant::now() + Duration::from_millis(5));
            assert!(foreign.as_mut().downcast_mut_pin::<HookrtSleep>().is_some());
            foreign.await;
        });
        // `now` is hookrt's clock: it follows paused time (current-thread only).
        if let Flavor::CurrentThread = flavor {
            rt.block_on(async {
                let timer = HookrtTimer::new();
                hookrt::time::pause();
                let before = timer.now();
                hookrt::time::advance(Duration::from_secs(60)).await;
                assert!(timer.now() - before >= Duration::from_secs(60));
                hookrt::time::resume();
            });
        }
    });
}

/// A `hyper::rt::Sleep` that is not hookrt's (never completes).
struct Foreign;

impl std::future::Future for Foreign {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl hyper::rt::Sleep for Foreign {}

#[test]
fn executor_with_handle_spawns_from_outside_the_runtime() {
    check_flavors(|flavor, rt, recorder| {
        let exec = HookrtExecutor::with_handle(rt.handle().clone()).name("from-outside");
        let (tx, rx) = hookrt::sync::oneshot::channel();
        // A thread that is not a runtime thread; the runtime runs while we wait.
        let outside = std::thread::spawn(move || {
            exec.execute(async move { tx.send(SCOPE.get().is_none()).unwrap() })
        });
        let fresh_context = rt.block_on(async {
            hookrt::time::timeout(BOUND, rx)
                .await
                .expect("the task ran")
                .unwrap()
        });
        outside.join().unwrap();
        assert!(fresh_context, "{flavor:?}");
        assert_eq!(inits_named(recorder, "from-outside").len(), 1, "{flavor:?}");
    });
}

#[test]
fn io_adapter_works_in_both_directions() {
    check_flavors(|flavor, rt, _| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let echo = hookrt::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            });
            // tokio traits -> hyper traits -> tokio traits again.
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut io = HookrtIo::new(HookrtIo::new(stream));
            io.write_all(b"hello").await.unwrap();
            io.flush().await.unwrap();
            let mut buf = [0u8; 5];
            io.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hello", "{flavor:?}");
            echo.await.unwrap();
            let mut rest = Vec::new();
            io.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        });
    });
}
