//! The borrowed view of a resource that every hook method receives.

use crate::{AsyncId, Context, HookData, ResourceKind};
use std::any::Any;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// A borrowed view of one asynchronous resource, read straight from the task header,
/// timer entry or socket registration that emits the event (no map lookup).
///
/// ```
/// use hookrt_hooks::{AsyncId, Context, Resource, ResourceKind};
/// let ctx = Context::empty();
/// let id = AsyncId::allocate();
/// let r = Resource::new(id, AsyncId::ROOT, ResourceKind::Task, &ctx).with_name(Some("worker"));
/// assert_eq!(r.id(), id);
/// assert_eq!(r.name(), Some("worker"));
/// ```
#[derive(Clone, Copy)]
pub struct Resource<'a> {
    id: AsyncId,
    trigger_id: AsyncId,
    kind: ResourceKind,
    name: Option<&'a str>,
    location: Option<&'static Location<'static>>,
    context: &'a Context,
    /// The resource's hook storage, if it has one.
    data: Option<&'a HookData>,
    /// Which cell of `data` belongs to the hook this view is given to, and how many
    /// cells the runtime's hooks need (set by the dispatcher).
    cell: u32,
    cells: u32,
    /// The cell's word belongs to a wrapper hook (see `without_word`).
    word_taken: bool,
}

impl<'a> Resource<'a> {
    /// A view with no name and no location. Drivers and tests build views with this;
    /// hooks only read them.
    #[inline]
    pub fn new(
        id: AsyncId,
        trigger_id: AsyncId,
        kind: ResourceKind,
        context: &'a Context,
    ) -> Resource<'a> {
        Resource {
            id,
            trigger_id,
            kind,
            name: None,
            location: None,
            context,
            data: None,
            cell: 0,
            cells: 1,
            word_taken: false,
        }
    }

    /// The same view with a name (a task builder's name, say).
    #[inline]
    pub fn with_name(self, name: Option<&'a str>) -> Resource<'a> {
        Resource { name, ..self }
    }

    /// The same view with the source location that created the resource.
    #[inline]
    pub fn with_location(self, location: Option<&'static Location<'static>>) -> Resource<'a> {
        Resource { location, ..self }
    }

    /// The same view with the resource's hook storage. Runtimes attach the storage
    /// each resource owns; a hook that forwards events to an inner hook (a filter, a
    /// sampler) can hand it storage of its own this way, as cell 0 of 1.
    #[inline]
    pub fn with_data(self, data: &'a HookData) -> Resource<'a> {
        Resource {
            data: Some(data),
            cell: 0,
            cells: 1,
            word_taken: false,
            ..self
        }
    }

    /// The same view without access to the cell's [`word`](Resource::word): what a
    /// hook that keeps the word for itself and forwards events to an inner hook
    /// (hookrt-observe's `Sampler` does) hands on, so the inner hook's `word` and
    /// `trigger_word` are `None` instead of the wrapper's state. Its
    /// [`data`](Resource::data) stays available to it.
    ///
    /// ```
    /// use hookrt_hooks::{AsyncId, Context, HookData, Resource, ResourceKind};
    /// use std::sync::atomic::Ordering;
    /// let (ctx, data) = (Context::empty(), HookData::new());
    /// let r = Resource::new(AsyncId::allocate(), AsyncId::ROOT, ResourceKind::Task, &ctx)
    ///     .with_data(&data);
    /// r.word().unwrap().store(1, Ordering::Relaxed);
    /// assert!(r.without_word().word().is_none());
    /// assert_eq!(r.word().unwrap().load(Ordering::Relaxed), 1);
    /// ```
    #[inline]
    pub fn without_word(self) -> Resource<'a> {
        Resource {
            word_taken: true,
            ..self
        }
    }

    /// The same view with another trigger id (a filter that hides part of a tree
    /// reports a resource as a root).
    #[inline]
    pub fn with_trigger_id(self, trigger_id: AsyncId) -> Resource<'a> {
        Resource { trigger_id, ..self }
    }

    /// The view handed to hook number `cell` of a set of `cells` hooks.
    #[inline]
    pub(crate) fn for_hook(&self, cell: usize, cells: usize) -> Resource<'a> {
        Resource {
            cell: cell as u32,
            cells: cells as u32,
            ..*self
        }
    }

    /// The value the calling hook stored on this resource with
    /// [`set_data`](Resource::set_data), if any and if it is a `T`.
    ///
    /// This is how a hook keeps per-resource state without a table: store a record at
    /// `init`, read it in every later event (one load and a type check), let it drop
    /// with the resource. The value lives until the resource's memory is freed, after
    /// its `destroy`.
    ///
    /// ```
    /// use hookrt_hooks::{Hook, Resource};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// #[derive(Default)]
    /// struct Polls(AtomicU64);
    ///
    /// struct CountPolls;
    /// impl Hook for CountPolls {
    ///     fn init(&self, r: &Resource<'_>) {
    ///         r.set_data(Polls::default());
    ///     }
    ///     fn before(&self, r: &Resource<'_>) {
    ///         if let Some(p) = r.data::<Polls>() {
    ///             p.0.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     }
    /// }
    /// ```
    #[inline]
    pub fn data<T: Any + Send + Sync>(&self) -> Option<&'a T> {
        self.data?.get(self.cell as usize)?.downcast_ref()
    }

    /// Stores `value` as the calling hook's data on this resource, unless the hook
    /// stored something already (each hook's cell is set at most once; the value is
    /// shared by every event of the resource, so use atomics or locks inside it for
    /// what changes). Returns what the cell holds afterwards if it is a `T`, and `None`
    /// when the resource has no storage (a view built without
    /// [`with_data`](Resource::with_data)).
    ///
    /// Events of one resource can run on several threads at once (a `wake` from
    /// another thread during a poll), so `T` is `Send + Sync`.
    pub fn set_data<T: Any + Send + Sync>(&self, value: T) -> Option<&'a T> {
        self.data?
            .set(self.cell as usize, self.cells as usize, Arc::new(value))?
            .downcast_ref()
    }

    /// The calling hook's data on this resource as a shared pointer, for a hook that
    /// keeps the value somewhere else too (a list of live resources, a child's record).
    pub fn data_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(self.data?.get(self.cell as usize)?)
            .downcast()
            .ok()
    }

    /// A word of per-resource state for the calling hook, zero until the hook stores
    /// something in it: no allocation, one load away from the resource (for a flag or
    /// a counter read on every event, where [`data`](Resource::data) would add a
    /// pointer to follow). `None` when the resource has no storage.
    #[inline]
    pub fn word(&self) -> Option<&'a std::sync::atomic::AtomicU64> {
        if self.word_taken {
            return None;
        }
        self.data?.word(self.cell as usize, self.cells as usize)
    }

    /// In `init`: the calling hook's [`word`](Resource::word) on this resource's
    /// trigger, under the same conditions as [`trigger_data`](Resource::trigger_data).
    pub fn trigger_word(&self) -> Option<u64> {
        if self.word_taken {
            return None;
        }
        let (cell, cells) = (self.cell as usize, self.cells as usize);
        let set = crate::hook_set::dispatching_init();
        crate::frame::with_running_data(self.trigger_id, set, |data| {
            Some(
                data.word(cell, cells)?
                    .load(std::sync::atomic::Ordering::Acquire),
            )
        })
    }

    /// In `init`: the calling hook's data on this resource's trigger, when the trigger
    /// is the resource running on this thread and belongs to the same runtime, which is
    /// the case for anything that running code creates (a spawned task, a timer, a
    /// socket). `None` otherwise (in other events, for a trigger of another runtime),
    /// or when the trigger has no such data.
    ///
    /// A hook uses this to link a child's record to its parent's at `init` (the
    /// parent's value is shared, so the child can keep it) without a lookup by id.
    pub fn trigger_data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let cell = self.cell as usize;
        let set = crate::hook_set::dispatching_init();
        crate::frame::with_running_data(self.trigger_id, set, |data| {
            Arc::clone(data.get(cell)?).downcast().ok()
        })
    }

    /// The resource's id.
    #[inline]
    pub fn id(&self) -> AsyncId {
        self.id
    }

    /// The execution that created the resource (Node's `triggerAsyncId`):
    /// [`AsyncId::ROOT`] when it was created outside any resource.
    #[inline]
    pub fn trigger_id(&self) -> AsyncId {
        self.trigger_id
    }

    /// The kind of the resource.
    #[inline]
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// The name given to the resource (`task::Builder::name`), if any.
    #[inline]
    pub fn name(&self) -> Option<&'a str> {
        self.name
    }

    /// Where in the source the resource was created (`spawn`, `sleep`, `connect` are
    /// `#[track_caller]`), if known.
    #[inline]
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.location
    }

    /// The resource's async context: for a task its own frame, for any other resource
    /// the frame that was current when it was created.
    #[inline]
    pub fn context(&self) -> &'a Context {
        self.context
    }
}

impl fmt::Debug for Resource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Resource");
        s.field("id", &self.id)
            .field("trigger_id", &self.trigger_id)
            .field("kind", &self.kind);
        if let Some(name) = self.name {
            s.field("name", &name);
        }
        if let Some(loc) = self.location {
            s.field("location", &format_args!("{loc}"));
        }
        s.finish()
    }
}
