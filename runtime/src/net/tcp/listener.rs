//! `TcpListener`: a TCP socket accepting connections.

use super::stream::TcpStream;
use crate::io::{Interest, PollEvented};
use crate::net::addr::{to_socket_addrs, try_each};
use crate::net::ToSocketAddrs;
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::future::{self, Future};
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::task::{ready, Context, Poll};

/// A TCP socket server, listening for connections: tokio's `TcpListener`, and an
/// async-hooks resource of kind `TcpListener`.
///
/// Each accepted connection is a new [`TcpStream`] resource, registered when it is
/// accepted: its trigger is the accepting execution, its location the `accept` call.
/// A task waiting in `accept` is woken with `wake(task, by = listener)`.
///
/// Dropping the listener closes the socket and wakes whoever still waits on its
/// readiness (their next poll reports an error); its `destroy` fires then.
///
/// ```
/// use hookrt::net::{TcpListener, TcpStream};
///
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let client = hookrt::spawn(async move { TcpStream::connect(addr).await });
/// let (server_side, peer) = listener.accept().await?;
/// let client_side = client.await.unwrap()?;
/// assert_eq!(peer, client_side.local_addr()?);
/// assert_eq!(server_side.peer_addr()?, client_side.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (with `SO_REUSEADDR` on Unix, a backlog of 1024),
    /// trying each address it resolves to until one binds; returns the last error if
    /// none does. Bind to port 0 to let the OS choose one, then read it back with
    /// [`local_addr`](Self::local_addr).
    ///
    /// # Panics
    ///
    /// When polled outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn bind<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpListener>> {
        let location = Location::caller();
        async move {
            let resolving = to_socket_addrs(&addr, location);
            let addrs = resolving.await?;
            try_each(addrs, |addr| {
                future::ready(
                    mio::net::TcpListener::bind(addr)
                        .and_then(|sys| TcpListener::new_at(sys, location)),
                )
            })
            .await
        }
    }

    /// Registers a listening mio socket as a `TcpListener` resource created at
    /// `location`.
    #[track_caller]
    pub(crate) fn new_at(
        sys: mio::net::TcpListener,
        location: &'static Location<'static>,
    ) -> io::Result<TcpListener> {
        let io = PollEvented::new_at(sys, ResourceKind::TcpListener, location)?;
        Ok(TcpListener { io })
    }

    /// Accepts a new connection: waits until one is pending, and returns it with the
    /// peer's address. The new stream is registered now (`init`, triggered by the
    /// accepting execution, located at this call).
    ///
    /// Any number of tasks may wait in `accept` on one (shared) listener; each pending
    /// connection goes to one of them. Cancel-safe: no connection is lost if the future
    /// is dropped before it completes.
    #[track_caller]
    pub fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + '_ {
        let location = Location::caller();
        async move {
            let (sys, addr) =
                crate::io::async_io(&self.io, Interest::READABLE, || self.io.get_ref().accept())
                    .await?;
            let stream = TcpStream::new_at(sys, location)?;
            Ok((stream, addr))
        }
    }

    /// Polls to accept a new connection (see [`accept`](Self::accept)). Only the task of
    /// the last call is woken (one waker slot); the new stream's location is this call.
    #[track_caller]
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let location = Location::caller();
        let (sys, addr) = ready!(self
            .io
            .poll_io(cx, Direction::Read, || self.io.get_ref().accept()))?;
        Poll::Ready(TcpStream::new_at(sys, location).map(|stream| (stream, addr)))
    }

    /// Wraps a std listener (which must already be in non-blocking mode: see
    /// [`std::net::TcpListener::set_nonblocking`]); its `init` fires with this call as
    /// its location.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::new_at(
            mio::net::TcpListener::from_std(listener),
            Location::caller(),
        )
    }

    /// Deregisters the listener (its `destroy` fires) and returns it as a std listener,
    /// still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner().map(std::net::TcpListener::from)
    }

    /// The listener's async id: what hooks see as the resource's id, and as `by` in the
    /// `wake` of a task waiting in `accept`.
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The socket's `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    #[track_caller]
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::new_at(
            mio::net::TcpListener::from_std(listener),
            Location::caller(),
        )
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("id", &self.async_id())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
