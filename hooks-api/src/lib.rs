//! The async-hooks vocabulary of hookrt.
//!
//! This crate defines what every part of the runtime speaks when it reports on its
//! resources, and nothing else: it knows no scheduler, timer or socket.
//!
//! - [`AsyncId`]: a process-unique, never-reused resource id; [`AsyncId::ROOT`] is
//!   "outside any resource".
//! - [`ResourceKind`] and [`Resource`]: what a hook is told about.
//! - [`Hook`]: `init / before / after / resolve / destroy / wake`, and [`HookSet`], the
//!   immutable, panic-guarded list of hooks a runtime dispatches to.
//! - The per-thread execution frame: [`execution_async_id`], [`trigger_async_id`],
//!   [`enter`].
//! - [`HookData`]: the storage a resource carries for its hooks' per-resource state.
//! - [`Context`]: the immutable, reference-counted async context frame that tasks carry.
//! - [`AsyncResource`]: user-defined resources.
//! - [`Ledger`]: a hook that checks the event invariants, for tests.

mod async_resource;
mod context;
mod frame;
mod hook;
mod hook_data;
mod hook_set;
mod id;
mod kind;
mod ledger;
mod local_storage;
mod resource;

pub use async_resource::AsyncResource;
pub use context::{Context, Scoped};
pub use frame::{
    enter, enter_ref, enter_ref_with_data, execution_async_id, trigger_async_id, FrameGuard,
};
pub use hook::Hook;
pub use hook_data::HookData;
pub use hook_set::{HookPanic, HookSet, HookSetBuilder, HookSetGuard};
pub use id::AsyncId;
pub use kind::ResourceKind;
pub use ledger::{Ledger, LedgerEvent, LedgerReport};
pub use local_storage::LocalStorage;
pub use resource::Resource;
