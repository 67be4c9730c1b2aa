//! `Registrations`: the table of a driver's live registrations, addressed by token.
//!
//! A `slab` of `Arc<ScheduledIo>` behind the driver's one mutex (see `handle.rs`).
//! Registering and deregistering are rare next to readiness events, so one lock is
//! enough: the driver takes it once per turn to look up every event's registration,
//! clones the `Arc`s and dispatches outside the lock.

use crate::loom::sync::Arc;
use crate::scheduled_io::ScheduledIo;
use crate::token::{self, MAX_REGISTRATIONS};
use mio::Token;
use slab::Slab;
use std::io;

/// See the module docs.
pub(crate) struct Registrations {
    slab: Slab<Arc<ScheduledIo>>,
    /// The generation the next registration gets.
    next_generation: usize,
    /// Set by the driver's shutdown; no registration is accepted afterwards.
    is_shutdown: bool,
}

impl Registrations {
    pub(crate) fn new() -> Registrations {
        Registrations {
            slab: Slab::new(),
            next_generation: 0,
            is_shutdown: false,
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown
    }

    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Stores the registration `make` builds for the token it is given. Fails after
    /// shutdown, or when the table is full.
    pub(crate) fn insert(
        &mut self,
        make: impl FnOnce(Token) -> ScheduledIo,
    ) -> io::Result<Arc<ScheduledIo>> {
        if self.is_shutdown {
            return Err(crate::state::shutdown_error());
        }
        let entry = self.slab.vacant_entry();
        if entry.key() >= MAX_REGISTRATIONS {
            return Err(io::Error::other(
                "hookrt: the I/O driver holds the maximum number of registrations",
            ));
        }
        let token = token::pack(entry.key(), self.next_generation);
        self.next_generation = token::next_generation(self.next_generation);
        let io = Arc::new(make(token));
        entry.insert(io.clone());
        Ok(io)
    }

    /// The registration `token` names, if it is still the one in its slot.
    pub(crate) fn get(&self, token: Token) -> Option<&Arc<ScheduledIo>> {
        self.slab
            .get(token::index(token))
            .filter(|io| io.token() == token)
    }

    /// Removes the registration `token` names, if it is still the one in its slot.
    pub(crate) fn remove(&mut self, token: Token) -> Option<Arc<ScheduledIo>> {
        self.get(token)?;
        Some(self.slab.remove(token::index(token)))
    }

    /// Marks the table shut down and hands back every registration still in it.
    pub(crate) fn shutdown(&mut self) -> Vec<Arc<ScheduledIo>> {
        self.is_shutdown = true;
        self.slab.drain().collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use hookrt_hooks::ResourceKind;
    use std::panic::Location;

    fn make(token: Token) -> ScheduledIo {
        ScheduledIo::new(token, ResourceKind::UdpSocket, Location::caller())
    }

    #[test]
    fn a_stale_token_finds_nothing_after_slot_reuse() {
        let mut regs = Registrations::new();
        let old = regs.insert(make).unwrap().token();
        assert!(regs.remove(old).is_some());
        let new = regs.insert(make).unwrap().token();
        assert_eq!(token::index(old), token::index(new), "the slot is reused");
        assert!(regs.get(old).is_none(), "the stale token is ignored");
        assert!(regs.remove(old).is_none(), "and removes nothing");
        assert!(regs.get(new).is_some());
        assert_eq!(regs.len(), 1);
    }

    #[test]
    fn no_registration_after_shutdown() {
        let mut regs = Registrations::new();
        regs.insert(make).unwrap();
        assert_eq!(regs.shutdown().len(), 1);
        assert!(regs.is_shutdown());
        assert!(regs.insert(make).is_err());
    }
}
