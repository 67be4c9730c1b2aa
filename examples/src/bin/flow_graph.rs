//! `FlowRecorder`: record a request's events, print its async tree as Graphviz DOT and
//! write a Chrome trace that Perfetto opens (threads as tracks, polls as slices, spawn
//! and wake arrows).
//!
//! Run it with `cargo run -p hookrt-examples --bin flow_graph [-- --out DIR]`; the files
//! go to `DIR` (default: the system temp directory).

use hookrt::hooks::execution_async_id;
use hookrt::time::{sleep, Duration};
use hookrt_observe::FlowRecorder;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// A request: two steps in parallel, each with a child of its own.
async fn request() -> hookrt::hooks::AsyncId {
    let step = |name: &'static str, ms: u64| {
        hookrt::task::Builder::new().name(name).spawn(async move {
            let child = hookrt::task::Builder::new()
                .name("lookup")
                .spawn(sleep(Duration::from_millis(ms)));
            if let Ok(child) = child {
                child.await.ok();
            }
        })
    };
    let (a, b) = (step("load-user", 3), step("load-cart", 5));
    if let (Ok(a), Ok(b)) = (a, b) {
        let _ = hookrt::join!(a, b);
    }
    execution_async_id()
}

fn main() -> ExitCode {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let flow = Arc::new(FlowRecorder::new());
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .hook(flow.clone())
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let root = rt.block_on(async {
        let r = hookrt::task::Builder::new()
            .name("request")
            .spawn(request());
        r.ok()?.await.ok()
    });
    drop(rt);
    let Some(root) = root else {
        return ExitCode::FAILURE;
    };

    let dot = flow.dot(Some(root));
    println!("== The async tree of request task #{root} (Graphviz DOT)");
    print!("{dot}");
    let edges = dot.lines().filter(|l| l.contains("->")).count();

    let trace = out.join("flow_graph.trace.json");
    let graph = out.join("flow_graph.dot");
    let written = std::fs::write(&trace, flow.chrome_trace()).and(std::fs::write(&graph, &dot));
    println!(
        "\n{} events recorded, {edges} edges in the tree",
        flow.events().len()
    );
    match written {
        Ok(()) => {
            println!(
                "wrote {} (open in https://ui.perfetto.dev)",
                trace.display()
            );
            println!("wrote {} (dot -Tsvg)", graph.display());
        }
        Err(e) => println!("could not write into {}: {e}", out.display()),
    }
    // request -> 2 steps -> 1 lookup each, and each lookup's timer: 6 edges at least.
    if edges >= 4 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
