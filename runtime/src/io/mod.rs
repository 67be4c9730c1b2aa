//! Asynchronous I/O: tokio's runtime-independent traits and utilities, so the ecosystem's
//! codecs, TLS wrappers and HTTP stacks work on hookrt sockets unchanged.
//!
//! `AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek`, `ReadBuf`, the `*Ext` traits,
//! `BufReader`, `BufWriter`, `BufStream`, `split`, `copy`, `copy_bidirectional`,
//! `duplex`, `empty`, `sink`, `repeat`, ... are tokio's own (re-exported). `Interest` is
//! mio's (the same constants tokio's has); `Ready` is the driver's readiness set.

mod poll_evented;

pub(crate) use poll_evented::PollEvented;

pub use hookrt_io_driver::Ready;
pub use mio::Interest;
pub use tokio::io::*;
