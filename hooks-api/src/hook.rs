//! The `Hook` trait: what a runtime tells an observer about its resources.

use crate::{AsyncId, Resource};
use std::sync::Arc;

/// An observer of resource lifecycle events, registered when a runtime is built
/// (`Builder::hook`). Every method has an empty default, so a hook implements only what
/// it needs.
///
/// For every resource id the runtime guarantees: [`init`](Hook::init) exactly once and
/// first; [`before`](Hook::before)/[`after`](Hook::after) in pairs that nest properly on
/// each thread; [`destroy`](Hook::destroy) exactly once and last. Hook methods run on the
/// runtime's threads, on the hot path: keep them short, and never block in them.
///
/// A hook that panics is reported once on stderr and disabled; the runtime goes on.
///
/// ```
/// use hookrt_hooks::{Hook, Resource};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[derive(Default)]
/// struct CountInits(AtomicUsize);
///
/// impl Hook for CountInits {
///     fn init(&self, _r: &Resource<'_>) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait Hook: Send + Sync + 'static {
    /// The resource was created. Runs synchronously at creation, on the creating thread,
    /// before the resource can run (Node's `init`).
    fn init(&self, r: &Resource<'_>) {
        let _ = r;
        crate::hook_set::default_method_ran::<Self>();
    }

    /// The resource's code is about to run: a poll of a task, a firing of a timer, a
    /// readiness dispatch of a socket (Node's `before`).
    fn before(&self, r: &Resource<'_>) {
        let _ = r;
        crate::hook_set::default_method_ran::<Self>();
    }

    /// The resource's code has finished running, pairing the last [`before`](Hook::before)
    /// on this thread (Node's `after`).
    fn after(&self, r: &Resource<'_>) {
        let _ = r;
        crate::hook_set::default_method_ran::<Self>();
    }

    /// A task's future returned `Ready` (Node's `promiseResolve`).
    fn resolve(&self, r: &Resource<'_>) {
        let _ = r;
        crate::hook_set::default_method_ran::<Self>();
    }

    /// The resource is gone: the task's future was dropped, the timer or socket was
    /// dropped. The last event for this id (Node's `destroy`).
    fn destroy(&self, r: &Resource<'_>) {
        let _ = r;
        crate::hook_set::default_method_ran::<Self>();
    }

    /// Task `r` was scheduled to run by the execution `by`: a timer, a socket, another
    /// task, or [`AsyncId::ROOT`] for a thread outside the runtime.
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        let _ = (r, by);
        crate::hook_set::default_method_ran::<Self>();
    }
}

impl<H: Hook + ?Sized> Hook for Arc<H> {
    fn init(&self, r: &Resource<'_>) {
        (**self).init(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn before(&self, r: &Resource<'_>) {
        (**self).before(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn after(&self, r: &Resource<'_>) {
        (**self).after(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn resolve(&self, r: &Resource<'_>) {
        (**self).resolve(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn destroy(&self, r: &Resource<'_>) {
        (**self).destroy(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        (**self).wake(r, by);
        crate::hook_set::relay_default::<H, Self>();
    }
}

impl<H: Hook + ?Sized> Hook for Box<H> {
    fn init(&self, r: &Resource<'_>) {
        (**self).init(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn before(&self, r: &Resource<'_>) {
        (**self).before(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn after(&self, r: &Resource<'_>) {
        (**self).after(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn resolve(&self, r: &Resource<'_>) {
        (**self).resolve(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn destroy(&self, r: &Resource<'_>) {
        (**self).destroy(r);
        crate::hook_set::relay_default::<H, Self>();
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        (**self).wake(r, by);
        crate::hook_set::relay_default::<H, Self>();
    }
}
