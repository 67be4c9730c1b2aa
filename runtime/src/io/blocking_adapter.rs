//! `Blocking<T>`: `AsyncRead` / `AsyncWrite` over a blocking `std::io` reader or writer,
//! each operation a `spawn_blocking` job (tokio's `io::blocking::Blocking`, which backs
//! `stdin`, `stdout` and `stderr`).
//!
//! One operation is in flight at a time: the job owns the reader/writer and a buffer and
//! hands both back when it is done.
//!
//! - **Reads** fill the buffer (at most [`MAX_BUF`] bytes, no more than the caller's
//!   `ReadBuf` has room for) on the pool, then copy into the caller's buffer; what does
//!   not fit is served by the next reads without a job.
//! - **Writes** are buffered: `poll_write` copies the data (up to [`MAX_BUF`] bytes),
//!   starts a job that writes all of it, and returns `Ready(n)` at once. The next write
//!   or flush waits for that job and reports its error, if any. `poll_flush` waits for the
//!   write in flight and runs the writer's own `flush` on the pool; `poll_shutdown`
//!   flushes.
//!
//! Each job is a `Blocking` resource named after the operation (`"io::Stdout::write"`,
//! ...) whose location is where the adapter was created (the `stdout()` call) and whose
//! trigger is the execution that polled the operation. Write and flush jobs are
//! mandatory (as in tokio): they run even if the runtime shuts down before they start,
//! so buffered output is not lost. A read still queued at shutdown is cancelled; the
//! adapter then reports an error from then on.

use crate::runtime::context;
use crate::task::{coop, spawn::panic_outside_runtime, JoinError, JoinHandle, TaskMeta};
use std::cmp;
use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one job reads or writes (tokio's `DEFAULT_MAX_BUF_SIZE`).
pub(crate) const MAX_BUF: usize = 2 * 1024 * 1024;

/// An async reader/writer over a blocking one (see the module documentation).
pub(crate) struct Blocking<T> {
    /// The reader/writer while no job holds it.
    inner: Option<T>,
    state: State<T>,
    /// Data was written since the last flush.
    need_flush: bool,
    /// The job names, per operation.
    names: JobNames,
    /// Where the adapter was created: the location of its jobs.
    location: &'static Location<'static>,
}

/// The resource names of an adapter's jobs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobNames {
    pub(crate) read: &'static str,
    pub(crate) write: &'static str,
    pub(crate) flush: &'static str,
}

// `T` is never pinned: it moves in and out of the jobs.
impl<T> Unpin for Blocking<T> {}

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    Flush,
}

/// What a job hands back: the outcome of its operation, the buffer, the reader/writer.
type JobOutput<T> = (io::Result<usize>, Buf, T);

enum State<T> {
    /// No job in flight; the buffer (possibly holding read data not yet consumed).
    Idle(Option<Buf>),
    /// A job holds the reader/writer and the buffer.
    Busy(Op, JoinHandle<JobOutput<T>>),
    /// A job was cancelled (runtime shutdown) or panicked: the reader/writer is gone.
    Lost,
}

impl<T> Blocking<T> {
    /// Wraps a blocking reader/writer; its jobs get `names` and `location`.
    pub(crate) fn new(
        inner: T,
        names: JobNames,
        location: &'static Location<'static>,
    ) -> Blocking<T> {
        Blocking {
            inner: Some(inner),
            state: State::Idle(Some(Buf::with_capacity(0))),
            need_flush: false,
            names,
            location,
        }
    }

    /// The reader/writer, when no job holds it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn get_ref(&self) -> Option<&T> {
        self.inner.as_ref()
    }
}

impl<T: Send + 'static> Blocking<T> {
    /// Runs `op` on the blocking pool with the buffer and the reader/writer.
    fn start(&mut self, kind: Op, buf: Buf, op: fn(&mut Buf, &mut T) -> io::Result<usize>) {
        let mut inner = self
            .inner
            .take()
            .expect("hookrt: Blocking holds its reader/writer while idle");
        let mut buf = buf;
        let job = move || {
            let res = op(&mut buf, &mut inner);
            (res, buf, inner)
        };
        let (name, mandatory) = match kind {
            Op::Read => (self.names.read, false),
            Op::Write => (self.names.write, true),
            Op::Flush => (self.names.flush, true),
        };
        let meta = TaskMeta::here(Some(name.into()), self.location);
        let handle = context::with_current_handle(|handle| {
            let pool = handle.blocking_pool();
            if mandatory {
                pool.spawn_mandatory(job, meta)
            } else {
                pool.spawn(job, meta)
            }
        })
        .unwrap_or_else(|| panic_outside_runtime(&format!("{name} (on {})", self.location)));
        self.state = State::Busy(kind, handle);
    }

    /// Waits for the job in flight (if any) and takes back the reader/writer and the
    /// buffer; the job's kind and outcome are returned. `Ok(None)` when idle already.
    #[allow(clippy::type_complexity)]
    fn poll_job(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<(Op, io::Result<usize>)>>> {
        match &mut self.state {
            State::Idle(_) => Poll::Ready(Ok(None)),
            State::Lost => Poll::Ready(Err(lost())),
            State::Busy(kind, job) => {
                let kind = *kind;
                // Charged like awaiting a `JoinHandle`.
                let progress = ready!(coop::poll_proceed(cx));
                let joined = ready!(Pin::new(job).poll(cx));
                progress.made_progress();
                match joined {
                    Ok((res, buf, inner)) => {
                        self.inner = Some(inner);
                        self.state = State::Idle(Some(buf));
                        Poll::Ready(Ok(Some((kind, res))))
                    }
                    Err(e) => {
                        self.state = State::Lost;
                        Poll::Ready(Err(join_error(e)))
                    }
                }
            }
        }
    }

    /// The idle buffer. Only call when `state` is `Idle`.
    fn take_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => buf.take().expect("hookrt: Blocking's idle buffer is there"),
            _ => unreachable!("take_buf while a job is in flight"),
        }
    }

    fn put_buf(&mut self, buf: Buf) {
        self.state = State::Idle(Some(buf));
    }
}

impl<T: Read + Send + 'static> AsyncRead for Blocking<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match ready!(this.poll_job(cx))? {
                None => {}
                // A write or flush in flight (a value used in both directions): its
                // error is this read's.
                Some((Op::Write | Op::Flush, res)) => {
                    res?;
                }
                Some((Op::Read, res)) => {
                    let mut buf = this.take_buf();
                    return match res {
                        Ok(_) => {
                            buf.copy_to(dst);
                            this.put_buf(buf);
                            Poll::Ready(Ok(()))
                        }
                        Err(e) => {
                            debug_assert!(buf.is_empty());
                            this.put_buf(buf);
                            Poll::Ready(Err(e))
                        }
                    };
                }
            }
            let mut buf = this.take_buf();
            if !buf.is_empty() {
                buf.copy_to(dst);
                this.put_buf(buf);
                return Poll::Ready(Ok(()));
            }
            if dst.remaining() == 0 {
                this.put_buf(buf);
                return Poll::Ready(Ok(()));
            }
            buf.prepare_read(dst.remaining(), MAX_BUF);
            this.start(Op::Read, buf, |buf, inner| buf.read_from(inner));
        }
    }
}

impl<T: Write + Send + 'static> AsyncWrite for Blocking<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // The previous write's error is this write's (its data is not taken then).
        if let Some((op, res)) = ready!(this.poll_job(cx))? {
            if op != Op::Read {
                res?;
            }
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut buf = this.take_buf();
        // Unread data of an earlier read is dropped, as in tokio (a value used for
        // both directions is not a use case: stdio is one or the other).
        buf.clear();
        let n = buf.copy_from(src, MAX_BUF);
        this.start(Op::Write, buf, |buf, inner| {
            let n = buf.len();
            buf.write_to(inner).map(|()| n)
        });
        this.need_flush = true;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some((op, res)) = ready!(this.poll_job(cx))? {
                if op != Op::Read {
                    res?;
                }
            }
            if !this.need_flush {
                return Poll::Ready(Ok(()));
            }
            let buf = this.take_buf();
            this.start(Op::Flush, buf, |_, inner| inner.flush().map(|()| 0));
            this.need_flush = false;
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(_) => "idle",
            State::Busy(..) => "busy",
            State::Lost => "lost",
        };
        f.debug_struct("Blocking")
            .field("state", &state)
            .field("need_flush", &self.need_flush)
            .finish()
    }
}

fn lost() -> io::Error {
    io::Error::other(
        "hookrt: an earlier blocking I/O job was cancelled (the runtime shut down) or \
         panicked; the reader/writer is gone",
    )
}

fn join_error(e: JoinError) -> io::Error {
    if e.is_cancelled() {
        io::Error::other(
            "hookrt: the blocking I/O job was cancelled: the runtime's blocking pool shut down",
        )
    } else {
        io::Error::other("hookrt: the blocking I/O job panicked")
    }
}

/// A job's buffer: `buf[pos..]` is data read and not consumed yet, or data to write.
#[derive(Debug)]
struct Buf {
    buf: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn with_capacity(n: usize) -> Buf {
        Buf {
            buf: Vec::with_capacity(n),
            pos: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
    }

    /// Copies as much as fits into `dst`.
    fn copy_to(&mut self, dst: &mut ReadBuf<'_>) -> usize {
        let n = cmp::min(self.len(), dst.remaining());
        dst.put_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.buf.len() {
            self.clear();
        }
        n
    }

    /// Takes up to `max` bytes of `src`; the buffer must be empty.
    fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty());
        let n = cmp::min(src.len(), max);
        self.buf.extend_from_slice(&src[..n]);
        n
    }

    /// Sizes the (empty) buffer for a read of `wanted` bytes, at most `max`.
    fn prepare_read(&mut self, wanted: usize, max: usize) {
        debug_assert!(self.is_empty());
        self.clear();
        self.buf.resize(cmp::min(wanted, max), 0);
    }

    /// One read into the buffer (retried on `Interrupted`); keeps what was read.
    fn read_from<R: Read>(&mut self, rd: &mut R) -> io::Result<usize> {
        debug_assert_eq!(self.pos, 0);
        let res = loop {
            match rd.read(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => break res,
            }
        };
        match res {
            Ok(n) => self.buf.truncate(n),
            Err(_) => self.buf.clear(),
        }
        res
    }

    /// Writes the whole buffer and empties it.
    fn write_to<W: Write>(&mut self, wr: &mut W) -> io::Result<()> {
        debug_assert_eq!(self.pos, 0);
        let res = wr.write_all(&self.buf);
        self.clear();
        res
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::runtime::{Builder, Runtime};
    use hookrt_hooks::Ledger;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const NAMES: JobNames = JobNames {
        read: "test::read",
        write: "test::write",
        flush: "test::flush",
    };

    #[track_caller]
    fn adapter<T>(inner: T) -> Blocking<T> {
        Blocking::new(inner, NAMES, Location::caller())
    }

    fn runtimes() -> Vec<(Runtime, Arc<Ledger>)> {
        let mut out = Vec::new();
        for multi in [false, true] {
            let ledger = Arc::new(Ledger::new());
            let mut builder = if multi {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(2);
                b
            } else {
                Builder::new_current_thread()
            };
            let rt = builder.enable_all().hook(ledger.clone()).build().unwrap();
            out.push((rt, ledger));
        }
        out
    }

    #[test]
    fn reads_a_blocking_socket_fed_by_a_thread() {
        for (rt, ledger) in runtimes() {
            let (ours, theirs) = UnixStream::pair().unwrap();
            let feeder = std::thread::spawn(move || {
                let mut theirs = theirs;
                for i in 0..100u32 {
                    theirs.write_all(format!("line {i}\n").as_bytes()).unwrap();
                }
                // Dropping closes: the reader sees EOF.
            });
            let text = rt.block_on(async move {
                let mut reader = adapter(ours);
                let mut text = String::new();
                // Small reads: most are served from the buffer of the previous job.
                let mut chunk = [0u8; 7];
                loop {
                    let n = reader.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    text.push_str(std::str::from_utf8(&chunk[..n]).unwrap());
                }
                text
            });
            feeder.join().unwrap();
            let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
            assert_eq!(text, expected);
            drop(rt);
            ledger.assert_balanced();
        }
    }

    #[test]
    fn writes_are_buffered_and_flushed_in_order() {
        for (rt, ledger) in runtimes() {
            let (ours, theirs) = UnixStream::pair().unwrap();
            let reader = std::thread::spawn(move || {
                let mut theirs = theirs;
                let mut all = Vec::new();
                theirs.read_to_end(&mut all).unwrap();
                all
            });
            rt.block_on(async move {
                let mut writer = adapter(ours);
                for i in 0..200u32 {
                    let line = format!("{i},");
                    // Each write returns at once with the whole (small) line.
                    assert_eq!(writer.write(line.as_bytes()).await.unwrap(), line.len());
                }
                writer.write_all(&[b'x'; 100_000]).await.unwrap();
                writer.flush().await.unwrap();
                assert!(writer.get_ref().is_some(), "idle after flush");
                writer.shutdown().await.unwrap();
            });
            let all = reader.join().unwrap();
            let expected: Vec<u8> = (0..200u32)
                .flat_map(|i| format!("{i},").into_bytes())
                .chain(std::iter::repeat_n(b'x', 100_000))
                .collect();
            assert_eq!(all, expected);
            drop(rt);
            ledger.assert_balanced();
        }
    }

    #[test]
    fn a_write_accepted_before_shutdown_still_happens() {
        for (rt, ledger) in runtimes() {
            let (ours, theirs) = UnixStream::pair().unwrap();
            let reader = std::thread::spawn(move || {
                let mut theirs = theirs;
                let mut all = Vec::new();
                theirs.read_to_end(&mut all).unwrap();
                all
            });
            // No flush: the write job may still be queued when the runtime goes away;
            // being mandatory, it runs anyway (and the socket closes after it).
            let writer = rt.block_on(async move {
                let mut writer = adapter(ours);
                writer.write_all(b"not lost").await.unwrap();
                writer
            });
            drop(rt);
            drop(writer);
            assert_eq!(reader.join().unwrap(), b"not lost");
            ledger.assert_balanced();
        }
    }

    #[test]
    fn a_write_error_is_reported_by_the_next_operation() {
        for (rt, ledger) in runtimes() {
            let (ours, theirs) = UnixStream::pair().unwrap();
            drop(theirs);
            rt.block_on(async move {
                let mut writer = adapter(ours);
                // Buffered: accepted at once; the job then fails with EPIPE.
                assert_eq!(writer.write(b"lost").await.unwrap(), 4);
                let err = writer.flush().await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
                // The writer is back: the adapter is usable (and fails again).
                assert!(writer.get_ref().is_some());
                writer.write_all(b"again").await.unwrap();
                assert!(writer.flush().await.is_err());
            });
            drop(rt);
            ledger.assert_balanced();
        }
    }
}
