//! `hookrt::io::{stdin, stdout, stderr}` (on the blocking pool) and
//! `hookrt::io::unix::AsyncFd` (any descriptor on the I/O driver).

mod support;

use hookrt::hooks::{Ledger, ResourceKind};
use hookrt::io::unix::AsyncFd;
use hookrt::io::{AsyncReadExt, AsyncWriteExt, Interest};
use hookrt::runtime::Builder;
use hookrt::time::timeout;
use std::io::{Read, Write};
use std::os::unix::io::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{check, Ev, Recorder};

const LIMIT: Duration = Duration::from_secs(10);
const ASYNC_FD: ResourceKind = ResourceKind::Custom("AsyncFd");

fn count_kind(rec: &Recorder, kind: ResourceKind) -> (usize, Vec<hookrt::hooks::AsyncId>) {
    let ids: Vec<_> = rec
        .events()
        .iter()
        .filter_map(|e| match e {
            Ev::Init { id, kind: k, .. } if *k == kind => Some(*id),
            _ => None,
        })
        .collect();
    (ids.len(), ids)
}

fn kind_of(rec: &Recorder, id: hookrt::hooks::AsyncId) -> Option<ResourceKind> {
    rec.events().iter().find_map(|e| match e {
        Ev::Init { id: i, kind, .. } if *i == id => Some(*kind),
        _ => None,
    })
}

// ---------------------------------------------------------------------------- stdio

#[test]
fn stdout_and_stderr_writes_complete_on_the_blocking_pool() {
    check(|rt, rec| {
        rt.block_on(async {
            let mut out = hookrt::io::stdout();
            out.write_all(b"hookrt io_stdio_fd: a line on stdout\n")
                .await
                .unwrap();
            out.flush().await.unwrap();
            let mut err = hookrt::io::stderr();
            err.write_all(b"hookrt io_stdio_fd: a line on stderr\n")
                .await
                .unwrap();
            err.flush().await.unwrap();
            // Flushing twice in a row has nothing to do the second time.
            err.flush().await.unwrap();
            out.shutdown().await.unwrap();
            assert_eq!(out.as_raw_fd(), 1);
            assert_eq!(err.as_raw_fd(), 2);
            assert_eq!(hookrt::io::stdin().as_raw_fd(), 0);
        });
        // Each write and each flush was a blocking job, named after it, all finished.
        for name in [
            "io::Stdout::write",
            "io::Stdout::flush",
            "io::Stderr::write",
            "io::Stderr::flush",
        ] {
            assert!(rec.id_named(name).is_some(), "a {name} job");
        }
        let (jobs, ids) = count_kind(rec, ResourceKind::Blocking);
        assert!(jobs >= 4, "write+flush on both streams: {jobs} jobs");
        for id in ids {
            assert_eq!(rec.names_for(id), ["init", "before", "after", "destroy"]);
        }
    });
}

#[test]
fn many_writes_from_several_tasks_keep_each_line_whole() {
    // The output goes to the test's stdout; what is checked is that every write and
    // flush completes, with one op in flight per value.
    check(|rt, _rec| {
        rt.block_on(async {
            let tasks: Vec<_> = (0..4)
                .map(|t| {
                    hookrt::spawn(async move {
                        let mut out = hookrt::io::stdout();
                        for i in 0..5 {
                            out.write_all(format!("hookrt stdout task {t} line {i}\n").as_bytes())
                                .await
                                .unwrap();
                        }
                        out.flush().await.unwrap();
                    })
                })
                .collect();
            for t in tasks {
                timeout(LIMIT, t).await.unwrap().unwrap();
            }
        });
    });
}

/// The body of the child process of `stdin_reads_piped_input`.
fn stdin_child() {
    let ledger = Arc::new(Ledger::new());
    let rt = Builder::new_current_thread()
        .enable_all()
        .hook(ledger.clone())
        .build()
        .unwrap();
    rt.block_on(async {
        let mut input = String::new();
        // Small reads through a BufReader: several blocking jobs, the last one at EOF.
        let mut reader = hookrt::io::BufReader::with_capacity(4, hookrt::io::stdin());
        reader.read_to_string(&mut input).await.unwrap();
        let mut out = hookrt::io::stdout();
        out.write_all(format!("CHILD READ {} BYTES: {input:?}\n", input.len()).as_bytes())
            .await
            .unwrap();
        out.flush().await.unwrap();
    });
    drop(rt);
    ledger.assert_balanced();
}

#[test]
fn stdin_reads_piped_input() {
    if std::env::var_os("HOOKRT_STDIN_CHILD").is_some() {
        return stdin_child();
    }
    // Run this very test again in a child process whose stdin is a pipe we feed.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "stdin_reads_piped_input",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOOKRT_STDIN_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"hello\nworld\n").unwrap();
    drop(input); // EOF
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child reading stdin did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(r#"CHILD READ 12 BYTES: "hello\nworld\n""#),
        "child output:\n{stdout}"
    );
}

// -------------------------------------------------------------------------- AsyncFd

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn readable_then_try_io_drains_until_would_block_and_the_fd_wakes_the_task() {
    check(|rt, rec| {
        let (a, mut b) = nonblocking_pair();
        let (fd_id, task_id, a) = rt.block_on(async {
            let fd = AsyncFd::new(a).unwrap();
            let fd_id = fd.async_id();
            let reader = hookrt::spawn(async move {
                let mut got = Vec::new();
                let mut guard = fd.readable().await.unwrap();
                assert!(guard.ready().is_readable());
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    let mut buf = [0u8; 2];
                    match guard.try_io(|inner| (&mut inner.get_ref()).read(&mut buf)) {
                        Ok(Ok(n)) => {
                            assert!(n > 0, "no EOF expected");
                            got.extend_from_slice(&buf[..n]);
                        }
                        Ok(Err(e)) => panic!("read failed: {e}"),
                        Err(_would_block) => break,
                    }
                }
                assert_eq!(got, b"hello");
                assert_eq!(attempts, 4, "3 reads of <= 2 bytes, then WouldBlock");
                // The guard cleared the readiness: `try_io` does not even call `f`.
                let err = fd
                    .try_io(Interest::READABLE, |_| -> std::io::Result<()> {
                        panic!("called without readiness")
                    })
                    .unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
                fd
            });
            let task_id = reader.id().async_id();
            // Write only once the reader waits on the descriptor.
            rec.polled(task_id).await;
            b.write_all(b"hello").unwrap();
            let fd = timeout(LIMIT, reader).await.unwrap().unwrap();
            let a = fd.into_inner();
            (fd_id, task_id, a)
        });
        assert_eq!(kind_of(rec, fd_id), Some(ASYNC_FD));
        assert!(
            rec.wakes_of(task_id).contains(&fd_id),
            "the reader was woken by the descriptor: {:?}",
            rec.wakes_of(task_id)
        );
        // `into_inner` deregistered: the resource ended, the stream is usable as is.
        rec.wait_destroyed(fd_id);
        assert_eq!(rec.names_for(fd_id).last(), Some(&"destroy"));
        b.write_all(b"!").unwrap();
        a.set_nonblocking(false).unwrap();
        let mut byte = [0u8; 1];
        (&a).read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"!");
        // Registering the same descriptor again works after `into_inner`.
        rt.block_on(async {
            a.set_nonblocking(true).unwrap();
            let again = AsyncFd::new(a).unwrap();
            drop(again);
        });
        let (inits, ids) = count_kind(rec, ASYNC_FD);
        assert_eq!(inits, 2);
        for id in ids {
            rec.wait_destroyed(id);
        }
    });
}

#[test]
fn writable_async_io_and_mut_guards() {
    check(|rt, rec| {
        rt.block_on(async {
            let (a, b) = nonblocking_pair();
            b.set_nonblocking(true).unwrap();
            let mut fa =
                AsyncFd::with_interest(a, Interest::READABLE | Interest::WRITABLE).unwrap();
            let fb = AsyncFd::new(b).unwrap();

            // A fresh socket is writable at once.
            let guard = timeout(LIMIT, fa.writable()).await.unwrap().unwrap();
            assert!(guard.ready().is_writable());
            drop(guard);
            let n = fa
                .async_io(Interest::WRITABLE, |s| (&mut &*s).write(b"ping"))
                .await
                .unwrap();
            assert_eq!(n, 4);

            let mut buf = [0u8; 16];
            let n = timeout(
                LIMIT,
                fb.async_io(Interest::READABLE, |s| (&mut &*s).read(&mut buf)),
            )
            .await
            .unwrap()
            .unwrap();
            assert_eq!(&buf[..n], b"ping");

            // Mutable guard: try_io gets `&mut AsyncFd`.
            (&mut fb.get_ref()).write_all(b"pong").unwrap();
            let mut guard = timeout(LIMIT, fa.readable_mut()).await.unwrap().unwrap();
            let mut buf = [0u8; 16];
            let n = guard
                .try_io(|fd| fd.get_mut().read(&mut buf))
                .expect("readable")
                .unwrap();
            assert_eq!(&buf[..n], b"pong");
            assert!(guard.get_inner_mut().read(&mut buf).is_err());
            guard.clear_ready();
            drop(guard);
            // Readiness is cleared: `try_io_mut` reports WouldBlock. (On a multi-thread
            // runtime a late edge for the data already read may set readiness again:
            // readiness can be spurious, so `f` may run and must see WouldBlock itself.)
            let err = fa
                .try_io_mut(Interest::READABLE, |fd| fd.read(&mut buf))
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);

            // poll_*_ready through poll_fn.
            let guard = timeout(
                LIMIT,
                std::future::poll_fn(|cx| fa.poll_write_ready(cx).map_ok(|g| g.ready())),
            )
            .await
            .unwrap()
            .unwrap();
            assert!(guard.is_writable());

            // Closing the peer: read-closed readiness, then EOF.
            drop(fb);
            let mut guard = timeout(LIMIT, fa.readable()).await.unwrap().unwrap();
            let n = guard
                .try_io(|fd| (&mut fd.get_ref()).read(&mut buf))
                .expect("readable at EOF")
                .unwrap();
            assert_eq!(n, 0);
            guard.retain_ready();
        });
        let (inits, ids) = count_kind(rec, ASYNC_FD);
        assert_eq!(inits, 2);
        for id in ids {
            rec.wait_destroyed(id);
        }
    });
}

#[test]
fn several_tasks_wait_for_the_same_fd() {
    check(|rt, rec| {
        let (a, mut b) = nonblocking_pair();
        rt.block_on(async {
            let fd = Arc::new(AsyncFd::with_interest(a, Interest::READABLE).unwrap());
            let fd_id = fd.async_id();
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let fd = fd.clone();
                    hookrt::spawn(async move {
                        let guard = fd.readable().await.unwrap();
                        assert!(guard.ready().is_readable());
                    })
                })
                .collect();
            for w in &waiters {
                rec.polled(w.id().async_id()).await;
            }
            b.write_all(b"x").unwrap();
            let ids: Vec<_> = waiters.iter().map(|w| w.id().async_id()).collect();
            for w in waiters {
                timeout(LIMIT, w).await.unwrap().unwrap();
            }
            for id in ids {
                assert!(rec.wakes_of(id).contains(&fd_id), "{:?}", rec.wakes_of(id));
            }
        });
    });
}

/// A borrowed descriptor, to register one fd twice.
#[derive(Debug)]
struct Raw(RawFd);

impl AsRawFd for Raw {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

#[test]
fn a_refused_registration_hands_the_owner_back_and_emits_nothing() {
    check(|rt, rec| {
        let (a, _b) = nonblocking_pair();
        rt.block_on(async {
            let first = AsyncFd::new(Raw(a.as_raw_fd())).unwrap();
            // The same descriptor twice in one driver: the OS refuses (EEXIST).
            let err = AsyncFd::try_new(Raw(a.as_raw_fd())).unwrap_err();
            let (back, cause) = err.into_parts();
            assert_eq!(back.0, a.as_raw_fd());
            assert_eq!(cause.kind(), std::io::ErrorKind::AlreadyExists);
            assert!(AsyncFd::new(Raw(a.as_raw_fd())).is_err());
            drop(first);
        });
        let (inits, ids) = count_kind(rec, ASYNC_FD);
        assert_eq!(inits, 1, "a failed registration emits no init");
        rec.wait_destroyed(ids[0]);
    });
}
