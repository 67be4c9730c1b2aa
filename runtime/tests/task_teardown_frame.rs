//! A finished task leaves its execution frame before its memory is freed: destructors
//! run by the deallocation (the last reference to a context value, a hook's
//! per-resource value) see the runner's frame, never a frame that points into the
//! freed task.

use hookrt::context::LocalStorage;
use hookrt::hooks::{execution_async_id, AsyncId};
use std::sync::{Arc, Mutex};

/// Records the execution id current when it is dropped.
struct ReportsDrop {
    task: Arc<Mutex<Option<AsyncId>>>,
    seen: Arc<Mutex<Vec<AsyncId>>>,
}

impl Drop for ReportsDrop {
    fn drop(&mut self) {
        self.seen.lock().unwrap().push(execution_async_id());
        assert!(
            self.task.lock().unwrap().is_some(),
            "dropped before the task ran"
        );
    }
}

static VALUE: LocalStorage<ReportsDrop> = LocalStorage::named("reports_drop");

fn check(rt: hookrt::runtime::Runtime) {
    let task = Arc::new(Mutex::new(None));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    rt.block_on(async {
        let value = ReportsDrop {
            task: task.clone(),
            seen: seen.clone(),
        };
        let id_slot = task.clone();
        // The scope ends at once: the detached task then holds the last reference to
        // the context, which is released when the task's memory is freed.
        let handle = VALUE.run_sync(value, || {
            hookrt::spawn(async move {
                *id_slot.lock().unwrap() = Some(execution_async_id());
                hookrt::task::yield_now().await;
                let _ = done_tx.send(());
            })
        });
        drop(handle);
        while done_rx.try_recv().is_err() {
            hookrt::task::yield_now().await;
        }
        // Let the task finish and be freed.
        for _ in 0..100 {
            if !seen.lock().unwrap().is_empty() {
                break;
            }
            hookrt::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    });
    drop(rt);
    let task = task.lock().unwrap().expect("the task ran");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "the value was dropped once");
    assert_ne!(
        seen[0], task,
        "the value was dropped while the freed task's frame was still current"
    );
}

#[test]
fn current_thread_task_frees_outside_its_frame() {
    check(
        hookrt::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    );
}

#[test]
fn multi_thread_task_frees_outside_its_frame() {
    check(
        hookrt::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    );
}
