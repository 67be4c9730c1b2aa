//! [`LeakDetector`]: the table of live resources, and the reports built from it.
//!
//! `init` inserts an entry, `destroy` removes it, `resolve` marks a task done; the other
//! events cost nothing. The table is a [`ById`] (striped by id), so concurrent events
//! of different resources rarely share a lock.
//!
//! Each entry holds its trigger chain as a shared linked list ([`Link`]): a child's
//! link points at its trigger's, so the chain of a resource stays readable after its
//! ancestors are gone, and costs one small allocation per resource. Chains are cut at
//! [`MAX_CHAIN`] links, which also bounds the recursion when a chain is dropped.

use crate::shard::ById;
use crate::site::Site;
use hookrt::hooks::{AsyncId, Hook, Resource, ResourceKind};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many ancestors a resource's trigger chain keeps (the nearest ones).
pub const MAX_CHAIN: usize = 64;

/// One link of a trigger chain: a resource and the link of its trigger.
#[derive(Debug)]
struct Link {
    id: AsyncId,
    depth: usize,
    parent: Option<Arc<Link>>,
}

#[derive(Debug)]
struct Entry {
    link: Arc<Link>,
    trigger_id: AsyncId,
    kind: ResourceKind,
    name: Option<Box<str>>,
    site: Site,
    created: Instant,
    resolved: bool,
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
    live: ById<Entry>,
}

impl LeakDetector {
    /// An empty detector.
    pub fn new() -> LeakDetector {
        LeakDetector { live: ById::new() }
    }

    /// How many resources are alive now.
    pub fn live_count(&self) -> usize {
        let mut n = 0;
        self.live.for_each(|_, _| n += 1);
        n
    }

    /// The live resource `id`, if it is alive.
    pub fn get(&self, id: AsyncId) -> Option<LiveResource> {
        let now = Instant::now();
        self.live.with(id, |e| LiveResource::of(id, e, now))
    }

    /// Every live resource created more than `older_than` ago.
    pub fn live(&self, older_than: Duration) -> Vec<LiveResource> {
        let now = Instant::now();
        let mut out = Vec::new();
        self.live.for_each(|id, e| {
            if now.saturating_duration_since(e.created) >= older_than {
                out.push(LiveResource::of(id, e, now));
            }
        });
        out.sort_by_key(|r| r.id);
        out
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
        let root_done = self.live.with(root, |e| e.resolved).unwrap_or(true);
        if !root_done {
            return Vec::new();
        }
        let now = Instant::now();
        let mut out = Vec::new();
        self.live.for_each(|id, e| {
            if id != root && chain_contains(&e.link, root) {
                out.push(LiveResource::of(id, e, now));
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

fn chain_contains(link: &Arc<Link>, id: AsyncId) -> bool {
    let mut cur = link.parent.as_ref();
    while let Some(l) = cur {
        if l.id == id {
            return true;
        }
        cur = l.parent.as_ref();
    }
    false
}

impl Hook for LeakDetector {
    fn init(&self, r: &Resource<'_>) {
        let trigger = r.trigger_id();
        let parent = if trigger.is_root() {
            None
        } else {
            let known = self.live.with(trigger, |e| e.link.clone());
            Some(known.unwrap_or_else(|| {
                Arc::new(Link {
                    id: trigger,
                    depth: 1,
                    parent: None,
                })
            }))
        };
        let parent = parent.map(|p| {
            if p.depth >= MAX_CHAIN {
                // Cut: keep the nearest ancestors, drop the far end.
                Arc::new(Link {
                    id: p.id,
                    depth: 1,
                    parent: None,
                })
            } else {
                p
            }
        });
        let depth = parent.as_ref().map_or(1, |p| p.depth + 1);
        let entry = Entry {
            link: Arc::new(Link {
                id: r.id(),
                depth,
                parent,
            }),
            trigger_id: trigger,
            kind: r.kind(),
            name: r.name().map(Box::from),
            site: Site::new(r.location()),
            created: Instant::now(),
            resolved: false,
        };
        self.live.insert(r.id(), entry);
    }

    fn resolve(&self, r: &Resource<'_>) {
        self.live.with(r.id(), |e| e.resolved = true);
    }

    fn destroy(&self, r: &Resource<'_>) {
        // Drop the entry (and maybe a chain) outside the stripe lock.
        let removed = self.live.remove(r.id());
        drop(removed);
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

impl LiveResource {
    fn of(id: AsyncId, e: &Entry, now: Instant) -> LiveResource {
        let mut chain = Vec::with_capacity(e.link.depth);
        let mut cur = e.link.parent.as_ref();
        while let Some(l) = cur {
            chain.push(l.id);
            cur = l.parent.as_ref();
        }
        LiveResource {
            id,
            trigger_id: e.trigger_id,
            kind: e.kind,
            name: e.name.as_deref().map(str::to_owned),
            site: e.site,
            age: now.saturating_duration_since(e.created),
            resolved: e.resolved,
            chain,
        }
    }
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
