//! [`Sampler`]: forward the events of some request trees only.
//!
//! The decision is taken once per tree root and kept in each resource's hook word
//! ([`Resource::word`]); every descendant inherits it at `init` from its trigger's word
//! ([`Resource::trigger_word`]). So an event costs one load from the resource, sampled
//! or not, and nothing is forwarded for an unsampled tree. Decisions are also kept in
//! an [`IdCache`] by id (written at `init`, cleared at `destroy`), for
//! [`Sampler::is_sampled`] and for the waker of a forwarded `wake`.
//!
//! The inner hook gets the sampler's views without the word
//! ([`Resource::without_word`]): its [`Resource::data`] is the sampler's cell, which
//! the sampler leaves to it.

use crate::id_cache::IdCache;
use hookrt::context::LocalStorage;
use hookrt::hooks::{AsyncId, Hook, Resource, ResourceKind};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The user's explicit sampling decision for the resources created in its scope,
/// read from [`SAMPLED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampled(pub bool);

/// Where a [`Sampler`] looks for an explicit decision: a resource created while this
/// storage holds a value is sampled (or not) as it says, whatever the policy and its
/// trigger. Set it around the creation of a request's root:
///
/// ```no_run
/// use hookrt_observe::{Sampled, SAMPLED};
/// # async fn handle() {}
/// # async fn demo(debug_header: bool) {
/// // Always trace requests that ask for it.
/// SAMPLED.run_sync(Sampled(debug_header), || hookrt::spawn(handle()));
/// # }
/// ```
pub static SAMPLED: LocalStorage<Sampled> = LocalStorage::named("hookrt_observe::SAMPLED");

/// How a [`Sampler`] decides for a new tree root.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SamplePolicy {
    /// Sample each root with this probability (0.0 ..= 1.0), by a hash of its id.
    Probability(f64),
    /// Sample the first root, then every `n`-th (`0` samples none).
    EveryNth(u64),
}

/// The decision stored per live resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decision {
    sampled: bool,
    /// Children of this resource start trees of their own (see
    /// [`Sampler::with_scope_rule`]).
    scope: bool,
    /// A sampled root whose trigger is not sampled: the inner hook is told its trigger
    /// is ROOT.
    reroot: bool,
}

/// A hook that forwards to `H` only the events of sampled request trees.
///
/// A *root* is a resource whose trigger is ROOT (outside any resource), unknown, or a
/// *scope*: a resource whose children each start a tree of their own. By default the
/// scopes are the `block_on` tasks, so each task spawned from the main future is a
/// request root; [`with_scope_rule`](Sampler::with_scope_rule) adds others (an accept
/// loop). The decision for a root comes from [`SAMPLED`] if set, else from the
/// [`SamplePolicy`]; every other resource inherits its trigger's decision (or takes
/// [`SAMPLED`]'s, if set where it was created).
///
/// Because a resource is forwarded exactly when its trigger is (apart from roots and
/// explicit decisions), the inner hook sees whole, consistent trees: `init` before any
/// other event, triggers initialised before their children. A sampled root whose
/// trigger is not sampled (a request under an unsampled `block_on`, an explicit
/// `Sampled(true)` inside an unsampled tree) is reported to the inner hook with trigger
/// ROOT in all its events.
///
/// ```no_run
/// use hookrt_observe::{SamplePolicy, Sampler, TaskStats};
/// use std::sync::Arc;
///
/// let stats = Arc::new(TaskStats::new());
/// let rt = hookrt::runtime::Builder::new_multi_thread()
///     .hook(Sampler::new(stats.clone(), SamplePolicy::Probability(0.01)))
///     .enable_all()
///     .build()
///     .unwrap();
/// ```
pub struct Sampler<H> {
    inner: H,
    policy: SamplePolicy,
    /// `Probability(p)` as a threshold on a 64-bit hash (`u64::MAX` samples all).
    threshold: u64,
    roots_seen: AtomicU64,
    is_scope: fn(&Resource<'_>) -> bool,
    /// Each live resource's decision, read on every event without a lock.
    decisions: IdCache,
}

/// The default scope rule: the runtime's `block_on` tasks.
/// Set in a stored decision word, so 0 means "no decision".
const DECIDED: u64 = 8;

impl Decision {
    fn bits(self) -> u8 {
        u8::from(self.sampled) | u8::from(self.scope) << 1 | u8::from(self.reroot) << 2
    }

    fn word(self) -> u64 {
        u64::from(self.bits()) | DECIDED
    }

    fn from_word(word: u64) -> Option<Decision> {
        (word & DECIDED != 0).then(|| Decision::from_bits(word as u8))
    }

    fn from_bits(bits: u8) -> Decision {
        Decision {
            sampled: bits & 1 != 0,
            scope: bits & 2 != 0,
            reroot: bits & 4 != 0,
        }
    }
}

fn block_on_is_scope(r: &Resource<'_>) -> bool {
    r.kind() == ResourceKind::Task && r.name() == Some("block_on")
}

/// The view of `r` the inner hook gets: `r` without the word (the sampler's), and with
/// trigger ROOT for a rerooted resource.
fn view<'a>(r: &Resource<'a>, d: Decision) -> Resource<'a> {
    let r = r.without_word();
    if d.reroot {
        r.with_trigger_id(AsyncId::ROOT)
    } else {
        r
    }
}

/// SplitMix64's finaliser: a fixed, well-mixed hash of an id.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<H: Hook> Sampler<H> {
    /// Wraps `inner`, sampling roots by `policy`.
    pub fn new(inner: H, policy: SamplePolicy) -> Sampler<H> {
        let threshold = match policy {
            SamplePolicy::Probability(p) if p >= 1.0 => u64::MAX,
            SamplePolicy::Probability(p) if p > 0.0 => (p * u64::MAX as f64) as u64,
            _ => 0,
        };
        Sampler {
            inner,
            policy,
            threshold,
            roots_seen: AtomicU64::new(0),
            is_scope: block_on_is_scope,
            decisions: IdCache::new(),
        }
    }

    /// Also treats the resources for which `rule` returns true as scopes: each of
    /// their children is a root with a decision of its own (the `block_on` tasks stay
    /// scopes).
    ///
    /// ```no_run
    /// # use hookrt_observe::{SamplePolicy, Sampler, TaskStats};
    /// // Each connection task spawned by the task named "acceptor" is a root.
    /// let sampler = Sampler::new(TaskStats::new(), SamplePolicy::EveryNth(100))
    ///     .with_scope_rule(|r| r.name() == Some("acceptor"));
    /// ```
    pub fn with_scope_rule(mut self, rule: fn(&Resource<'_>) -> bool) -> Sampler<H> {
        self.is_scope = rule;
        self
    }

    /// The wrapped hook.
    pub fn inner(&self) -> &H {
        &self.inner
    }

    /// The policy.
    pub fn policy(&self) -> SamplePolicy {
        self.policy
    }

    /// How many roots were decided by the policy so far.
    pub fn roots_seen(&self) -> u64 {
        self.roots_seen.load(Ordering::Relaxed)
    }

    /// Whether the live resource `id` is sampled (`None` when unknown).
    pub fn is_sampled(&self, id: AsyncId) -> Option<bool> {
        self.decision(id).map(|d| d.sampled)
    }

    fn decision(&self, id: AsyncId) -> Option<Decision> {
        self.decisions.get(id).map(Decision::from_bits)
    }

    fn decide_root(&self, id: AsyncId) -> bool {
        let n = self.roots_seen.fetch_add(1, Ordering::Relaxed);
        match self.policy {
            SamplePolicy::EveryNth(0) => false,
            SamplePolicy::EveryNth(every) => n % every == 0,
            SamplePolicy::Probability(_) => match self.threshold {
                0 => false,
                u64::MAX => true,
                t => mix(id.as_u64()) < t,
            },
        }
    }

    fn sampled(&self, id: AsyncId) -> bool {
        self.decision(id).is_some_and(|d| d.sampled)
    }

    /// The decision on `r` if its events are forwarded: one load from the resource
    /// (the id table for a view without storage).
    #[inline]
    fn forwarded(&self, r: &Resource<'_>) -> Option<Decision> {
        let decision = match r.word() {
            Some(word) => Decision::from_word(word.load(Ordering::Acquire)),
            None => self.decision(r.id()),
        };
        decision.filter(|d| d.sampled)
    }
}

impl<H: Hook> Hook for Sampler<H> {
    fn init(&self, r: &Resource<'_>) {
        let scope = (self.is_scope)(r) || block_on_is_scope(r);
        let trigger = r.trigger_id();
        let parent = if trigger.is_root() {
            None
        } else {
            match r.trigger_word().and_then(Decision::from_word) {
                Some(d) => Some(d),
                None => self.decision(trigger),
            }
        };
        let sampled = match r.context().get(&SAMPLED) {
            Some(explicit) => explicit.0,
            None => match parent {
                Some(d) if !d.scope => d.sampled,
                _ => self.decide_root(r.id()),
            },
        };
        let reroot = sampled && !trigger.is_root() && !parent.is_some_and(|d| d.sampled);
        let d = Decision {
            sampled,
            scope,
            reroot,
        };
        self.decisions.insert(r.id(), d.bits());
        if let Some(word) = r.word() {
            word.store(d.word(), Ordering::Release);
        }
        if sampled {
            self.inner.init(&view(r, d));
        }
    }

    fn before(&self, r: &Resource<'_>) {
        if let Some(d) = self.forwarded(r) {
            self.inner.before(&view(r, d));
        }
    }

    fn after(&self, r: &Resource<'_>) {
        if let Some(d) = self.forwarded(r) {
            self.inner.after(&view(r, d));
        }
    }

    fn resolve(&self, r: &Resource<'_>) {
        if let Some(d) = self.forwarded(r) {
            self.inner.resolve(&view(r, d));
        }
    }

    fn destroy(&self, r: &Resource<'_>) {
        let removed = self.decisions.remove(r.id()).map(Decision::from_bits);
        let decision = match r.word() {
            Some(word) => Decision::from_word(word.load(Ordering::Acquire)),
            None => removed,
        };
        if let Some(d) = decision.filter(|d| d.sampled) {
            self.inner.destroy(&view(r, d));
        }
    }

    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        if let Some(d) = self.forwarded(r) {
            // The waker may be outside the sampled tree: tell the inner hook ROOT
            // then, so it never hears of an id it was not told about.
            let by = if by.is_root() || self.sampled(by) {
                by
            } else {
                AsyncId::ROOT
            };
            self.inner.wake(&view(r, d), by);
        }
    }
}

impl<H: fmt::Debug> fmt::Debug for Sampler<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sampler")
            .field("inner", &self.inner)
            .field("policy", &self.policy)
            .field("roots_seen", &self.roots_seen.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
