//! Networking: TCP with tokio's types, names and semantics, each socket an async-hooks
//! resource.
//!
//! Every socket is registered with the runtime's I/O driver when it is created (bound,
//! connected, accepted, or converted from std): hooks see its `init` then (kind
//! [`TcpListener`](crate::hooks::ResourceKind::TcpListener) or
//! [`TcpStream`](crate::hooks::ResourceKind::TcpStream); trigger: the creating
//! execution; location: the user's call), a `before`/`after` pair around each readiness
//! event that wakes a task (so the task's `wake` names the socket), and its `destroy`
//! when it is dropped or turned back into a std socket.
//!
//! Name resolution ([`lookup_host`], and the [`ToSocketAddrs`] argument of `bind` and
//! `connect`) runs on the blocking pool, as a `Blocking` resource named `"lookup_host"`;
//! numeric addresses resolve without it.
//!
//! Sockets need a runtime built with the I/O driver (`Builder::enable_io()` or
//! `enable_all()`; `#[hookrt::main]` and `#[hookrt::test]` enable it): creating one
//! elsewhere panics with a message that names the fix.
//!
//! ```
//! use hookrt::io::{AsyncReadExt, AsyncWriteExt};
//! use hookrt::net::{TcpListener, TcpStream};
//!
//! # let rt = hookrt::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # rt.block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = hookrt::spawn(async move {
//!     let (mut socket, _) = listener.accept().await?;
//!     let mut buf = [0; 5];
//!     socket.read_exact(&mut buf).await?;
//!     socket.write_all(&buf).await?;
//!     std::io::Result::Ok(())
//! });
//! let mut client = TcpStream::connect(addr).await?;
//! client.write_all(b"hello").await?;
//! let mut echoed = [0; 5];
//! client.read_exact(&mut echoed).await?;
//! assert_eq!(&echoed, b"hello");
//! server.await.unwrap()?;
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod addr;
pub mod tcp;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
mod udp;
pub use udp::UdpSocket;
pub mod unix;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
