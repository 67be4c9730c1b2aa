//! Unix-domain sockets: [`UnixListener`], [`UnixStream`] (with its split halves) and
//! [`UnixDatagram`], with tokio's names and semantics, each one resource of the matching
//! kind (`UnixListener`, `UnixStream`, `UnixDatagram`).
//!
//! On Linux a path whose first byte is `\0` names a socket in the abstract namespace
//! (for [`UnixListener::bind`] and [`UnixStream::connect`]), as in tokio.

mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;

use std::fmt;
use std::io;
use std::path::Path;

/// The address of a Unix-domain socket: a path, unnamed (an unbound or `pair` socket),
/// or (Linux) an abstract name.
#[derive(Clone)]
pub struct SocketAddr(std::os::unix::net::SocketAddr);

impl SocketAddr {
    /// Whether the address is unnamed.
    pub fn is_unnamed(&self) -> bool {
        self.0.is_unnamed()
    }

    /// The path, if the address is one.
    pub fn as_pathname(&self) -> Option<&Path> {
        self.0.as_pathname()
    }

    /// The name in the abstract namespace (without the leading `\0`), if the address is
    /// one.
    #[cfg(target_os = "linux")]
    pub fn as_abstract_name(&self) -> Option<&[u8]> {
        use std::os::linux::net::SocketAddrExt;
        self.0.as_abstract_name()
    }
}

impl fmt::Debug for SocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<std::os::unix::net::SocketAddr> for SocketAddr {
    fn from(addr: std::os::unix::net::SocketAddr) -> SocketAddr {
        SocketAddr(addr)
    }
}

impl From<SocketAddr> for std::os::unix::net::SocketAddr {
    fn from(addr: SocketAddr) -> std::os::unix::net::SocketAddr {
        addr.0
    }
}

/// The std address for `path`: on Linux a leading `\0` makes it an abstract name.
fn path_addr(path: &Path) -> io::Result<std::os::unix::net::SocketAddr> {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
            return std::os::unix::net::SocketAddr::from_abstract_name(name);
        }
    }
    std::os::unix::net::SocketAddr::from_pathname(path)
}
