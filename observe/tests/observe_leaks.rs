//! LeakDetector: leaked tasks, timers and sockets are found; a clean run reports nothing.

mod support;

use hookrt::hooks::{AsyncId, ResourceKind};
use hookrt_observe::LeakDetector;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use support::{finish, runtime, wait_until, FLAVORS};

/// What a leaky request leaves behind, and where it created each thing.
struct Leftovers {
    _sender: hookrt::sync::oneshot::Sender<()>,
    _timer: Pin<Box<hookrt::time::Sleep>>,
    _listener: hookrt::net::TcpListener,
    request: AsyncId,
    task_site: &'static Location<'static>,
    timer_site: &'static Location<'static>,
    listener: AsyncId,
}

/// A request task that spawns a task waiting forever on a channel, arms a timer and
/// binds a listener, and hands all three back alive after it resolved.
async fn leaky_request() -> Leftovers {
    let join = hookrt::spawn(async {
        let (tx, rx) = hookrt::sync::oneshot::channel::<()>();
        let task_site = Location::caller();
        hookrt::spawn(async move {
            let _ = rx.await;
        });
        let timer_site = Location::caller();
        let mut timer = Box::pin(hookrt::time::sleep(Duration::from_secs(3600)));
        // Poll it once so the timer is armed in the driver.
        poll_fn(|cx| {
            let _ = timer.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        let listener = hookrt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let request = hookrt::hooks::execution_async_id();
        Leftovers {
            listener: listener.async_id(),
            _sender: tx,
            _timer: timer,
            _listener: listener,
            request,
            task_site,
            timer_site,
        }
    });
    join.await.unwrap()
}

#[test]
fn leaked_task_timer_and_socket_are_found() {
    for &flavor in FLAVORS {
        let leaks = Arc::new(LeakDetector::new());
        let (rt, ledger) = runtime(flavor, vec![Box::new(leaks.clone())]);
        let left = rt.block_on(leaky_request());
        // The request task resolved and was destroyed (its JoinHandle was awaited).
        wait_until("the request task's destroy", || {
            leaks.get(left.request).is_none()
        });

        let report = leaks.report(Duration::ZERO);
        let text = report.to_string();
        assert_eq!(report.total(), 3, "{flavor:?}:\n{text}");
        let task = report
            .of_kind(ResourceKind::Task)
            .next()
            .expect("leaked task");
        let timer = report
            .of_kind(ResourceKind::Timer)
            .next()
            .expect("leaked timer");
        let socket = report
            .of_kind(ResourceKind::TcpListener)
            .next()
            .expect("leaked listener");
        // Each group names the line that created it (the spawn and sleep calls are on
        // the line after the recorded `Location::caller()`).
        assert_eq!(
            task.site.location().unwrap().line(),
            left.task_site.line() + 1
        );
        assert_eq!(
            timer.site.location().unwrap().line(),
            left.timer_site.line() + 1
        );
        assert_eq!(socket.oldest.id, left.listener);
        for g in [task, timer, socket] {
            assert_eq!(g.count, 1);
            assert_eq!(g.oldest.chain.first(), Some(&left.request), "{text}");
            assert!(text.contains(&g.site.to_string()), "{text}");
        }

        // All three outlived the request that created them.
        let outlived = leaks.outlived(left.request);
        assert_eq!(outlived.len(), 3, "{outlived:#?}");

        // A young-age threshold hides them.
        assert!(leaks.report(Duration::from_secs(3600)).is_empty());

        // Dropping the sender lets the leaked task finish: run the runtime meanwhile.
        let d = leaks.clone();
        rt.block_on(async move {
            drop(left);
            while d.live_count() > 1 {
                hookrt::time::sleep(Duration::from_millis(1)).await;
            }
        });
        wait_until("the leftovers' destroy", || leaks.live_count() == 0);
        finish(rt, &ledger);
    }
}

#[test]
fn outlived_is_empty_while_the_root_runs() {
    let leaks = Arc::new(LeakDetector::new());
    let (rt, ledger) = runtime(FLAVORS[1], vec![Box::new(leaks.clone())]);
    let d = leaks.clone();
    rt.block_on(async move {
        let me = hookrt::hooks::execution_async_id();
        let t = hookrt::spawn(async { hookrt::time::sleep(Duration::from_millis(5)).await });
        assert!(d.outlived(me).is_empty(), "the root is still running");
        let live = d.get(me).expect("the block_on task is live");
        assert_eq!(live.kind, ResourceKind::Task);
        t.await.unwrap();
    });
    finish(rt, &ledger);
}

#[test]
fn a_clean_run_reports_nothing() {
    for &flavor in FLAVORS {
        let leaks = Arc::new(LeakDetector::new());
        let (rt, ledger) = runtime(flavor, vec![Box::new(leaks.clone())]);
        rt.block_on(async {
            let listener = hookrt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = hookrt::spawn(async move {
                let (_s, _) = listener.accept().await.unwrap();
            });
            let _client = hookrt::net::TcpStream::connect(addr).await.unwrap();
            server.await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..50 {
                tasks.push(hookrt::spawn(async move {
                    hookrt::time::sleep(Duration::from_millis(i % 5)).await;
                    let (tx, rx) = hookrt::sync::oneshot::channel();
                    hookrt::spawn(async move { tx.send(i).unwrap() });
                    rx.await.unwrap()
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        wait_until("every resource's destroy", || leaks.live_count() == 0);
        let report = leaks.report(Duration::ZERO);
        assert!(report.is_empty(), "{flavor:?}:\n{report}");
        assert!(report.to_string().starts_with("no live resources"));
        finish(rt, &ledger);
    }
}

#[test]
fn chains_reach_the_top_level_resource() {
    let leaks = Arc::new(LeakDetector::new());
    let (rt, ledger) = runtime(FLAVORS[1], vec![Box::new(leaks.clone())]);
    let d = leaks.clone();
    rt.block_on(async move {
        let top = hookrt::hooks::execution_async_id();
        let (tx, rx) = hookrt::sync::oneshot::channel::<(AsyncId, AsyncId)>();
        let (hold_tx, hold_rx) = hookrt::sync::oneshot::channel::<()>();
        let a = hookrt::spawn(async move {
            let a = hookrt::hooks::execution_async_id();
            hookrt::spawn(async move {
                let b = hookrt::hooks::execution_async_id();
                tx.send((a, b)).unwrap();
                let _ = hold_rx.await;
            });
        });
        let (a_id, b_id) = rx.await.unwrap();
        a.await.unwrap();
        let b = d.get(b_id).expect("b is alive");
        assert_eq!(b.chain, vec![a_id, top]);
        assert_eq!(d.outlived(a_id).len(), 1);
        hold_tx.send(()).unwrap();
    });
    finish(rt, &ledger);
}
