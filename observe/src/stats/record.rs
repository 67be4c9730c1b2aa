//! [`Record`]: what [`TaskStats`](super::TaskStats) keeps for one resource, inside the
//! resource ([`Resource::set_data`](hookrt::hooks::Resource::set_data)).
//!
//! Every field is an atomic, but the hot path only loads and stores (no
//! read-modify-write): the events of one resource are serialised by the runtime
//! (`before`/`after` on the polling thread, `wake` before the task is queued or by the
//! poller itself), and an unlikely overlap can only make a figure slightly off, never
//! unsound. Times are raw [`Clock`] ticks, converted when read.
//!
//! Per-poll samples (poll time, scheduled delay) wait in the record, [`BATCH`] at a
//! time, and reach the site's histograms in one go, under one lock: when the batch is
//! full, and at `destroy` with the record's totals. So a finished resource is exactly
//! in its site's figures, and a live one lags by less than a batch in the histograms.

use super::report::{ResourceStats, SiteStats};
use crate::clock::Clock;
use crate::live_set::{Place, Placed};
use crate::site::Site;
use hookrt::hooks::{AsyncId, ResourceKind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Per-poll samples kept in a record before they go to the site's histograms.
pub(super) const BATCH: usize = 8;

/// Adds `v` to a counter only the resource's current poller (or waker) writes.
#[inline]
fn bump(counter: &AtomicU64, v: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(v), Relaxed);
}

/// Samples are kept in units of `1 << SAMPLE_SHIFT` ticks in 32 bits (about 22 s at
/// 3 GHz before they saturate), so a batch fits one cache line.
const SAMPLE_SHIFT: u32 = 4;

fn to_sample(ticks: u64) -> u32 {
    u32::try_from(ticks >> SAMPLE_SHIFT).unwrap_or(u32::MAX)
}

fn from_sample(sample: u32) -> u64 {
    u64::from(sample) << SAMPLE_SHIFT
}

/// See the module docs. `repr(C)` keeps the fields every poll touches together (two
/// cache lines at most: the hot words and the batch), the others after them.
#[derive(Debug)]
#[repr(C)]
pub(super) struct Record {
    /// Tick of the running poll's `before` (0: not running).
    poll_start: AtomicU64,
    /// Tick of the last `after` not yet followed by a wake or a poll (0: none).
    last_after: AtomicU64,
    /// Tick of the wake not yet followed by a poll (0: none).
    woken_at: AtomicU64,
    busy: AtomicU64,
    scheduled: AtomicU64,
    idle: AtomicU64,
    longest: AtomicU64,
    polls: AtomicU32,
    /// Samples waiting in the batch.
    batched: AtomicU32,
    /// Samples waiting for the site: poll times, and scheduled delays plus one (0: the
    /// poll was not woken), in [`SAMPLE_SHIFT`] units.
    batch_polls: [AtomicU32; BATCH],
    batch_scheduled: [AtomicU32; BATCH],
    slow_polls: AtomicU64,
    /// `init` → first `before`, plus one (0: not polled yet).
    first_poll: AtomicU64,
    /// Whether the first-poll delay reached the site.
    first_poll_sent: AtomicBool,
    /// Tick of `init`.
    created: u64,
    pub(super) id: AsyncId,
    pub(super) kind: ResourceKind,
    pub(super) site: Site,
    pub(super) name: Option<Box<str>>,
    /// Where the record is in the live set.
    pub(super) place: Place,
}

impl Placed for Record {
    fn place(&self) -> &Place {
        &self.place
    }
}

/// What a batch flush or a `destroy` adds to a site.
pub(super) struct Samples {
    polls: [u64; BATCH],
    scheduled: [u64; BATCH],
    len: usize,
    first_poll: Option<u64>,
}

impl Record {
    pub(super) fn new(
        id: AsyncId,
        kind: ResourceKind,
        name: Option<Box<str>>,
        site: Site,
        created: u64,
    ) -> Record {
        Record {
            id,
            kind,
            name,
            site,
            created,
            polls: AtomicU32::new(0),
            busy: AtomicU64::new(0),
            scheduled: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            slow_polls: AtomicU64::new(0),
            longest: AtomicU64::new(0),
            first_poll: AtomicU64::new(0),
            woken_at: AtomicU64::new(0),
            poll_start: AtomicU64::new(0),
            last_after: AtomicU64::new(0),
            batch_polls: Default::default(),
            batch_scheduled: Default::default(),
            batched: AtomicU32::new(0),
            first_poll_sent: AtomicBool::new(false),
            place: Place::new(),
        }
    }

    /// `wake(by)` at tick `now()` (not read for a task waking itself at the end of its
    /// own poll: that wake is at its `after`).
    #[inline]
    pub(super) fn on_wake(&self, self_wake: bool, now: impl FnOnce() -> u64) {
        if self.woken_at.load(Relaxed) != 0 {
            return; // already scheduled: the first wake counts
        }
        let after = self.last_after.load(Relaxed);
        let at = if self_wake && after != 0 {
            after
        } else {
            now()
        };
        self.woken_at.store(at, Relaxed);
        if after != 0 {
            bump(&self.idle, at.saturating_sub(after));
            self.last_after.store(0, Relaxed);
        }
    }

    /// `before` at tick `now`.
    #[inline]
    pub(super) fn on_before(&self, now: u64) {
        if self.polls.load(Relaxed) == 0 && self.first_poll.load(Relaxed) == 0 {
            self.first_poll
                .store(now.saturating_sub(self.created) + 1, Relaxed);
        }
        let slot = self.batched.load(Relaxed) as usize % BATCH;
        let woken = self.woken_at.load(Relaxed);
        let scheduled = if woken != 0 {
            self.woken_at.store(0, Relaxed);
            let s = now.saturating_sub(woken);
            bump(&self.scheduled, s);
            to_sample(s).saturating_add(1)
        } else {
            let after = self.last_after.load(Relaxed);
            if after != 0 {
                bump(&self.idle, now.saturating_sub(after));
            }
            0
        };
        self.batch_scheduled[slot].store(scheduled, Relaxed);
        self.last_after.store(0, Relaxed);
        self.poll_start.store(now, Relaxed);
    }

    /// `after` at tick `now`; returns whether the batch is full.
    #[inline]
    pub(super) fn on_after(&self, now: u64, slow_ticks: u64) -> bool {
        let start = self.poll_start.load(Relaxed);
        if start == 0 {
            return false;
        }
        self.poll_start.store(0, Relaxed);
        let p = now.saturating_sub(start);
        self.polls
            .store(self.polls.load(Relaxed).wrapping_add(1), Relaxed);
        bump(&self.busy, p);
        if p > self.longest.load(Relaxed) {
            self.longest.store(p, Relaxed);
        }
        if p >= slow_ticks {
            bump(&self.slow_polls, 1);
        }
        self.last_after.store(now, Relaxed);
        let n = self.batched.load(Relaxed) as usize;
        self.batch_polls[n % BATCH].store(to_sample(p), Relaxed);
        self.batched.store(n as u32 + 1, Relaxed);
        n + 1 == BATCH
    }

    /// Takes the waiting samples.
    pub(super) fn take_samples(&self) -> Samples {
        let len = (self.batched.swap(0, Relaxed) as usize).min(BATCH);
        let mut s = Samples {
            polls: [0; BATCH],
            scheduled: [0; BATCH],
            len,
            first_poll: None,
        };
        for i in 0..len {
            s.polls[i] = from_sample(self.batch_polls[i].load(Relaxed));
            s.scheduled[i] = match self.batch_scheduled[i].load(Relaxed) {
                0 => 0,
                sample => from_sample(sample - 1) + 1,
            };
        }
        let first = self.first_poll.load(Relaxed);
        if first != 0 && !self.first_poll_sent.swap(true, Relaxed) {
            s.first_poll = Some(first - 1);
        }
        s
    }

    /// Ticks from `init` to `now`.
    pub(super) fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.created)
    }

    /// The record as figures, `now` being the end of its wall time.
    pub(super) fn snapshot(&self, clock: &Clock, now: u64, finished: bool) -> ResourceStats {
        let d = |a: &AtomicU64| clock.duration(a.load(Relaxed));
        let first = self.first_poll.load(Relaxed);
        ResourceStats {
            id: self.id,
            kind: self.kind,
            name: self.name.as_deref().map(str::to_owned),
            site: self.site,
            polls: u64::from(self.polls.load(Relaxed)),
            busy: d(&self.busy),
            scheduled: d(&self.scheduled),
            idle: d(&self.idle),
            first_poll_delay: (first != 0).then(|| clock.duration(first - 1)),
            slow_polls: self.slow_polls.load(Relaxed),
            longest_poll: d(&self.longest),
            wall: clock.duration(now.saturating_sub(self.created)),
            finished,
        }
    }

    /// Adds the record's totals to `site` (a live one's in a report; a finished one's
    /// for good).
    pub(super) fn add_totals(&self, clock: &Clock, site: &mut SiteStats) {
        let d = |a: &AtomicU64| clock.duration(a.load(Relaxed));
        site.created += 1;
        site.polls += u64::from(self.polls.load(Relaxed));
        site.busy += d(&self.busy);
        site.scheduled += d(&self.scheduled);
        site.idle += d(&self.idle);
        site.slow_polls += self.slow_polls.load(Relaxed);
    }
}

impl Samples {
    /// Records the samples in `site`'s histograms.
    pub(super) fn record(&self, site: &mut SiteStats) {
        for i in 0..self.len {
            site.poll_times.record_ticks(self.polls[i]);
            if self.scheduled[i] != 0 {
                site.scheduled_delays.record_ticks(self.scheduled[i] - 1);
            }
        }
        if let Some(f) = self.first_poll {
            site.first_poll_delays.record_ticks(f);
        }
    }
}
