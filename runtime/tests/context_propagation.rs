//! `LocalStorage` conformance, propagation: a value set with `run` survives every kind
//! of suspension and hand-off the runtime offers (timers, sockets, `select!`, `join!`,
//! `JoinSet`, the blocking pool, threads reached through `Context::bind`), as Node's
//! `test-async-local-storage-*.js` tests check for timers, sockets, promises and
//! thenables. Each test names the Node test it comes from.

mod support;

use hookrt::context::{Context, LocalStorage};
use hookrt::io::{AsyncReadExt, AsyncWriteExt};
use hookrt::net::{TcpListener, TcpStream};
use hookrt::runtime::{Handle, Runtime};
use hookrt::sync::{mpsc, oneshot};
use hookrt::task::{self, JoinSet, LocalSet};
use hookrt::time::{interval, sleep, sleep_until, timeout, Duration, Instant};
use std::future::{poll_fn, Future};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use support::check;

static REQUEST: LocalStorage<u32> = LocalStorage::named("request");

fn request() -> Option<u32> {
    REQUEST.get().as_deref().copied()
}

const MS: Duration = Duration::from_millis(1);
const LONG: Duration = Duration::from_secs(10);

// test-async-local-storage-no-mix-contexts.js / -enable-disable.js use setTimeout,
// setImmediate and setInterval callbacks: here the value survives `sleep`,
// `sleep_until`, `timeout` (completed and elapsed) and every `interval` tick.
#[test]
fn the_value_survives_sleep_timeout_and_interval_ticks() {
    check(|rt, _rec| {
        let ticker_made_outside = rt.block_on(async { interval(MS) });
        let seen = rt.block_on(async {
            let handle = REQUEST.run_sync(7, || {
                hookrt::spawn(async move {
                    sleep(MS).await;
                    assert_eq!(request(), Some(7), "after sleep");
                    sleep(Duration::ZERO).await;
                    assert_eq!(request(), Some(7), "after sleep(0)");
                    sleep_until(Instant::now() + MS).await;
                    assert_eq!(request(), Some(7), "after sleep_until");

                    let inner = timeout(LONG, async {
                        sleep(MS).await;
                        request()
                    });
                    assert_eq!(inner.await.unwrap(), Some(7), "inside a timeout");
                    assert!(timeout(MS, std::future::pending::<()>()).await.is_err());
                    assert_eq!(request(), Some(7), "after a timeout elapsed");
                    let nested = timeout(
                        LONG,
                        REQUEST.run(8, async {
                            sleep(MS).await;
                            request()
                        }),
                    );
                    assert_eq!(nested.await.unwrap(), Some(8));
                    assert_eq!(request(), Some(7), "after a timeout around a run");

                    let mut ticker = interval(MS);
                    for tick in 0..3 {
                        ticker.tick().await;
                        assert_eq!(request(), Some(7), "after tick {tick}");
                    }
                    // Continuations run in the task that awaits: an interval made
                    // outside any scope ticks with the awaiting task's value.
                    let mut ticker = ticker_made_outside;
                    for tick in 0..3 {
                        ticker.tick().await;
                        assert_eq!(request(), Some(7), "after outside tick {tick}");
                    }
                    request()
                })
            });
            (handle.await.unwrap(), request())
        });
        assert_eq!(seen, (Some(7), None));
    });
}

/// Runs `f`, which drives `rt`, under a watchdog: if `f` has not returned after 5 s, the
/// watchdog spawns an empty task through a `Handle` from its own thread, which unparks
/// a scheduler stuck in its driver. Returns `f`'s output and whether that was needed.
fn poke_if_stuck<T>(rt: &Runtime, f: impl FnOnce() -> T) -> (T, bool) {
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let handle = rt.handle().clone();
    std::thread::scope(|scope| {
        let watchdog = scope.spawn(move || {
            let stuck = done_rx.recv_timeout(Duration::from_secs(5)).is_err();
            if stuck {
                drop(handle.spawn(async {}));
            }
            stuck
        });
        let out = f();
        let _ = done_tx.send(());
        (out, watchdog.join().unwrap())
    })
}

/// A waker for a timer nobody awaits: when the timer fires, it writes a byte to `peer`
/// (if any) and then holds the firing thread for 10 ms, as a slow callback would.
struct SlowCallback(Mutex<Option<std::net::TcpStream>>);

impl Wake for SlowCallback {
    fn wake(self: Arc<Self>) {
        if let Some(mut peer) = self.0.lock().unwrap().take() {
            peer.write_all(b"x").unwrap();
        }
        std::thread::sleep(10 * MS);
    }
}

// The premise of every "survives" test: a task suspended on a timer or a socket runs
// again once it is woken, also when the wake is found while the scheduler is idle.
// Here a timer with a slow waker fires while the runtime sleeps on its drivers; by the
// time it returns, the spawned task's own timer is due (or its socket readable), and
// the scheduler's next look at its drivers queues that task. The current-thread loop
// used to park right after that look when no task had run in the iteration, with no
// timer left, so the queued task never ran (a lost wake-up: 20 runs out of 20 hung at
// commit 00b65d5). The watchdog turns a hang into a failure.
#[test]
fn a_task_woken_while_the_idle_scheduler_polls_its_drivers_runs() {
    check(|rt, _rec| {
        for io in [false, true] {
            let (seen, stuck) = poke_if_stuck(rt, || {
                rt.block_on(async {
                    let (waiter, peer) = if io {
                        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                        let peer =
                            std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let waiter = REQUEST.run_sync(10, || {
                            hookrt::spawn(async move {
                                let mut byte = [0u8; 1];
                                stream.read_exact(&mut byte).await.unwrap();
                                request()
                            })
                        });
                        (waiter, Some(peer))
                    } else {
                        let waiter = REQUEST.run_sync(9, || {
                            hookrt::spawn(async {
                                sleep(12 * MS).await;
                                request()
                            })
                        });
                        (waiter, None)
                    };
                    let mut slow = Box::pin(sleep(10 * MS));
                    let waker = Waker::from(Arc::new(SlowCallback(Mutex::new(peer))));
                    let mut cx = std::task::Context::from_waker(&waker);
                    assert!(slow.as_mut().poll(&mut cx).is_pending());
                    waiter.await.unwrap()
                })
            });
            let what = if io { "a socket" } else { "a timer" };
            assert!(!stuck, "a task woken by {what} was queued but never run");
            assert_eq!(seen, Some(if io { 10 } else { 9 }));
        }
    });
}

// test-async-local-storage-socket.js / -net.js: socket callbacks (connection, data, end)
// see the store of their scope. Here each side reads after an await and checks its own
// value after every read and write.
#[test]
fn the_value_survives_socket_reads_and_writes() {
    check(|rt, _rec| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = REQUEST.run_sync(1, || {
                hookrt::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    assert_eq!(request(), Some(1), "after accept");
                    let mut got = Vec::new();
                    let mut buf = [0u8; 16];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        assert_eq!(request(), Some(1), "after a read");
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                    stream.write_all(b"done").await.unwrap();
                    assert_eq!(request(), Some(1), "after a write");
                    got
                })
            });
            let client = REQUEST.run_sync(2, || {
                hookrt::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    assert_eq!(request(), Some(2), "after connect");
                    for chunk in [b"ab", b"cd", b"ef"] {
                        sleep(MS).await;
                        stream.write_all(chunk).await.unwrap();
                        assert_eq!(request(), Some(2), "after a write");
                    }
                    stream.shutdown().await.unwrap();
                    let mut reply = String::new();
                    stream.read_to_string(&mut reply).await.unwrap();
                    assert_eq!(request(), Some(2), "after read_to_string");
                    reply
                })
            });
            assert_eq!(server.await.unwrap(), b"abcdef");
            assert_eq!(client.await.unwrap(), "done");
        });
    });
}

const CLIENTS: u32 = 20;

// test-async-local-storage-http-multiclients.js: concurrent clients, each in its own
// scope, talk to one server whose per-connection handlers each `enter_with` the id
// they read; nobody sees anybody else's value, and the accept loop keeps its own.
#[test]
fn concurrent_clients_and_handlers_keep_their_own_values() {
    check(|rt, _rec| {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = hookrt::spawn(REQUEST.run(1_000, async move {
                let mut handlers = JoinSet::new();
                for _ in 0..CLIENTS {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    assert_eq!(request(), Some(1_000), "the accept loop keeps its value");
                    handlers.spawn(async move {
                        assert_eq!(request(), Some(1_000), "a handler inherits the loop's");
                        let id = stream.read_u32().await.unwrap();
                        REQUEST.enter_with(id);
                        sleep(Duration::from_millis(u64::from(id % 3))).await;
                        assert_eq!(request(), Some(id), "handler {id} after sleep");
                        stream.write_u32(id + 1).await.unwrap();
                        assert_eq!(request(), Some(id), "handler {id} after write");
                    });
                }
                while let Some(done) = handlers.join_next().await {
                    done.unwrap();
                }
                request()
            }));
            let mut clients = JoinSet::new();
            for id in 0..CLIENTS {
                clients.spawn(REQUEST.run(id, async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    assert_eq!(request(), Some(id), "client {id} after connect");
                    stream.write_u32(id).await.unwrap();
                    let reply = stream.read_u32().await.unwrap();
                    assert_eq!(request(), Some(id), "client {id} after read");
                    reply - 1
                }));
            }
            let mut answered = Vec::new();
            while let Some(id) = clients.join_next().await {
                answered.push(id.unwrap());
            }
            answered.sort_unstable();
            assert_eq!(answered, (0..CLIENTS).collect::<Vec<_>>());
            assert_eq!(server.await.unwrap(), Some(1_000));
        });
    });
}

// test-async-local-storage-promises.js (Promise.race): each `select!` branch future
// runs in its own scope, the handler of the winning branch in the selecting task's.
#[test]
fn the_value_survives_select() {
    check(|rt, _rec| {
        rt.block_on(REQUEST.run(1, async {
            let picked = hookrt::select! {
                value = REQUEST.run(2, async { sleep(MS).await; request() }) => (value, request()),
                _ = sleep(LONG) => unreachable!("the short branch wins"),
            };
            assert_eq!(picked, (Some(2), Some(1)));

            let (tx, mut rx) = mpsc::channel(4);
            let producer = REQUEST.run_sync(3, || {
                hookrt::spawn(async move {
                    for _ in 0..3 {
                        sleep(MS).await;
                        tx.send(request()).await.unwrap();
                    }
                })
            });
            let mut ticker = interval(MS);
            let mut received = Vec::new();
            while received.len() < 3 {
                hookrt::select! {
                    Some(value) = rx.recv() => {
                        assert_eq!(request(), Some(1), "in a recv handler");
                        received.push(value);
                    }
                    _ = ticker.tick() => assert_eq!(request(), Some(1), "in a tick handler"),
                }
                assert_eq!(request(), Some(1), "after select");
            }
            assert_eq!(received, [Some(3); 3], "the producer kept its own value");
            producer.await.unwrap();
        }));
    });
}

// test-async-local-storage-promises.js (Promise.all): `join!` polls its branches in
// turn in one task; each branch keeps its own scope across its awaits.
#[test]
fn the_value_survives_join() {
    check(|rt, _rec| {
        let seen = rt.block_on(REQUEST.run(1, async {
            async fn steps(expected: Option<u32>) -> Option<u32> {
                for step in 0..3 {
                    if step % 2 == 0 {
                        task::yield_now().await;
                    } else {
                        sleep(MS).await;
                    }
                    assert_eq!(request(), expected, "step {step}");
                }
                request()
            }
            let joined = hookrt::join!(
                REQUEST.run(2, steps(Some(2))),
                REQUEST.run(3, steps(Some(3))),
                steps(Some(1)),
                REQUEST.exit(steps(None)),
            );
            (joined, request())
        }));
        assert_eq!(seen, ((Some(2), Some(3), Some(1), None), Some(1)));
    });
}

// The inheritance rule of DESIGN §3 for every spawner: `JoinSet::spawn`,
// `task::Builder::spawn` and `spawn_local` start the child with the spawner's current
// context, including a `run_sync` scope active at the spawn.
#[test]
fn join_set_builder_and_local_tasks_inherit_the_value() {
    check(|rt, _rec| {
        rt.block_on(REQUEST.run(5, async {
            let mut set = JoinSet::new();
            for i in 0..10u32 {
                set.spawn(async move {
                    task::yield_now().await;
                    sleep(Duration::from_millis(u64::from(i % 2))).await;
                    (5, request())
                });
                REQUEST.run_sync(100 + i, || {
                    set.spawn(async move {
                        task::yield_now().await;
                        (100 + i, request())
                    })
                });
            }
            let mut joined = 0;
            while let Some(result) = set.join_next().await {
                let (expected, seen) = result.unwrap();
                assert_eq!(seen, Some(expected));
                joined += 1;
            }
            assert_eq!(joined, 20);

            let named = task::Builder::new()
                .name("conformance")
                .spawn(async { request() })
                .unwrap();
            assert_eq!(named.await.unwrap(), Some(5), "task::Builder::spawn");

            let local = LocalSet::new()
                .run_until(async {
                    let handle = task::spawn_local(async {
                        task::yield_now().await;
                        request()
                    });
                    handle.await.unwrap()
                })
                .await;
            assert_eq!(local, Some(5), "spawn_local");
        }));
    });
}

// No single Node test: the counterpart of thread-pool callbacks (fs, crypto) keeping
// the store, and DESIGN §3's inheritance rule for `spawn_blocking`. A blocking job
// runs with its spawner's value, a scope it opens stays inside it, and the next jobs
// on the (reused) pool threads see nothing of either.
#[test]
fn the_value_reaches_spawn_blocking_and_does_not_leak_between_jobs() {
    check(|rt, _rec| {
        let seen = rt.block_on(REQUEST.run(6, async {
            task::spawn_blocking(|| {
                let inside = request();
                let nested = REQUEST.run_sync(60, request);
                REQUEST.enter_with(61);
                (inside, nested, request())
            })
            .await
            .unwrap()
        }));
        assert_eq!(seen, (Some(6), Some(60), Some(61)));
        for _ in 0..8 {
            let next = rt.block_on(async { task::spawn_blocking(request).await.unwrap() });
            assert_eq!(next, None, "a later job sees nothing of an earlier one");
        }
    });
}

// test-async-local-storage-bind.js (AsyncLocalStorage.bind) carried onto a std::thread:
// the bound closure runs with the value captured at bind time; the thread outside it
// has none; a task it spawns onto the runtime through a Handle inherits the bound value.
#[test]
fn context_bind_carries_the_value_onto_a_std_thread() {
    check(|rt, _rec| {
        rt.block_on(REQUEST.run(3, async {
            let job = Context::bind(|| (request(), REQUEST.run_sync(4, request), request()));
            let snapshot = Context::current();
            let (bound, unbound, snapshotted) =
                std::thread::spawn(move || (job(), request(), snapshot.run_sync(request)))
                    .join()
                    .unwrap();
            assert_eq!(bound, (Some(3), Some(4), Some(3)));
            assert_eq!(unbound, None, "the thread itself has no value");
            assert_eq!(snapshotted, Some(3));

            let handle = Handle::current();
            let spawn_there = Context::bind(move || {
                handle.spawn(async {
                    task::yield_now().await;
                    request()
                })
            });
            let (spawned, unbound) = REQUEST
                .exit(async move {
                    let spawned = std::thread::spawn(spawn_there).join().unwrap();
                    (spawned, request())
                })
                .await;
            assert_eq!(unbound, None);
            assert_eq!(
                spawned.await.unwrap(),
                Some(3),
                "spawned from the bound thread"
            );
        }));
    });
}

// test-async-local-storage-thenable.js: a hand-written future (Rust's "thenable"),
// and a channel, completed from a foreign thread resume the task with its value.
#[test]
fn wakes_from_a_foreign_thread_resume_with_the_value() {
    check(|rt, _rec| {
        let seen = rt.block_on(async {
            let handle = REQUEST.run_sync(11, || {
                hookrt::spawn(async {
                    let (tx, rx) = oneshot::channel();
                    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
                    let sender = std::thread::spawn(move || {
                        ready_rx.recv().unwrap();
                        tx.send(request()).unwrap();
                    });
                    let mut receive = std::pin::pin!(rx);
                    let sent = poll_fn(|cx| {
                        let poll = receive.as_mut().poll(cx);
                        if poll.is_pending() {
                            let _ = ready_tx.send(());
                        }
                        poll
                    })
                    .await
                    .unwrap();
                    sender.join().unwrap();
                    assert_eq!(sent, None, "the foreign thread has no value");
                    assert_eq!(request(), Some(11), "after a oneshot from a thread");

                    let mut started = false;
                    poll_fn(|cx| {
                        if started {
                            return Poll::Ready(());
                        }
                        started = true;
                        let waker = cx.waker().clone();
                        std::thread::spawn(move || waker.wake());
                        Poll::Pending
                    })
                    .await;
                    assert_eq!(request(), Some(11), "after a waker fired from a thread");
                    request()
                })
            });
            handle.await.unwrap()
        });
        assert_eq!(seen, Some(11));
    });
}

// hookrt's rule for cancellation (ARCHITECTURE: cancelled futures are dropped inside
// the task's frame), the counterpart of Node running a resource's cleanup in its
// context: drop code of an aborted task, and of a task cancelled by runtime shutdown,
// sees the task's value.
#[test]
fn drop_code_of_a_cancelled_task_sees_its_value() {
    struct Probe(Arc<Mutex<Vec<Option<u32>>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.lock().unwrap().push(request());
        }
    }

    let at_shutdown = Arc::new(Mutex::new(Vec::new()));
    check(|rt, rec| {
        let aborted = Arc::new(Mutex::new(Vec::new()));
        let probe = Probe(aborted.clone());
        let to_abort = REQUEST.run_sync(21, || {
            rt.spawn(async move {
                let _probe = probe;
                std::future::pending::<()>().await;
            })
        });
        rt.block_on(rec.polled(to_abort.id().async_id()));
        to_abort.abort();
        let err = rt.block_on(to_abort).unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(*aborted.lock().unwrap(), [Some(21)]);

        // Left pending: `check` drops the runtime after this body returns.
        let probe = Probe(at_shutdown.clone());
        let left = REQUEST.run_sync(22, || {
            rt.spawn(REQUEST.run(23, async move {
                let _probe = probe;
                std::future::pending::<()>().await;
            }))
        });
        rt.block_on(rec.polled(left.id().async_id()));
    });
    assert_eq!(
        *at_shutdown.lock().unwrap(),
        [Some(23); 3],
        "dropped at shutdown inside the task's scope, on every flavour"
    );
}
