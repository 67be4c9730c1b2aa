//! Feature flags chosen per request through `LocalStorage`: the handler sets the flags
//! once, and code deep inside spawned tasks and blocking jobs reads them without any
//! parameter passing.
//!
//! Run it with `cargo run -p hookrt-examples --bin feature_flags`.

use hookrt::context::LocalStorage;
use hookrt::time::{sleep, Duration};
use std::process::ExitCode;

/// The flags of the current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flags {
    new_pricing: bool,
    fast_search: bool,
}

static FLAGS: LocalStorage<Flags> = LocalStorage::named("flags");

/// The flags a user gets: a stable bucket per user, as a rollout would.
fn flags_for(user: u64) -> Flags {
    Flags {
        new_pricing: user % 4 == 0, // a 25 % rollout
        fast_search: user % 2 == 1, // half the users
    }
}

fn current() -> Flags {
    FLAGS.get().map_or(
        Flags {
            new_pricing: false,
            fast_search: false,
        },
        |f| *f,
    )
}

/// Deep in the pricing code, on the blocking pool: reads the flag itself.
fn price(base: u64) -> u64 {
    if current().new_pricing {
        base * 9 / 10
    } else {
        base
    }
}

/// A search, in a task spawned by a task spawned by the handler.
async fn search() -> &'static str {
    let inner = hookrt::spawn(async {
        sleep(Duration::from_millis(1)).await;
        if current().fast_search {
            "fast-index"
        } else {
            "full-scan"
        }
    });
    inner.await.unwrap_or("failed")
}

/// The handler: sees nothing of the flags, its callees read them.
async fn handle() -> (u64, &'static str, Flags) {
    let how = hookrt::spawn(search()).await.unwrap_or("failed");
    let cost = hookrt::task::spawn_blocking(|| price(1000))
        .await
        .unwrap_or(0);
    (cost, how, current())
}

fn main() -> ExitCode {
    let Ok(rt) = hookrt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return ExitCode::FAILURE;
    };
    let results = rt.block_on(async {
        let tasks: Vec<_> = (1..=8u64)
            .map(|user| (user, hookrt::spawn(FLAGS.run(flags_for(user), handle()))))
            .collect();
        let mut out = Vec::new();
        for (user, t) in tasks {
            if let Ok(r) = t.await {
                out.push((user, r));
            }
        }
        out
    });

    println!("== Eight concurrent requests, flags chosen per user");
    println!(
        "{:>4}  {:<11} {:<11} | {:>5}  {:<10}",
        "user", "new_pricing", "fast_search", "price", "search"
    );
    let mut consistent = results.len() == 8;
    for (user, (cost, how, seen)) in &results {
        let f = flags_for(*user);
        println!(
            "{user:>4}  {:<11} {:<11} | {cost:>5}  {how:<10}",
            f.new_pricing, f.fast_search
        );
        consistent &= *seen == f
            && (*cost == 900) == f.new_pricing
            && (*how == "fast-index") == f.fast_search;
    }
    println!(
        "every spawned task and blocking job saw its own request's flags: {}",
        if consistent { "yes" } else { "NO" }
    );
    if consistent {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
