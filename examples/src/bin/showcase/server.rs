//! The two services: `shop` (the front end the load hits) and `inventory` (the service
//! it calls), plus the cache task `shop` asks through a channel.

use crate::{RequestId, REQUEST_ID};
use hookrt::hooks::{execution_async_id, AsyncId};
use hookrt::sync::{mpsc, oneshot, Mutex};
use hookrt::time::{sleep, timeout};
use hookrt_examples::http::{self, Client, Request, Response};
use hookrt_observe::trace_context::{extract, TRACE_CONTEXT};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// The request that deliberately forgets a timer (a "refresh in an hour" task nobody
/// awaits or aborts).
pub(crate) const LEAKY_REQUEST: u64 = 500;

/// Connections `shop` keeps open to `inventory`.
const UPSTREAM_CONNECTIONS: usize = 16;

/// What one request spent where, measured by the handler.
#[derive(Clone, Debug)]
pub(crate) struct RequestRecord {
    pub(crate) id: u64,
    /// The request task (its stats, leaks and graph are keyed by it).
    pub(crate) task: AsyncId,
    pub(crate) total: Duration,
    pub(crate) db: Duration,
    pub(crate) cache: Duration,
    pub(crate) inventory: Duration,
    pub(crate) pricing: Duration,
    pub(crate) audit: Duration,
}

/// A cache query: a key, and where to send the answer.
pub(crate) enum CacheMsg {
    Get(u64, oneshot::Sender<Option<u64>>),
    Stop,
}

/// The state the `shop` handler shares.
pub(crate) struct Shop {
    cache: mpsc::Sender<CacheMsg>,
    upstream: Vec<Mutex<Option<Client>>>,
    pub(crate) records: std::sync::Mutex<Vec<RequestRecord>>,
}

/// A fixed pseudo-random number per request and salt (SplitMix64), so runs are alike.
fn mix(id: u64, salt: u64) -> u64 {
    let mut z = id
        .wrapping_mul(31)
        .wrapping_add(salt)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The cache task: answers up to `max` queries, or until `Stop` or every sender is gone.
pub(crate) async fn cache_task(mut rx: mpsc::Receiver<CacheMsg>, max: usize) {
    let mut entries: HashMap<u64, u64> = HashMap::new();
    for _ in 0..max {
        match rx.recv().await {
            Some(CacheMsg::Get(key, reply)) => {
                let hit = entries.get(&key).copied();
                if hit.is_none() {
                    entries.insert(key, mix(key, 7) % 1000);
                }
                let _ = reply.send(hit);
            }
            Some(CacheMsg::Stop) | None => return,
        }
    }
}

/// The `inventory` service: continues the caller's request id from its header.
pub(crate) async fn inventory(req: Request) -> Response {
    let id = http::header(&req, "x-request-id")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let item = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("0")
        .to_owned();
    REQUEST_ID
        .run(RequestId(id), async move {
            sleep(Duration::from_millis(1 + mix(id, 3) % 3)).await;
            let stock = mix(id, 11) % 50;
            debug!(item = %item, stock, "inventory: stock looked up");
            http::text(stock.to_string())
        })
        .await
}

impl Shop {
    /// Connects to `inventory` and starts the cache task (returned, to be stopped).
    pub(crate) async fn start(
        inventory: SocketAddr,
        max_queries: usize,
    ) -> Result<(Arc<Shop>, hookrt::task::JoinHandle<()>), http::Error> {
        let (tx, rx) = mpsc::channel(256);
        let cache = hookrt::task::Builder::new()
            .name("cache")
            .spawn(cache_task(rx, max_queries))?;
        let mut upstream = Vec::with_capacity(UPSTREAM_CONNECTIONS);
        for _ in 0..UPSTREAM_CONNECTIONS {
            upstream.push(Mutex::new(Some(Client::connect(inventory).await?)));
        }
        let shop = Shop {
            cache: tx,
            upstream,
            records: std::sync::Mutex::new(Vec::new()),
        };
        Ok((Arc::new(shop), cache))
    }

    /// Stops the cache and closes the connections to `inventory`.
    pub(crate) async fn stop(&self) {
        let _ = self.cache.send(CacheMsg::Stop).await;
        for slot in &self.upstream {
            if let Some(client) = slot.lock().await.take() {
                let _ = client.close().await;
            }
        }
    }

    /// The `shop` handler: runs each request as its own task named `"request"`, inside
    /// `REQUEST_ID` (from the `x-request-id` header the client sends).
    pub(crate) async fn handle(self: Arc<Shop>, req: Request) -> Response {
        let id = http::header(&req, "x-request-id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // The request task starts in the caller's W3C trace (`traceparent`), or in a new
        // one: with `--otlp` the exporter turns each request tree into spans.
        let trace = extract(req.headers()).into_context();
        let task = TRACE_CONTEXT.run_sync(trace, || {
            hookrt::task::Builder::new()
                .name("request")
                .spawn(REQUEST_ID.run(RequestId(id), self.clone().process(id)))
        });
        match task {
            Ok(task) => match task.await {
                Ok(body) => http::text(body),
                Err(e) => http::text(format!("request task failed: {e}")),
            },
            Err(e) => http::text(format!("spawn failed: {e}")),
        }
    }

    /// One request: a database query, a cache lookup, a call to `inventory`, a pricing
    /// job on the blocking pool and an audit task.
    async fn process(self: Arc<Shop>, id: u64) -> String {
        let start = Instant::now();
        let task = execution_async_id();
        info!(path = "/order", "request received");

        // 1. The database: a timed section around a query-like sleep (a few are slow).
        let t = Instant::now();
        let query = if mix(id, 1) % 100 < 2 {
            25
        } else {
            2 + mix(id, 2) % 6
        };
        let rows = hookrt_observe::timed("db.query", async move {
            sleep(Duration::from_millis(query)).await;
            mix(id, 5) % 20
        })
        .await;
        let db = t.elapsed();
        debug!(rows, "db: query done");

        // 2. The cache, through a channel to the cache task.
        let t = Instant::now();
        let key = id % 200;
        let (tx, rx) = oneshot::channel();
        let hit = match self.cache.send(CacheMsg::Get(key, tx)).await {
            Ok(()) => rx.await.ok().flatten(),
            Err(_) => None,
        };
        let cache = t.elapsed();
        debug!(key, hit = hit.is_some(), "cache: looked up");

        // 3. The inventory service, with the request id in a header, under a timeout.
        let t = Instant::now();
        let stock = timeout(Duration::from_secs(5), self.call_inventory(id, key)).await;
        let stock = match stock {
            Ok(Some(s)) => s,
            _ => {
                warn!("inventory: no answer");
                String::from("?")
            }
        };
        let inventory = t.elapsed();

        // 4. Pricing: CPU work on the blocking pool.
        let t = Instant::now();
        let price = hookrt::task::spawn_blocking(move || {
            let mut acc = id;
            for i in 0..20_000u64 {
                acc = mix(acc, i);
            }
            debug!("pricing: computed on the blocking pool");
            acc % 10_000
        })
        .await
        .unwrap_or(0);
        let pricing = t.elapsed();

        // 5. The audit record, written by a child task that inherits the request id.
        let t = Instant::now();
        let audit = hookrt::task::Builder::new().name("audit").spawn(async {
            sleep(Duration::from_millis(1)).await;
            info!("audit: order recorded");
        });
        if let Ok(audit) = audit {
            let _ = audit.await;
        }
        let audit = t.elapsed();

        // 6. The bug this run is about: one request schedules a refresh an hour from now
        //    and forgets it (the JoinHandle is dropped, nothing ever aborts it).
        if id == LEAKY_REQUEST {
            let _forgotten = hookrt::task::Builder::new()
                .name("cache-refresh")
                .spawn(async {
                    sleep(Duration::from_secs(3600)).await;
                });
            warn!("cache: refresh scheduled in 1h");
        }

        let total = start.elapsed();
        info!(total_us = total.as_micros() as u64, "request done");
        let record = RequestRecord {
            id,
            task,
            total,
            db,
            cache,
            inventory,
            pricing,
            audit,
        };
        if let Ok(mut records) = self.records.lock() {
            records.push(record);
        }
        format!(
            "order {id}: stock {stock}, price {price}, cache {}",
            if hit.is_some() { "hit" } else { "miss" }
        )
    }

    async fn call_inventory(&self, id: u64, key: u64) -> Option<String> {
        let slot = &self.upstream[(id as usize) % self.upstream.len()];
        let mut client = slot.lock().await;
        let client = client.as_mut()?;
        let rid = id.to_string();
        let path = format!("/stock/{key}");
        match client.get(&path, &[("x-request-id", &rid)]).await {
            Ok((200, body)) => Some(body),
            _ => None,
        }
    }
}
