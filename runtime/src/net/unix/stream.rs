//! `UnixStream`: a connected Unix-domain stream socket.

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::{path_addr, SocketAddr};
use crate::io::{async_io, readiness};
use crate::io::{AsyncRead, AsyncWrite, Interest, PollEvented, ReadBuf, Ready};
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::panic::Location;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connected Unix-domain stream socket: one resource of kind `UnixStream` (`init`
/// when connected, accepted, paired or wrapped, with the caller's location; `destroy`
/// when dropped). It implements [`AsyncRead`] and [`AsyncWrite`];
/// [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown) closes the write
/// side (the peer reads EOF) while reading goes on.
///
/// One task may read while another writes (through [`split`](UnixStream::split),
/// [`into_split`](UnixStream::into_split), or `&UnixStream` with the `try_*` methods).
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use hookrt::io::{AsyncReadExt, AsyncWriteExt};
/// use hookrt::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// a.shutdown().await?;
/// let mut got = Vec::new();
/// b.read_to_end(&mut got).await?;
/// assert_eq!(got, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`. On Linux a leading `\0` names the abstract
    /// namespace.
    ///
    /// `#[track_caller]`: the stream's `init` reports the caller's location.
    ///
    /// # Panics
    ///
    /// When polled outside a runtime, or on one built without the I/O driver.
    #[track_caller]
    pub fn connect<P: AsRef<Path>>(path: P) -> impl Future<Output = io::Result<UnixStream>> {
        let location = Location::caller();
        async move {
            let addr = path_addr(path.as_ref())?;
            let stream = mio::net::UnixStream::connect_addr(&addr)?;
            let stream = UnixStream::new(stream, location)?;
            // A non-blocking connect may still be in progress: it has finished (or
            // failed) once the socket is writable.
            poll_fn(|cx| stream.io.registration().poll_write_ready(cx)).await?;
            if let Some(e) = stream.io.get_ref().take_error()? {
                return Err(e);
            }
            Ok(stream)
        }
    }

    pub(super) fn new(
        stream: mio::net::UnixStream,
        location: &'static Location<'static>,
    ) -> io::Result<UnixStream> {
        let io = PollEvented::new_at(stream, ResourceKind::UnixStream, location)?;
        Ok(UnixStream { io })
    }

    /// Wraps a std stream, registering it with the current runtime's I/O driver. The
    /// stream must already be in non-blocking mode (`set_nonblocking(true)`).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::new(mio::net::UnixStream::from_std(stream), Location::caller())
    }

    /// Deregisters the stream (its `destroy` fires) and returns it as a std stream,
    /// still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io
            .into_inner()
            .map(std::os::unix::net::UnixStream::from)
    }

    /// A connected pair of unnamed sockets (two resources).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let location = Location::caller();
        let (a, b) = mio::net::UnixStream::pair()?;
        let a = UnixStream::new(a, location)?;
        let b = UnixStream::new(b, location)?;
        Ok((a, b))
    }

    /// The stream's async id (the resource hooks see).
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr::from)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr().map(SocketAddr::from)
    }

    /// Takes the pending `SO_ERROR`, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits for any of the readiness in `interest` and returns what is set. Readiness
    /// can be spurious: the `try_*` call that follows may still report `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let event = readiness(&self.io, interest).await?;
        Ok(event.ready())
    }

    /// Waits until the stream may be readable (see [`ready`](UnixStream::ready)).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream may be writable (see [`ready`](UnixStream::ready)).
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness. Only the waker of the latest call (of this or
    /// `poll_read`) is woken.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(drop)
    }

    /// Polls for write readiness. Only the waker of the latest call (of this or
    /// `poll_write`) is woken.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(drop)
    }

    /// Reads into `buf` now, or fails with `WouldBlock`. `Ok(0)`: end of stream (or an
    /// empty `buf`).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut stream = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || stream.read(buf))
    }

    /// Reads into `bufs` now, or fails with `WouldBlock`.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let mut stream = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || stream.read_vectored(bufs))
    }

    /// Writes from `buf` now, or fails with `WouldBlock`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let mut stream = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || stream.write(buf))
    }

    /// Writes from `bufs` now, or fails with `WouldBlock`.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut stream = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || stream.write_vectored(bufs))
    }

    /// Runs the non-blocking operation `f` on the stream if readiness matching
    /// `interest` is set, otherwise fails with `WouldBlock`; clears the readiness if `f`
    /// reports `WouldBlock`.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().try_io(interest, f)
    }

    /// Waits for readiness matching `interest` and runs `f` until it does not report
    /// `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        async_io(&self.io, interest, f).await
    }

    /// Borrows the stream as a read half and a write half, usable at once (for example
    /// in `join!`). Shutting the write half down closes the stream's write side.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned halves that can move to different tasks.
    /// Dropping the write half shuts the write side down (unless it was
    /// [`forget`](OwnedWriteHalf::forget)-ed); [`OwnedReadHalf::reunite`] puts them
    /// back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
    }

    pub(super) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    pub(super) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }

    pub(super) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(super) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the write side down: the peer reads EOF; reading goes on.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_std(Shutdown::Write))
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    #[track_caller]
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("id", &self.async_id())
            .field("stream", self.io.get_ref())
            .finish()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
