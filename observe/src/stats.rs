//! [`TaskStats`]: poll timings of every resource, at the source.
//!
//! The same measures as tokio-metrics (polls, busy time, scheduled delay, idle time,
//! first-poll delay, slow polls), taken from the hook events instead of wrapper
//! futures, so they cover every task, timer, socket, blocking job and
//! [`timed`](crate::timed) section without changing user code.
//!
//! State: one record per live resource in a [`ById`] table (the instants of its last
//! wake, poll start and poll end, and its running totals), and per-site totals and
//! histograms in a [`PerThread`] slot of the thread that saw the event, keyed by the
//! address of the creating `Location` (cheap to hash) and merged by [`Site`] when read.
//! Each event locks one id stripe, then (never nested) the caller's own slot.

mod histogram;
mod report;

pub use histogram::LatencyHistogram;
pub use report::{ResourceStats, SiteStats};

use crate::shard::{ById, FastMap, PerThread};
use crate::site::Site;
use hookrt::hooks::{AsyncId, Hook, Resource, ResourceKind};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Default slow-poll threshold (tokio-metrics uses 50 µs; a millisecond is where a poll
/// starts to hurt the latency of other tasks on the same worker).
pub const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(1);

/// Default number of finished resources kept for [`TaskStats::finished`].
pub const DEFAULT_FINISHED: usize = 4096;

/// A per-thread site table: key is the `Location` address (0 when unknown) and kind.
type SiteTable = FastMap<(usize, ResourceKind), SiteStats>;

#[derive(Debug)]
struct Live {
    kind: ResourceKind,
    name: Option<Box<str>>,
    site: Site,
    created: Instant,
    polls: u64,
    busy: Duration,
    scheduled: Duration,
    idle: Duration,
    first_poll_delay: Option<Duration>,
    slow_polls: u64,
    longest_poll: Duration,
    /// Idle time not yet added to the site totals.
    pending_idle: Duration,
    woken_at: Option<Instant>,
    poll_start: Option<Instant>,
    last_after: Option<Instant>,
}

impl Live {
    fn snapshot(&self, id: AsyncId, now: Instant, finished: bool) -> ResourceStats {
        ResourceStats {
            id,
            kind: self.kind,
            name: self.name.as_deref().map(str::to_owned),
            site: self.site,
            polls: self.polls,
            busy: self.busy,
            scheduled: self.scheduled,
            idle: self.idle,
            first_poll_delay: self.first_poll_delay,
            slow_polls: self.slow_polls,
            longest_poll: self.longest_poll,
            wall: now.saturating_duration_since(self.created),
            finished,
        }
    }
}

/// What one event adds to its site's totals, gathered under the id lock and applied
/// under the thread slot lock.
#[derive(Default)]
struct SiteDelta {
    finished: Option<Duration>,
    poll: Option<Duration>,
    slow: bool,
    scheduled: Option<Duration>,
    idle: Option<Duration>,
    first_poll: Option<Duration>,
}

#[derive(Debug)]
struct Slot {
    sites: SiteTable,
    finished: VecDeque<ResourceStats>,
}

/// A hook that times every resource: polls, busy time, scheduled delay, idle time,
/// first-poll delay and slow polls, per resource and per creating site, with latency
/// histograms per site.
///
/// ```no_run
/// use hookrt_observe::TaskStats;
/// use std::sync::Arc;
///
/// let stats = Arc::new(TaskStats::new());
/// let rt = hookrt::runtime::Builder::new_multi_thread()
///     .hook(stats.clone())
///     .enable_all()
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     hookrt::spawn(async { /* work */ }).await.unwrap();
/// });
/// for site in stats.sites() {
///     println!("{site}");
/// }
/// ```
#[derive(Debug)]
pub struct TaskStats {
    slow_poll: Duration,
    finished_per_slot: usize,
    live: ById<Live>,
    slots: PerThread<Slot>,
}

impl TaskStats {
    /// Stats with the default slow-poll threshold and finished-resource memory.
    pub fn new() -> TaskStats {
        TaskStats::with_settings(DEFAULT_SLOW_POLL, DEFAULT_FINISHED)
    }

    /// Stats that count polls longer than `slow_poll` as slow and remember about
    /// `finished` finished resources for [`finished`](TaskStats::finished).
    pub fn with_settings(slow_poll: Duration, finished: usize) -> TaskStats {
        TaskStats {
            slow_poll,
            finished_per_slot: finished.div_ceil(crate::shard::SHARDS),
            live: ById::new(),
            slots: PerThread::new(|| Slot {
                sites: FastMap::default(),
                finished: VecDeque::new(),
            }),
        }
    }

    /// The slow-poll threshold.
    pub fn slow_poll_threshold(&self) -> Duration {
        self.slow_poll
    }

    /// The stats of resource `id`: live, or finished recently enough to be remembered.
    pub fn resource(&self, id: AsyncId) -> Option<ResourceStats> {
        let now = Instant::now();
        if let Some(s) = self.live.with(id, |l| l.snapshot(id, now, false)) {
            return Some(s);
        }
        let mut found = None;
        self.slots.for_each(|slot| {
            if found.is_none() {
                found = slot.finished.iter().find(|s| s.id == id).cloned();
            }
        });
        found
    }

    /// Every live resource's stats, by id.
    pub fn live(&self) -> Vec<ResourceStats> {
        let now = Instant::now();
        let mut out = Vec::new();
        self.live
            .for_each(|id, l| out.push(l.snapshot(id, now, false)));
        out.sort_by_key(|s| s.id);
        out
    }

    /// Recently finished resources (at most about the configured number), by id.
    pub fn finished(&self) -> Vec<ResourceStats> {
        let mut out = Vec::new();
        self.slots
            .for_each(|slot| out.extend(slot.finished.iter().cloned()));
        out.sort_by_key(|s| s.id);
        out
    }

    /// Per-site totals and histograms, busiest first.
    pub fn sites(&self) -> Vec<SiteStats> {
        let mut merged: HashMap<(Site, ResourceKind), SiteStats> = HashMap::new();
        self.slots.for_each(|slot| {
            for s in slot.sites.values() {
                merged
                    .entry((s.site, s.kind))
                    .or_insert_with(|| SiteStats::new(s.site, s.kind))
                    .merge(s);
            }
        });
        self.live.for_each(|_, l| {
            merged
                .entry((l.site, l.kind))
                .or_insert_with(|| SiteStats::new(l.site, l.kind))
                .created += 1;
        });
        let mut out: Vec<SiteStats> = merged.into_values().collect();
        out.sort_by(|a, b| b.busy.cmp(&a.busy).then(a.site.cmp(&b.site)));
        out
    }

    /// The totals of the resources created at `site` (of any kind, merged), if any.
    pub fn site(&self, site: Site) -> Option<SiteStats> {
        let mut acc: Option<SiteStats> = None;
        for s in self.sites().into_iter().filter(|s| s.site == site) {
            match &mut acc {
                Some(a) => a.merge(&s),
                None => acc = Some(s),
            }
        }
        acc
    }

    /// Forgets every site total and finished resource (live resources are kept).
    pub fn reset(&self) {
        self.slots.for_each_mut(|slot| {
            slot.sites.clear();
            slot.finished.clear();
        });
    }

    /// Adds `d` to the calling thread's totals of `site`, and remembers `finished`.
    fn apply(&self, r: &Resource<'_>, site: Site, d: SiteDelta, finished: Option<ResourceStats>) {
        let key = (
            site.location().map_or(0, |l| l as *const _ as usize),
            r.kind(),
        );
        let mut slot = self.slots.local();
        let s = slot
            .sites
            .entry(key)
            .or_insert_with(|| SiteStats::new(site, r.kind()));
        // `created` counts finished ones here; `sites()` adds the live ones.
        s.created += u64::from(d.finished.is_some());
        if let Some(life) = d.finished {
            s.finished += 1;
            s.lifetimes.record(life);
        }
        if let Some(p) = d.poll {
            s.polls += 1;
            s.busy += p;
            s.slow_polls += u64::from(d.slow);
            s.poll_times.record(p);
        }
        if let Some(w) = d.scheduled {
            s.scheduled += w;
            s.scheduled_delays.record(w);
        }
        if let Some(i) = d.idle {
            s.idle += i;
        }
        if let Some(f) = d.first_poll {
            s.first_poll_delays.record(f);
        }
        if let Some(done) = finished {
            if slot.finished.len() >= self.finished_per_slot {
                slot.finished.pop_front();
            }
            slot.finished.push_back(done);
        }
    }
}

impl Default for TaskStats {
    fn default() -> TaskStats {
        TaskStats::new()
    }
}

impl Hook for TaskStats {
    fn init(&self, r: &Resource<'_>) {
        let site = Site::new(r.location());
        self.live.insert(
            r.id(),
            Live {
                kind: r.kind(),
                name: r.name().map(Box::from),
                site,
                created: Instant::now(),
                polls: 0,
                busy: Duration::ZERO,
                scheduled: Duration::ZERO,
                idle: Duration::ZERO,
                first_poll_delay: None,
                slow_polls: 0,
                longest_poll: Duration::ZERO,
                pending_idle: Duration::ZERO,
                woken_at: None,
                poll_start: None,
                last_after: None,
            },
        );
    }

    fn wake(&self, r: &Resource<'_>, _by: AsyncId) {
        let now = Instant::now();
        // No site update here: the idle time reaches the site with the next `before`.
        self.live.with(r.id(), |l| {
            if l.woken_at.is_some() {
                return; // already scheduled: the first wake counts
            }
            l.woken_at = Some(now);
            if let Some(a) = l.last_after.take() {
                let i = now.saturating_duration_since(a);
                l.idle += i;
                l.pending_idle += i;
            }
        });
    }

    fn before(&self, r: &Resource<'_>) {
        let now = Instant::now();
        let out = self.live.with(r.id(), |l| {
            let mut d = SiteDelta::default();
            if let Some(w) = l.woken_at.take() {
                let w = now.saturating_duration_since(w);
                l.scheduled += w;
                d.scheduled = Some(w);
            } else if let Some(a) = l.last_after.take() {
                l.idle += now.saturating_duration_since(a);
                l.pending_idle += now.saturating_duration_since(a);
            }
            l.last_after = None;
            if l.pending_idle > Duration::ZERO {
                d.idle = Some(std::mem::take(&mut l.pending_idle));
            }
            if l.first_poll_delay.is_none() {
                let f = now.saturating_duration_since(l.created);
                l.first_poll_delay = Some(f);
                d.first_poll = Some(f);
            }
            l.poll_start = Some(now);
            (l.site, d)
        });
        if let Some((site, d)) = out {
            self.apply(r, site, d, None);
        }
    }

    fn after(&self, r: &Resource<'_>) {
        let now = Instant::now();
        let slow_poll = self.slow_poll;
        let out = self.live.with(r.id(), |l| {
            let start = l.poll_start.take()?;
            let p = now.saturating_duration_since(start);
            l.polls += 1;
            l.busy += p;
            l.longest_poll = l.longest_poll.max(p);
            let slow = p >= slow_poll;
            l.slow_polls += u64::from(slow);
            l.last_after = Some(now);
            Some((
                l.site,
                SiteDelta {
                    poll: Some(p),
                    slow,
                    ..SiteDelta::default()
                },
            ))
        });
        if let Some(Some((site, d))) = out {
            self.apply(r, site, d, None);
        }
    }

    fn destroy(&self, r: &Resource<'_>) {
        let Some(l) = self.live.remove(r.id()) else {
            return;
        };
        let snapshot = l.snapshot(r.id(), Instant::now(), true);
        let delta = SiteDelta {
            finished: Some(snapshot.wall),
            idle: (l.pending_idle > Duration::ZERO).then_some(l.pending_idle),
            ..SiteDelta::default()
        };
        let keep = (self.finished_per_slot > 0).then_some(snapshot);
        self.apply(r, l.site, delta, keep);
    }
}
