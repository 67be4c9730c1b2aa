//! `PollEvented`: a mio source registered with the runtime's I/O driver — the piece
//! every socket type is built on.

use crate::runtime::context;
use crate::task::coop;
use hookrt_hooks::ResourceKind;
use hookrt_io_driver::{Direction, IoHandle, ReadyEvent, Registration};
use mio::event::Source;
use mio::Interest;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

/// A registered mio source: one I/O resource (`init` at registration, `destroy` when
/// dropped or turned back into the source), whose operations wait on readiness from the
/// driver and charge the cooperative budget.
#[derive(Debug)]
pub(crate) struct PollEvented<E: Source> {
    io: Option<E>,
    registration: Registration,
}

/// The current runtime's I/O handle, or a panic that names the fix.
#[track_caller]
pub(crate) fn current_io_handle() -> IoHandle {
    match context::with_current_handle(|h| h.io_handle().cloned()) {
        Some(Some(handle)) => handle,
        Some(None) => panic!(
            "hookrt: this runtime was built without the I/O driver: call `enable_io()` or \
             `enable_all()` on the runtime Builder (`#[hookrt::main]` and `#[hookrt::test]` \
             enable it)"
        ),
        None => panic!(
            "hookrt: sockets need a runtime: create them from code running on a hookrt \
             runtime (inside `block_on`, a task, or after `handle.enter()`)"
        ),
    }
}

impl<E: Source> PollEvented<E> {
    /// Registers `io` for reading and writing as a resource of `kind` created at
    /// `location`.
    ///
    /// # Panics
    ///
    /// Outside a runtime, or on a runtime built without `enable_io()`.
    #[track_caller]
    pub(crate) fn new_at(
        io: E,
        kind: ResourceKind,
        location: &'static Location<'static>,
    ) -> io::Result<PollEvented<E>> {
        PollEvented::with_interest_at(io, Interest::READABLE | Interest::WRITABLE, kind, location)
    }

    /// As [`PollEvented::new_at`] with an explicit interest.
    #[track_caller]
    pub(crate) fn with_interest_at(
        mut io: E,
        interest: Interest,
        kind: ResourceKind,
        location: &'static Location<'static>,
    ) -> io::Result<PollEvented<E>> {
        let handle = current_io_handle();
        let registration = handle.register_at(&mut io, interest, kind, location)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    /// The source.
    pub(crate) fn get_ref(&self) -> &E {
        self.io
            .as_ref()
            .expect("a PollEvented holds its source until dropped")
    }

    /// The registration (readiness, id).
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters and returns the source (ends the resource: `destroy`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self
            .io
            .take()
            .expect("a PollEvented holds its source until dropped");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }

    /// Waits for `direction` readiness, charging the budget.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let progress = ready!(coop::poll_proceed(cx));
        let polled = self.registration.poll_ready(cx, direction);
        if polled.is_ready() {
            progress.made_progress();
        }
        polled
    }

    /// Runs the non-blocking operation `f` once `direction` is ready, retrying after
    /// `WouldBlock` (edge-triggered: the operation drains until it would block), charging
    /// the budget.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let progress = ready!(coop::poll_proceed(cx));
        let polled = self.registration.poll_io(cx, direction, f);
        if polled.is_ready() {
            progress.made_progress();
        }
        polled
    }
}

impl<E: Source> PollEvented<E>
where
    for<'a> &'a E: Read,
{
    /// Reads into `buf` once readable.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let io = self.get_ref();
        let n = ready!(self.poll_io(cx, Direction::Read, || {
            let unfilled = buf.initialize_unfilled();
            let mut io = io;
            io.read(unfilled)
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<E: Source> PollEvented<E>
where
    for<'a> &'a E: Write,
{
    /// Writes `buf` once writable.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.poll_io(cx, Direction::Write, || {
            let mut io = io;
            io.write(buf)
        })
    }

    /// Writes `bufs` once writable.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.poll_io(cx, Direction::Write, || {
            let mut io = io;
            io.write_vectored(bufs)
        })
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            let _ = self.registration.deregister(&mut io);
        }
    }
}

/// Waits for readiness matching `interest` on `io`, charging the cooperative budget
/// (one unit per readiness that lets the caller proceed), and returns it.
///
/// Unlike the per-direction waker slots of `poll_io`, the waiter goes into the
/// registration's list, so any number of tasks can wait at once (several tasks sharing
/// an `Arc<TcpListener>` each get woken).
pub(crate) async fn readiness<E: Source>(
    io: &PollEvented<E>,
    interest: Interest,
) -> io::Result<ReadyEvent> {
    let mut readiness = io.registration().readiness(interest);
    poll_fn(|cx| {
        let progress = ready!(coop::poll_proceed(cx));
        let event = ready!(Pin::new(&mut readiness).poll(cx));
        progress.made_progress();
        Poll::Ready(event)
    })
    .await
}

/// Waits for readiness matching `interest` and runs `f` until it does not report
/// `WouldBlock` (clearing the readiness each time it does), charging the budget: the
/// `async_io` of tokio's sockets, on list waiters (see [`readiness`]).
pub(crate) async fn async_io<E: Source, R>(
    io: &PollEvented<E>,
    interest: Interest,
    mut f: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    loop {
        let event = readiness(io, interest).await?;
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                io.registration().clear_readiness(event);
            }
            result => return result,
        }
    }
}
