//! The showcase: a small "request handler" fans out to sub-tasks that talk over
//! channels; a hook written in thirty lines prints every lifecycle event as it happens,
//! then the async tree it reconstructed from trigger ids and wake edges.
//!
//! Run it with `cargo run -p hookrt-examples --bin showcase`.

use hookrt::hooks::{AsyncId, Hook, Ledger, Resource, ResourceKind};
use hookrt::sync::{mpsc, oneshot};
use hookrt::task;
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
        let end = match (n.resolved, n.destroyed) {
            (true, true) => "resolved",
            (false, true) => "cancelled/dropped",
            (_, false) => "STILL ALIVE",
        };
        println!(
            "{prefix}{branch}{} #{id}{name}  [{} polls{wakes}; {end}]  at {}",
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

/// A request handler: looks a user up and loads their orders concurrently, the
/// "database" answering over channels from tasks of its own.
async fn handle_request(user: u32, db: mpsc::Sender<(u32, oneshot::Sender<String>)>) -> String {
    let lookup = task::Builder::new()
        .name("lookup-user")
        .spawn({
            let db = db.clone();
            async move {
                let (tx, rx) = oneshot::channel();
                db.send((user, tx)).await.expect("db is up");
                rx.await.expect("db answers")
            }
        })
        .unwrap();
    let orders = task::Builder::new()
        .name("load-orders")
        .spawn(async move {
            task::yield_now().await;
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
        let (db_tx, mut db_rx) = mpsc::channel::<(u32, oneshot::Sender<String>)>(8);
        let db = task::Builder::new()
            .name("db-server")
            .spawn(async move {
                while let Some((user, reply)) = db_rx.recv().await {
                    let _ = reply.send(format!("user-{user}"));
                }
            })
            .unwrap();
        let request = task::Builder::new()
            .name("handle-request")
            .spawn(handle_request(7, db_tx))
            .unwrap();
        let answer = request.await.unwrap();
        db.await.unwrap();
        answer
    });
    drop(rt);

    println!("\n── result ───────────────────────────────────────────────────");
    println!("  {answer}");
    println!("\n── async tree (from trigger ids; wake edges in brackets) ────");
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
