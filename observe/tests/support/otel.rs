//! Support for the otel tests: an OTLP/HTTP receiver decoding with
//! `opentelemetry-proto`'s types, two hyper services on hookrt (a front that calls a
//! back end, propagating the trace), and a client.
#![allow(dead_code, unreachable_pub)]

use crate::support::{self, Flavor};
use bytes::Bytes;
use hookrt::hooks::Hook;
use hookrt::hyper_rt::HookrtIo;
use hookrt::net::{TcpListener, TcpStream};
use hookrt_observe::otel::{self, OtelExporter};
use hookrt_observe::trace_context;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bound on anything that should take milliseconds.
pub const BOUND: Duration = Duration::from_secs(20);

/// One span as the receiver decoded it.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The `service.name` resource attribute.
    pub service: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub name: String,
    /// Attributes, values printed.
    pub attrs: BTreeMap<String, String>,
    /// Event names.
    pub events: Vec<String>,
    pub start_ns: u64,
    pub end_ns: u64,
}

fn print_value(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), print_value(&kv.value)))
        .collect()
}

/// An OTLP/HTTP receiver on loopback: `POST /v1/traces` with a protobuf
/// `ExportTraceServiceRequest`, answered `200` with an empty response message.
pub struct Receiver {
    pub addr: SocketAddr,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let spans = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (spans, requests, stop) = (spans.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                // Bounded: the test stops it, and it gives up after a minute regardless.
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            if let Some(batch) = serve_one(conn) {
                                requests.fetch_add(1, Ordering::AcqRel);
                                spans.lock().unwrap().extend(batch);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })
        };
        Receiver {
            addr,
            spans,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The base endpoint (`/v1/traces` is appended by the exporter).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Acquire)
    }

    pub fn stop(mut self) -> Vec<ReceivedSpan> {
        self.stop.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap();
        self.spans()
    }
}

/// Reads one request, decodes it, answers; `None` on anything unexpected.
fn serve_one(mut conn: std::net::TcpStream) -> Option<Vec<ReceivedSpan>> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (head_len, body_len) = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_string();
            let mut lines = head.lines();
            let request_line = lines.next()?;
            assert_eq!(
                request_line, "POST /v1/traces HTTP/1.1",
                "OTLP request line"
            );
            let mut len = None;
            for line in lines {
                let (name, value) = line.split_once(':')?;
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => len = value.trim().parse::<usize>().ok(),
                    "content-type" => assert_eq!(value.trim(), "application/x-protobuf"),
                    _ => {}
                }
            }
            break (end + 4, len?);
        }
    };
    while raw.len() < head_len + body_len {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let req = ExportTraceServiceRequest::decode(&raw[head_len..head_len + body_len])
        .expect("an ExportTraceServiceRequest");
    let reply = ExportTraceServiceResponse::default().encode_to_vec();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.len()
    );
    conn.write_all(head.as_bytes()).ok()?;
    conn.write_all(&reply).ok()?;
    let mut out = Vec::new();
    for rs in req.resource_spans {
        let resource = rs
            .resource
            .map(|r| attrs(&r.attributes))
            .unwrap_or_default();
        let service = resource.get("service.name").cloned().unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push(ReceivedSpan {
                    service: service.clone(),
                    trace_id: s.trace_id,
                    span_id: s.span_id,
                    parent_span_id: s.parent_span_id,
                    name: s.name,
                    attrs: attrs(&s.attributes),
                    events: s.events.into_iter().map(|e| e.name).collect(),
                    start_ns: s.start_time_unix_nano,
                    end_ns: s.end_time_unix_nano,
                });
            }
        }
    }
    Some(out)
}

/// What a service does with a request.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    /// Calls the back end at this address (propagating the trace) and wraps its
    /// answer: `a <traceparent sent to b> | <b's body>`.
    Front(SocketAddr),
    /// Spawns a child task that sleeps 1 ms, answers `b <trace id it runs in>`.
    Back,
}

/// A hyper HTTP/1 service on its own hookrt runtime (2 workers, Ledger checked when
/// it stops), with the exporter hooked in when given.
pub struct Service {
    pub addr: SocketAddr,
    stop: Option<hookrt::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Service {
    pub fn start(role: Role, exporter: Option<Arc<OtelExporter>>) -> Service {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = hookrt::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let hooks: Vec<Box<dyn Hook>> = exporter
                .into_iter()
                .map(|e| Box::new(e) as Box<dyn Hook>)
                .collect();
            let (rt, ledger) = support::runtime(Flavor::MultiThread(2), hooks);
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    hookrt::select! {
                        accepted = listener.accept() => {
                            let (stream, _) = accepted.unwrap();
                            hookrt::spawn(serve_connection(stream, role));
                        }
                        _ = &mut stop_rx => break,
                    }
                }
            });
            support::finish(rt, &ledger);
        });
        let addr = addr_rx.recv_timeout(BOUND).expect("service started");
        Service {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Stops accepting, drops the runtime (cancelling idle connections) and checks
    /// its Ledger.
    pub fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().expect("service thread");
    }
}

async fn serve_connection(stream: TcpStream, role: Role) {
    let service = service_fn(move |req: Request<Incoming>| handle(req, role));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(HookrtIo::new(stream), service)
        .await;
}

async fn handle(req: Request<Incoming>, role: Role) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match role {
        Role::Back => otel::continue_trace(req.headers(), back()).await,
        Role::Front(backend) => otel::continue_trace(req.headers(), front(backend)).await,
    };
    Ok(Response::new(Full::new(Bytes::from(body))))
}

async fn back() -> String {
    let child = hookrt::spawn(async {
        hookrt::time::sleep(Duration::from_millis(1)).await;
        trace_context::current().map(|c| c.trace_id.to_string())
    });
    let trace = child.await.unwrap().unwrap_or_else(|| "none".into());
    format!("b {trace}")
}

async fn front(backend: SocketAddr) -> String {
    let stream = TcpStream::connect(backend).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(HookrtIo::new(stream))
        .await
        .unwrap();
    let driver = hookrt::spawn(conn);
    let mut req = Request::get("/b").body(Full::new(Bytes::new())).unwrap();
    otel::inject_current(req.headers_mut());
    let sent = req
        .headers()
        .get("traceparent")
        .map_or("none".to_owned(), |v| v.to_str().unwrap().to_owned());
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    drop(sender);
    driver.await.unwrap().unwrap();
    format!("a {sent} | {}", String::from_utf8_lossy(&body))
}

/// One client exchange: status, body, latency.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub latency: Duration,
}

/// Sends one request per entry of `traceparents` (`None`: no header) over one
/// keep-alive connection, sequentially, from a runtime without exporter.
pub fn run_client(addr: SocketAddr, traceparents: Vec<Option<String>>) -> Vec<Reply> {
    let (rt, ledger) = support::runtime(Flavor::CurrentThread, Vec::new());
    let replies = rt.block_on(async move {
        let fut = async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(HookrtIo::new(stream))
                .await
                .unwrap();
            let driver = hookrt::spawn(conn);
            let mut out = Vec::new();
            for tp in traceparents {
                let mut req = Request::get("/a").body(Full::new(Bytes::new())).unwrap();
                if let Some(tp) = tp {
                    req.headers_mut().insert("traceparent", tp.parse().unwrap());
                }
                let start = Instant::now();
                sender.ready().await.unwrap();
                let res = sender.send_request(req).await.unwrap();
                let status = res.status().as_u16();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                out.push(Reply {
                    status,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    latency: start.elapsed(),
                });
            }
            drop(sender);
            driver.await.unwrap().unwrap();
            out
        };
        hookrt::time::timeout(BOUND, fut)
            .await
            .expect("client timed out")
    });
    support::finish(rt, &ledger);
    replies
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
