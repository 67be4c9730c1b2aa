//! `UnixListener`: a listening Unix-domain stream socket.

use super::{path_addr, SocketAddr, UnixStream};
use crate::io::async_io;
use crate::io::{Interest, PollEvented};
use hookrt_hooks::{AsyncId, ResourceKind};
use hookrt_io_driver::Direction;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::panic::Location;
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A Unix-domain socket listening for connections: one resource of kind
/// `UnixListener` (`init` at [`bind`](UnixListener::bind) or
/// [`from_std`](UnixListener::from_std) with the caller's location, `destroy` when
/// dropped). Each accepted connection is a new [`UnixStream`] resource whose trigger is
/// the execution that accepted it.
///
/// Dropping the listener does not remove its path from the file system (as in tokio
/// and std).
///
/// ```
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use hookrt::io::{AsyncReadExt, AsyncWriteExt};
/// use hookrt::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("hookrt-doc-listener-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _peer) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds a new listener to `path` (which must not exist yet). On Linux a leading
    /// `\0` names the abstract namespace.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let location = Location::caller();
        let addr = path_addr(path.as_ref())?;
        let listener = mio::net::UnixListener::bind_addr(&addr)?;
        UnixListener::new(listener, location)
    }

    fn new(
        listener: mio::net::UnixListener,
        location: &'static Location<'static>,
    ) -> io::Result<UnixListener> {
        let io = PollEvented::new_at(listener, ResourceKind::UnixListener, location)?;
        Ok(UnixListener { io })
    }

    /// Wraps a std listener, registering it with the current runtime's I/O driver. The
    /// listener must already be in non-blocking mode (`set_nonblocking(true)`).
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without the I/O driver.
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::from_std(listener);
        UnixListener::new(listener, Location::caller())
    }

    /// Deregisters the listener (its `destroy` fires) and returns it as a std listener,
    /// still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io
            .into_inner()
            .map(std::os::unix::net::UnixListener::from)
    }

    /// The listener's async id (the resource hooks see).
    pub fn async_id(&self) -> AsyncId {
        self.io.registration().id()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr::from)
    }

    /// Takes the pending `SO_ERROR`, if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// `#[track_caller]`: the accepted stream's `init` reports the caller's location.
    /// Cancel-safe: a connection is only taken from the queue when the future completes.
    #[track_caller]
    pub fn accept(&self) -> impl Future<Output = io::Result<(UnixStream, SocketAddr)>> + '_ {
        let location = Location::caller();
        async move {
            let listener = self.io.get_ref();
            let (stream, addr) =
                async_io(&self.io, Interest::READABLE, || listener.accept()).await?;
            Ok((UnixStream::new(stream, location)?, SocketAddr::from(addr)))
        }
    }

    /// Polls for a connection. Only the waker of the latest call is woken.
    #[track_caller]
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let location = Location::caller();
        let listener = self.io.get_ref();
        let (stream, addr) = ready!(self.io.poll_io(cx, Direction::Read, || listener.accept()))?;
        Poll::Ready(Ok((
            UnixStream::new(stream, location)?,
            SocketAddr::from(addr),
        )))
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    #[track_caller]
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("id", &self.async_id())
            .field("listener", self.io.get_ref())
            .finish()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}
