//! What kind of resource an id names.

use std::fmt;

/// The kind of an asynchronous resource, as in Node's `async_hooks` `type` argument.
///
/// The enum is `#[non_exhaustive]`: drivers added later (files, processes, signals) get
/// kinds of their own, and user code names its own with [`ResourceKind::Custom`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A spawned task, or the future given to `block_on`.
    Task,
    /// A closure run on the blocking pool by `spawn_blocking`.
    Blocking,
    /// A `Sleep`, `Interval` or `Timeout` deadline.
    Timer,
    /// A listening TCP socket.
    TcpListener,
    /// A connected TCP socket.
    TcpStream,
    /// A UDP socket.
    UdpSocket,
    /// A listening Unix-domain stream socket.
    UnixListener,
    /// A connected Unix-domain stream socket.
    UnixStream,
    /// A Unix-domain datagram socket.
    UnixDatagram,
    /// A resource defined by user code through [`AsyncResource`](crate::AsyncResource).
    Custom(&'static str),
}

impl ResourceKind {
    /// The kind's name as Node would print it (`"Task"`, `"Timer"`, `"TcpStream"`, ...);
    /// for [`ResourceKind::Custom`] the user's name.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Task => "Task",
            ResourceKind::Blocking => "Blocking",
            ResourceKind::Timer => "Timer",
            ResourceKind::TcpListener => "TcpListener",
            ResourceKind::TcpStream => "TcpStream",
            ResourceKind::UdpSocket => "UdpSocket",
            ResourceKind::UnixListener => "UnixListener",
            ResourceKind::UnixStream => "UnixStream",
            ResourceKind::UnixDatagram => "UnixDatagram",
            ResourceKind::Custom(name) => name,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
