//! [`LatencyHistogram`]: durations with bounded relative error (HdrHistogram).

use hdrhistogram::Histogram;
use std::fmt;
use std::time::Duration;

/// Significant decimal digits kept per value: 2 digits is at most 1 % relative error.
const SIGFIG: u8 = 2;

/// A histogram of durations, in nanoseconds with 1 % relative precision.
///
/// It starts small and grows with the largest value recorded (HdrHistogram's
/// auto-resize), so a histogram of microsecond polls stays a few kilobytes.
#[derive(Clone)]
pub struct LatencyHistogram {
    h: Histogram<u64>,
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        LatencyHistogram {
            h: Histogram::new(SIGFIG).expect("2 significant digits is a valid precision"),
        }
    }

    /// Records one duration (saturating at `u64::MAX` nanoseconds).
    pub fn record(&mut self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        // Auto-resizing histograms only fail for values beyond their highest
        // trackable value, which is u64::MAX / 2: saturate instead.
        if self.h.record(ns).is_err() {
            let _ = self.h.record(self.h.high());
        }
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        let _ = self.h.add(&other.h);
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        self.h.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.h.is_empty()
    }

    /// The value at quantile `q` (0.0 ..= 1.0); zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_nanos(self.h.value_at_quantile(q))
    }

    /// The largest value recorded (within the precision); zero when empty.
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.h.max())
    }

    /// The mean; zero when empty.
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.h.mean() as u64)
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
