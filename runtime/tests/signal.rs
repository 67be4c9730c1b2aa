//! `hookrt::signal`: `ctrl_c` and `unix::signal`, delivered through the I/O driver.
//!
//! Signal handlers are process-wide: every test here uses its own signal (SIGINT,
//! SIGUSR1, SIGUSR2, SIGWINCH, SIGHUP, SIGALRM) so the tests can run in parallel, and
//! each creates its listener (which installs the handler, replacing the default action)
//! before it raises the signal.

mod support;

use hookrt::hooks::{AsyncId, Ledger, ResourceKind};
use hookrt::runtime::Builder;
use hookrt::signal::unix::{signal, SignalKind};
use hookrt::time::timeout;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::{check, Ev, Recorder};

const LIMIT: Duration = Duration::from_secs(10);
const SIGNAL: ResourceKind = ResourceKind::Custom("Signal");

fn raise(kind: SignalKind) {
    // SAFETY: `raise` only sends a signal to the calling thread; every caller installed
    // a handler for it first (by creating a listener), so the process is not killed.
    let rc = unsafe { libc::raise(kind.as_raw_value()) };
    assert_eq!(rc, 0, "raise failed");
}

fn signal_ids(rec: &Recorder) -> Vec<AsyncId> {
    rec.events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind, .. } if *kind == SIGNAL => Some(*id),
            _ => None,
        })
        .collect()
}

/// Every `Signal` resource was destroyed.
fn assert_signals_ended(rec: &Recorder, expected: usize) {
    let ids = signal_ids(rec);
    assert_eq!(ids.len(), expected, "Signal resources created");
    for id in ids {
        rec.wait_destroyed(id);
    }
}

/// Polls `fut` once (so a lazily created listener exists).
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

#[test]
fn ctrl_c_completes_on_sigint() {
    check(|rt, rec| {
        rt.block_on(async {
            let mut ctrl_c = pin!(hookrt::signal::ctrl_c());
            // The first poll creates the listener (and installs the handler).
            assert!(poll_once(&mut ctrl_c).await.is_pending());
            raise(SignalKind::interrupt());
            timeout(LIMIT, ctrl_c).await.unwrap().unwrap();
        });
        assert_signals_ended(rec, 1);
    });
}

#[test]
fn sigusr1_twice_is_received_twice_and_wakes_the_task_by_the_signal() {
    check(|rt, rec| {
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert_eq!(usr1.kind(), SignalKind::user_defined1());
            let sig_id = usr1.async_id();
            let (tx, mut rx) = hookrt::sync::mpsc::channel(1);
            let listener = hookrt::spawn(async move {
                for _ in 0..2 {
                    usr1.recv().await.unwrap();
                    tx.send(()).await.unwrap();
                }
            });
            let task_id = listener.id().async_id();
            rec.polled(task_id).await;
            // One at a time: deliveries raised before the previous one was received
            // may coalesce.
            for _ in 0..2 {
                raise(SignalKind::user_defined1());
                timeout(LIMIT, rx.recv()).await.unwrap().unwrap();
            }
            timeout(LIMIT, listener).await.unwrap().unwrap();
            assert!(
                rec.wakes_of(task_id).contains(&sig_id),
                "the listener was woken by the Signal resource: {:?}",
                rec.wakes_of(task_id)
            );
        });
        assert_signals_ended(rec, 1);
    });
}

#[test]
fn every_listener_of_a_signal_is_notified_across_runtimes() {
    check(|rt, rec| {
        // A listener on another runtime, on its own thread: shares the pipe with the
        // two below, and must still see the delivery.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            let ledger = Arc::new(Ledger::new());
            let other_rt = Builder::new_current_thread()
                .enable_all()
                .hook(ledger.clone())
                .build()
                .unwrap();
            other_rt.block_on(async {
                let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                ready_tx.send(()).unwrap();
                timeout(LIMIT, usr2.recv()).await.unwrap().unwrap();
            });
            drop(other_rt);
            ledger.assert_balanced();
        });
        ready_rx.recv().unwrap();
        rt.block_on(async {
            let listeners: Vec<_> = (0..2)
                .map(|_| {
                    let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                    hookrt::spawn(async move { timeout(LIMIT, usr2.recv()).await })
                })
                .collect();
            for l in &listeners {
                rec.polled(l.id().async_id()).await;
            }
            raise(SignalKind::user_defined2());
            for l in listeners {
                assert_eq!(l.await.unwrap(), Ok(Some(())), "each listener is notified");
            }
        });
        other.join().unwrap();
        assert_signals_ended(rec, 2);
    });
}

#[test]
fn deliveries_before_creation_are_not_reported_and_pending_ones_coalesce() {
    check(|rt, rec| {
        rt.block_on(async {
            let mut first = signal(SignalKind::window_change()).unwrap();
            raise(SignalKind::window_change());
            // Created after that delivery: does not see it.
            let mut late = signal(SignalKind::window_change()).unwrap();
            timeout(LIMIT, first.recv()).await.unwrap().unwrap();
            let waker = Waker::noop();
            let mut cx = Context::from_waker(waker);
            assert!(late.poll_recv(&mut cx).is_pending());
            // Three deliveries while nobody looks: at least one notification, and the
            // listener is then up to date.
            for _ in 0..3 {
                raise(SignalKind::window_change());
            }
            timeout(LIMIT, late.recv()).await.unwrap().unwrap();
            assert!(late.poll_recv(&mut cx).is_pending());
            timeout(LIMIT, first.recv()).await.unwrap().unwrap();
        });
        assert_signals_ended(rec, 2);
    });
}

#[test]
fn unhandleable_signals_are_refused_without_a_resource() {
    check(|rt, rec| {
        rt.block_on(async {
            for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 100_000] {
                let err = signal(SignalKind::from_raw(signum)).unwrap_err();
                assert!(!err.to_string().is_empty());
            }
        });
        assert_signals_ended(rec, 0);
    });
}

#[test]
fn recv_returns_none_once_the_runtime_is_gone() {
    let ledger = Arc::new(Ledger::new());
    let rt = Builder::new_current_thread()
        .enable_all()
        .hook(ledger.clone())
        .build()
        .unwrap();
    let mut hup = rt.block_on(async { signal(SignalKind::hangup()).unwrap() });
    drop(rt);
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(hup.poll_recv(&mut cx), Poll::Ready(None));
    drop(hup);
    ledger.assert_balanced();
}

#[test]
fn outside_a_runtime_signal_panics_with_the_fix() {
    let err = std::panic::catch_unwind(|| signal(SignalKind::alarm())).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("runtime"), "{msg}");
}
