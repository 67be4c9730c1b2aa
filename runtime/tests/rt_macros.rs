//! `#[hookrt::main]` and `#[hookrt::test]` build a runtime, register hooks, and run the body.

use hookrt::hooks::{execution_async_id, AsyncId, Hook, Resource};
use std::sync::atomic::{AtomicUsize, Ordering};

static INITS: AtomicUsize = AtomicUsize::new(0);

struct CountInits;

impl Hook for CountInits {
    fn init(&self, _r: &Resource<'_>) {
        INITS.fetch_add(1, Ordering::SeqCst);
    }
}

#[hookrt::test]
async fn the_test_body_runs_as_a_resource() {
    assert_ne!(execution_async_id(), AsyncId::ROOT);
    assert_eq!(hookrt::spawn(async { 2 }).await.unwrap(), 2);
}

#[hookrt::test(hooks = [CountInits])]
async fn hooks_listed_in_the_attribute_are_registered() {
    let before = INITS.load(Ordering::SeqCst);
    assert!(before >= 1, "block_on's own init reached the hook");
    hookrt::spawn(async {}).await.unwrap();
    assert!(INITS.load(Ordering::SeqCst) > before);
}

#[hookrt::test(flavor = "current_thread")]
async fn returns_a_result() -> Result<(), std::io::Error> {
    let v: u32 = "7".parse().map_err(std::io::Error::other)?;
    assert_eq!(v, 7);
    Ok(())
}

#[hookrt::main]
async fn main_like() -> u32 {
    hookrt::spawn(async { 40 }).await.unwrap() + 2
}

#[test]
fn main_builds_its_own_runtime() {
    assert_eq!(main_like(), 42);
}

#[hookrt::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_test_runs_on_workers() {
    let on_worker = hookrt::spawn(async { std::thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    assert_eq!(on_worker.as_deref(), Some("hookrt-worker"));
}

#[hookrt::main(worker_threads = 2)]
async fn default_main_is_multi_thread() -> bool {
    let here = std::thread::current().id();
    hookrt::spawn(async move { std::thread::current().id() != here })
        .await
        .unwrap()
}

#[test]
fn main_defaults_to_the_multi_thread_runtime() {
    assert!(
        default_main_is_multi_thread(),
        "the task ran on a worker thread"
    );
}

#[hookrt::test(start_paused = true)]
async fn start_paused_freezes_time() {
    let start = hookrt::time::Instant::now();
    hookrt::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
}
