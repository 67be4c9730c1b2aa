//! [`LeakDetector`]: the table of live resources, and the reports built from it.
//!
//! `init` builds a [`Node`] for the resource, stores it in the resource itself
//! ([`Resource::set_data`]) and adds it to a [`LiveSet`]; `resolve` marks it done;
//! `destroy` takes it out of the set. No event hashes or looks anything up: the node
//! is in the resource, and the trigger's node is reached through
//! [`Resource::trigger_data`] (the trigger is the resource running on the creating
//! thread). The other events are not implemented, so the runtime never calls them.
//!
//! A node keeps its trigger's node (an `Arc`), so the chain of a resource stays
//! readable after its ancestors are gone. Chains are cut at [`MAX_CHAIN`] links, which
//! also bounds the recursion when a chain is dropped.

use crate::clock::Clock;
use crate::live_set::{LiveSet, Place, Placed};
use crate::site::Site;
use hookrt::hooks::{AsyncId, Hook, Resource, ResourceKind};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many ancestors a resource's trigger chain keeps (the nearest ones).
pub const MAX_CHAIN: usize = 64;

/// What the detector knows of one resource (stored in the resource).
#[derive(Debug)]
struct Node {
    id: AsyncId,
    trigger_id: AsyncId,
    /// The trigger's node, unless the trigger was not running here at `init` (a
    /// resource created outside any resource, or from a thread of another runtime) or
    /// the chain was cut.
    parent: Option<Arc<Node>>,
    /// Links in the chain from this node up (1 without a parent).
    depth: usize,
    kind: ResourceKind,
    name: Option<Box<str>>,
    site: Site,
    /// Clock tick of `init`.
    created: u64,
    resolved: AtomicBool,
    place: Place,
}

impl Placed for Node {
    fn place(&self) -> &Place {
        &self.place
    }
}

impl Node {
    /// Ancestor ids, nearest first: the trigger, its trigger, ... The last one may have
    /// no node (a cut chain, or a trigger never seen).
    fn chain(&self) -> Vec<AsyncId> {
        let mut chain = Vec::with_capacity(self.depth);
        let mut node = self;
        loop {
            if node.trigger_id.is_root() {
                break;
            }
            chain.push(node.trigger_id);
            match &node.parent {
                Some(p) => node = p,
                None => break,
            }
        }
        chain
    }

    fn descends_from(&self, id: AsyncId) -> bool {
        let mut node = self;
        loop {
            if node.trigger_id == id {
                return true;
            }
            match &node.parent {
                Some(p) => node = p,
                None => return false,
            }
        }
    }
}

/// A hook that keeps a table of every live resource, to find the ones that should be
/// gone: tasks that never finish, timers and sockets nobody drops.
///
/// - [`report`](LeakDetector::report): live resources older than a threshold, grouped
///   by the location that created them.
/// - [`outlived`](LeakDetector::outlived): resources still alive after the request
///   that created them (directly or through descendants) resolved: the forgotten timer,
///   listener or task.
///
/// ```no_run
/// use hookrt_observe::LeakDetector;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let leaks = Arc::new(LeakDetector::new());
/// let rt = hookrt::runtime::Builder::new_multi_thread()
///     .hook(leaks.clone())
///     .enable_all()
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     // A task nobody will ever wake.
///     let (tx, rx) = hookrt::sync::oneshot::channel::<()>();
///     hookrt::spawn(async move { let _ = rx.await; });
///     std::mem::forget(tx);
/// });
/// println!("{}", leaks.report(Duration::ZERO));
/// ```
#[derive(Debug)]
pub struct LeakDetector {
    clock: &'static Clock,
    live: LiveSet<Arc<Node>>,
}

impl LeakDetector {
    /// An empty detector.
    pub fn new() -> LeakDetector {
        LeakDetector {
            clock: Clock::get(),
            live: LiveSet::new(),
        }
    }

    /// How many resources are alive now.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// The live resource `id`, if it is alive.
    pub fn get(&self, id: AsyncId) -> Option<LiveResource> {
        let now = self.clock.now();
        let mut found = None;
        self.live.for_each(|n| {
            if n.id == id {
                found = Some(self.describe(n, now));
            }
        });
        found
    }

    /// Every live resource created more than `older_than` ago.
    pub fn live(&self, older_than: Duration) -> Vec<LiveResource> {
        let now = self.clock.now();
        let mut out = Vec::new();
        self.live.for_each(|n| {
            let r = self.describe(n, now);
            if r.age >= older_than {
                out.push(r);
            }
        });
        out.sort_by_key(|r| r.id);
        out
    }

    fn describe(&self, n: &Node, now: u64) -> LiveResource {
        LiveResource {
            id: n.id,
            trigger_id: n.trigger_id,
            kind: n.kind,
            name: n.name.as_deref().map(str::to_owned),
            site: n.site,
            age: self.clock.duration(now.saturating_sub(n.created)),
            resolved: n.resolved.load(Ordering::Relaxed),
            chain: n.chain(),
        }
    }

    /// Live resources created more than `older_than` ago, grouped by kind and creating
    /// location, largest group first.
    pub fn report(&self, older_than: Duration) -> LeakReport {
        let mut groups: HashMap<(Site, ResourceKind), LeakGroup> = HashMap::new();
        for r in self.live(older_than) {
            groups
                .entry((r.site, r.kind))
                .and_modify(|g| {
                    g.count += 1;
                    if r.age > g.oldest.age {
                        g.oldest = r.clone();
                    }
                })
                .or_insert_with(|| LeakGroup {
                    site: r.site,
                    kind: r.kind,
                    count: 1,
                    oldest: r.clone(),
                });
        }
        let mut groups: Vec<LeakGroup> = groups.into_values().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.site.cmp(&b.site)));
        LeakReport { older_than, groups }
    }

    /// Resources still alive that descend from `root` (through their trigger chains),
    /// when `root` itself has resolved or is gone. Empty while `root` is still running.
    ///
    /// Call it once a request task has finished: whatever it started and left behind
    /// (a timer, a listener, a task waiting forever) is listed.
    pub fn outlived(&self, root: AsyncId) -> Vec<LiveResource> {
        let mut root_done = true;
        self.live.for_each(|n| {
            if n.id == root {
                root_done = n.resolved.load(Ordering::Relaxed);
            }
        });
        if !root_done {
            return Vec::new();
        }
        let now = self.clock.now();
        let mut out = Vec::new();
        self.live.for_each(|n| {
            if n.id != root && n.descends_from(root) {
                out.push(self.describe(n, now));
            }
        });
        out.sort_by_key(|r| r.id);
        out
    }
}

impl Default for LeakDetector {
    fn default() -> LeakDetector {
        LeakDetector::new()
    }
}

impl Hook for LeakDetector {
    fn init(&self, r: &Resource<'_>) {
        let parent = r
            .trigger_data::<Node>()
            // Cut: the far end of a long chain is dropped (its ids stay in the nodes
            // nearer to it, which are kept).
            .filter(|p| p.depth < MAX_CHAIN);
        let depth = parent.as_ref().map_or(1, |p| p.depth + 1);
        let node = Node {
            id: r.id(),
            trigger_id: r.trigger_id(),
            parent,
            depth,
            kind: r.kind(),
            name: r.name().map(Box::from),
            site: Site::new(r.location()),
            created: self.clock.now(),
            resolved: AtomicBool::new(false),
            place: Place::new(),
        };
        if r.set_data(node).is_some() {
            if let Some(node) = r.data_arc::<Node>() {
                self.live.insert(node);
            }
        }
    }

    fn resolve(&self, r: &Resource<'_>) {
        if let Some(n) = r.data::<Node>() {
            n.resolved.store(true, Ordering::Relaxed);
        }
    }

    fn destroy(&self, r: &Resource<'_>) {
        if let Some(n) = r.data::<Node>() {
            // The node itself stays in the resource until its memory is freed, and in
            // the live set until the creating thread sweeps it.
            LiveSet::<Arc<Node>>::remove(&n.place);
        }
    }
}

/// A live resource as the [`LeakDetector`] saw it.
#[derive(Clone, Debug)]
pub struct LiveResource {
    /// Its id.
    pub id: AsyncId,
    /// The execution that created it.
    pub trigger_id: AsyncId,
    /// Its kind.
    pub kind: ResourceKind,
    /// Its name (a task builder name), if any.
    pub name: Option<String>,
    /// Where it was created.
    pub site: Site,
    /// Time since its `init`.
    pub age: Duration,
    /// Whether it is a task whose future has resolved (it stays alive while its output
    /// waits in the `JoinHandle`).
    pub resolved: bool,
    /// Its ancestors, nearest first (its trigger, the trigger's trigger, ...), up to the
    /// top-level resource or [`MAX_CHAIN`] links.
    pub chain: Vec<AsyncId>,
}

impl fmt::Display for LiveResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", self.kind, self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(f, " at {}, age {:.3?}", self.site, self.age)?;
        if !self.chain.is_empty() {
            f.write_str(", chain")?;
            for id in &self.chain {
                write!(f, " <- {id}")?;
            }
        }
        Ok(())
    }
}

/// Live resources of one kind created at one location.
#[derive(Clone, Debug)]
pub struct LeakGroup {
    /// Where they were created.
    pub site: Site,
    /// Their kind.
    pub kind: ResourceKind,
    /// How many are alive.
    pub count: usize,
    /// The oldest of them.
    pub oldest: LiveResource,
}

/// What [`LeakDetector::report`] found: groups of live resources, largest first.
///
/// Its `Display` is a readable text report:
///
/// ```text
/// 2 live resources older than 0ns in 2 groups
///   1 x Task at src/main.rs:12:5, oldest 1.203s: Task #5 at src/main.rs:12:5, ...
///   1 x Timer at src/main.rs:20:9, oldest 1.201s: Timer #7 at src/main.rs:20:9, ...
/// ```
#[derive(Clone, Debug)]
pub struct LeakReport {
    /// The age threshold the report was made with.
    pub older_than: Duration,
    /// The groups, largest first.
    pub groups: Vec<LeakGroup>,
}

impl LeakReport {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How many live resources the report counts.
    pub fn total(&self) -> usize {
        self.groups.iter().map(|g| g.count).sum()
    }

    /// The groups of resources of `kind`.
    pub fn of_kind(&self, kind: ResourceKind) -> impl Iterator<Item = &LeakGroup> {
        self.groups.iter().filter(move |g| g.kind == kind)
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no live resources older than {:?}", self.older_than);
        }
        writeln!(
            f,
            "{} live resources older than {:?} in {} groups",
            self.total(),
            self.older_than,
            self.groups.len()
        )?;
        for g in &self.groups {
            writeln!(
                f,
                "  {} x {} at {}, oldest {:.3?}: {}",
                g.count, g.kind, g.site, g.oldest.age, g.oldest
            )?;
        }
        Ok(())
    }
}
