//! [`Clock`]: the cheap timestamps the hooks take on every poll.
//!
//! `Instant::now()` costs 20–35 ns (a vDSO call); a poll of a busy task costs about as
//! much, so timing every poll with it would double the runtime's cost. On x86-64 with
//! an invariant TSC (constant rate, not stopped in sleep states: CPUID leaf
//! `0x8000_0007`, EDX bit 8) the clock reads the time-stamp counter instead (one
//! `rdtsc`, a few nanoseconds) and converts tick differences to nanoseconds with a
//! ratio calibrated once per process against `Instant` (over 2 ms, so the error is a few
//! parts in 10⁵). Everywhere else a tick is a nanosecond since a process-wide origin
//! `Instant`.
//!
//! Hooks keep raw ticks in their per-resource records and convert only when a figure
//! is read (a report, a finished resource), so the hot path never divides.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the TSC is calibrated against `Instant`.
const CALIBRATION: Duration = Duration::from_millis(2);

/// A monotonic tick counter and its conversion to time. See the module docs.
#[derive(Debug)]
pub(crate) struct Clock {
    /// The origin of ticks when they are not the TSC's.
    origin: Instant,
    /// Nanoseconds per tick.
    ns_per_tick: f64,
    /// Whether ticks come from the TSC.
    tsc: bool,
}

static CLOCK: OnceLock<Clock> = OnceLock::new();

impl Clock {
    /// The process's clock, calibrated on first use.
    pub(crate) fn get() -> &'static Clock {
        CLOCK.get_or_init(Clock::calibrate)
    }

    fn calibrate() -> Clock {
        let origin = Instant::now();
        if !tsc::invariant() {
            return Clock {
                origin,
                ns_per_tick: 1.0,
                tsc: false,
            };
        }
        let origin_ticks = tsc::read();
        let mut end = Instant::now();
        while end.duration_since(origin) < CALIBRATION {
            std::hint::spin_loop();
            end = Instant::now();
        }
        let ticks = tsc::read().wrapping_sub(origin_ticks);
        let nanos = end.duration_since(origin).as_nanos() as f64;
        Clock {
            origin,
            ns_per_tick: if ticks == 0 {
                1.0
            } else {
                nanos / ticks as f64
            },
            tsc: ticks != 0,
        }
    }

    /// The current tick. Never 0 (0 means "no time" in the hooks' records).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        if self.tsc {
            tsc::read().max(1)
        } else {
            (self.origin.elapsed().as_nanos() as u64).max(1)
        }
    }

    /// Nanoseconds in `ticks` (a difference of two readings).
    #[inline]
    pub(crate) fn nanos(&self, ticks: u64) -> u64 {
        if self.tsc {
            (ticks as f64 * self.ns_per_tick) as u64
        } else {
            ticks
        }
    }

    /// The duration of `ticks` (a difference of two readings).
    #[inline]
    pub(crate) fn duration(&self, ticks: u64) -> Duration {
        Duration::from_nanos(self.nanos(ticks))
    }

    /// How many ticks `d` lasts (for thresholds compared on the hot path).
    pub(crate) fn ticks_of(&self, d: Duration) -> u64 {
        if self.tsc {
            (d.as_nanos() as f64 / self.ns_per_tick) as u64
        } else {
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod tsc {
    /// Whether the TSC ticks at a constant rate in every power state (CPUID
    /// `0x8000_0007`: EDX bit 8, "invariant TSC").
    pub(super) fn invariant() -> bool {
        use std::arch::x86_64::__cpuid;
        #[allow(unused_unsafe)]
        // SAFETY: `cpuid` exists on every x86-64 CPU; leaf 0x8000_0000 reports the
        // highest extended leaf, checked before 0x8000_0007 is asked for.
        let max_extended = unsafe { __cpuid(0x8000_0000) }.eax;
        if max_extended < 0x8000_0007 {
            return false;
        }
        #[allow(unused_unsafe)]
        // SAFETY: as above; the leaf is supported (checked).
        let power = unsafe { __cpuid(0x8000_0007) };
        power.edx & (1 << 8) != 0
    }

    /// The time-stamp counter.
    #[inline]
    pub(super) fn read() -> u64 {
        #[allow(unused_unsafe)]
        // SAFETY: `rdtsc` exists on every x86-64 CPU and has no side effects.
        unsafe {
            std::arch::x86_64::_rdtsc()
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod tsc {
    pub(super) fn invariant() -> bool {
        false
    }

    pub(super) fn read() -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_measure_real_time() {
        let clock = Clock::get();
        let (t0, i0) = (clock.now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (t1, i1) = (clock.now(), Instant::now());
        let measured = clock.duration(t1 - t0).as_secs_f64();
        let real = i1.duration_since(i0).as_secs_f64();
        assert!(
            (measured - real).abs() < real * 0.02,
            "clock says {measured}s, Instant says {real}s"
        );
        let ms = clock.ticks_of(Duration::from_millis(1));
        let back = clock.duration(ms).as_nanos();
        assert!(
            back.abs_diff(1_000_000) < 1_000,
            "ticks_of inverts duration: {back} ns"
        );
    }
}
