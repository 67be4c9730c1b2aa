//! `AsyncResource`: a user-defined resource with the full event lifecycle.

use crate::{
    execution_async_id, frame, AsyncId, Context, HookData, HookSet, Resource, ResourceKind,
};
use std::fmt;
use std::panic::Location;

/// A resource defined by user code (Node's `AsyncResource`), of kind
/// [`ResourceKind::Custom`].
///
/// Use it to attribute callback-style work to the execution that asked for it: a
/// connection pool creates one `AsyncResource` per checkout request, and runs the
/// callback that hands out the connection in [`in_scope`](AsyncResource::in_scope), so
/// the callback sees the requester's id and context.
///
/// - `new` emits `init`, with the current execution as trigger and the current context
///   captured;
/// - `in_scope(f)` emits `before`, runs `f` with this resource as the execution frame
///   (and its captured context), then emits `after` (also when `f` panics);
/// - dropping it emits `destroy`.
///
/// Events go to the hooks of the runtime that was current at `new` (none outside a
/// runtime).
///
/// ```
/// use hookrt_hooks::{execution_async_id, AsyncResource};
/// let resource = AsyncResource::new("db-checkout");
/// let inside = resource.in_scope(execution_async_id);
/// assert_eq!(inside, resource.id());
/// ```
pub struct AsyncResource {
    id: AsyncId,
    trigger_id: AsyncId,
    kind: ResourceKind,
    context: Context,
    location: &'static Location<'static>,
    hook_data: HookData,
    hooks: HookSet,
}

impl AsyncResource {
    /// Creates the resource and emits `init`.
    #[track_caller]
    pub fn new(name: &'static str) -> AsyncResource {
        let resource = AsyncResource {
            id: AsyncId::allocate(),
            trigger_id: execution_async_id(),
            kind: ResourceKind::Custom(name),
            context: Context::current(),
            location: Location::caller(),
            hook_data: HookData::new(),
            hooks: HookSet::current(),
        };
        resource.hooks.init(&resource.view());
        resource
    }

    /// The resource's id.
    pub fn id(&self) -> AsyncId {
        self.id
    }

    /// The execution that created the resource.
    pub fn trigger_id(&self) -> AsyncId {
        self.trigger_id
    }

    /// The context captured at creation.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Runs `f` as this resource: `before`, then `f` with the execution frame set to
    /// this resource (its id, its trigger id, its captured context), then `after`.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut frame = frame::enter_ref(self.id, self.trigger_id, &self.context);
        // SAFETY: `self` outlives the guard, dropped at the end of this function.
        unsafe { frame.set_data(&self.hook_data, &self.hooks) };
        self.hooks.before(&self.view());
        let _after = EmitAfter(self);
        f()
    }

    fn view(&self) -> Resource<'_> {
        Resource::new(self.id, self.trigger_id, self.kind, &self.context)
            .with_location(Some(self.location))
            .with_data(&self.hook_data)
    }
}

/// Emits `after` on drop, so the bracket closes even when the closure unwinds.
struct EmitAfter<'a>(&'a AsyncResource);

impl Drop for EmitAfter<'_> {
    fn drop(&mut self) {
        self.0.hooks.after(&self.0.view());
    }
}

impl Drop for AsyncResource {
    fn drop(&mut self) {
        self.hooks.destroy(&self.view());
    }
}

impl fmt::Debug for AsyncResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResource")
            .field("id", &self.id)
            .field("trigger_id", &self.trigger_id)
            .field("kind", &self.kind)
            .finish()
    }
}
