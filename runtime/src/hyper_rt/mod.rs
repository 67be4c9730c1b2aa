//! hyper 1.x on hookrt (feature `hyper`): the three pieces hyper asks of a runtime.
//!
//! - [`HookrtExecutor`] implements `hyper::rt::Executor`: the tasks hyper spawns (HTTP/2
//!   streams and connection drivers, or your own connection tasks) become hookrt tasks,
//!   so hooks see their `init`/`before`/`after`/`destroy` with the spawner as trigger,
//!   and they start in the spawner's async context (a `LocalStorage` value set around an
//!   accept loop is visible inside every request's service).
//! - [`HookrtTimer`] implements `hyper::rt::Timer` with [`hookrt::time::Sleep`](crate::time::Sleep)
//!   (timeouts and keep-alive pings are hookrt `Timer` resources, and `reset` re-arms
//!   the same timer); [`HookrtSleep`] is the `hyper::rt::Sleep` it hands out.
//! - [`HookrtIo`] adapts a hookrt socket (any `hookrt::io::AsyncRead + AsyncWrite`) to
//!   `hyper::rt::Read + Write`, and back.
//!
//! [`HookrtExecutor`]: crate::hyper_rt::HookrtExecutor
//! [`HookrtTimer`]: crate::hyper_rt::HookrtTimer
//! [`HookrtSleep`]: crate::hyper_rt::HookrtSleep
//! [`HookrtIo`]: crate::hyper_rt::HookrtIo
//!
//! # Why not hyper-util's `TokioIo` / `TokioExecutor` / `TokioTimer`
//!
//! hyper-util's `tokio` feature enables tokio's `rt` and `time` features (its executor
//! calls `tokio::spawn`, its timer `tokio::time::sleep`), and hookrt never depends on
//! tokio's runtime: only on tokio's runtime-independent traits and `sync`. So this
//! module carries its own small I/O adapter instead of `TokioIo`.
//!
//! # Example: an HTTP/1 server and client on hookrt
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hookrt::hyper_rt::{HookrtExecutor, HookrtIo, HookrtTimer};
//! use hookrt::net::{TcpListener, TcpStream};
//! use hyper::rt::Executor;
//! use hyper::service::service_fn;
//! use std::convert::Infallible;
//!
//! # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! let exec = HookrtExecutor::new().name("http-conn");
//!
//! // The server: one task per connection, spawned through the executor.
//! let server = hookrt::spawn(async move {
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let service = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
//!         let reply = format!("hello {}", req.uri().path());
//!         Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(reply))))
//!     });
//!     let conn = hyper::server::conn::http1::Builder::new()
//!         .timer(HookrtTimer::new())
//!         .serve_connection(HookrtIo::new(stream), service);
//!     exec.execute(async move { conn.await.unwrap() });
//! });
//!
//! // The client.
//! let stream = TcpStream::connect(addr).await.unwrap();
//! let (mut sender, conn) = hyper::client::conn::http1::handshake(HookrtIo::new(stream))
//!     .await
//!     .unwrap();
//! let driver = hookrt::spawn(conn);
//! let req = hyper::Request::get("/world").body(Full::new(Bytes::new())).unwrap();
//! let res = sender.send_request(req).await.unwrap();
//! let body = res.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(body, "hello /world");
//!
//! drop(sender); // closes the connection: both sides finish
//! driver.await.unwrap().unwrap();
//! server.await.unwrap();
//! # });
//! ```

mod executor;
mod io;
mod timer;

pub use executor::HookrtExecutor;
pub use io::HookrtIo;
pub use timer::{HookrtSleep, HookrtTimer};
