//! `EventLog`: a hook that records events, and the exactly-once checks on them.

use hookrt_hooks::{AsyncId, Hook, HookSet, HookSetBuilder, Resource};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// One hook event, as recorded for a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `init`: the resource was created.
    Init,
    /// `before`: a poll starts.
    Before,
    /// `after`: a poll ended.
    After,
    /// `resolve`: the future returned `Ready`.
    Resolve,
    /// `destroy`: the future is gone.
    Destroy,
    /// `wake`: someone scheduled the task.
    Wake,
}

/// A hook that appends every event to a log, for checks after the model's threads
/// joined.
///
/// Each event first does a `Relaxed` read-modify-write on one loom atomic. That makes
/// the hook call a point where loom may switch threads, as a real hook (which takes
/// time) is: without it, the code between a state transition and the event it emits
/// would look atomic to loom, and an event emitted too late (a `wake` after `destroy`)
/// could never be caught. Being `Relaxed`, it creates no happens-before edge, so it
/// cannot hide a missing one in the runtime.
///
/// The log itself is a **std** mutex on purpose: loom runs a model's threads as
/// coroutines on one OS thread, so the lock is never contended, and being invisible to
/// loom it adds neither interleavings nor synchronisation. The order of the log is the
/// order loom ran the events in.
///
/// The checks do not run inside the hook: `HookSet` catches a panicking hook (and
/// disables it), so an assertion there would be swallowed.
///
/// Execution ids (`wake`'s `by`, the execution frame) are not recorded: the frame is a
/// std thread-local, shared by all of a model's threads.
#[derive(Clone, Debug, Default)]
pub struct EventLog(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Touched by every event: the preemption point (see the type's docs).
    events: loom::sync::atomic::AtomicUsize,
    log: Mutex<Vec<(AsyncId, Event)>>,
}

impl EventLog {
    /// An empty log.
    pub fn new() -> EventLog {
        EventLog::default()
    }

    /// A hook set with this log as its only hook.
    pub fn hooks(&self) -> HookSet {
        HookSetBuilder::new().hook(self.clone()).build()
    }

    fn push(&self, r: &Resource<'_>, event: Event) {
        self.0.events.fetch_add(1, Ordering::Relaxed);
        self.0.log.lock().unwrap().push((r.id(), event));
    }

    /// The events of resource `id`, in order.
    pub fn events_of(&self, id: AsyncId) -> Vec<Event> {
        let log = self.0.log.lock().unwrap();
        log.iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, e)| *e)
            .collect()
    }

    /// How many `event`s resource `id` had.
    pub fn count(&self, id: AsyncId, event: Event) -> usize {
        self.events_of(id).iter().filter(|e| **e == event).count()
    }

    /// Every resource id in the log, in order of first appearance.
    pub fn ids(&self) -> Vec<AsyncId> {
        let log = self.0.log.lock().unwrap();
        let mut ids = Vec::new();
        for (id, _) in log.iter() {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        ids
    }

    /// Checks the life of a task that is over, and returns its events:
    ///
    /// - `init` exactly once, first;
    /// - `destroy` exactly once, last (no event after it);
    /// - `before`/`after` strictly paired, never nested, never open at `destroy`;
    /// - `resolve` at most once, inside a poll;
    /// - `wake` never inside a poll (a wake during a poll is emitted by the poller after
    ///   its `after`).
    #[track_caller]
    pub fn check_finished(&self, id: AsyncId) -> Vec<Event> {
        let events = self.events_of(id);
        assert_eq!(
            events.first(),
            Some(&Event::Init),
            "{id}: init first: {events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| **e == Event::Init).count(),
            1,
            "{id}: one init: {events:?}"
        );
        assert_eq!(
            events.last(),
            Some(&Event::Destroy),
            "{id}: destroy last: {events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| **e == Event::Destroy).count(),
            1,
            "{id}: one destroy: {events:?}"
        );
        let mut in_poll = false;
        let mut resolved = false;
        for event in &events {
            match event {
                Event::Before => {
                    assert!(!in_poll, "{id}: nested before: {events:?}");
                    in_poll = true;
                }
                Event::After => {
                    assert!(in_poll, "{id}: after without before: {events:?}");
                    in_poll = false;
                }
                Event::Resolve => {
                    assert!(in_poll && !resolved, "{id}: resolve: {events:?}");
                    resolved = true;
                }
                Event::Wake => assert!(!in_poll, "{id}: wake inside a poll: {events:?}"),
                Event::Init | Event::Destroy => {}
            }
        }
        assert!(!in_poll, "{id}: destroyed inside a poll: {events:?}");
        events
    }

    /// [`check_finished`](EventLog::check_finished) for every resource in the log.
    #[track_caller]
    pub fn check_all_finished(&self) {
        for id in self.ids() {
            self.check_finished(id);
        }
    }
}

impl Hook for EventLog {
    fn init(&self, r: &Resource<'_>) {
        self.push(r, Event::Init);
    }
    fn before(&self, r: &Resource<'_>) {
        self.push(r, Event::Before);
    }
    fn after(&self, r: &Resource<'_>) {
        self.push(r, Event::After);
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.push(r, Event::Resolve);
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.push(r, Event::Destroy);
    }
    fn wake(&self, r: &Resource<'_>, _by: AsyncId) {
        self.push(r, Event::Wake);
    }
}
