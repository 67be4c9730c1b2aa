//! The load: `REQUESTS` requests over `CONNECTIONS` keep-alive connections, each with
//! its request id in the `x-request-id` header.

use hookrt_examples::http::{self, Client};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Requests fired at `shop`.
pub(crate) const REQUESTS: u64 = 1000;

/// Concurrent client connections (so at most this many requests in flight).
pub(crate) const CONNECTIONS: usize = 64;

/// What the load saw.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    pub(crate) ok: u64,
    pub(crate) failed: u64,
}

/// Sends request ids `1..=REQUESTS` from `CONNECTIONS` connections; returns when all
/// are answered and every connection is closed.
pub(crate) async fn run(addr: SocketAddr) -> Result<LoadResult, http::Error> {
    let next = Arc::new(AtomicU64::new(1));
    let mut workers = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let next = next.clone();
        let mut client = Client::connect(addr).await?;
        workers.push(
            hookrt::task::Builder::new()
                .name("load")
                .spawn(async move {
                    let mut result = LoadResult::default();
                    // Bounded: each id is taken once, and there are REQUESTS of them.
                    for _ in 0..REQUESTS {
                        let id = next.fetch_add(1, Ordering::Relaxed);
                        if id > REQUESTS {
                            break;
                        }
                        let rid = id.to_string();
                        match client.get("/order", &[("x-request-id", &rid)]).await {
                            Ok((200, _)) => result.ok += 1,
                            _ => result.failed += 1,
                        }
                    }
                    let _ = client.close().await;
                    result
                })?,
        );
    }
    let mut total = LoadResult::default();
    for w in workers {
        let r = w.await?;
        total.ok += r.ok;
        total.failed += r.failed;
    }
    Ok(total)
}
