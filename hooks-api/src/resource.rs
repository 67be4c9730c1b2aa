//! The borrowed view of a resource that every hook method receives.

use crate::{AsyncId, Context, ResourceKind};
use std::fmt;
use std::panic::Location;

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
