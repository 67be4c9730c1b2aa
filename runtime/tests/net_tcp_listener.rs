//! TCP listeners: accepting from several tasks, and what a pending `accept` sees when
//! the listener or the runtime goes away.

mod support;

use hookrt::hooks::execution_async_id;
use hookrt::net::TcpStream;
use hookrt::time::{sleep, timeout, Duration};
use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use support::net::{bind_local, HANG};
use support::{check, FLAVORS};

#[test]
fn dropping_a_listener_wakes_a_pending_accept_with_an_error() {
    check(|rt, rec| {
        rt.block_on(async {
            let (listener, _) = bind_local().await;
            let slot = Arc::new(Mutex::new(Some(listener)));
            let shared = slot.clone();
            // An accept pending on a listener someone else can drop: the poll reports
            // an error once the listener is gone.
            let acceptor =
                hookrt::spawn(poll_fn(move |cx| match shared.lock().unwrap().as_ref() {
                    Some(listener) => listener.poll_accept(cx).map_ok(drop),
                    None => Poll::Ready(Err(io::Error::new(
                        ErrorKind::NotConnected,
                        "the listener was dropped",
                    ))),
                }));
            let acceptor_id = acceptor.id().async_id();
            rec.polled(acceptor_id).await;
            let listener_id = slot.lock().unwrap().as_ref().unwrap().async_id();
            let dropper = execution_async_id();
            drop(slot.lock().unwrap().take());
            let err = timeout(HANG, acceptor)
                .await
                .expect("the drop wakes the pending accept")
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotConnected);
            rec.wait_destroyed(listener_id);
            assert_eq!(rec.wakes_of(acceptor_id), [dropper]);

            // Accepts waiting on a shared listener (list waiters) can be cancelled; the
            // listener then leaves the runtime cleanly.
            let (listener, _) = bind_local().await;
            let listener = Arc::new(listener);
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let listener = listener.clone();
                    hookrt::spawn(async move { listener.accept().await.map(drop) })
                })
                .collect();
            sleep(Duration::from_millis(5)).await;
            for waiter in &waiters {
                assert!(!waiter.is_finished());
                waiter.abort();
            }
            for waiter in waiters {
                assert!(waiter.await.unwrap_err().is_cancelled());
            }
            let listener = Arc::try_unwrap(listener).unwrap();
            let std = listener.into_std().unwrap();
            drop(std);
        });
    });
}

#[test]
fn runtime_shutdown_fails_a_pending_accept() {
    for &flavor in FLAVORS {
        let (rt, ledger, _) = support::runtime(flavor);
        let listener = rt.block_on(async { bind_local().await.0 });
        let (parked_tx, parked_rx) = std::sync::mpsc::channel();
        // Accept from a plain thread: the runtime's driver still delivers its wake-ups.
        let thread = std::thread::spawn(move || {
            let result = futures::executor::block_on(async {
                let accept = listener.accept();
                hookrt::pin!(accept);
                let mut parked = false;
                poll_fn(|cx| {
                    let polled = accept.as_mut().poll(cx);
                    if !std::mem::replace(&mut parked, true) {
                        parked_tx.send(()).unwrap();
                    }
                    polled
                })
                .await
                .map(drop)
            });
            drop(listener); // its destroy, after the runtime is gone
            result
        });
        parked_rx.recv().unwrap();
        drop(rt);
        let err = thread.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("shut down"), "{err}");
        ledger.assert_balanced();
    }
}

#[test]
fn several_tasks_accept_on_one_listener() {
    check(|rt, _| {
        rt.block_on(async {
            let (listener, addr) = bind_local().await;
            let listener = Arc::new(listener);
            let acceptors: Vec<_> = (0..4)
                .map(|_| {
                    let listener = listener.clone();
                    hookrt::spawn(async move { listener.accept().await.unwrap().0 })
                })
                .collect();
            sleep(Duration::from_millis(5)).await;
            let mut clients = Vec::new();
            for _ in 0..4 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            for acceptor in acceptors {
                timeout(HANG, acceptor).await.unwrap().unwrap();
            }
        });
    });
}
