//! A minimal HTTP/1 server and client on hookrt + hyper, shared by the examples.
//!
//! The server accepts a bounded number of connections and serves each on a task
//! spawned through [`HookrtExecutor`] (named `"http-conn"`); the handler is an async
//! function from request to response. The client is one keep-alive connection.

use bytes::Bytes;
use hookrt::hyper_rt::{HookrtExecutor, HookrtIo, HookrtTimer};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::task::JoinHandle;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::service::service_fn;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

/// The request type handlers receive.
pub type Request = hyper::Request<Incoming>;

/// The response type handlers return.
pub type Response = hyper::Response<Full<Bytes>>;

/// A `200 OK` response with a text body.
pub fn text(body: impl Into<String>) -> Response {
    hyper::Response::new(Full::new(Bytes::from(body.into())))
}

/// The value of header `name`, when present and valid UTF-8.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Binds a listener on `127.0.0.1:0` and spawns a task (named `name`) that serves up to
/// `max_connections` connections with `handler`, then returns. Returns the address and
/// the accept task; abort it to stop accepting sooner.
pub async fn spawn_server<H, F>(
    name: &str,
    max_connections: usize,
    handler: H,
) -> io::Result<(SocketAddr, JoinHandle<()>)>
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let accept =
        hookrt::task::Builder::new()
            .name(name)
            .spawn(serve(listener, max_connections, handler))?;
    Ok((addr, accept))
}

/// Serves up to `max_connections` connections from `listener` with `handler`.
pub async fn serve<H, F>(listener: TcpListener, max_connections: usize, handler: H)
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let exec = HookrtExecutor::new().name("http-conn");
    for _ in 0..max_connections {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let handler = handler.clone();
        let service = service_fn(move |req| {
            let reply = handler(req);
            async move { Ok::<_, Infallible>(reply.await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(HookrtTimer::new())
            .serve_connection(HookrtIo::new(stream), service);
        exec.execute(async move {
            // A client that goes away mid-request is not the server's problem.
            let _ = conn.await;
        });
    }
}

/// One keep-alive HTTP/1 client connection.
#[derive(Debug)]
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    driver: JoinHandle<Result<(), hyper::Error>>,
}

/// An error from [`Client`]: I/O or HTTP.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

impl Client {
    /// Connects to `addr`; the connection is driven by a task named `"http-client"`.
    pub async fn connect(addr: SocketAddr) -> Result<Client, Error> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(HookrtIo::new(stream)).await?;
        let driver = hookrt::task::Builder::new()
            .name("http-client")
            .spawn(conn)?;
        Ok(Client { sender, driver })
    }

    /// `GET path` with `headers`; returns the status code and the body as text.
    pub async fn get(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, String), Error> {
        let mut req = hyper::Request::get(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(Bytes::new()))?;
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Closes the connection and waits for its driver task to finish.
    pub async fn close(self) -> Result<(), Error> {
        drop(self.sender);
        self.driver.await??;
        Ok(())
    }
}
