//! `stdin`, `stdout`, `stderr`: the process's standard streams, read and written on the
//! blocking pool (tokio's implementation: the OS gives no portable non-blocking mode for
//! them, and making fd 0/1/2 non-blocking would change them for every other user of the
//! same file description, such as a parent shell).
//!
//! Each value has at most one operation in flight; each operation is a blocking-pool
//! job, so hooks see a `Blocking` resource per read, write or flush (named
//! `"io::Stdout::write"`, `"io::Stdin::read"`, ...; located where `stdout()` etc. was
//! called; triggered by the execution that polled it). Writes are buffered: `write`
//! returns as soon as the data is copied and the job started; `flush` (or the next
//! write) waits for it and reports its error. Write and flush jobs are mandatory, as in
//! tokio: they run even if the runtime shuts down before they start.
//!
//! As in tokio, separate `Stdout` values do not coordinate: concurrent writers may
//! interleave at write boundaries (each write job writes its whole buffer under the
//! std stream's lock, so a line written at once stays whole).

use super::blocking_adapter::{Blocking, JobNames};
use std::fmt;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The process's standard input, read on the blocking pool. Created by [`stdin`].
///
/// A read that waits for input keeps a blocking-pool thread busy until input arrives,
/// and that read cannot be cancelled: dropping the `Stdin` leaves the job running until
/// the read returns (the runtime's shutdown waits for it too, as in tokio). For
/// interactive programs, read stdin from a dedicated `std::thread` and send lines over a
/// channel instead.
///
/// ```no_run
/// use hookrt::io::AsyncBufReadExt;
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut lines = hookrt::io::BufReader::new(hookrt::io::stdin()).lines();
/// while let Some(line) = lines.next_line().await.unwrap() {
///     println!("{line}");
/// }
/// # });
/// ```
pub struct Stdin {
    std: Blocking<io::Stdin>,
}

/// The process's standard output, written on the blocking pool. Created by [`stdout`].
///
/// Writes are buffered: each write copies the data (up to 2 MiB) into a blocking job and
/// returns at once; the next write or `flush` waits for that job and reports its error.
/// `flush` to know the data reached the OS (a write already accepted still happens if
/// the runtime shuts down first).
///
/// ```
/// use hookrt::io::AsyncWriteExt;
///
/// # hookrt::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut out = hookrt::io::stdout();
/// out.write_all(b"hello, world\n").await?;
/// out.flush().await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Stdout {
    std: Blocking<io::Stdout>,
}

/// The process's standard error, written on the blocking pool. Created by [`stderr`].
///
/// Like [`Stdout`], writes are buffered until the next write or `flush`.
pub struct Stderr {
    std: Blocking<io::Stderr>,
}

/// A handle to the process's standard input (see [`Stdin`]).
///
/// Creating it needs no runtime; reading it does (each read is a `spawn_blocking` job of
/// the runtime the reading task runs on).
#[track_caller]
pub fn stdin() -> Stdin {
    Stdin {
        std: Blocking::new(
            io::stdin(),
            JobNames {
                read: "io::Stdin::read",
                write: "io::Stdin::write",
                flush: "io::Stdin::flush",
            },
            Location::caller(),
        ),
    }
}

/// A handle to the process's standard output (see [`Stdout`]).
///
/// Creating it needs no runtime; writing it does.
#[track_caller]
pub fn stdout() -> Stdout {
    Stdout {
        std: Blocking::new(
            io::stdout(),
            JobNames {
                read: "io::Stdout::read",
                write: "io::Stdout::write",
                flush: "io::Stdout::flush",
            },
            Location::caller(),
        ),
    }
}

/// A handle to the process's standard error (see [`Stderr`]).
///
/// Creating it needs no runtime; writing it does.
#[track_caller]
pub fn stderr() -> Stderr {
    Stderr {
        std: Blocking::new(
            io::stderr(),
            JobNames {
                read: "io::Stderr::read",
                write: "io::Stderr::write",
                flush: "io::Stderr::flush",
            },
            Location::caller(),
        ),
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.std).poll_read(cx, buf)
    }
}

macro_rules! impl_write {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.std).poll_write(cx, buf)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.std).poll_flush(cx)
            }

            /// Flushes (the standard streams themselves are never closed).
            fn poll_shutdown(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Pin::new(&mut self.std).poll_shutdown(cx)
            }
        }
    };
}

impl_write!(Stdout);
impl_write!(Stderr);

macro_rules! impl_common {
    ($ty:ident, $std:path) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("std", &self.std)
                    .finish()
            }
        }

        #[cfg(unix)]
        impl std::os::unix::io::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::unix::io::RawFd {
                std::os::unix::io::AsRawFd::as_raw_fd(&$std())
            }
        }

        #[cfg(unix)]
        impl std::os::unix::io::AsFd for $ty {
            fn as_fd(&self) -> std::os::unix::io::BorrowedFd<'_> {
                let fd = std::os::unix::io::AsRawFd::as_raw_fd(self);
                // SAFETY: `fd` is a standard stream's descriptor (0, 1 or 2), which std
                // never closes: it stays open for the life of the process, longer than
                // the borrow of `self` (std's own `AsFd for Stdin` borrows it the same way).
                unsafe { std::os::unix::io::BorrowedFd::borrow_raw(fd) }
            }
        }
    };
}

impl_common!(Stdin, io::stdin);
impl_common!(Stdout, io::stdout);
impl_common!(Stderr, io::stderr);
