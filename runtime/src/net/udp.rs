//! `UdpSocket`: tokio's UDP socket on hookrt's I/O driver.

use super::addr::{to_socket_addrs, try_each};
use super::ToSocketAddrs;
use crate::io::{async_io, readiness};
use crate::io::{Interest, PollEvented, ReadBuf, Ready};
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::future::{self, Future};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::panic::Location;
use std::task::{ready, Context, Poll};

/// A UDP socket registered with the runtime's I/O driver: one resource of kind
/// `UdpSocket`, with `init` when it is created (trigger: the creating execution;
/// location: the caller of [`bind`](UdpSocket::bind) or
/// [`from_std`](UdpSocket::from_std)), a `before`/`after` pair around each readiness
/// dispatch that wakes a task (so that task sees `wake(task, by = socket)`), and
/// `destroy` when it is dropped or turned back into a std socket.
///
/// As in tokio, UDP is connectionless: [`send_to`](UdpSocket::send_to) and
/// [`recv_from`](UdpSocket::recv_from) work with any peer, and after
/// [`connect`](UdpSocket::connect) [`send`](UdpSocket::send) and
/// [`recv`](UdpSocket::recv) work with the one peer (datagrams from others are dropped
/// by the OS). Every method takes `&self`, so one socket can be shared (`Arc`) between
/// a receiving and a sending task; any number of tasks may await operations at once.
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use hookrt::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`: each address it resolves to is tried in turn, and the
    /// first that binds is used (the last error otherwise).
    ///
    /// `#[track_caller]`: the socket's `init` (and a name lookup's `Blocking` job named
    /// `"lookup_host"`) report the caller's location.
    ///
    /// # Panics
    ///
    /// When polled outside a runtime, or on one built without the I/O driver.
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<UdpSocket>> {
        let location = Location::caller();
        async move {
            let resolving = to_socket_addrs(&addr, location);
            let addrs = resolving.await?;
            try_each(addrs, |addr| {
                future::ready(UdpSocket::bind_addr(addr, location))
            })
            .await
        }
    }

    fn bind_addr(addr: SocketAddr, location: &'static Location<'static>) -> io::Result<UdpSocket> {
        UdpSocket::new(mio::net::UdpSocket::bind(addr)?, location)
    }

    fn new(
        socket: mio::net::UdpSocket,
        location: &'static Location<'static>,
    ) -> io::Result<UdpSocket> {
        let io = PollEvented::new_at(socket, ResourceKind::UdpSocket, location)?;
        Ok(UdpSocket { io })
    }

    /// Wraps a std socket, registering it with the current runtime's I/O driver.
    ///
    /// The socket must already be in non-blocking mode (`set_nonblocking(true)`), as in
    /// tokio: a blocking socket would block the runtime's threads.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::new(mio::net::UdpSocket::from_std(socket), Location::caller())
    }

    /// Deregisters the socket (its `destroy` fires) and returns it as a std socket, still
    /// in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner().map(std::net::UdpSocket::from)
    }

    /// The socket's async id (the resource hooks see).
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// The local address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer (`NotConnected` before
    /// [`connect`](UdpSocket::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Connects the socket to `addr`: [`send`](UdpSocket::send) then goes there, and
    /// [`recv`](UdpSocket::recv) only receives from there. Each resolved address is
    /// tried in turn; the last error is returned if none works.
    ///
    /// `#[track_caller]`: a name lookup (a `Blocking` resource named `"lookup_host"`)
    /// reports the caller's location.
    #[track_caller]
    pub fn connect<'a, A: ToSocketAddrs + 'a>(
        &'a self,
        addr: A,
    ) -> impl Future<Output = io::Result<()>> + 'a {
        let location = Location::caller();
        async move {
            let resolving = to_socket_addrs(&addr, location);
            let addrs = resolving.await?;
            try_each(addrs, |addr| future::ready(self.io.get_ref().connect(addr))).await
        }
    }

    /// Waits for any of the readiness in `interest` and returns what is set. Readiness
    /// can be spurious: the `try_*` call that follows may still report `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let event = readiness(&self.io, interest).await?;
        Ok(event.ready())
    }

    /// Waits until the socket may be writable (see [`ready`](UdpSocket::ready)); usually
    /// paired with [`try_send`](UdpSocket::try_send) / [`try_send_to`](UdpSocket::try_send_to).
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Waits until the socket may be readable (see [`ready`](UdpSocket::ready)); usually
    /// paired with [`try_recv`](UdpSocket::try_recv) / [`try_recv_from`](UdpSocket::try_recv_from).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for write readiness. Only the waker of the latest call on this socket (for
    /// any of the `poll_send*` methods) is woken.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write).map_ok(drop)
    }

    /// Polls for read readiness. Only the waker of the latest call on this socket (for
    /// any of the `poll_recv*` / `poll_peek*` methods) is woken.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read).map_ok(drop)
    }

    /// Sends `buf` to the connected peer; returns how many bytes were sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::WRITABLE, || socket.send(buf)).await
    }

    /// Polls to send `buf` to the connected peer. Only the waker of the latest
    /// `poll_send*` call is woken.
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

    /// Receives one datagram from the connected peer into `buf`; returns its length
    /// (the rest of a datagram longer than `buf` is discarded).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || socket.recv(buf)).await
    }

    /// Polls to receive one datagram from the connected peer into `buf`'s unfilled
    /// part. Only the waker of the latest `poll_recv*` call is woken.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let socket = self.io.get_ref();
        let n = ready!(self.io.poll_io(cx, Direction::Read, || {
            socket.recv(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Receives one datagram from the connected peer now, or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || socket.recv(buf))
    }

    /// Sends `buf` to `target` (its first resolved address); returns how many bytes
    /// were sent.
    ///
    /// `#[track_caller]`: a name lookup (a `Blocking` resource named `"lookup_host"`)
    /// reports the caller's location.
    #[track_caller]
    pub fn send_to<'a, A: ToSocketAddrs + 'a>(
        &'a self,
        buf: &'a [u8],
        target: A,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        let location = Location::caller();
        async move {
            let resolving = to_socket_addrs(&target, location);
            match resolving.await?.next() {
                Some(target) => self.send_to_addr(buf, target).await,
                None => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no addresses to send data to",
                )),
            }
        }
    }

    async fn send_to_addr(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::WRITABLE, || socket.send_to(buf, target)).await
    }

    /// Polls to send `buf` to `target`. Only the waker of the latest `poll_send*` call
    /// is woken.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        self.io
            .poll_io(cx, Direction::Write, || socket.send_to(buf, target))
    }

    /// Sends `buf` to `target` now, or fails with `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || socket.recv_from(buf)).await
    }

    /// Polls to receive one datagram into `buf`'s unfilled part; returns its sender.
    /// Only the waker of the latest `poll_recv*` call is woken.
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
        Poll::Ready(Ok(from))
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || socket.recv_from(buf))
    }

    /// Copies the next datagram from the connected peer into `buf` without removing it
    /// from the queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || socket.peek(buf)).await
    }

    /// Polls to peek at the next datagram from the connected peer. Only the waker of
    /// the latest `poll_recv*` / `poll_peek*` call is woken.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let socket = self.io.get_ref();
        let n = ready!(self.io.poll_io(cx, Direction::Read, || {
            socket.peek(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Peeks at the next datagram from the connected peer now, or fails with
    /// `WouldBlock`.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || socket.peek(buf))
    }

    /// Copies the next datagram into `buf` without removing it from the queue; returns
    /// its length and sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || socket.peek_from(buf)).await
    }

    /// Polls to peek at the next datagram; returns its sender. Only the waker of the
    /// latest `poll_recv*` / `poll_peek*` call is woken.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let socket = self.io.get_ref();
        let (n, from) = ready!(self.io.poll_io(cx, Direction::Read, || {
            socket.peek_from(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(from))
    }

    /// Peeks at the next datagram now, or fails with `WouldBlock`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || socket.peek_from(buf))
    }

    /// Waits for the next datagram and returns its sender, leaving it in the queue.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        let socket = self.io.get_ref();
        async_io(&self.io, Interest::READABLE, || peek_sender(socket)).await
    }

    /// Polls for the sender of the next datagram, leaving it in the queue. Only the
    /// waker of the latest `poll_recv*` / `poll_peek*` call is woken.
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        let socket = self.io.get_ref();
        self.io.poll_io(cx, Direction::Read, || peek_sender(socket))
    }

    /// The sender of the next datagram now, or `WouldBlock`.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Interest::READABLE, || peek_sender(socket))
    }

    /// Runs the non-blocking operation `f` on the socket if readiness matching
    /// `interest` is set, otherwise fails with `WouldBlock`; clears the readiness if `f`
    /// reports `WouldBlock` (so `f` must only do I/O of that interest, and report
    /// `WouldBlock` only when the OS did).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().try_io(interest, f)
    }

    /// Waits for readiness matching `interest` and runs `f` until it does not report
    /// `WouldBlock` (same contract as [`try_io`](UdpSocket::try_io)).
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        async_io(&self.io, interest, f).await
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST` (sending to a broadcast address).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP` (IPv4 multicast loops back to local sockets).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (how far IPv4 multicast travels).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL` (the time-to-live of outgoing datagrams).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED`: the OS picks).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index `interface` (0: the
    /// OS picks).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group (see
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4)).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group (see
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6)).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Takes the pending `SO_ERROR`, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The sender of the next datagram: a zero-length peek (the OS reports the truncated
/// datagram's sender; Unix semantics).
fn peek_sender(socket: &mio::net::UdpSocket) -> io::Result<SocketAddr> {
    socket.peek_from(&mut []).map(|(_, from)| from)
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    #[track_caller]
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("id", &self.async_id())
            .field("socket", self.io.get_ref())
            .finish()
    }
}

#[cfg(unix)]
mod sys {
    use super::UdpSocket;
    use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};

    impl AsRawFd for UdpSocket {
        fn as_raw_fd(&self) -> RawFd {
            self.io.get_ref().as_raw_fd()
        }
    }

    impl AsFd for UdpSocket {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.io.get_ref().as_fd()
        }
    }
}
