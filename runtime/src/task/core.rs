//! The part of the cell that knows the future's type: the scheduler handle and the stage.

use super::JoinError;
use crate::loom::UnsafeCell;
use std::future::Future;

/// The scheduler handle and the future or its outcome.
pub(crate) struct Core<F: Future, S> {
    /// The runtime the task belongs to.
    pub(crate) scheduler: S,
    /// Owned by whoever holds `RUNNING`, or, after `COMPLETE`, by the `JoinHandle` when
    /// join interest was set at completion and by the runner otherwise.
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

/// Where the task is in its life.
pub(crate) enum Stage<F: Future> {
    /// The future, not yet finished.
    Running(F),
    /// The outcome, waiting for the `JoinHandle`.
    Finished(Result<F::Output, JoinError>),
    /// Future and output are gone (or the future is being dropped right now).
    Consumed,
}
