//! The showcase: a small "request handler" fans out to sub-tasks that talk to a
//! loopback TCP "database" and wait on a timer; a hook written in thirty lines prints every lifecycle event as it happens,
//! then the async tree it reconstructed from trigger ids and wake edges.
//!
//! Run it with `cargo run -p hookrt-examples --bin showcase`.

use hookrt::hooks::{AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::io::{AsyncReadExt, AsyncWriteExt};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::task;
use hookrt::time::{self, Duration};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the tree printer remembers of each resource.
#[derive(Default, Clone)]
struct Node {
    kind: String,
    name: Option<String>,
    location: String,
    trigger: Option<AsyncId>,
    polls: u32,
    woken_by: Vec<AsyncId>,
    resolved: bool,
    destroyed: bool,
}

/// A hook that logs each event and keeps a table for the tree.
#[derive(Default)]
struct TreePrinter {
    nodes: Mutex<BTreeMap<AsyncId, Node>>,
}

impl TreePrinter {
    fn label(r: &Resource<'_>) -> String {
        match r.name() {
            Some(name) => format!("{} #{} \"{name}\"", r.kind(), r.id()),
            None => format!("{} #{}", r.kind(), r.id()),
        }
    }

    fn print_tree(&self) {
        let nodes = self.nodes.lock().unwrap();
        let roots: Vec<AsyncId> = nodes
            .iter()
            .filter(|(_, n)| n.trigger.is_none_or(|t| !nodes.contains_key(&t)))
            .map(|(id, _)| *id)
            .collect();
        for root in roots {
            self.print_node(&nodes, root, "", true, true);
        }
    }

    fn print_node(
        &self,
        nodes: &BTreeMap<AsyncId, Node>,
        id: AsyncId,
        prefix: &str,
        last: bool,
        top: bool,
    ) {
        let n = &nodes[&id];
        let branch = if top {
            ""
        } else if last {
            "└─ "
        } else {
            "├─ "
        };
        let name = n
            .name
            .as_deref()
            .map(|s| format!(" \"{s}\""))
            .unwrap_or_default();
        let wakes = if n.woken_by.is_empty() {
            String::new()
        } else {
            let by: Vec<String> = n.woken_by.iter().map(|b| format!("#{b}")).collect();
            format!(", woken by {}", by.join(" "))
        };
        let is_task = n.kind == "Task";
        let end = match (n.resolved, n.destroyed) {
            (true, true) => "resolved",
            (false, true) if is_task => "cancelled",
            (false, true) => "closed",
            (_, false) => "STILL ALIVE",
        };
        let runs = if is_task { "polls" } else { "dispatches" };
        println!(
            "{prefix}{branch}{} #{id}{name}  [{} {runs}{wakes}; {end}]  at {}",
            n.kind, n.polls, n.location
        );
        let children: Vec<AsyncId> = nodes
            .iter()
            .filter(|(_, c)| c.trigger == Some(id))
            .map(|(cid, _)| *cid)
            .collect();
        let child_prefix = if top {
            prefix.to_owned()
        } else {
            format!("{prefix}{}", if last { "   " } else { "│  " })
        };
        for (i, child) in children.iter().enumerate() {
            self.print_node(nodes, *child, &child_prefix, i + 1 == children.len(), false);
        }
    }
}

impl Hook for TreePrinter {
    fn init(&self, r: &Resource<'_>) {
        let location = r
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        println!(
            "  init     {:<34} trigger #{}",
            Self::label(r),
            r.trigger_id()
        );
        self.nodes.lock().unwrap().insert(
            r.id(),
            Node {
                kind: r.kind().to_string(),
                name: r.name().map(str::to_owned),
                location,
                trigger: (!r.trigger_id().is_root()).then_some(r.trigger_id()),
                ..Node::default()
            },
        );
    }
    fn before(&self, r: &Resource<'_>) {
        println!("  before   {}", Self::label(r));
        if let Some(n) = self.nodes.lock().unwrap().get_mut(&r.id()) {
            n.polls += 1;
        }
    }
    fn after(&self, r: &Resource<'_>) {
        println!("  after    {}", Self::label(r));
    }
    fn resolve(&self, r: &Resource<'_>) {
        println!("  resolve  {}", Self::label(r));
        if let Some(n) = self.nodes.lock().unwrap().get_mut(&r.id()) {
            n.resolved = true;
        }
    }
    fn destroy(&self, r: &Resource<'_>) {
        println!("  destroy  {}", Self::label(r));
        if let Some(n) = self.nodes.lock().unwrap().get_mut(&r.id()) {
            n.destroyed = true;
        }
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        println!("  wake     {:<34} by #{by}", Self::label(r));
        if let Some(n) = self.nodes.lock().unwrap().get_mut(&r.id()) {
            n.woken_by.push(by);
        }
    }
}

/// A request handler: looks a user up over TCP (the "database" is a server task on
/// loopback) while loading their orders behind a short timer, concurrently.
async fn handle_request(user: u32, db: std::net::SocketAddr) -> String {
    let lookup = task::Builder::new()
        .name("lookup-user")
        .spawn(async move {
            let mut conn = TcpStream::connect(db).await.expect("db is up");
            conn.write_all(&user.to_be_bytes())
                .await
                .expect("query sent");
            let mut name = String::new();
            conn.read_to_string(&mut name).await.expect("db answers");
            name
        })
        .unwrap();
    let orders = task::Builder::new()
        .name("load-orders")
        .spawn(async move {
            time::sleep(Duration::from_millis(5)).await;
            vec![user * 10, user * 10 + 1]
        })
        .unwrap();
    let name = lookup.await.unwrap();
    let orders = orders.await.unwrap();
    format!("{name} has orders {orders:?}")
}

fn main() {
    let tree = Arc::new(TreePrinter::default());
    let ledger = Arc::new(Ledger::new());
    let rt = hookrt::runtime::Builder::new_current_thread()
        .enable_all()
        .hook(tree.clone())
        .hook(ledger.clone())
        .build()
        .expect("runtime builds");

    println!("── live events ──────────────────────────────────────────────");
    let answer = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let db_addr = listener.local_addr().expect("local addr");
        let db = task::Builder::new()
            .name("db-server")
            .spawn(async move {
                // Serves one query: a user id in, a name out.
                let (mut conn, _) = listener.accept().await.expect("accept");
                let mut id = [0u8; 4];
                conn.read_exact(&mut id).await.expect("query");
                let name = format!("user-{}", u32::from_be_bytes(id));
                conn.write_all(name.as_bytes()).await.expect("answer");
            })
            .unwrap();
        let request = task::Builder::new()
            .name("handle-request")
            .spawn(handle_request(7, db_addr))
            .unwrap();
        let answer = request.await.unwrap();
        db.await.unwrap();
        answer
    });
    drop(rt);

    println!("\n── result ───────────────────────────────────────────────────");
    println!("  {answer}");
    println!("\n── async tree (parents from trigger ids; wake edges in brackets) ──");
    tree.print_tree();
    println!("\n── ledger ───────────────────────────────────────────────────");
    let report = ledger.report();
    println!(
        "  {} resources, {} polls, {} wakes; balanced: {}",
        report.inits,
        report.befores,
        report.wakes,
        report.is_balanced()
    );
    assert!(report.is_balanced(), "{report}");
    let _ = ResourceKind::Task;
}
