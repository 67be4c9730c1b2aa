//! `TcpSocket`: a TCP socket not yet connected or listening, to set options on first.

use super::listener::TcpListener;
use super::stream::TcpStream;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::time::Duration;

/// A TCP socket that has not yet been turned into a [`TcpStream`] or a
/// [`TcpListener`]: tokio's `TcpSocket`, for setting options (`SO_REUSEADDR`, buffer
/// sizes, ...) before `bind`, `connect` or `listen`.
///
/// It is not registered with the runtime (no hooks see it, and it can be created outside
/// a runtime); the stream or listener it becomes is a resource, located at the
/// `connect` or `listen` call.
///
/// ```
/// use hookrt::net::TcpSocket;
///
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(128)?;
///
/// let client = TcpSocket::new_v4()?;
/// let stream = client.connect(listener.local_addr()?).await?;
/// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpSocket {
    inner: socket2::Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket, in non-blocking mode.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV4)
    }

    /// A new IPv6 TCP socket, in non-blocking mode.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV6)
    }

    fn new(domain: socket2::Domain) -> io::Result<TcpSocket> {
        let inner =
            socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_REUSEADDR`: on Unix, lets a listener bind a port that connections in
    /// `TIME_WAIT` still use.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets may bind the same address and port.
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF` (the OS may round or double the value: read it back with
    /// [`send_buffer_size`](Self::send_buffer_size)).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The socket's `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF` (the OS may round or double the value).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The socket's `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_LINGER` (see [`TcpStream::set_linger`]).
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// The socket's `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()?.as_socket().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "hookrt: the socket's local address is not an IP address",
            )
        })
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds the socket to `addr`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// Connects the socket to `addr` and returns the stream once connected; the
    /// stream's `init` fires when the attempt starts, located at this call. A refused
    /// connection is an error of kind `ConnectionRefused`.
    ///
    /// # Panics
    ///
    /// When polled outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn connect(self, addr: SocketAddr) -> impl Future<Output = io::Result<TcpStream>> {
        let location = Location::caller();
        async move {
            if let Err(e) = self.inner.connect(&addr.into()) {
                if !is_in_progress(&e) {
                    return Err(e);
                }
            }
            let sys = mio::net::TcpStream::from_std(std::net::TcpStream::from(self.inner));
            TcpStream::connect_mio(sys, location).await
        }
    }

    /// Starts listening with a queue of up to `backlog` pending connections and returns
    /// the listener (its `init` fires now, located at this call).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let location = Location::caller();
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        let sys = mio::net::TcpListener::from_std(std::net::TcpListener::from(self.inner));
        TcpListener::new_at(sys, location)
    }

    /// Turns a std stream that is not connected yet (one made with `socket2`, say) into a
    /// `TcpSocket`. It is put in non-blocking mode.
    pub fn from_std_stream(std_stream: std::net::TcpStream) -> TcpSocket {
        let inner = socket2::Socket::from(std_stream);
        // Only fails for an invalid descriptor, which a live std stream is not; a
        // blocking socket would then fail at its first operation.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }
}

/// Whether `e` is how a non-blocking `connect` reports that it started: `EINPROGRESS`
/// on Unix, `WSAEWOULDBLOCK` on Windows.
fn is_in_progress(e: &io::Error) -> bool {
    // `io::ErrorKind::InProgress` (what std decodes `EINPROGRESS` to) is still unstable
    // (rust-lang/rust#130840), and the errno's value differs between platforms (and
    // Linux architectures): compare the kind by name.
    e.kind() == io::ErrorKind::WouldBlock || format!("{:?}", e.kind()) == "InProgress"
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> std::os::fd::RawFd {
        self.inner.into_raw_fd()
    }
}
