//! [`StdHttpClient`]: the OTLP exporter's HTTP transport, HTTP/1.1 over `std::net`.
//!
//! **Rationale:** the HTTP clients `opentelemetry-http` ships either need a tokio
//! runtime (`reqwest`, and hyper through hyper-util) or start one behind the scenes
//! (`reqwest::blocking` drives its requests on a tokio runtime thread). hookrt never runs
//! on tokio's runtime, and the exporter thread only needs to POST one protobuf body at a
//! time, so this client does that with a blocking `TcpStream`, a connect timeout and
//! read/write deadlines: a collector that is down or slow costs the exporter thread at
//! most the timeout per attempt, and never a request-handling thread. It speaks plain
//! `http://` only (collectors listen on plain HTTP on 4318 by default; put a local
//! collector or agent in front of a TLS endpoint).

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Largest response body kept (the collector's answer is a small protobuf message).
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// A blocking HTTP/1.1 client over `std::net::TcpStream` (one connection per request,
/// `Connection: close`), with every step bounded by `timeout`.
#[derive(Debug, Clone)]
pub struct StdHttpClient {
    timeout: Duration,
}

impl StdHttpClient {
    /// A client whose connect, write and whole-response read each end after `timeout`.
    pub fn new(timeout: Duration) -> StdHttpClient {
        StdHttpClient { timeout }
    }

    /// Sends `request` and reads the whole response, blocking the calling thread.
    pub fn send_blocking(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let uri = request.uri();
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "hookrt's OTLP client speaks plain http:// only (got {uri}); \
                 run a local collector in front of a TLS endpoint"
            )
            .into());
        }
        let host = uri.host().ok_or("OTLP endpoint without a host")?;
        let port = uri.port_u16().unwrap_or(80);
        let deadline = Instant::now() + self.timeout;
        let mut stream = connect(host, port, self.timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(self.timeout))?;

        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method(), path);
        head.push_str(&format!("host: {}\r\n", authority(host, port)));
        for (name, value) in request.headers() {
            if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
                continue;
            }
            if let Ok(value) = value.to_str() {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            request.body().len()
        ));
        stream.write_all(head.as_bytes())?;
        stream.write_all(request.body())?;
        stream.flush()?;

        let raw = read_to_end(&mut stream, deadline)?;
        parse_response(&raw)
    }
}

impl HttpClient for StdHttpClient {
    // `HttpClient` is an `#[async_trait]` trait; this is its expanded signature. The
    // future is ready on its first poll: the exporter thread blocks in it.
    fn send_bytes<'s, 'f>(
        &'s self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'f>>
    where
        's: 'f,
        Self: 'f,
    {
        Box::pin(std::future::ready(self.send_blocking(request)))
    }
}

/// `host:port` as the `Host` header wants it (IPv6 literals in brackets).
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connects to the first address of `host` that answers within `timeout`.
fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, HttpError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => format!("connecting to the OTLP endpoint {host}:{port}: {e}").into(),
        None => format!("the OTLP endpoint {host} resolves to no address").into(),
    })
}

/// Reads until the peer closes (`Connection: close`), the deadline passes or the
/// response is larger than [`MAX_RESPONSE`].
fn read_to_end(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the OTLP endpoint did not answer in time".into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > MAX_RESPONSE {
                    return Err("the OTLP endpoint's response is larger than 4 MiB".into());
                }
                if response_complete(&out) {
                    return Ok(out);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The head and the body of a response, split at the blank line.
fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&raw[..end], &raw[end + 4..]))
}

/// The value of header `name` (lowercase) in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Whether a `Content-Length` response has all its bytes (so a server that keeps the
/// connection open despite `Connection: close` does not cost the whole timeout).
fn response_complete(raw: &[u8]) -> bool {
    let Some((head, body)) = split_head(raw) else {
        return false;
    };
    let head = String::from_utf8_lossy(head);
    header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|len| body.len() >= len)
}

/// Parses a whole HTTP/1.1 response (length-delimited, chunked or closed-delimited).
fn parse_response(raw: &[u8]) -> Result<Response<Bytes>, HttpError> {
    let (head, body) = split_head(raw).ok_or("malformed HTTP response from the OTLP endpoint")?;
    let head = std::str::from_utf8(head)?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("malformed HTTP status line from the OTLP endpoint")?;
    let chunked = header(head, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(body)?
    } else if let Some(len) = header(head, "content-length").and_then(|v| v.parse().ok()) {
        body[..body.len().min(len)].to_vec()
    } else {
        body.to_vec()
    };
    let mut builder = Response::builder().status(status);
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    Ok(builder.body(Bytes::from(body))?)
}

/// Decodes a chunked body (extensions and trailers ignored).
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunked body")?;
        let size_field = std::str::from_utf8(&body[..line_end])?;
        let size_field = size_field.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_field, 16)?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_and_chunked_responses() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc").unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(&r.body()[..], b"abc");
        let raw = b"HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1;x\r\nc\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(&r.body()[..], b"abc");
        assert!(parse_response(b"garbage").is_err());
        assert!(response_complete(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
        ));
    }

    #[test]
    fn refuses_https_and_closed_ports() {
        let client = StdHttpClient::new(Duration::from_millis(200));
        let req = Request::post("https://localhost:4318/v1/traces")
            .body(Bytes::new())
            .unwrap();
        assert!(client.send_blocking(req).is_err());
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let req = Request::post(format!("http://{addr}/v1/traces"))
            .body(Bytes::new())
            .unwrap();
        assert!(client.send_blocking(req).is_err());
    }
}
