//! Distributed tracing by header propagation: `frontend` calls `backend` twice per
//! request and sends its trace id in `x-trace-id`; `backend` continues the trace with
//! `LocalStorage`, so the lines of both services group under one trace id. (W3C
//! `traceparent` propagation builds on the same two steps.)
//!
//! Run it with `cargo run -p hookrt-examples --bin distributed_tracing`.

use hookrt::context::LocalStorage;
use hookrt::time::{sleep, Duration};
use hookrt_examples::http::{self, Client, Request, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The trace a piece of work belongs to, and which service is doing it.
#[derive(Clone, Debug)]
struct Trace {
    trace_id: String,
    service: &'static str,
}

static TRACE: LocalStorage<Trace> = LocalStorage::named("trace");

/// `(trace id, "service: message")` of every event, for the report.
static EVENTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn event(msg: &str) {
    let (id, service) =
        TRACE.with(|t| t.map_or(("-".into(), "?"), |t| (t.trace_id.clone(), t.service)));
    if let Ok(mut e) = EVENTS.lock() {
        e.push((id, format!("{service:<8} {msg}")));
    }
}

/// The callee: continues the caller's trace from the header.
async fn backend(req: Request) -> Response {
    let trace_id = http::header(&req, "x-trace-id")
        .unwrap_or("none")
        .to_owned();
    let what = req.uri().path().to_owned();
    TRACE
        .run(
            Trace {
                trace_id,
                service: "backend",
            },
            async move {
                sleep(Duration::from_millis(1)).await;
                event(&format!("served {what}"));
                http::text("42")
            },
        )
        .await
}

/// The caller: starts a trace per request and propagates it on each outgoing call.
async fn frontend(backend_addr: SocketAddr, req: Request, next: Arc<AtomicU64>) -> Response {
    let trace_id = format!("trace-{:04}", next.fetch_add(1, Ordering::Relaxed));
    let path = req.uri().path().to_owned();
    TRACE
        .run(
            Trace {
                trace_id,
                service: "frontend",
            },
            async move {
                event(&format!("received {path}"));
                for call in ["/price", "/stock"] {
                    // Outgoing call: read the current trace and put it in the header.
                    let id = TRACE.get().map(|t| t.trace_id.clone()).unwrap_or_default();
                    let answer = match Client::connect(backend_addr).await {
                        Ok(mut c) => {
                            let r = c.get(call, &[("x-trace-id", &id)]).await;
                            let _ = c.close().await;
                            r.map(|(_, body)| body).unwrap_or_default()
                        }
                        Err(_) => String::new(),
                    };
                    event(&format!("{call} answered {answer}"));
                }
                http::text("done")
            },
        )
        .await
}

async fn run() -> Result<(), http::Error> {
    let (backend_addr, backend_accept) = http::spawn_server("backend", 16, backend).await?;
    let next = Arc::new(AtomicU64::new(1));
    let (front_addr, front_accept) = http::spawn_server("frontend", 4, move |req| {
        frontend(backend_addr, req, next.clone())
    })
    .await?;
    // Three users at once, each on its own connection.
    let users: Vec<_> = (0..3)
        .map(|_| {
            hookrt::spawn(async move {
                let mut c = Client::connect(front_addr).await?;
                c.get("/checkout", &[]).await?;
                c.close().await
            })
        })
        .collect();
    for u in users {
        u.await??;
    }
    front_accept.abort();
    backend_accept.abort();
    let _ = (front_accept.await, backend_accept.await);
    Ok(())
}

fn main() -> ExitCode {
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("distributed_tracing failed: {e}");
        return ExitCode::FAILURE;
    }
    let events = EVENTS.lock().map(|e| e.clone()).unwrap_or_default();
    let mut traces: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, line) in events {
        traces.entry(id).or_default().push(line);
    }
    println!("== Events grouped by trace id (both services)");
    let mut whole = traces.len() == 3;
    for (id, lines) in &traces {
        println!("{id}");
        for l in lines {
            println!("    {l}");
        }
        whole &= lines.iter().filter(|l| l.starts_with("backend")).count() == 2;
    }
    println!(
        "each trace holds its frontend and both backend events: {}",
        if whole { "yes" } else { "NO" }
    );
    if whole {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
