//! `TcpStream`: a connected TCP socket.

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::io::{AsyncRead, AsyncWrite, Interest, PollEvented, ReadBuf, Ready};
use crate::net::addr::{to_socket_addrs, try_each};
use crate::net::ToSocketAddrs;
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// A TCP connection between a local and a remote socket: tokio's `TcpStream`, and an
/// async-hooks resource of kind `TcpStream`.
///
/// Create one with [`TcpStream::connect`], accept one with
/// [`TcpListener::accept`](crate::net::TcpListener::accept), or convert one with
/// [`TcpStream::from_std`]. Reading and writing go through [`AsyncRead`] and
/// [`AsyncWrite`] (use [`AsyncReadExt`](crate::io::AsyncReadExt) /
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt)), or the `readable`/`try_read` pair.
///
/// Hooks see the stream's `init` when it is registered (its trigger is the execution
/// that connected or accepted it, its location the user's call), a `before`/`after` pair
/// around each readiness event that wakes a task — whose `wake` then names the stream's
/// [`async_id`](TcpStream::async_id) — and its `destroy` when it is dropped.
///
/// Dropping the stream closes it; the write side is shut down with
/// [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown).
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a TCP connection to `addr`, trying each address it resolves to in turn
    /// until one connects; returns the last error if none does.
    ///
    /// The stream is registered (its `init` fires) when the connection attempt starts,
    /// with this call as its location. A refused connection is an error of kind
    /// `ConnectionRefused`.
    ///
    /// # Panics
    ///
    /// When polled outside a runtime, or on a runtime built without `enable_io()`.
    ///
    /// ```
    /// use hookrt::io::AsyncWriteExt;
    /// use hookrt::net::{TcpListener, TcpStream};
    ///
    /// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut stream = TcpStream::connect(listener.local_addr()?).await?;
    /// stream.write_all(b"hello").await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpStream>> {
        let location = Location::caller();
        async move {
            let resolving = to_socket_addrs(&addr, location);
            let addrs = resolving.await?;
            try_each(addrs, |addr| TcpStream::connect_addr(addr, location)).await
        }
    }

    async fn connect_addr(
        addr: SocketAddr,
        location: &'static Location<'static>,
    ) -> io::Result<TcpStream> {
        let sys = mio::net::TcpStream::connect(addr)?;
        TcpStream::connect_mio(sys, location).await
    }

    /// Registers `sys`, a socket whose non-blocking connect is in progress, and waits
    /// until the connection is established or has failed.
    pub(crate) async fn connect_mio(
        sys: mio::net::TcpStream,
        location: &'static Location<'static>,
    ) -> io::Result<TcpStream> {
        let stream = TcpStream::new_at(sys, location)?;
        stream.wait_connected().await?;
        Ok(stream)
    }

    /// Waits for the socket to become writable (the connect finished), then reports the
    /// connect's error if it failed.
    async fn wait_connected(&self) -> io::Result<()> {
        loop {
            let event = poll_fn(|cx| self.io.poll_ready(cx, Direction::Write)).await?;
            let sys = self.io.get_ref();
            if let Some(e) = sys.take_error()? {
                return Err(e);
            }
            match sys.peer_addr() {
                Ok(_) => return Ok(()),
                // Writable without an error and not yet connected: a spurious wake-up
                // (mio documents them); wait for the next event.
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        && !event.ready().intersects(Ready::ERROR | Ready::WRITE_CLOSED) =>
                {
                    self.io.registration().clear_readiness(event);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Registers a connected (or connecting) mio stream as a `TcpStream` resource
    /// created at `location`.
    #[track_caller]
    pub(crate) fn new_at(
        sys: mio::net::TcpStream,
        location: &'static Location<'static>,
    ) -> io::Result<TcpStream> {
        let io = PollEvented::new_at(sys, ResourceKind::TcpStream, location)?;
        Ok(TcpStream { io })
    }

    /// Wraps a std stream (which must already be in non-blocking mode: see
    /// [`std::net::TcpStream::set_nonblocking`]); the stream's `init` fires with this
    /// call as its location.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::new_at(mio::net::TcpStream::from_std(stream), Location::caller())
    }

    /// Deregisters the stream (its `destroy` fires) and returns it as a std stream, still
    /// in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner().map(std::net::TcpStream::from)
    }

    /// The stream's async id: what hooks see as the resource's id, and as `by` in the
    /// `wake` of a task this stream's readiness woke.
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// The local address of this end of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The remote address of the connection.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The socket's `SO_LINGER` time.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket2::SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream reset the
    /// connection (the peer's next read or write fails with `ConnectionReset`) instead
    /// of closing it gracefully. A non-zero linger can make the drop block the thread.
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        socket2::SockRef::from(self.io.get_ref()).set_linger(dur)
    }

    /// The socket's `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Waits until the stream has readiness matching `interest` and returns it (any
    /// number of tasks may wait at once). The readiness may be a false positive: the
    /// next `try_*` call may still report `WouldBlock`, which clears it.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let event = crate::io::readiness(&self.io, interest).await?;
        Ok(event.ready())
    }

    /// Waits until the stream is readable (data, end of stream, or an error), for use
    /// with [`try_read`](Self::try_read).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream is writable, for use with [`try_write`](Self::try_write).
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness. Only the task of the last call is woken (one waker
    /// slot, shared with `poll_read` and `poll_peek`); use [`readable`](Self::readable)
    /// to wait from several tasks.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(drop)
    }

    /// Polls for write readiness (one waker slot, shared with `poll_write`).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(drop)
    }

    /// Reads into `buf` without waiting: `Ok(0)` at end of stream (or for an empty
    /// `buf`), `WouldBlock` when no data is ready — which clears the read readiness, so
    /// the next [`readable`](Self::readable) waits for new data. Readiness is
    /// edge-triggered: after `readable()` returns, call this until it reports
    /// `WouldBlock`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.registration().try_io(Interest::READABLE, || {
            let mut sys = self.io.get_ref();
            sys.read(buf)
        })
    }

    /// As [`try_read`](Self::try_read), into several buffers.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.registration().try_io(Interest::READABLE, || {
            let mut sys = self.io.get_ref();
            sys.read_vectored(bufs)
        })
    }

    /// Writes from `buf` without waiting; `WouldBlock` (clearing the write readiness)
    /// when the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.registration().try_io(Interest::WRITABLE, || {
            let mut sys = self.io.get_ref();
            sys.write(buf)
        })
    }

    /// As [`try_write`](Self::try_write), from several buffers.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.registration().try_io(Interest::WRITABLE, || {
            let mut sys = self.io.get_ref();
            sys.write_vectored(bufs)
        })
    }

    /// Runs the non-blocking operation `f` if the stream has readiness matching
    /// `interest`, otherwise returns `WouldBlock`; a `WouldBlock` from `f` clears that
    /// readiness. `f` must do I/O on this stream's socket (through `AsFd`, say).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().try_io(interest, f)
    }

    /// Waits for readiness matching `interest` and runs `f` until it returns something
    /// other than `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        crate::io::async_io(&self.io, interest, f).await
    }

    /// Receives data without removing it from the socket's queue: the next read returns
    /// it again. Waits until there is data (or the end of stream: `Ok(0)`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        crate::io::async_io(&self.io, Interest::READABLE, || self.io.get_ref().peek(buf)).await
    }

    /// Polls to peek into `buf` (see [`peek`](Self::peek)); shares the read waker slot.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        let n = ready!(self.io.poll_io(cx, Direction::Read, || {
            self.io.get_ref().peek(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(n))
    }

    /// Splits the stream into a read half and a write half that borrow it, for use by
    /// two futures of one task (no allocation; see [`into_split`](Self::into_split) for
    /// halves that move into separate tasks).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves that can move into separate tasks; dropping
    /// the write half shuts the write side down. [`OwnedReadHalf::reunite`] puts them
    /// back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_vectored(cx, bufs)
    }

    /// Shuts down `how`.
    pub(crate) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    #[track_caller]
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::new_at(mio::net::TcpStream::from_std(stream), Location::caller())
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
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
        // TCP has no user-space buffer to flush.
        Poll::Ready(Ok(()))
    }

    /// Shuts the write side down (`shutdown(Write)`): the peer reads the end of stream;
    /// this side can still read.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_std(Shutdown::Write))
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("id", &self.async_id())
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
