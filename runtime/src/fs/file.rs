//! `File`: an open file whose reads, writes and seeks run on the blocking pool.
//!
//! The state machine is tokio's. A file is either *idle*, holding its buffer (read-ahead
//! data not yet handed to the task, or nothing), or *busy*, holding the `JoinHandle` of
//! the one background operation in flight, which owns the buffer until it returns it.
//! A write copies its data into the buffer, starts the background write and returns;
//! the next operation (or `flush`) waits for it. A write error found while waiting for
//! something else is kept in `last_write_err` and reported by the next write or flush.

use super::asyncify::{asyncify, poll_op, spawn_mandatory_op, spawn_op};
use super::buf::{Buf, DEFAULT_MAX_BUF_SIZE};
use super::OpenOptions;
use crate::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use crate::task::JoinHandle;
use std::cmp;
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Seek, SeekFrom};
use std::panic::Location;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::sync::Mutex;

/// A reference to an open file on the filesystem: tokio's `File`, on hookrt's blocking
/// pool.
///
/// Open one with [`File::open`], [`File::create`], [`File::create_new`] or
/// [`OpenOptions`]; read, write and seek it through [`AsyncReadExt`],
/// [`AsyncWriteExt`] and [`AsyncSeekExt`]. Each background read, write or seek is a
/// `Blocking` resource (`"fs::File::read"`, `"fs::File::write"`, `"fs::File::seek"`)
/// triggered by the task that polls the file, located where the file was opened (or
/// wrapped with [`from_std`](File::from_std)).
///
/// Writes are buffered: `write` returns once the data is copied and the system call runs
/// in the background. Call [`flush`](crate::io::AsyncWriteExt::flush) to wait for the
/// last write and see its error; a file dropped with a write in flight still completes
/// it (unless the runtime shuts down before the write starts). Closing happens when the
/// last reference goes away, on whichever thread drops it.
///
/// ```
/// use hookrt::fs::File;
/// use hookrt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let path = std::env::temp_dir().join(format!("hookrt-file-doc-{}", std::process::id()));
/// let mut file = File::options().read(true).write(true).create(true).truncate(true).open(&path).await?;
/// file.write_all(b"0123456789").await?;
/// file.seek(SeekFrom::Start(4)).await?; // waits for the write
/// let mut four = [0; 4];
/// file.read_exact(&mut four).await?;
/// assert_eq!(&four, b"4567");
/// file.sync_all().await?;
/// # drop(file);
/// # hookrt::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
///
/// [`AsyncReadExt`]: crate::io::AsyncReadExt
/// [`AsyncWriteExt`]: crate::io::AsyncWriteExt
/// [`AsyncSeekExt`]: crate::io::AsyncSeekExt
pub struct File {
    std: Arc<std::fs::File>,
    inner: Mutex<Inner>,
    max_buf_size: usize,
    /// Where the file was opened: the location of its background reads, writes, seeks.
    location: &'static Location<'static>,
}

struct Inner {
    state: State,
    /// The kind of a background write's error that nobody has reported yet.
    last_write_err: Option<io::ErrorKind>,
    /// The position the last completed seek reported.
    pos: u64,
}

enum State {
    /// `None` only while an operation is being started.
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// `set_len`, whose future reports the result (if it is dropped first, nobody does).
    SetLen(io::Result<()>),
}

impl File {
    /// Opens a file in read-only mode (tokio's `File::open`).
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::open`]: `NotFound` if the path does not exist, ...
    #[track_caller]
    pub fn open(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send + 'static {
        OpenOptions::new().read(true).open(path)
    }

    /// Opens a file in write-only mode, creating it if needed and truncating it if not.
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::create`].
    #[track_caller]
    pub fn create(
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Creates a new file in read-write mode; fails if it exists.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if the path exists (even as a dangling symlink), and the errors
    /// of [`std::fs::File::create_new`].
    #[track_caller]
    pub fn create_new(
        path: impl AsRef<Path>,
    ) -> impl Future<Output = io::Result<File>> + Send + 'static {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// Options to open a file with (the same as [`OpenOptions::new`]).
    #[must_use]
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std::fs::File`. Its background operations are located here.
    #[track_caller]
    pub fn from_std(std: std::fs::File) -> File {
        File::opened_at(std, Location::caller())
    }

    pub(super) fn opened_at(std: std::fs::File, location: &'static Location<'static>) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Some(Buf::new())),
                last_write_err: None,
                pos: 0,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
            location,
        }
    }

    /// Waits for a pending write, then flushes data and metadata to disk
    /// ([`std::fs::File::sync_all`]).
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn sync_all(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        let location = Location::caller();
        async move {
            let mut inner = self.inner.lock().await;
            inner.complete_inflight().await;
            let std = self.std.clone();
            spawn_call("fs::File::sync_all", location, move || std.sync_all()).await
        }
    }

    /// Waits for a pending write, then flushes data (not necessarily metadata) to disk
    /// ([`std::fs::File::sync_data`]).
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn sync_data(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        let location = Location::caller();
        async move {
            let mut inner = self.inner.lock().await;
            inner.complete_inflight().await;
            let std = self.std.clone();
            spawn_call("fs::File::sync_data", location, move || std.sync_data()).await
        }
    }

    /// Truncates or extends the file to `size` bytes ([`std::fs::File::set_len`]), after
    /// any pending write. The cursor does not move.
    ///
    /// # Errors
    ///
    /// If the file is not open for writing, and the system call's errors.
    #[track_caller]
    pub fn set_len(&self, size: u64) -> impl Future<Output = io::Result<()>> + Send + '_ {
        let location = Location::caller();
        async move {
            let mut inner = self.inner.lock().await;
            inner.complete_inflight().await;
            let mut buf = match inner.state {
                State::Idle(ref mut cell) => cell.take().expect("an idle file holds its buffer"),
                State::Busy(_) => unreachable!("complete_inflight leaves the file idle"),
            };
            // Read-ahead moved the OS cursor past the task's position: move it back.
            let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
            let std = self.std.clone();
            inner.state = State::Busy(spawn_op("fs::File::set_len", location, move || {
                let res = match seek {
                    Some(seek) => (&*std).seek(seek).and_then(|_| std.set_len(size)),
                    None => std.set_len(size),
                };
                (Operation::SetLen(res), buf)
            }));
            let (op, buf) = poll_fn(|cx| inner.poll_busy(cx)).await?;
            inner.state = State::Idle(Some(buf));
            match op {
                Operation::SetLen(res) => res,
                _ => unreachable!("set_len's job reports SetLen"),
            }
        }
    }

    /// The file's metadata ([`std::fs::File::metadata`]).
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn metadata(&self) -> impl Future<Output = io::Result<Metadata>> + Send + 'static {
        let std = self.std.clone();
        asyncify("fs::File::metadata", move || std.metadata())
    }

    /// A new `File` for the same open file (sharing its cursor), after any pending
    /// write ([`std::fs::File::try_clone`]).
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn try_clone(&self) -> impl Future<Output = io::Result<File>> + Send + '_ {
        let location = Location::caller();
        async move {
            self.inner.lock().await.complete_inflight().await;
            let std = self.std.clone();
            let clone = spawn_call("fs::File::try_clone", location, move || std.try_clone());
            let mut file = File::opened_at(clone.await?, location);
            file.max_buf_size = self.max_buf_size;
            Ok(file)
        }
    }

    /// Waits for a pending write, then unwraps the `std::fs::File`.
    ///
    /// # Panics
    ///
    /// If a `metadata` or `set_permissions` job whose future was dropped still uses the
    /// file (as in tokio).
    pub async fn into_std(mut self) -> std::fs::File {
        self.inner.get_mut().complete_inflight().await;
        Arc::try_unwrap(self.std)
            .expect("hookrt::fs::File::into_std: a background job still uses the file")
    }

    /// Unwraps the `std::fs::File` at once, if no background operation still uses it.
    /// The error of a finished background write that nobody collected is lost.
    ///
    /// # Errors
    ///
    /// Gives the `File` back while a background operation still runs.
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        match Arc::try_unwrap(self.std) {
            Ok(file) => Ok(file),
            Err(shared) => {
                self.std = shared;
                Err(self)
            }
        }
    }

    /// Changes the file's permissions ([`std::fs::File::set_permissions`]).
    ///
    /// # Errors
    ///
    /// The system call's error.
    #[track_caller]
    pub fn set_permissions(
        &self,
        perm: Permissions,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        let std = self.std.clone();
        asyncify("fs::File::set_permissions", move || {
            std.set_permissions(perm)
        })
    }

    /// Sets the most one background read or write moves (default 2 MiB, as in tokio).
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The most one background read or write moves.
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }

    /// Starts a background write of `buf` (filled by the caller), after moving the OS
    /// cursor back over read-ahead that `seek` accounts for.
    fn start_write(&self, mut buf: Buf, seek: Option<SeekFrom>) -> JoinHandle<(Operation, Buf)> {
        let std = self.std.clone();
        spawn_mandatory_op("fs::File::write", self.location, move || {
            let res = match seek {
                Some(seek) => (&*std).seek(seek).and_then(|_| buf.write_to(&mut &*std)),
                None => buf.write_to(&mut &*std),
            };
            (Operation::Write(res), buf)
        })
    }

    /// `poll_write` and `poll_write_vectored`: `fill` copies the caller's data into the
    /// idle buffer and says how much it took.
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        fill: impl FnOnce(&mut Buf, usize) -> usize,
    ) -> Poll<io::Result<usize>> {
        if let Some(kind) = self.inner.get_mut().last_write_err.take() {
            return Poll::Ready(Err(kind.into()));
        }
        let mut fill = Some(fill);
        loop {
            let inner = self.inner.get_mut();
            match inner.state {
                State::Idle(ref mut cell) => {
                    let mut buf = cell.take().expect("an idle file holds its buffer");
                    let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
                    let fill = fill.take().expect("the data is copied once");
                    let n = fill(&mut buf, self.max_buf_size);
                    let handle = self.start_write(buf, seek);
                    self.inner.get_mut().state = State::Busy(handle);
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => {
                    let (op, buf) = ready!(inner.poll_busy(cx))?;
                    inner.state = State::Idle(Some(buf));
                    match op {
                        Operation::Write(res) => res?,
                        Operation::Read(_) | Operation::Seek(_) | Operation::SetLen(_) => {}
                    }
                }
            }
        }
    }
}

/// The blocking call of a `&self` method's future, located at the method's call site
/// (captured before the future was created).
fn spawn_call<T: Send + 'static>(
    name: &'static str,
    location: &'static Location<'static>,
    func: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> impl Future<Output = io::Result<T>> + Send + 'static {
    super::asyncify::Asyncify::new(name, location, func)
}

impl Inner {
    /// Waits for the operation in flight. On a failed job (panic, shutdown) the file
    /// becomes idle with an empty buffer and the error is returned.
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Operation, Buf)>> {
        let State::Busy(ref mut handle) = self.state else {
            unreachable!("poll_busy on an idle file");
        };
        let res = ready!(poll_op(handle, cx));
        if res.is_err() {
            self.state = State::Idle(Some(Buf::new()));
        }
        Poll::Ready(res)
    }

    /// Waits for the operation in flight; a write error is kept for the next write or
    /// flush.
    async fn complete_inflight(&mut self) {
        poll_fn(|cx| self.poll_complete_inflight(cx)).await
    }

    fn poll_complete_inflight(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Err(e) = ready!(self.poll_flush(cx)) {
            self.last_write_err = Some(e.kind());
        }
        Poll::Ready(())
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(kind) = self.last_write_err.take() {
            return Poll::Ready(Err(kind.into()));
        }
        if let State::Idle(_) = self.state {
            return Poll::Ready(Ok(()));
        }
        let (op, buf) = ready!(self.poll_busy(cx))?;
        self.state = State::Idle(Some(buf));
        match op {
            Operation::Write(res) => Poll::Ready(res),
            Operation::Read(_) | Operation::Seek(_) | Operation::SetLen(_) => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match inner.state {
                State::Idle(ref mut cell) => {
                    let mut buf = cell.take().expect("an idle file holds its buffer");
                    if !buf.is_empty() || dst.remaining() == 0 {
                        buf.copy_to(dst);
                        *cell = Some(buf);
                        return Poll::Ready(Ok(()));
                    }
                    let std = me.std.clone();
                    let max = cmp::min(dst.remaining(), me.max_buf_size);
                    inner.state = State::Busy(spawn_op("fs::File::read", me.location, move || {
                        let res = buf.read_from(&mut &*std, max);
                        (Operation::Read(res), buf)
                    }));
                }
                State::Busy(_) => {
                    let (op, mut buf) = ready!(inner.poll_busy(cx))?;
                    match op {
                        Operation::Read(Ok(_)) => {
                            buf.copy_to(dst);
                            inner.state = State::Idle(Some(buf));
                            return Poll::Ready(Ok(()));
                        }
                        Operation::Read(Err(e)) => {
                            debug_assert!(buf.is_empty());
                            inner.state = State::Idle(Some(buf));
                            return Poll::Ready(Err(e));
                        }
                        Operation::Write(Ok(())) | Operation::SetLen(_) => {
                            inner.state = State::Idle(Some(buf));
                        }
                        Operation::Write(Err(e)) => {
                            // Reported by the next write or flush; the read goes on.
                            inner.last_write_err = Some(e.kind());
                            inner.state = State::Idle(Some(buf));
                        }
                        Operation::Seek(res) => {
                            inner.state = State::Idle(Some(buf));
                            if let Ok(pos) = res {
                                inner.pos = pos;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, mut pos: SeekFrom) -> io::Result<()> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        match inner.state {
            State::Busy(_) => Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            )),
            State::Idle(ref mut cell) => {
                let mut buf = cell.take().expect("an idle file holds its buffer");
                // Read-ahead moved the OS cursor past the task's position: a relative
                // seek must start from where the task stands.
                let extra_seek = if buf.is_empty() {
                    None
                } else {
                    let back = buf.discard_read();
                    match pos {
                        SeekFrom::Current(ref mut offset) => match offset.checked_add(back) {
                            Some(adjusted) => {
                                *offset = adjusted;
                                None
                            }
                            None => Some(SeekFrom::Current(back)),
                        },
                        SeekFrom::Start(_) | SeekFrom::End(_) => None,
                    }
                };
                let std = me.std.clone();
                inner.state = State::Busy(spawn_op("fs::File::seek", me.location, move || {
                    let res = match extra_seek {
                        Some(extra) => (&*std).seek(extra).and_then(|_| (&*std).seek(pos)),
                        None => (&*std).seek(pos),
                    };
                    (Operation::Seek(res), buf)
                }));
                Ok(())
            }
        }
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let inner = self.get_mut().inner.get_mut();
        loop {
            if let State::Idle(_) = inner.state {
                return Poll::Ready(Ok(inner.pos));
            }
            let (op, buf) = ready!(inner.poll_busy(cx))?;
            inner.state = State::Idle(Some(buf));
            match op {
                Operation::Read(_) | Operation::Write(Ok(())) | Operation::SetLen(_) => {}
                Operation::Write(Err(e)) => inner.last_write_err = Some(e.kind()),
                Operation::Seek(res) => {
                    if let Ok(pos) = res {
                        inner.pos = pos;
                    }
                    return Poll::Ready(res);
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, |buf, max| buf.copy_from(src, max))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, |buf, max| buf.copy_from_bufs(bufs, max))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Waits for the last write and reports its error (the data is in the OS; use
    /// [`File::sync_all`] for the disk).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl From<std::fs::File> for File {
    #[track_caller]
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("hookrt::fs::File")
            .field("std", &self.std)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

#[cfg(unix)]
mod unix {
    use super::File;
    use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

    impl From<OwnedFd> for File {
        #[track_caller]
        fn from(fd: OwnedFd) -> File {
            File::from_std(std::fs::File::from(fd))
        }
    }

    impl AsRawFd for File {
        fn as_raw_fd(&self) -> RawFd {
            self.std.as_raw_fd()
        }
    }

    impl AsFd for File {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.std.as_fd()
        }
    }

    impl FromRawFd for File {
        /// # Safety
        ///
        /// As [`std::fs::File::from_raw_fd`]: `fd` is an open file descriptor this
        /// `File` may own and close.
        unsafe fn from_raw_fd(fd: RawFd) -> File {
            // SAFETY: the caller upholds `FromRawFd`'s contract, which is ours.
            File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
        }
    }
}
