//! `HookSet`: the immutable list of hooks a runtime dispatches to, with panic guards.

use crate::{AsyncId, Hook, Resource};
use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU16, AtomicU8, Ordering};
use std::sync::Arc;

/// What happens when a hook panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookPanic {
    /// Report the panic once on stderr with the hook's type name, disable that hook, and
    /// go on; the other hooks keep receiving every event. The default.
    #[default]
    Disable,
    /// Report the panic and abort the process, as Node does for an exception thrown in
    /// an async hook.
    Abort,
}

/// The hooks of one runtime, fixed when the runtime is built.
///
/// The set never changes afterwards, so dispatch takes no lock. An empty set is a null
/// pointer: every dispatch method then costs one predictable branch. Cloning shares the
/// set.
#[derive(Clone, Default)]
pub struct HookSet {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    slots: Box<[Slot]>,
    on_panic: HookPanic,
    /// The union of every slot's `interest`: an event no hook implements is skipped
    /// before the slots are looked at.
    interest: AtomicU8,
}

/// The six events, as interest bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Init,
    Before,
    After,
    Resolve,
    Destroy,
    Wake,
}

/// Where the "known to implement" bits start in a slot's interest word.
const KNOWN_SHIFT: u32 = 8;

impl Event {
    const ALL: u8 = 0b11_1111;

    #[inline]
    fn bit(self) -> u16 {
        1 << self as u16
    }

    fn name(self) -> &'static str {
        match self {
            Event::Init => "init",
            Event::Before => "before",
            Event::After => "after",
            Event::Resolve => "resolve",
            Event::Destroy => "destroy",
            Event::Wake => "wake",
        }
    }
}

thread_local! {
    /// Set by the default (empty) body of every `Hook` method to the type of the hook it
    /// ran for, read and cleared by the dispatcher right after the call: how a hook's
    /// unimplemented methods are found. The type is compared with the registered
    /// hook's, so a hook that forwards to other hooks (a composite, a filter) is never
    /// mistaken for one that does not implement the method.
    static DEFAULT_RAN: Cell<Option<TypeId>> = const { Cell::new(None) };
}

thread_local! {
    /// The address of the set whose `init` is being dispatched on this thread (0 when
    /// none). Hook panics are caught inside the dispatch, so it is always restored.
    static DISPATCHING_INIT: Cell<usize> = const { Cell::new(0) };
}

/// The address of the hook set dispatching an `init` on this thread (0 when none).
pub(crate) fn dispatching_init() -> usize {
    DISPATCHING_INIT.try_with(Cell::get).unwrap_or(0)
}

/// Called by the default bodies of [`Hook`]'s methods.
pub(crate) fn default_method_ran<H: ?Sized + 'static>() {
    let _ = DEFAULT_RAN.try_with(|ran| ran.set(Some(TypeId::of::<H>())));
}

/// Called by the pure forwarding impls (`Arc<H>`, `Box<H>`): the inner hook's default
/// ran, so the wrapper does not implement the method either.
pub(crate) fn relay_default<Inner: ?Sized + 'static, Wrapper: ?Sized + 'static>() {
    let _ = DEFAULT_RAN.try_with(|ran| {
        if ran.get() == Some(TypeId::of::<Inner>()) {
            ran.set(Some(TypeId::of::<Wrapper>()));
        }
    });
}

struct Slot {
    hook: Box<dyn Hook>,
    type_name: &'static str,
    /// The registered hook's type (see `DEFAULT_RAN`).
    type_id: TypeId,
    /// The events this hook still receives (bits 0..6, one per event), and the events
    /// it is known to implement (the same bits shifted by `KNOWN_SHIFT`). An interest
    /// bit is cleared when the hook turns out not to implement that method (its default
    /// body ran), and every bit when it panics and is disabled.
    interest: AtomicU16,
}

/// Collects hooks for a [`HookSet`].
#[derive(Default)]
pub struct HookSetBuilder {
    slots: Vec<Slot>,
    on_panic: HookPanic,
}

impl HookSetBuilder {
    /// An empty builder.
    pub fn new() -> HookSetBuilder {
        HookSetBuilder::default()
    }

    /// Adds a hook; hooks are called in the order they were added.
    pub fn hook<H: Hook>(&mut self, hook: H) -> &mut Self {
        self.slots.push(Slot {
            hook: Box::new(hook),
            type_name: std::any::type_name::<H>(),
            interest: AtomicU16::new(Event::ALL as u16),
            type_id: TypeId::of::<H>(),
        });
        self
    }

    /// Sets what a panicking hook does (default [`HookPanic::Disable`]).
    pub fn on_panic(&mut self, policy: HookPanic) -> &mut Self {
        self.on_panic = policy;
        self
    }

    /// The number of hooks added so far.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no hook was added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Freezes the hooks added so far into a set, leaving the builder empty.
    pub fn build(&mut self) -> HookSet {
        let slots = std::mem::take(&mut self.slots);
        if slots.is_empty() {
            return HookSet::empty();
        }
        HookSet {
            inner: Some(Arc::new(Inner {
                slots: slots.into_boxed_slice(),
                on_panic: self.on_panic,
                interest: AtomicU8::new(Event::ALL),
            })),
        }
    }
}

impl fmt::Debug for HookSetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookSetBuilder")
            .field(
                "hooks",
                &self.slots.iter().map(|s| s.type_name).collect::<Vec<_>>(),
            )
            .field("on_panic", &self.on_panic)
            .finish()
    }
}

thread_local! {
    /// The hook set of the runtime this thread is working for, if any.
    static CURRENT: Cell<HookSet> = const { Cell::new(HookSet { inner: None }) };
    /// The address of `CURRENT`'s set (0 when empty), for `is_current` without touching
    /// the reference-counted value (a destructor-free thread-local: one load).
    static CURRENT_ADDRESS: Cell<usize> = const { Cell::new(0) };
}

impl HookSet {
    /// The set with no hook.
    pub const fn empty() -> HookSet {
        HookSet { inner: None }
    }

    /// Whether the set has no hook. Drivers test this before building a [`Resource`]
    /// view, so an unhooked runtime pays one branch per event site.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_none()
    }

    /// The number of hooks, disabled ones included.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.slots.len())
    }

    /// The hook set of the runtime the current thread works for (empty outside any
    /// runtime). [`AsyncResource`](crate::AsyncResource) reports to this set.
    pub fn current() -> HookSet {
        CURRENT
            .try_with(|c| {
                let set = c.take();
                let copy = set.clone();
                c.set(set);
                copy
            })
            .unwrap_or_default()
    }

    /// Whether this is the current thread's hook set (the same set, not an equal one),
    /// without cloning it. A waker firing on a thread of another runtime uses this to
    /// report `wake(.., by = ROOT)` instead of an execution id this set's hooks never
    /// saw.
    #[inline]
    pub fn is_current(&self) -> bool {
        CURRENT_ADDRESS
            .try_with(|c| c.get() == self.address())
            .unwrap_or(false)
    }

    /// The set's identity (0 when empty).
    #[inline]
    pub(crate) fn address(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| Arc::as_ptr(i) as usize)
    }

    /// Makes this the current thread's hook set until the guard drops. Runtimes call
    /// this on their threads and inside `block_on`.
    pub fn enter(&self) -> HookSetGuard {
        let previous = CURRENT.try_with(|c| c.replace(self.clone())).ok();
        let _ = CURRENT_ADDRESS.try_with(|c| c.set(self.address()));
        HookSetGuard { previous }
    }

    /// Whether some hook of the set implements `wake`: a scheduler skips working out
    /// who woke a task when nobody will be told.
    #[inline]
    pub fn wants_wake(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| u16::from(i.interest.load(Ordering::Relaxed)) & Event::Wake.bit() != 0)
    }

    /// Dispatches [`Hook::init`].
    #[inline]
    pub fn init(&self, r: &Resource<'_>) {
        if let Some(inner) = self.wanting(Event::Init) {
            // `trigger_data` hands out the trigger's cells only to this set's hooks.
            let outer = DISPATCHING_INIT.try_with(|d| d.replace(self.address()));
            inner.dispatch(Event::Init, r, |h, r| h.init(r));
            if let Ok(outer) = outer {
                let _ = DISPATCHING_INIT.try_with(|d| d.set(outer));
            }
        }
    }

    /// Dispatches [`Hook::before`].
    #[inline]
    pub fn before(&self, r: &Resource<'_>) {
        self.before_with(|| *r);
    }

    /// Dispatches [`Hook::after`].
    #[inline]
    pub fn after(&self, r: &Resource<'_>) {
        self.after_with(|| *r);
    }

    /// Dispatches [`Hook::resolve`].
    #[inline]
    pub fn resolve(&self, r: &Resource<'_>) {
        self.resolve_with(|| *r);
    }

    /// Dispatches [`Hook::destroy`].
    #[inline]
    pub fn destroy(&self, r: &Resource<'_>) {
        self.destroy_with(|| *r);
    }

    /// Dispatches [`Hook::wake`].
    #[inline]
    pub fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        self.wake_with(|| *r, by);
    }

    /// As [`before`](HookSet::before), building the view only when some hook wants
    /// the event (a scheduler's hot path: nothing is read for an unhooked runtime or an
    /// event no hook implements).
    #[inline]
    pub fn before_with<'a>(&self, view: impl FnOnce() -> Resource<'a>) {
        self.emit(Event::Before, view, |h, r| h.before(r));
    }

    /// As [`after`](HookSet::after), building the view only when needed.
    #[inline]
    pub fn after_with<'a>(&self, view: impl FnOnce() -> Resource<'a>) {
        self.emit(Event::After, view, |h, r| h.after(r));
    }

    /// As [`resolve`](HookSet::resolve), building the view only when needed.
    #[inline]
    pub fn resolve_with<'a>(&self, view: impl FnOnce() -> Resource<'a>) {
        self.emit(Event::Resolve, view, |h, r| h.resolve(r));
    }

    /// As [`destroy`](HookSet::destroy), building the view only when needed.
    #[inline]
    pub fn destroy_with<'a>(&self, view: impl FnOnce() -> Resource<'a>) {
        self.emit(Event::Destroy, view, |h, r| h.destroy(r));
    }

    /// As [`wake`](HookSet::wake), building the view only when needed.
    #[inline]
    pub fn wake_with<'a>(&self, view: impl FnOnce() -> Resource<'a>, by: AsyncId) {
        self.emit(Event::Wake, view, |h, r| h.wake(r, by));
    }

    /// The one path of every event but `init`: the interest check, then the view, then
    /// the hooks.
    #[inline(always)]
    fn emit<'a>(
        &self,
        event: Event,
        view: impl FnOnce() -> Resource<'a>,
        call: impl Fn(&dyn Hook, &Resource<'_>),
    ) {
        if let Some(inner) = self.wanting(event) {
            inner.dispatch(event, &view(), call);
        }
    }

    #[inline(always)]
    fn wanting(&self, event: Event) -> Option<&Inner> {
        self.inner
            .as_deref()
            .filter(|i| u16::from(i.interest.load(Ordering::Relaxed)) & event.bit() != 0)
    }
}

impl Inner {
    /// The call of a lone hook, inlined at every event site, or of several (the
    /// caller checked the set's interest with `HookSet::wanting`).
    #[inline(always)]
    fn dispatch(&self, event: Event, r: &Resource<'_>, call: impl Fn(&dyn Hook, &Resource<'_>)) {
        match &*self.slots {
            // One hook: `r` itself (its data cell is cell 0 of 1, as built).
            [slot] => self.call_slot(slot, event, r, &call),
            _ => self.dispatch_to_slots(event, r, call),
        }
    }

    /// Calls every interested hook with its own view of `r`: one copy whose cell index
    /// follows the hook.
    #[inline(never)]
    fn dispatch_to_slots(
        &self,
        event: Event,
        r: &Resource<'_>,
        call: impl Fn(&dyn Hook, &Resource<'_>),
    ) {
        let n = self.slots.len();
        let mut view = *r;
        for (i, slot) in self.slots.iter().enumerate() {
            view = view.for_hook(i, n);
            self.call_slot(slot, event, &view, &call);
        }
    }

    #[inline(always)]
    fn call_slot(
        &self,
        slot: &Slot,
        event: Event,
        r: &Resource<'_>,
        call: &impl Fn(&dyn Hook, &Resource<'_>),
    ) {
        let bit = event.bit();
        let bits = slot.interest.load(Ordering::Relaxed);
        if bits & bit == 0 {
            return;
        }
        if bits & (bit << KNOWN_SHIFT) == 0 {
            // First calls of this method: find out whether the hook implements it.
            self.call_and_learn(slot, event, &|h| call(h, r));
            return;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| call(&*slot.hook, r))) {
            self.on_hook_panic(slot, event.name(), payload);
        }
    }

    /// Calls `slot`'s hook, then records whether the method is implemented (its default
    /// body did not run: the event's *known* bit is set, and later calls skip this
    /// check) or not (the event's interest bit is cleared).
    #[cold]
    #[inline(never)]
    fn call_and_learn(&self, slot: &Slot, event: Event, call: &dyn Fn(&dyn Hook)) {
        // Cleared first: a default body run outside the dispatcher (a hook calling
        // another hook's method directly) must not be read as this call's.
        let _ = DEFAULT_RAN.try_with(|ran| ran.set(None));
        let outcome = catch_unwind(AssertUnwindSafe(|| call(&*slot.hook)));
        let default_ran = DEFAULT_RAN.try_with(Cell::take).ok().flatten();
        if default_ran == Some(slot.type_id) {
            // The hook does not implement this method: stop calling it (Node only calls
            // the callbacks a hook provides).
            slot.interest.fetch_and(!event.bit(), Ordering::Relaxed);
            self.recompute_interest();
        } else if outcome.is_ok() {
            slot.interest
                .fetch_or(event.bit() << KNOWN_SHIFT, Ordering::Relaxed);
        }
        if let Err(payload) = outcome {
            self.on_hook_panic(slot, event.name(), payload);
        }
    }

    /// The union of the slots' interests.
    fn recompute_interest(&self) {
        let union = self
            .slots
            .iter()
            .fold(0, |acc, slot| acc | slot.interest.load(Ordering::Relaxed));
        self.interest
            .store(union as u8 & Event::ALL, Ordering::Relaxed);
    }

    #[cold]
    fn on_hook_panic(&self, slot: &Slot, event: &'static str, payload: Box<dyn Any + Send>) {
        let message = panic_message(&*payload);
        match self.on_panic {
            HookPanic::Abort => {
                eprintln!(
                    "hookrt: hook `{}` panicked in `{event}`: {message}; aborting \
                     (HookPanic::Abort is set on this runtime)",
                    slot.type_name
                );
                std::process::abort();
            }
            HookPanic::Disable => {
                // Only the first panic is reported: the hook is skipped afterwards, and a
                // racing panic on another thread loses the swap.
                if slot.interest.swap(0, Ordering::Relaxed) != 0 {
                    self.recompute_interest();
                    eprintln!(
                        "hookrt: hook `{}` panicked in `{event}`: {message}; the hook is \
                         disabled and the runtime goes on (use \
                         `Builder::on_hook_panic(HookPanic::Abort)` to abort instead)",
                        slot.type_name
                    );
                }
            }
        }
    }
}

/// The text of a panic payload, for reports.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

impl fmt::Debug for HookSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        if let Some(inner) = &self.inner {
            for slot in inner.slots.iter() {
                list.entry(&slot.type_name);
            }
        }
        list.finish()
    }
}

/// Restores the previous current [`HookSet`] when dropped. Returned by
/// [`HookSet::enter`].
#[must_use = "the hook set is left as soon as the guard is dropped"]
pub struct HookSetGuard {
    previous: Option<HookSet>,
}

impl Drop for HookSetGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            let address = previous.address();
            let _ = CURRENT.try_with(|c| c.replace(previous));
            let _ = CURRENT_ADDRESS.try_with(|c| c.set(address));
        }
    }
}

impl fmt::Debug for HookSetGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookSetGuard").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, ResourceKind};
    use std::sync::atomic::AtomicUsize;

    struct Panics;
    impl Hook for Panics {
        fn init(&self, _r: &Resource<'_>) {
            panic!("boom");
        }
    }

    #[derive(Default)]
    struct Counts(AtomicUsize);
    impl Hook for Counts {
        fn init(&self, _r: &Resource<'_>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_panicking_hook_is_disabled_and_others_go_on() {
        let counts = Arc::new(Counts::default());
        let set = HookSetBuilder::new()
            .hook(Panics)
            .hook(counts.clone())
            .build();
        let ctx = Context::empty();
        let r = Resource::new(AsyncId::allocate(), AsyncId::ROOT, ResourceKind::Task, &ctx);
        set.init(&r);
        set.init(&r);
        assert_eq!(counts.0.load(Ordering::Relaxed), 2);
        let inner = set.inner.as_ref().unwrap();
        assert_eq!(
            inner.slots[0].interest.load(Ordering::Relaxed),
            0,
            "disabled"
        );
        assert_ne!(inner.slots[1].interest.load(Ordering::Relaxed), 0);
    }

    #[derive(Default)]
    struct InitOnly(AtomicUsize);
    impl Hook for InitOnly {
        fn init(&self, _r: &Resource<'_>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forwards `init` and `before` to two hooks, like a composite or a filter would.
    struct Both(Arc<InitOnly>, Arc<Counts>);
    impl Hook for Both {
        fn init(&self, r: &Resource<'_>) {
            self.0.init(r);
            self.1.init(r);
        }
        fn before(&self, r: &Resource<'_>) {
            self.0.before(r); // InitOnly's default `before` runs
            self.1.before(r);
        }
    }

    /// The slot's interest bits (without the "known" bits).
    fn interest(set: &HookSet, slot: usize) -> u8 {
        set.inner.as_ref().unwrap().slots[slot]
            .interest
            .load(Ordering::Relaxed) as u8
            & Event::ALL
    }

    #[test]
    fn methods_a_hook_does_not_implement_stop_being_called() {
        struct Noop;
        impl Hook for Noop {}
        let init_only = Arc::new(InitOnly::default());
        let set = HookSetBuilder::new()
            .hook(Noop)
            .hook(init_only.clone())
            .build();
        let ctx = Context::empty();
        let r = Resource::new(AsyncId::allocate(), AsyncId::ROOT, ResourceKind::Task, &ctx);
        assert!(set.wants_wake());
        for _ in 0..3 {
            set.init(&r);
            set.before(&r);
            set.after(&r);
            set.wake(&r, AsyncId::ROOT);
        }
        assert_eq!(init_only.0.load(Ordering::Relaxed), 3);
        assert_eq!(
            interest(&set, 0),
            Event::ALL & !0b10_0111,
            "noop: only unseen events"
        );
        assert_eq!(
            interest(&set, 1),
            Event::ALL & !0b10_0110,
            "Arc<InitOnly>: init + unseen"
        );
        assert!(!set.wants_wake());
    }

    #[test]
    fn a_forwarding_hook_keeps_its_interest() {
        let init_only = Arc::new(InitOnly::default());
        let counts = Arc::new(Counts::default());
        let set = HookSetBuilder::new()
            .hook(Both(init_only.clone(), counts.clone()))
            .build();
        let ctx = Context::empty();
        let r = Resource::new(AsyncId::allocate(), AsyncId::ROOT, ResourceKind::Task, &ctx);
        for _ in 0..3 {
            set.init(&r);
            set.before(&r);
        }
        assert_eq!(init_only.0.load(Ordering::Relaxed), 3);
        assert_eq!(counts.0.load(Ordering::Relaxed), 3);
        assert_eq!(
            interest(&set, 0),
            Event::ALL,
            "Both implements init and before"
        );
    }

    #[test]
    fn empty_builder_gives_empty_set() {
        assert!(HookSetBuilder::new().build().is_empty());
        assert!(HookSet::current().is_empty());
    }
}
