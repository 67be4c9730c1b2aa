//! TCP utility types: the borrowed and owned halves of a split [`TcpStream`].
//!
//! [`TcpStream`]: crate::net::TcpStream

mod listener;
mod socket;
mod split;
mod split_owned;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;

use crate::io::PollEvented;
use crate::task::coop;
use hookrt_io_driver::ReadyEvent;
use mio::event::Source;
use mio::Interest;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Poll};

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
