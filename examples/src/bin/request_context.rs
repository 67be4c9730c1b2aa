//! Request-context middleware: one wrapper around the HTTP handler sets the request's
//! context (its id from `x-request-id`, or a fresh one) in a `LocalStorage`; every log
//! line and every task spawned while handling the request sees it, with no parameter
//! threaded through.
//!
//! Run it with `cargo run -p hookrt-examples --bin request_context`.

use hookrt::context::LocalStorage;
use hookrt::time::{sleep, Duration};
use hookrt_examples::http::{self, Client, Request, Response};
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What the middleware knows about the request being served.
#[derive(Debug)]
struct RequestContext {
    id: String,
    path: String,
}

static CONTEXT: LocalStorage<RequestContext> = LocalStorage::named("request");

/// Every line logged by the server, for the check at the end.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A logger that needs no arguments to know which request it is in.
fn log(msg: &str) {
    let line = CONTEXT.with(|c| match c {
        Some(c) => format!("[req={} {}] {msg}", c.id, c.path),
        None => format!("[no request] {msg}"),
    });
    println!("{line}");
    if let Ok(mut lines) = LINES.lock() {
        lines.push(line);
    }
}

/// The middleware: wraps any handler.
fn with_context<H, F>(
    handler: H,
) -> impl Fn(Request) -> RequestFuture + Clone + Send + Sync + 'static
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    static NEXT: AtomicU64 = AtomicU64::new(1);
    move |req: Request| {
        let id = http::header(&req, "x-request-id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("gen-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let ctx = RequestContext {
            id,
            path: req.uri().path().to_owned(),
        };
        let handler = handler.clone();
        Box::pin(CONTEXT.run(ctx, async move { handler(req).await }))
    }
}

/// The boxed future the middleware returns.
type RequestFuture = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

/// The application handler: logs, and spawns a background task that logs too.
async fn app(_req: Request) -> Response {
    log("handler: start");
    let background = hookrt::spawn(async {
        sleep(Duration::from_millis(2)).await;
        log("background task: cache warmed");
    });
    background.await.ok();
    log("handler: done");
    http::text("ok")
}

async fn run() -> Result<(), http::Error> {
    let (addr, accept) = http::spawn_server("accept", 4, with_context(app)).await?;
    let mut client = Client::connect(addr).await?;
    client.get("/cart", &[("x-request-id", "abc-1")]).await?;
    client
        .get("/checkout", &[("x-request-id", "abc-2")])
        .await?;
    client.get("/health", &[]).await?; // no header: the middleware makes an id
    client.close().await?;
    accept.abort();
    let _ = accept.await;
    log("outside any request");
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
        eprintln!("request_context failed: {e}");
        return ExitCode::FAILURE;
    }
    let lines = LINES.lock().map(|l| l.clone()).unwrap_or_default();
    let background = lines
        .iter()
        .filter(|l| l.contains("background task") && l.starts_with("[req="))
        .count();
    println!("\nbackground tasks that saw their request's id: {background} of 3");
    if background == 3 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
