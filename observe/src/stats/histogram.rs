//! [`LatencyHistogram`]: durations with bounded relative error, in clock ticks.
//!
//! Log-linear buckets, as HdrHistogram lays them out: values below 128 ticks have a
//! bucket each; above, every power of two is split into 128 buckets, so a bucket is
//! never wider than 1/128 of its values (under 0.8 % relative error). Recording is a
//! leading-zero count, a shift and an increment (TaskStats records a sample per poll),
//! and the bucket array grows only up to the largest value seen (about 3 300 buckets
//! for a second at 3 GHz).
//!
//! Values are kept in [`Clock`] ticks and converted to time when read, so the hot path
//! never converts.

use crate::clock::Clock;
use std::fmt;
use std::time::Duration;

/// Bits of a value kept exactly below its leading one: 2^7 = 128 buckets per octave.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;

/// The bucket of `v`.
#[inline]
fn index_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let shift = (63 - v.leading_zeros()) - SUB_BITS;
    (((shift as u64) << SUB_BITS) + (v >> shift)) as usize
}

/// The largest value that falls in bucket `i`.
fn highest_in(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB {
        return i;
    }
    let shift = (i >> SUB_BITS) - 1;
    let sub = i - (shift << SUB_BITS);
    (sub << shift) + ((1u64 << shift) - 1)
}

/// A histogram of durations with under 1 % relative error. See the module docs.
#[derive(Clone)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    len: u64,
    /// Sum of the recorded ticks (saturating), for the mean.
    sum: u64,
    max: u64,
    clock: &'static Clock,
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        LatencyHistogram {
            counts: Vec::new(),
            len: 0,
            sum: 0,
            max: 0,
            clock: Clock::get(),
        }
    }

    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        self.record_ticks(self.clock.ticks_of(d));
    }

    /// Records one value in clock ticks.
    #[inline]
    pub(crate) fn record_ticks(&mut self, ticks: u64) {
        let i = index_of(ticks);
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.len += 1;
        self.sum = self.sum.saturating_add(ticks);
        self.max = self.max.max(ticks);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.len += other.len;
        self.sum = self.sum.saturating_add(other.sum);
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at quantile `q` (0.0 ..= 1.0): the highest value of the bucket that
    /// holds it (never above the maximum); zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.len == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.len as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return self.clock.duration(highest_in(i).min(self.max));
            }
        }
        self.max()
    }

    /// The largest value recorded; zero when empty.
    pub fn max(&self) -> Duration {
        self.clock.duration(self.max)
    }

    /// The mean; zero when empty.
    pub fn mean(&self) -> Duration {
        if self.len == 0 {
            return Duration::ZERO;
        }
        self.clock.duration(self.sum / self.len)
    }
}

impl Default for LatencyHistogram {
    fn default() -> LatencyHistogram {
        LatencyHistogram::new()
    }
}

impl fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("len", &self.len())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .field("max", &self.max())
            .finish()
    }
}

impl fmt::Display for LatencyHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} p50={:.1?} p90={:.1?} p99={:.1?} max={:.1?}",
            self.len(),
            self.quantile(0.5),
            self.quantile(0.9),
            self.quantile(0.99),
            self.max()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_narrow() {
        let mut previous_high = None;
        for i in 0..(40 << SUB_BITS) {
            let high = highest_in(i);
            if let Some(p) = previous_high {
                assert_eq!(index_of(p + 1), i, "bucket {i} starts after {p}");
            }
            assert_eq!(index_of(high), i);
            let low = previous_high.map_or(0, |p| p + 1);
            assert!(
                (high - low) as f64 <= (low as f64 / SUB as f64).max(0.0),
                "{i}"
            );
            previous_high = Some(high);
        }
        assert!(index_of(u64::MAX) < (64 << SUB_BITS));
    }

    #[test]
    fn quantiles_within_one_percent() {
        let clock = Clock::get();
        let mut h = LatencyHistogram::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.len(), 1000);
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0), (1.0, 1000.0)] {
            let got = h.quantile(q).as_secs_f64() * 1e6;
            assert!((got - want).abs() <= want * 0.01 + 0.01, "p{q}: {got} µs");
        }
        let mean = h.mean().as_secs_f64() * 1e6;
        assert!((mean - 500.5).abs() < 5.0, "mean {mean}");
        let mut other = LatencyHistogram::new();
        other.record_ticks(clock.ticks_of(Duration::from_secs(2)));
        h.merge(&other);
        assert_eq!(h.len(), 1001);
        assert!(h.max() > Duration::from_millis(1990));
    }
}
