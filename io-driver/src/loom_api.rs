//! The surface the loom models in `tests/loom_readiness.rs` drive (only under
//! `cfg(loom)`): one registration's shared state without mio, so a model can play the
//! driver (`dispatch`, `shutdown`) and the owner (`poll_ready`, `poll_io`,
//! `clear_readiness`, `readiness`, `close`) on loom threads. Every method is the real
//! code the driver and `Registration` run.

use crate::loom::sync::Arc;
use crate::scheduled_io::ScheduledIo;
use crate::{Direction, Readiness, Ready, ReadyEvent};
use hookrt_hooks::{AsyncId, HookSet, ResourceKind};
use mio::{Interest, Token};
use std::io;
use std::panic::Location;
use std::task::{Context, Poll};

/// One registration's shared state, as the driver and the owner see it.
#[derive(Debug)]
pub struct LoomIo {
    io: Arc<ScheduledIo>,
    hooks: HookSet,
}

impl LoomIo {
    /// A registration reporting to `hooks`; emits its `init`.
    #[track_caller]
    pub fn new(hooks: HookSet) -> LoomIo {
        let io = Arc::new(ScheduledIo::new(
            Token(0),
            ResourceKind::Custom("LoomIo"),
            Location::caller(),
        ));
        hooks.init(&io.resource());
        LoomIo { io, hooks }
    }

    /// The resource's id.
    pub fn id(&self) -> AsyncId {
        self.io.id()
    }

    /// Driver: an event with `ready` in turn `tick` (`ScheduledIo::dispatch`).
    pub fn dispatch(&self, tick: u32, ready: Ready) -> bool {
        self.io.dispatch(tick, ready, &self.hooks)
    }

    /// Driver: shut down.
    pub fn shutdown(&self) {
        self.io.shutdown();
    }

    /// Owner: `Registration::poll_ready`.
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.io.poll_ready(cx, direction)
    }

    /// Owner: `Registration::poll_io`.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.io.poll_io(cx, direction, f)
    }

    /// Owner: `Registration::clear_readiness`.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// Owner: `Registration::readiness`.
    pub fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness::new(&self.io, Ready::from_interest(interest))
    }

    /// Owner: what deregistering or dropping the `Registration` does to the shared
    /// state (close, wake every waiter, `destroy` unless a dispatch is in flight). Call
    /// it once.
    pub fn close(&self) {
        self.io.close(&self.hooks);
    }
}
