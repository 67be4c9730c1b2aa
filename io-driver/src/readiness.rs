//! `Readiness`: the future of `Registration::readiness`, a list waiter.

use crate::scheduled_io::ScheduledIo;
use crate::{Ready, ReadyEvent};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Resolves once the registration has readiness in a mask (see
/// [`Registration::readiness`](crate::Registration::readiness)), or with an error once
/// it is deregistered or its driver shut down. Dropping it removes its waiter.
#[must_use = "futures do nothing unless polled"]
pub struct Readiness<'a> {
    io: &'a ScheduledIo,
    mask: Ready,
    /// The waiter's slot in the registration's list, while it waits.
    key: Option<usize>,
}

impl<'a> Readiness<'a> {
    pub(crate) fn new(io: &'a ScheduledIo, mask: Ready) -> Readiness<'a> {
        Readiness {
            io,
            mask,
            key: None,
        }
    }
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.io.poll_readiness(cx, this.mask, &mut this.key)
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.io.remove_waiter(key);
        }
    }
}

impl fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("mask", &self.mask)
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
