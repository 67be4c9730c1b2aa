//! What [`TaskStats`](crate::TaskStats) returns: per resource and per site.

use super::histogram::LatencyHistogram;
use crate::site::Site;
use hookrt::hooks::{AsyncId, ResourceKind};
use std::fmt;
use std::time::Duration;

/// The timings of one resource.
#[derive(Clone, Debug)]
pub struct ResourceStats {
    /// Its id.
    pub id: AsyncId,
    /// Its kind.
    pub kind: ResourceKind,
    /// Its name (a task builder name), if any.
    pub name: Option<String>,
    /// Where it was created.
    pub site: Site,
    /// Completed polls (`before` → `after` pairs; for timers and sockets, dispatches).
    pub polls: u64,
    /// Total time inside polls (`before` → `after`).
    pub busy: Duration,
    /// Total time between a wake and the poll it led to (`wake` → `before`).
    pub scheduled: Duration,
    /// Total time waiting for a wake between polls (`after` → next `wake`, or → next
    /// `before` for resources that are not woken, such as timers).
    pub idle: Duration,
    /// Time from creation to the first poll (`init` → first `before`), once polled.
    pub first_poll_delay: Option<Duration>,
    /// Polls longer than the slow-poll threshold.
    pub slow_polls: u64,
    /// The longest poll.
    pub longest_poll: Duration,
    /// Time since creation (`init` → `destroy` once finished, → now before).
    pub wall: Duration,
    /// Whether `destroy` was seen.
    pub finished: bool,
}

impl fmt::Display for ResourceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} at {}: wall {:.3?}, busy {:.3?} in {} polls ({} slow, longest {:.3?}), \
             scheduled {:.3?}, idle {:.3?}",
            self.kind,
            self.id,
            self.site,
            self.wall,
            self.busy,
            self.polls,
            self.slow_polls,
            self.longest_poll,
            self.scheduled,
            self.idle
        )?;
        if let Some(d) = self.first_poll_delay {
            write!(f, ", first poll after {d:.3?}")?;
        }
        Ok(())
    }
}

/// The timings of every resource of one kind created at one site, finished or not.
#[derive(Clone, Debug)]
pub struct SiteStats {
    /// Where the resources were created.
    pub site: Site,
    /// Their kind.
    pub kind: ResourceKind,
    /// How many were created.
    pub created: u64,
    /// How many were destroyed.
    pub finished: u64,
    /// Completed polls.
    pub polls: u64,
    /// Total time inside polls.
    pub busy: Duration,
    /// Total wake → poll delay.
    pub scheduled: Duration,
    /// Total idle time between polls.
    pub idle: Duration,
    /// Polls longer than the slow-poll threshold.
    pub slow_polls: u64,
    /// Poll durations.
    pub poll_times: LatencyHistogram,
    /// Wake → poll delays.
    pub scheduled_delays: LatencyHistogram,
    /// Creation → first poll delays.
    pub first_poll_delays: LatencyHistogram,
    /// Creation → destruction times of the finished ones.
    pub lifetimes: LatencyHistogram,
}

impl SiteStats {
    pub(crate) fn new(site: Site, kind: ResourceKind) -> SiteStats {
        SiteStats {
            site,
            kind,
            created: 0,
            finished: 0,
            polls: 0,
            busy: Duration::ZERO,
            scheduled: Duration::ZERO,
            idle: Duration::ZERO,
            slow_polls: 0,
            poll_times: LatencyHistogram::new(),
            scheduled_delays: LatencyHistogram::new(),
            first_poll_delays: LatencyHistogram::new(),
            lifetimes: LatencyHistogram::new(),
        }
    }

    /// Adds `other`'s counts (same site and kind) to these.
    pub(crate) fn merge(&mut self, other: &SiteStats) {
        self.created += other.created;
        self.finished += other.finished;
        self.polls += other.polls;
        self.busy += other.busy;
        self.scheduled += other.scheduled;
        self.idle += other.idle;
        self.slow_polls += other.slow_polls;
        self.poll_times.merge(&other.poll_times);
        self.scheduled_delays.merge(&other.scheduled_delays);
        self.first_poll_delays.merge(&other.first_poll_delays);
        self.lifetimes.merge(&other.lifetimes);
    }

    /// Mean busy time per poll; zero before any poll.
    pub fn mean_poll(&self) -> Duration {
        if self.polls == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos((self.busy.as_nanos() / u128::from(self.polls)) as u64)
        }
    }
}

impl fmt::Display for SiteStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} at {}: {} created, {} finished, {} polls ({} slow), busy {:.3?}, \
             scheduled {:.3?}, idle {:.3?}",
            self.kind,
            self.site,
            self.created,
            self.finished,
            self.polls,
            self.slow_polls,
            self.busy,
            self.scheduled,
            self.idle
        )?;
        writeln!(f, "    poll time        {}", self.poll_times)?;
        writeln!(f, "    scheduled delay  {}", self.scheduled_delays)?;
        writeln!(f, "    first-poll delay {}", self.first_poll_delays)?;
        write!(f, "    lifetime         {}", self.lifetimes)
    }
}
