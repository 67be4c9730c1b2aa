//! The async-hooks API: what a hook is, what it is told, and the execution frame.
//!
//! Register hooks with [`Builder::hook`](crate::runtime::Builder::hook).

pub use hookrt_hooks::{
    execution_async_id, trigger_async_id, AsyncId, AsyncResource, Hook, HookData, HookPanic,
    Ledger, LedgerEvent, LedgerReport, Resource, ResourceKind,
};
