//! Shared test support: runtimes with a Ledger and the hooks under test.
#![allow(dead_code, unreachable_pub)]

use hookrt::hooks::{Hook, Ledger};
use hookrt::runtime::{Builder, Runtime};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A runtime flavour.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    CurrentThread,
    MultiThread(usize),
}

/// The flavours every test runs on.
pub const FLAVORS: &[Flavor] = &[Flavor::CurrentThread, Flavor::MultiThread(2)];

/// A runtime of `flavor` with a Ledger and `hooks` installed.
pub fn runtime(flavor: Flavor, hooks: Vec<Box<dyn Hook>>) -> (Runtime, Arc<Ledger>) {
    let ledger = Arc::new(Ledger::without_event_log());
    let mut b = match flavor {
        Flavor::CurrentThread => Builder::new_current_thread(),
        Flavor::MultiThread(n) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    b.enable_all().hook(ledger.clone());
    for h in hooks {
        b.hook(h);
    }
    (b.build().expect("runtime builds"), ledger)
}

/// Drops the runtime and checks the Ledger balanced.
pub fn finish(rt: Runtime, ledger: &Ledger) {
    drop(rt);
    let report = ledger.report();
    assert!(report.is_balanced(), "{report}");
}

/// Polls `cond` every millisecond until it holds, for at most 10 s.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
