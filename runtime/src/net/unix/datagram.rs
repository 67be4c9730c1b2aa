//! `UnixDatagram`: a Unix-domain datagram socket.

use super::SocketAddr;
use crate::io::{async_io, readiness};
use crate::io::{Interest, PollEvented, ReadBuf, Ready};
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::panic::Location;
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A Unix-domain datagram socket: one resource of kind `UnixDatagram` (`init` at
/// [`bind`](UnixDatagram::bind), [`unbound`](UnixDatagram::unbound),
/// [`pair`](UnixDatagram::pair) or [`from_std`](UnixDatagram::from_std) with the
/// caller's location; `destroy` when dropped).
///
/// Like [`UdpSocket`](crate::net::UdpSocket), every method takes `&self`, and datagrams
/// go to any path with [`send_to`](UnixDatagram::send_to) or to the connected peer with
/// [`send`](UnixDatagram::send).
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use hookrt::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0; 16];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (which must not exist yet).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let location = Location::caller();
        UnixDatagram::new(mio::net::UnixDatagram::bind(path)?, location)
    }

    /// A connected pair of unnamed sockets (two resources).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let location = Location::caller();
        let (a, b) = mio::net::UnixDatagram::pair()?;
        let a = UnixDatagram::new(a, location)?;
        let b = UnixDatagram::new(b, location)?;
        Ok((a, b))
    }

    /// A socket bound to no address: it can send (to a path, or after
    /// [`connect`](UnixDatagram::connect)), and receive replies only from a connected
    /// peer or a `pair` partner.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        let location = Location::caller();
        UnixDatagram::new(mio::net::UnixDatagram::unbound()?, location)
    }

    fn new(
        socket: mio::net::UnixDatagram,
        location: &'static Location<'static>,
    ) -> io::Result<UnixDatagram> {
        let io = PollEvented::new_at(socket, ResourceKind::UnixDatagram, location)?;
        Ok(UnixDatagram { io })
    }

    /// Wraps a std socket, registering it with the current runtime's I/O driver. The
    /// socket must already be in non-blocking mode (`set_nonblocking(true)`).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::new(mio::net::UnixDatagram::from_std(socket), Location::caller())
    }

    /// Deregisters the socket (its `destroy` fires) and returns it as a std socket,
    /// still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io
            .into_inner()
            .map(std::os::unix::net::UnixDatagram::from)
    }

    /// The socket's async id (the resource hooks see).
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// Connects the socket to `path`: [`send`](UnixDatagram::send) then goes there, and
    /// only datagrams from there are received.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr::from)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr().map(SocketAddr::from)
    }

    /// Takes the pending `SO_ERROR`, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the reading, writing or both sides.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits for any of the readiness in `interest` and returns what is set. Readiness
    /// can be spurious: the `try_*` call that follows may still report `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let event = readiness(&self.io, interest).await?;
        Ok(event.ready())
    }

    /// Waits until the socket may be writable (see [`ready`](UnixDatagram::ready)).
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Waits until the socket may be readable (see [`ready`](UnixDatagram::ready)).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for write readiness. Only the waker of the latest `poll_send*` call is
    /// woken.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(drop)
    }

    /// Polls for read readiness. Only the waker of the latest `poll_recv*` call is
    /// woken.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(drop)
    }

    /// Sends `buf` to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::WRITABLE, || socket.send(buf)).await
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        self.io.poll_io(cx, Direction::Write, || socket.send(buf))
    }

    /// Sends `buf` to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || socket.send(buf))
    }

    /// Sends `buf` to the socket at `target`.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let socket = self.io.get_ref();
        let target = target.as_ref();
        async_io(&self.io, Interest::WRITABLE, || socket.send_to(buf, target)).await
    }

    /// Polls to send `buf` to the socket at `target`.
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        let target = target.as_ref();
        self.io
            .poll_io(cx, Direction::Write, || socket.send_to(buf, target))
    }

    /// Sends `buf` to the socket at `target` now, or fails with `WouldBlock`.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        let socket = self.io.get_ref();
        let target = target.as_ref();
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || socket.recv(buf)).await
    }

    /// Polls to receive one datagram into `buf`'s unfilled part.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let socket = self.io.get_ref();
        let n = ready!(self.io.poll_io(cx, Direction::Read, || {
            socket.recv(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || socket.recv(buf))
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        let (n, from) = async_io(&self.io, Interest::READABLE, || socket.recv_from(buf)).await?;
        Ok((n, SocketAddr::from(from)))
    }

    /// Polls to receive one datagram into `buf`'s unfilled part; returns its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let socket = self.io.get_ref();
        let (n, from) = ready!(self.io.poll_io(cx, Direction::Read, || {
            socket.recv_from(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(SocketAddr::from(from)))
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        let (n, from) = self
            .io
            .registration()
            .try_io(Interest::READABLE, || socket.recv_from(buf))?;
        Ok((n, SocketAddr::from(from)))
    }

    /// Runs the non-blocking operation `f` on the socket if readiness matching
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
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    #[track_caller]
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("id", &self.async_id())
            .field("socket", self.io.get_ref())
            .finish()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
