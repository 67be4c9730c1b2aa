//! Asynchronous I/O: tokio's runtime-independent traits and utilities, so the ecosystem's
//! codecs, TLS wrappers and HTTP stacks work on hookrt sockets unchanged.
//!
//! `AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek`, `ReadBuf`, the `*Ext` traits,
//! `BufReader`, `BufWriter`, `BufStream`, `split`, `copy`, `copy_bidirectional`,
//! `duplex`, `empty`, `sink`, `repeat`, ... are tokio's own (re-exported). `Interest` is
//! mio's (the same constants tokio's has); `Ready` is the driver's readiness set.
//!
//! hookrt's own: [`stdin`], [`stdout`], [`stderr`] (on the blocking pool) and, on Unix,
//! [`unix::AsyncFd`] (any descriptor on the I/O driver).

#[cfg(unix)]
mod async_fd;
mod blocking_adapter;
mod poll_evented;
mod stdio;

pub(crate) use poll_evented::current_io_handle;
pub(crate) use poll_evented::{async_io, readiness, PollEvented};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};

#[cfg(unix)]
pub mod unix {
    //! Unix-only I/O: [`AsyncFd`], readiness for any file descriptor.
    pub use super::async_fd::{
        AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdTryNewError, TryIoError,
    };
}

pub use hookrt_io_driver::Ready;
pub use mio::Interest;
pub use tokio::io::*;
