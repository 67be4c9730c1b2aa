//! The loom switch: std's atomics and mutex normally, loom's under `cfg(loom)`.
//!
//! Everything the readiness protocol shares between the driver and a registration's
//! owner (the state word, the waiter lists, the registration table) goes through this
//! module, so the loom models in `tests/loom_readiness.rs` explore the real code.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
}
