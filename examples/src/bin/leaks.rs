//! `LeakDetector`: a request leaves a task, a timer and a socket behind; the detector
//! finds all three, by creating site and by the request that left them.
//!
//! Run it with `cargo run -p hookrt-examples --bin leaks`.

use hookrt::hooks::{execution_async_id, ResourceKind};
use hookrt::net::TcpListener;
use hookrt::time::{sleep, Duration};
use hookrt_observe::LeakDetector;
use std::process::ExitCode;
use std::sync::Arc;

/// A request handler with three classic mistakes.
async fn handle_request() -> hookrt::hooks::AsyncId {
    // 1. A task waiting for an answer that never comes (the sender is forgotten).
    let (tx, rx) = hookrt::sync::oneshot::channel::<u32>();
    let _waiter = hookrt::task::Builder::new()
        .name("wait-for-reply")
        .spawn(async move {
            let _ = rx.await;
        });
    std::mem::forget(tx);

    // 2. A timer: a "retry in an hour" task nobody awaits or aborts.
    let _retry = hookrt::task::Builder::new()
        .name("retry-later")
        .spawn(async {
            sleep(Duration::from_secs(3600)).await;
        });

    // 3. A socket: a listener for a callback that is never dropped.
    if let Ok(listener) = TcpListener::bind("127.0.0.1:0").await {
        std::mem::forget(listener);
    }

    sleep(Duration::from_millis(5)).await;
    execution_async_id()
}

fn main() -> ExitCode {
    let leaks = Arc::new(LeakDetector::new());
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .hook(leaks.clone())
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };

    let request = rt.block_on(async {
        // Clean work first: it leaves nothing.
        for i in 0..10u64 {
            hookrt::spawn(async move { sleep(Duration::from_millis(i)).await })
                .await
                .ok();
        }
        let request = hookrt::task::Builder::new()
            .name("request")
            .spawn(handle_request());
        let id = request.ok()?.await.ok()?;
        sleep(Duration::from_millis(50)).await;
        Some(id)
    });
    let Some(request) = request else {
        eprintln!("the request failed");
        return ExitCode::FAILURE;
    };

    println!("== Live resources older than 20 ms, grouped by creating site");
    let report = leaks.report(Duration::from_millis(20));
    print!("{report}");

    println!("\n== What request task #{request} left behind after it resolved");
    let left = leaks.outlived(request);
    for r in &left {
        println!("  {r}");
    }
    let has = |k: ResourceKind| left.iter().any(|r| r.kind == k);
    let all = has(ResourceKind::Task) && has(ResourceKind::Timer) && has(ResourceKind::TcpListener);
    println!(
        "\nleaked task, timer and listener found: {}",
        if all { "yes" } else { "NO" }
    );
    drop(rt);
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
