//! [`TaskStats`]: poll timings of every resource, at the source.
//!
//! The same measures as tokio-metrics (polls, busy time, scheduled delay, idle time,
//! first-poll delay, slow polls), taken from the hook events instead of wrapper
//! futures, so they cover every task, timer, socket, blocking job and
//! [`timed`](crate::timed) section without changing user code.
//!
//! State: one [`Record`] per resource, kept in the resource itself
//! ([`Resource::set_data`]) and listed in a [`LiveSet`] for reports; per-site totals
//! and histograms in a [`PerThread`] slot, keyed by the address of the creating
//! `Location` and merged by [`Site`] when read. An event reads the clock once (a TSC
//! read, see [`Clock`]) and updates its record with plain loads and stores: no lookup,
//! no lock. A thread slot is locked once per [`BATCH`](record::BATCH) polls of a
//! resource, and at its `destroy`, where its totals are added to its site.

mod histogram;
mod record;
mod report;

pub use histogram::LatencyHistogram;
pub use report::{ResourceStats, SiteStats};

use crate::clock::Clock;
use crate::live_set::LiveSet;
use crate::shard::{FastMap, PerThread};
use crate::site::Site;
use hookrt::hooks::{AsyncId, Hook, Resource, ResourceKind};
use record::{Record, Samples};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Default slow-poll threshold (tokio-metrics uses 50 µs; a millisecond is where a poll
/// starts to hurt the latency of other tasks on the same worker).
pub const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(1);

/// Default number of finished resources kept for [`TaskStats::finished`].
pub const DEFAULT_FINISHED: usize = 4096;

/// A per-thread site table: key is the `Location` address (0 when unknown) and kind.
type SiteTable = FastMap<(usize, ResourceKind), SiteStats>;

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
    clock: &'static Clock,
    slow_poll: Duration,
    /// `slow_poll` in clock ticks.
    slow_ticks: u64,
    finished_per_slot: usize,
    live: LiveSet<Arc<Record>>,
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
        let clock = Clock::get();
        TaskStats {
            clock,
            slow_poll,
            slow_ticks: clock.ticks_of(slow_poll).max(1),
            finished_per_slot: finished.div_ceil(crate::shard::SHARDS),
            live: LiveSet::new(),
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
        let now = self.clock.now();
        let mut found = None;
        self.live.for_each(|r| {
            if r.id == id {
                found = Some(r.snapshot(self.clock, now, false));
            }
        });
        if found.is_some() {
            return found;
        }
        self.slots.for_each(|slot| {
            if found.is_none() {
                found = slot.finished.iter().find(|s| s.id == id).cloned();
            }
        });
        found
    }

    /// Every live resource's stats, by id.
    pub fn live(&self) -> Vec<ResourceStats> {
        let now = self.clock.now();
        let mut out = Vec::new();
        self.live
            .for_each(|r| out.push(r.snapshot(self.clock, now, false)));
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
    ///
    /// Totals (created, polls, busy, scheduled, idle, slow polls) cover every resource,
    /// live or finished. The histograms hold every poll of finished resources, and all
    /// but the last few (under 8) polls of each live one.
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
        self.live.for_each(|r| {
            let site = merged
                .entry((r.site, r.kind))
                .or_insert_with(|| SiteStats::new(r.site, r.kind));
            r.add_totals(self.clock, site);
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

    /// Adds `samples` (and, for a finished record, its totals) to the calling thread's
    /// figures of the record's site.
    fn flush(&self, record: &Record, samples: Samples, finished: Option<u64>) {
        let key = (
            record.site.location().map_or(0, |l| l as *const _ as usize),
            record.kind,
        );
        let mut slot = self.slots.local();
        let site = slot
            .sites
            .entry(key)
            .or_insert_with(|| SiteStats::new(record.site, record.kind));
        samples.record(site);
        let Some(now) = finished else {
            return;
        };
        record.add_totals(self.clock, site);
        site.finished += 1;
        let snapshot = record.snapshot(self.clock, now, true);
        site.lifetimes.record_ticks(record.age(now));
        if self.finished_per_slot > 0 {
            if slot.finished.len() >= self.finished_per_slot {
                slot.finished.pop_front();
            }
            slot.finished.push_back(snapshot);
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
        let record = Record::new(
            r.id(),
            r.kind(),
            r.name().map(Box::from),
            Site::new(r.location()),
            self.clock.now(),
        );
        if r.set_data(record).is_some() {
            if let Some(record) = r.data_arc::<Record>() {
                self.live.insert(record);
            }
        }
    }

    fn wake(&self, r: &Resource<'_>, by: AsyncId) {
        if let Some(record) = r.data::<Record>() {
            record.on_wake(by == r.id(), || self.clock.now());
        }
    }

    fn before(&self, r: &Resource<'_>) {
        if let Some(record) = r.data::<Record>() {
            record.on_before(self.clock.now());
        }
    }

    fn after(&self, r: &Resource<'_>) {
        if let Some(record) = r.data::<Record>() {
            if record.on_after(self.clock.now(), self.slow_ticks) {
                self.flush(record, record.take_samples(), None);
            }
        }
    }

    fn destroy(&self, r: &Resource<'_>) {
        let Some(record) = r.data::<Record>() else {
            return;
        };
        if LiveSet::<Arc<Record>>::remove(&record.place) {
            self.flush(record, record.take_samples(), Some(self.clock.now()));
        }
    }
}
