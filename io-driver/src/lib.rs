//! The I/O reactor of hookrt: one `mio::Poll` per runtime, and every registered source
//! (socket, pipe, any fd) reported as an async-hooks resource.
//!
//! # Pieces
//!
//! - [`IoDriver`] (owned by the runtime, `Send`, driven by one thread at a time) owns the
//!   `mio::Poll`. [`IoDriver::turn`] polls once and dispatches the events.
//! - [`IoHandle`] (`Clone + Send + Sync`) registers sources ([`IoHandle::register`]
//!   takes any `mio::event::Source` and a caller-chosen [`ResourceKind`]) and wakes a
//!   blocked `turn` from any thread ([`IoHandle::unpark`], a `mio::Waker`).
//! - [`Registration`] (held by a socket type) waits for readiness per [`Direction`]
//!   ([`Registration::poll_ready`], [`Registration::poll_io`]) or through any number of
//!   [`Readiness`] futures ([`Registration::readiness`]).
//!
//! # Design
//!
//! 1. **Tokens carry a generation.** Registrations live in a `slab` behind one mutex
//!    (registering is rare). A token is the slab index in its low bits and a
//!    driver-wide generation in its high bits (`token.rs`), so an event that arrives
//!    after its registration was removed and the slot reused is ignored (no ABA). The
//!    driver's `mio::Waker` has a reserved token no registration can get.
//! 2. **One turn, one lock.** A turn looks up every event's registration under the
//!    table lock, clones its `Arc`, and dispatches outside the lock.
//! 3. **A readiness word with a tick** (`state.rs`). Each dispatch ORs the event's
//!    [`Ready`] flags into the registration's state word and stamps it with the turn
//!    number. A waiter reads flags and tick as a [`ReadyEvent`]; after `WouldBlock` it
//!    clears exactly those flags, and only if the tick is unchanged, so a clear never
//!    erases a newer event. Readiness is edge-triggered: it stays set until an
//!    operation reports `WouldBlock`, and operations drain until then.
//! 4. **Wakers.** One slot per [`Direction`] (the `AsyncRead` side and the `AsyncWrite`
//!    side) plus a list for [`Readiness`] futures (`waiters.rs`). The driver sets the
//!    state word before it takes the waiter lock; a waiter re-reads the word under that
//!    lock after storing its waker: no lost wake-up (`scheduled_io.rs`). Wakers run
//!    outside the lock, in batches of 32.
//! 5. **Closing.** A deregistered or dropped registration (`CLOSED`) and a shut-down
//!    driver (`SHUTDOWN`) wake every waiter; their next poll reports an error, so a
//!    pending `accept` on a dropped listener, or any I/O after the runtime is gone,
//!    fails instead of hanging.
//!
//! # Events
//!
//! Each registration is one resource (DESIGN.md §2):
//!
//! - `init` when [`IoHandle::register`] succeeds, with the current execution as
//!   trigger, the current async context, and the caller's location
//!   (`#[track_caller]`; wrappers pass theirs through [`IoHandle::register_at`]);
//! - each dispatch that wakes at least one waiter runs the wakers inside the
//!   resource's `before`/`after`, with the thread's execution frame set to it, so a
//!   task woken by a socket sees `wake(task, by = socket id)`; a dispatch that wakes no
//!   one only records readiness and emits nothing;
//! - `destroy` at [`Registration::deregister`] or drop. If a dispatch is in flight on
//!   the driver's thread at that moment, the driver emits `destroy` right after its
//!   `after` (the `DISPATCHING` / `CLOSED` bits of the state word), so `destroy` is
//!   always the last event of the id. A failed registration emits nothing.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use hookrt_hooks::{HookSet, ResourceKind};
//! use hookrt_io_driver::{Direction, IoDriver};
//! use mio::{net::UdpSocket, Interest};
//! use std::task::{Context, Poll, Waker};
//!
//! let (mut driver, handle) = IoDriver::new(HookSet::empty())?;
//! let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
//! let mut registration =
//!     handle.register(&mut socket, Interest::READABLE, ResourceKind::UdpSocket)?;
//!
//! std::net::UdpSocket::bind("127.0.0.1:0")?.send_to(b"ping", socket.local_addr()?)?;
//! let mut cx = Context::from_waker(Waker::noop());
//! let mut buf = [0; 16];
//! let (n, _from) = loop {
//!     match registration.poll_io(&mut cx, Direction::Read, || socket.recv_from(&mut buf)) {
//!         Poll::Ready(result) => break result?,
//!         Poll::Pending => {
//!             driver.turn(None)?;
//!         }
//!     }
//! };
//! assert_eq!(&buf[..n], b"ping");
//! registration.deregister(&mut socket)?;
//! # Ok(()) }
//! ```
//!
//! [`ResourceKind`]: hookrt_hooks::ResourceKind

mod driver;
mod handle;
pub(crate) mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_api;
mod readiness;
mod ready;
mod registration;
mod registrations;
mod scheduled_io;
mod state;
mod token;
mod waiters;

pub use driver::IoDriver;
pub use handle::IoHandle;
pub use readiness::Readiness;
pub use ready::{Direction, Ready, ReadyEvent};
pub use registration::Registration;
pub(crate) use scheduled_io::ScheduledIo;
