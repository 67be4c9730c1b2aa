//! How long each criterion group measures, and the quick mode of the report.
//!
//! Criterion's command-line `--measurement-time` does not override a time a group sets
//! itself, so the groups ask [`timing`] instead: with [`QUICK_ENV`] set (the report's
//! `--quick` sets it for the benches it runs), every group is shortened to
//! [`QUICK_WARM_UP`] + [`QUICK_MEASUREMENT`].

use std::time::Duration;

/// The environment variable that shortens every group (any value but `0` or empty).
pub const QUICK_ENV: &str = "HOOKRT_BENCH_QUICK";

/// Warm-up of every group in quick mode.
pub const QUICK_WARM_UP: Duration = Duration::from_millis(200);

/// Measurement time of every group in quick mode.
pub const QUICK_MEASUREMENT: Duration = Duration::from_millis(600);

/// Whether [`QUICK_ENV`] asks for the short run.
pub fn quick() -> bool {
    std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `(warm_up, measurement)` for a group: the given full-length times, or the quick ones
/// when [`quick`].
pub fn timing(warm_up: Duration, measurement: Duration) -> (Duration, Duration) {
    if quick() {
        (
            QUICK_WARM_UP.min(warm_up),
            QUICK_MEASUREMENT.min(measurement),
        )
    } else {
        (warm_up, measurement)
    }
}
