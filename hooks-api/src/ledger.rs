//! `Ledger`: a hook that records every event and checks the event invariants of
//! DESIGN.md §2, for tests.
//!
//! One `Mutex` guards the state (a test tool: correctness over speed). Hook methods never
//! panic (a panicking hook is disabled by `HookSet`, hiding later bugs): a broken
//! invariant becomes a violation message. Events are checked in the order they reach the
//! lock, which for events on different threads is the order the runtime's own
//! synchronisation must guarantee (a `wake` racing the `destroy` of its task is reported).
//! Memory: a 40-byte record per id (kinds and names interned) and, unless built
//! [`without_event_log`](Ledger::without_event_log), 16 bytes per event: the per-id
//! event lists share one vector, linked per id.

use crate::{AsyncId, Hook, Resource, ResourceKind};
use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::mem::size_of;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// How many violation messages are kept; later ones are only counted.
const MAX_STORED_VIOLATIONS: usize = 50;
/// How many live resources a report describes in detail.
const MAX_DESCRIBED_LIVE: usize = 20;
/// "None" for the `u32` links and indexes below.
const NONE: u32 = u32::MAX;

/// A hook that records every event and checks the event invariants: `init` exactly once
/// per id with a trigger that is ROOT or was initialised earlier; `destroy` exactly once,
/// after `init`, and nothing for an id after its `destroy` or before its `init`;
/// `before`/`after` nesting properly per thread; `resolve` at most once, for tasks only;
/// `wake(r, by)` only for a live `r`, with `by` ROOT or initialised earlier.
///
/// Register it in an `Arc` to read what it gathered, then call
/// [`assert_balanced`](Ledger::assert_balanced) at the end of a test.
///
/// ```
/// use hookrt_hooks::{AsyncId, Context, Hook, Ledger, Resource, ResourceKind};
/// let ledger = Ledger::new();
/// let ctx = Context::empty();
/// let r = Resource::new(AsyncId::allocate(), AsyncId::ROOT, ResourceKind::Task, &ctx);
/// ledger.init(&r);
/// ledger.before(&r);
/// ledger.after(&r);
/// ledger.destroy(&r);
/// assert_eq!((ledger.inits(), ledger.destroys(), ledger.live()), (1, 1, 0));
/// ledger.assert_balanced();
/// ```
pub struct Ledger {
    state: Mutex<State>,
}

/// One event of one id, as [`Ledger::events_for`] returns it, with the thread it was
/// emitted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerEvent {
    /// `init`, with the trigger id it reported and the kind recorded at the first `init`.
    Init {
        /// The execution that created the resource.
        trigger: AsyncId,
        /// The resource's kind.
        kind: ResourceKind,
        /// The emitting thread.
        thread: ThreadId,
    },
    /// `before`, on the given thread.
    Before(ThreadId),
    /// `after`, on the given thread.
    After(ThreadId),
    /// `resolve`, on the given thread.
    Resolve(ThreadId),
    /// `destroy`, on the given thread.
    Destroy(ThreadId),
    /// `wake`, with the execution that fired the waker.
    Wake {
        /// The execution that woke the resource.
        by: AsyncId,
        /// The emitting thread.
        thread: ThreadId,
    },
}

/// A snapshot of a [`Ledger`], from [`Ledger::report`]. Its `Display` is a readable
/// multi-line report: counts, the first violations, the first live resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerReport {
    /// Number of `init` events.
    pub inits: usize,
    /// Number of `before` events.
    pub befores: usize,
    /// Number of `after` events.
    pub afters: usize,
    /// Number of `resolve` events.
    pub resolves: usize,
    /// Number of `destroy` events.
    pub destroys: usize,
    /// Number of `wake` events.
    pub wakes: usize,
    /// Ids initialised and not destroyed, in increasing order.
    pub live: Vec<AsyncId>,
    /// Per thread with an unclosed `before`: the open ids, innermost last.
    pub open_brackets: Vec<(ThreadId, Vec<AsyncId>)>,
    /// The first violation messages (at most 50).
    pub violations: Vec<String>,
    /// The number of violations, including those not stored.
    pub violation_count: usize,
    /// Kind, name, location and trigger of the first few of `live`, one line each.
    live_described: Vec<String>,
}

impl LedgerReport {
    /// No violation, no live id, no open `before` bracket.
    pub fn is_balanced(&self) -> bool {
        self.is_consistent() && self.live.is_empty() && self.open_brackets.is_empty()
    }

    /// No violation (live ids and open brackets allowed: the run is not over yet).
    pub fn is_consistent(&self) -> bool {
        self.violation_count == 0
    }
}

impl fmt::Display for LedgerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [i, b, a, r, d, w] = [
            self.inits,
            self.befores,
            self.afters,
            self.resolves,
            self.destroys,
            self.wakes,
        ];
        writeln!(
            f,
            "ledger: {i} inits, {b} befores, {a} afters, {r} resolves, {d} destroys, {w} wakes"
        )?;
        let sections = [
            ("violation(s)", self.violation_count, &self.violations),
            ("live resource(s)", self.live.len(), &self.live_described),
        ];
        for (title, total, shown) in sections {
            writeln!(f, "{total} {title}")?;
            for line in shown {
                writeln!(f, "  - {line}")?;
            }
            if total > shown.len() {
                writeln!(f, "  ... and {} more", total - shown.len())?;
            }
        }
        for (thread, open) in &self.open_brackets {
            writeln!(
                f,
                "open before-brackets on {thread:?}, innermost last: {open:?}"
            )?;
        }
        Ok(())
    }
}

impl Ledger {
    /// An empty ledger that also keeps every event per id (for
    /// [`events_for`](Ledger::events_for) and [`wakes`](Ledger::wakes)).
    pub fn new() -> Ledger {
        Ledger::build(true)
    }

    /// An empty ledger that checks and counts everything but keeps no event lists:
    /// `events_for` and `wakes` return nothing. For stress tests with millions of
    /// resources, where only the per-id records (about 40 bytes each) are kept.
    pub fn without_event_log() -> Ledger {
        Ledger::build(false)
    }

    fn build(log_events: bool) -> Ledger {
        let state = State {
            log_events,
            ..State::default()
        };
        Ledger {
            state: Mutex::new(state),
        }
    }

    /// A snapshot of counts, live ids, open brackets and violations.
    pub fn report(&self) -> LedgerReport {
        let s = self.state();
        let records = s.records.iter();
        let mut live: Vec<AsyncId> = records.filter(|r| !r.1.destroyed).map(|r| *r.0).collect();
        live.sort_unstable();
        let stacks = s.threads.list.iter().zip(&s.stacks);
        let [inits, befores, afters, resolves, destroys, wakes] = s.counts;
        LedgerReport {
            inits,
            befores,
            afters,
            resolves,
            destroys,
            wakes,
            live_described: live
                .iter()
                .take(MAX_DESCRIBED_LIVE)
                .map(|&id| s.describe(id))
                .collect(),
            live,
            open_brackets: stacks
                .filter(|(_, open)| !open.is_empty())
                .map(|(&t, open)| (t, open.clone()))
                .collect(),
            violations: s.violations.clone(),
            violation_count: s.violation_count,
        }
    }

    /// Panics with the report unless it [is balanced](LedgerReport::is_balanced).
    #[track_caller]
    pub fn assert_balanced(&self) {
        let report = self.report();
        assert!(report.is_balanced(), "ledger not balanced:\n{report}");
    }

    /// Panics with the report if any violation was recorded.
    #[track_caller]
    pub fn assert_consistent(&self) {
        let report = self.report();
        assert!(report.is_consistent(), "ledger violations:\n{report}");
    }

    /// Number of `init` events so far.
    pub fn inits(&self) -> usize {
        self.state().counts[Tag::Init as usize]
    }

    /// Number of `destroy` events so far.
    pub fn destroys(&self) -> usize {
        self.state().counts[Tag::Destroy as usize]
    }

    /// Number of ids initialised and not destroyed.
    pub fn live(&self) -> usize {
        self.state().live
    }

    /// The first violation messages (at most 50; the report has the total count).
    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Every event of `id` in the order the ledger received them. Empty for an id never
    /// initialised (its events are only reported as violations) and for a ledger built
    /// [`without_event_log`](Ledger::without_event_log).
    pub fn events_for(&self, id: AsyncId) -> Vec<LedgerEvent> {
        let s = self.state();
        let Some(rec) = s.records.get(&id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut next = rec.first_event;
        while let Some(e) = s.events.get(next as usize) {
            let thread = s.threads.list[(e.meta >> 3) as usize];
            let arg = AsyncId::from_u64(e.arg).unwrap_or(AsyncId::ROOT);
            out.push(match TAGS[(e.meta & 7) as usize] {
                Tag::Init => {
                    let kind = s.kinds.list[rec.kind as usize];
                    LedgerEvent::Init {
                        trigger: arg,
                        kind,
                        thread,
                    }
                }
                Tag::Before => LedgerEvent::Before(thread),
                Tag::After => LedgerEvent::After(thread),
                Tag::Resolve => LedgerEvent::Resolve(thread),
                Tag::Destroy => LedgerEvent::Destroy(thread),
                Tag::Wake => LedgerEvent::Wake { by: arg, thread },
            });
            next = e.next;
        }
        out
    }

    /// Every `wake` as `(woken, by)`, in the order received (empty for a ledger built
    /// [`without_event_log`](Ledger::without_event_log)).
    pub fn wakes(&self) -> Vec<(AsyncId, AsyncId)> {
        self.state().wakes.clone()
    }

    /// The trigger id `id` reported at its first `init`.
    pub fn trigger_of(&self, id: AsyncId) -> Option<AsyncId> {
        self.state().records.get(&id).map(|rec| rec.trigger)
    }

    /// The kind `id` reported at its first `init`.
    pub fn kind_of(&self, id: AsyncId) -> Option<ResourceKind> {
        let s = self.state();
        s.records
            .get(&id)
            .map(|rec| s.kinds.list[rec.kind as usize])
    }

    /// The name `id` reported at its first `init`, if it had one.
    pub fn name_of(&self, id: AsyncId) -> Option<String> {
        let s = self.state();
        let rec = s.records.get(&id)?;
        s.names.list.get(rec.name as usize).map(|n| n.to_string())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, but a poisoned ledger still reports.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn event(&self, tag: Tag, r: &Resource<'_>, by: AsyncId) {
        let thread = current_thread();
        self.state().apply(tag, r, by, thread);
    }
}

impl Default for Ledger {
    fn default() -> Ledger {
        Ledger::new()
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state();
        f.debug_struct("Ledger")
            .field("events", &s.counts)
            .field("live", &s.live)
            .field("violations", &s.violation_count)
            .finish_non_exhaustive()
    }
}

impl Hook for Ledger {
    fn init(&self, r: &Resource<'_>) {
        self.event(Tag::Init, r, r.trigger_id());
    }
    fn before(&self, r: &Resource<'_>) {
        self.event(Tag::Before, r, AsyncId::ROOT);
    }
    fn after(&self, r: &Resource<'_>) {
        self.event(Tag::After, r, AsyncId::ROOT);
    }
    fn resolve(&self, r: &Resource<'_>) {
        self.event(Tag::Resolve, r, AsyncId::ROOT);
    }
    fn destroy(&self, r: &Resource<'_>) {
        self.event(Tag::Destroy, r, AsyncId::ROOT);
    }
    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        self.event(Tag::Wake, r, by);
    }
}

/// The current thread's id, cached. The cell has no destructor, so it stays readable
/// while the thread's other thread-locals are destroyed (tasks may be dropped then).
fn current_thread() -> ThreadId {
    thread_local! {
        static ID: Cell<Option<ThreadId>> = const { Cell::new(None) };
    }
    let cached = ID.try_with(Cell::get).ok().flatten();
    cached.unwrap_or_else(|| {
        let id = std::thread::current().id();
        let _ = ID.try_with(|c| c.set(Some(id)));
        id
    })
}

/// The event kinds: the discriminant indexes `State::counts`, `TAGS` and `NAMES`, and
/// is the low 3 bits of `StoredEvent::meta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Init,
    Before,
    After,
    Resolve,
    Destroy,
    Wake,
}

const TAGS: [Tag; 6] = [
    Tag::Init,
    Tag::Before,
    Tag::After,
    Tag::Resolve,
    Tag::Destroy,
    Tag::Wake,
];
const NAMES: [&str; 6] = ["init", "before", "after", "resolve", "destroy", "wake"];

/// What the ledger keeps per id: 40 bytes.
struct Record {
    trigger: AsyncId,
    location: Option<&'static Location<'static>>,
    /// Indexes into `State::events` of this id's first and last event, or `NONE`.
    first_event: u32,
    last_event: u32,
    /// Index into `State::names`, or `NONE` for an unnamed resource.
    name: u32,
    /// Index into `State::kinds`.
    kind: u32,
    destroyed: bool,
    resolved: bool,
}

// The sizes the module docs promise.
const _: () = assert!(size_of::<Record>() <= 40 && size_of::<StoredEvent>() == 16);

/// One event in the shared log: 16 bytes.
struct StoredEvent {
    /// The trigger (init) or the waker (wake); ROOT otherwise.
    arg: u64,
    /// `thread index << 3 | tag`.
    meta: u32,
    /// Index of the next event of the same id, or `NONE`.
    next: u32,
}

/// Maps values to dense `u32` indexes and back.
struct Interner<T> {
    list: Vec<T>,
    index: HashMap<T, u32, IdHasher>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        let (list, index) = Default::default();
        Interner { list, index }
    }
}

impl<T: Clone + Eq + Hash> Interner<T> {
    fn intern<Q: Hash + Eq + ?Sized>(&mut self, key: &Q, make: impl FnOnce(&Q) -> T) -> u32
    where
        T: Borrow<Q>,
    {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = u32::try_from(self.list.len()).unwrap_or(NONE);
        let value = make(key);
        self.list.push(value.clone());
        self.index.insert(value, i);
        i
    }
}

/// A multiply-rotate hasher for the ledger's maps, whose keys are ids and a few interned
/// values: no attacker to resist, and SipHash would dominate an event's cost in debug
/// builds.
#[derive(Clone, Copy, Default)]
struct IdHasher(u64);

impl std::hash::BuildHasher for IdHasher {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.write_u64(u64::from(b)));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Default)]
struct State {
    log_events: bool,
    records: HashMap<AsyncId, Record, IdHasher>,
    events: Vec<StoredEvent>,
    wakes: Vec<(AsyncId, AsyncId)>,
    kinds: Interner<ResourceKind>,
    names: Interner<Arc<str>>,
    threads: Interner<ThreadId>,
    /// Per thread (same index as `threads`): the open `before` brackets, innermost last.
    stacks: Vec<Vec<AsyncId>>,
    counts: [usize; 6],
    live: usize,
    violations: Vec<String>,
    violation_count: usize,
}

/// Describes the event being checked, for a violation message (built only if kept).
type What<'a> = &'a dyn Fn() -> String;

impl State {
    fn violate(&mut self, what: What<'_>, problem: fmt::Arguments<'_>) {
        self.violation_count += 1;
        if self.violations.len() < MAX_STORED_VIOLATIONS {
            self.violations.push(format!("{}: {problem}", what()));
        }
    }

    fn apply(&mut self, tag: Tag, r: &Resource<'_>, by: AsyncId, thread: ThreadId) {
        let t = self.threads.intern(&thread, |t| *t);
        self.stacks.resize_with(self.threads.list.len(), Vec::new);
        self.counts[tag as usize] += 1;
        let id = r.id();
        let name = NAMES[tag as usize];
        let what = &|| format!("{name} of {} {id} on {thread:?}", r.kind());
        match self.records.get(&id) {
            _ if tag == Tag::Init => self.init(r, what),
            None => self.violate(what, format_args!("never initialised")),
            Some(rec) if rec.destroyed => self.violate(what, format_args!("already destroyed")),
            Some(rec)
                if self.kinds.list[rec.kind as usize] != r.kind()
                    || rec.trigger != r.trigger_id() =>
            {
                let trigger = r.trigger_id();
                self.violate(
                    what,
                    format_args!("kind or trigger {trigger} differs from init"),
                );
            }
            Some(_) => {}
        }
        match tag {
            Tag::Before => self.stacks[t as usize].push(id),
            Tag::After => self.close(t as usize, id, what),
            Tag::Resolve => {
                if r.kind() != ResourceKind::Task {
                    self.violate(what, format_args!("only tasks resolve"));
                }
                let rec = self.records.get_mut(&id);
                if rec.is_some_and(|rec| std::mem::replace(&mut rec.resolved, true)) {
                    self.violate(what, format_args!("resolved twice"));
                }
            }
            Tag::Destroy => {
                let rec = self.records.get_mut(&id);
                if rec.is_some_and(|rec| !std::mem::replace(&mut rec.destroyed, true)) {
                    self.live -= 1;
                }
            }
            Tag::Wake => {
                if !by.is_root() && !self.records.contains_key(&by) {
                    self.violate(what, format_args!("waker {by} was never initialised"));
                }
                if self.log_events {
                    self.wakes.push((id, by));
                }
            }
            Tag::Init => {}
        }
        self.log(id, tag, t, by);
    }

    fn init(&mut self, r: &Resource<'_>, what: What<'_>) {
        let (id, trigger) = (r.id(), r.trigger_id());
        if !trigger.is_root() && !self.records.contains_key(&trigger) {
            self.violate(
                what,
                format_args!("trigger {trigger} was never initialised"),
            );
        }
        if id.is_root() || self.records.contains_key(&id) {
            let problem = if id.is_root() {
                "ROOT is no resource"
            } else {
                "initialised twice"
            };
            return self.violate(what, format_args!("{problem}"));
        }
        let kind = self.kinds.intern(&r.kind(), |k| *k);
        let name = r
            .name()
            .map_or(NONE, |n| self.names.intern(n, |n| Arc::from(n)));
        let rec = Record {
            trigger,
            location: r.location(),
            first_event: NONE,
            last_event: NONE,
            name,
            kind,
            destroyed: false,
            resolved: false,
        };
        self.records.insert(id, rec);
        self.live += 1;
    }

    /// Closes the `before` bracket of `id` on thread `t`, which must be the innermost.
    fn close(&mut self, t: usize, id: AsyncId, what: What<'_>) {
        let stack = &mut self.stacks[t];
        let (found, top) = (
            stack.iter().rposition(|&open| open == id),
            stack.last().copied(),
        );
        if found.is_some() && found == stack.len().checked_sub(1) {
            stack.pop();
            return;
        }
        // Recover: close everything above the matching bracket, if there is one.
        stack.truncate(found.unwrap_or(stack.len()));
        match top {
            Some(top) => self.violate(what, format_args!("innermost open before is {top}")),
            None => self.violate(what, format_args!("no open before")),
        }
    }

    /// Appends an event to `id`'s list (kept only for initialised ids).
    fn log(&mut self, id: AsyncId, tag: Tag, thread: u32, arg: AsyncId) {
        let index = u32::try_from(self.events.len()).unwrap_or(NONE);
        let Some(rec) = self.records.get_mut(&id) else {
            return;
        };
        if !self.log_events || index == NONE || thread >= 1 << 29 {
            return;
        }
        let (arg, meta) = (arg.as_u64(), thread << 3 | tag as u32);
        self.events.push(StoredEvent {
            arg,
            meta,
            next: NONE,
        });
        match self.events.get_mut(rec.last_event as usize) {
            Some(last) => last.next = index,
            None => rec.first_event = index,
        }
        rec.last_event = index;
    }

    /// One line on a resource: kind, id, name, location, trigger.
    fn describe(&self, id: AsyncId) -> String {
        let Some(rec) = self.records.get(&id) else {
            return format!("{id} (never initialised)");
        };
        let mut line = format!("{} {id}", self.kinds.list[rec.kind as usize]);
        if let Some(name) = self.names.list.get(rec.name as usize) {
            line += &format!(" {name:?}");
        }
        if let Some(location) = rec.location {
            line += &format!(" at {location}");
        }
        line + &format!(", triggered by {}", rec.trigger)
    }
}
