//! `timed`: measure each async function in a chain. Each section is a `Custom`
//! resource, so TaskStats reports its busy time (CPU inside its polls) apart from its
//! wall time (call to drop), per call site.
//!
//! Run it with `cargo run -p hookrt-examples --bin timed`.

use hookrt::hooks::ResourceKind;
use hookrt::time::{sleep, Duration};
use hookrt_observe::{timed, TaskStats};
use std::process::ExitCode;
use std::sync::Arc;

async fn parse(n: u64) -> u64 {
    (0..200_000).fold(n, |a, i| a.wrapping_mul(31).wrapping_add(i))
}

async fn query(n: u64) -> u64 {
    sleep(Duration::from_millis(2 + n % 3)).await;
    n % 10
}

async fn render(rows: u64) -> String {
    hookrt::task::yield_now().await;
    format!("{rows} rows")
}

/// One request: three sections, each timed at its call site.
async fn handle(n: u64) -> String {
    let key = timed("parse", parse(n)).await;
    let rows = timed("db.query", query(key)).await;
    timed("render", render(rows)).await
}

fn main() -> ExitCode {
    let stats = Arc::new(TaskStats::new());
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .hook(stats.clone())
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    rt.block_on(async {
        let tasks: Vec<_> = (0..100).map(|n| hookrt::spawn(handle(n))).collect();
        for t in tasks {
            t.await.ok();
        }
    });

    println!("== Timed sections of 100 requests");
    println!(
        "{:<10} {:>6} {:>6} {:>11} {:>11} {:>11}",
        "section", "calls", "polls", "busy/call", "wall mean", "wall p99"
    );
    let mut found = 0;
    for s in stats.sites() {
        let ResourceKind::Custom(name) = s.kind else {
            continue;
        };
        found += 1;
        let per_call = s.busy / u32::try_from(s.created.max(1)).unwrap_or(u32::MAX);
        println!(
            "{:<10} {:>6} {:>6} {:>11} {:>11} {:>11}",
            name,
            s.created,
            s.polls,
            format!("{per_call:.2?}"),
            format!("{:.2?}", s.lifetimes.mean()),
            format!("{:.2?}", s.lifetimes.quantile(0.99)),
        );
    }
    println!("db.query waits (wall >> busy); parse computes (busy ~ wall).");
    if found == 3 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
