//! `HookrtIo`: hyper's I/O traits over hookrt's (tokio's) and back.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};

/// Adapts an I/O object between tokio's traits (which hookrt's sockets implement) and
/// hyper's `rt::Read` / `rt::Write`, in both directions:
///
/// - `HookrtIo<TcpStream>` (or any `AsyncRead + AsyncWrite`) is what hyper's
///   `serve_connection` and `handshake` take;
/// - `HookrtIo<Upgraded>` (or any `hyper::rt::Read + Write`) is an `AsyncRead +
///   AsyncWrite`, for `hookrt::io` utilities over an upgraded connection.
///
/// The role of hyper-util's `TokioIo`, without hyper-util's tokio runtime dependency.
/// Reads go straight into the caller's (possibly uninitialised) buffer, no copy. The
/// wrapped object must be `Unpin` (hookrt's sockets are; pin others with `Box::pin`).
///
/// ```
/// use hookrt::hyper_rt::HookrtIo;
///
/// # hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let listener = hookrt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let stream = hookrt::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
/// let io = HookrtIo::new(stream);
/// // `io` is a `hyper::rt::Read + hyper::rt::Write`: hand it to `serve_connection` or
/// // `handshake`. The socket is still there:
/// assert!(io.inner().peer_addr().is_ok());
/// let _stream: hookrt::net::TcpStream = io.into_inner();
/// # });
/// ```
#[derive(Debug)]
pub struct HookrtIo<T> {
    inner: T,
}

impl<T> HookrtIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HookrtIo<T> {
        HookrtIo { inner }
    }

    /// The wrapped object.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the object.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

// hyper's traits over tokio's: what hyper's connections need from a hookrt socket.

impl<T: AsyncRead + Unpin> hyper::rt::Read for HookrtIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let filled = {
            // SAFETY: the slice only goes into a `tokio::io::ReadBuf`, which never
            // de-initialises bytes (its API only writes initialised bytes).
            let unfilled = unsafe { buf.as_mut() };
            let mut tokio_buf = tokio::io::ReadBuf::uninit(unfilled);
            ready!(Pin::new(&mut self.get_mut().inner).poll_read(cx, &mut tokio_buf))?;
            tokio_buf.filled().len()
        };
        // SAFETY: `ReadBuf::filled` is initialised by its contract, and it is the first
        // `filled` bytes of the cursor's unfilled part (the reader cannot swap the
        // buffer out of a `&mut ReadBuf`).
        unsafe { buf.advance(filled) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HookrtIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}

// tokio's traits over hyper's: hookrt's I/O utilities over an upgraded connection.

impl<T: hyper::rt::Read + Unpin> AsyncRead for HookrtIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let filled = {
            // SAFETY: the slice only goes into a `hyper::rt::ReadBuf`, which never
            // de-initialises bytes (its safe API only writes initialised bytes).
            let unfilled = unsafe { buf.unfilled_mut() };
            let mut hyper_buf = hyper::rt::ReadBuf::uninit(unfilled);
            ready!(Pin::new(&mut self.get_mut().inner).poll_read(cx, hyper_buf.unfilled()))?;
            hyper_buf.filled().len()
        };
        // SAFETY: hyper's `ReadBuf::filled` is initialised by its contract, and it is the
        // first `filled` bytes of `buf`'s unfilled part.
        unsafe { buf.assume_init(filled) };
        buf.advance(filled);
        Poll::Ready(Ok(()))
    }
}

impl<T: hyper::rt::Write + Unpin> AsyncWrite for HookrtIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}
