//! Readiness: the [`Ready`] bit set, the two [`Direction`]s of `AsyncRead`/`AsyncWrite`,
//! and [`ReadyEvent`], a readiness observation stamped with the driver tick it came from.

use mio::Interest;
use std::fmt;
use std::ops;

/// A set of readiness flags, as reported by the OS for one registration.
///
/// ```
/// use hookrt_io_driver::Ready;
/// let r = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(r.is_readable() && r.is_read_closed());
/// assert!(!r.is_writable());
/// assert_eq!(r - Ready::READ_CLOSED, Ready::READABLE);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// The source can be read from (or a listener has a connection to accept).
    pub const READABLE: Ready = Ready(1 << 0);
    /// The source can be written to.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The read half is closed (the peer shut down its write side, or hung up). Never
    /// cleared once seen: every later read returns EOF or an error at once.
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write half is closed. Never cleared once seen.
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The source has an error pending; it wakes readers and writers alike, and the next
    /// operation reports it.
    pub const ERROR: Ready = Ready(1 << 4);
    /// Priority (out-of-band) data is available (Linux `EPOLLPRI`).
    pub const PRIORITY: Ready = Ready(1 << 5);
    /// Every flag.
    pub const ALL: Ready = Ready((1 << Ready::BITS) - 1);

    /// How many bits the set uses (the low bits of a registration's state word).
    pub(crate) const BITS: u32 = 6;

    /// The readiness a mio event reports.
    pub fn from_event(event: &mio::event::Event) -> Ready {
        let mut ready = Ready::EMPTY;
        if event.is_readable() {
            ready |= Ready::READABLE;
        }
        if event.is_writable() {
            ready |= Ready::WRITABLE;
        }
        if event.is_read_closed() {
            ready |= Ready::READ_CLOSED;
        }
        if event.is_write_closed() {
            ready |= Ready::WRITE_CLOSED;
        }
        if event.is_error() {
            ready |= Ready::ERROR;
        }
        if event.is_priority() {
            ready |= Ready::PRIORITY;
        }
        ready
    }

    /// The readiness that satisfies a waiter interested in `interest`: readable interest
    /// is met by `READABLE` or `READ_CLOSED`, writable by `WRITABLE` or `WRITE_CLOSED`,
    /// priority by `PRIORITY` or `READ_CLOSED`; `ERROR` meets any interest.
    ///
    /// ```
    /// use hookrt_io_driver::Ready;
    /// use mio::Interest;
    /// let mask = Ready::from_interest(Interest::READABLE);
    /// assert_eq!(mask, Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR);
    /// ```
    pub fn from_interest(interest: Interest) -> Ready {
        let mut mask = Ready::ERROR;
        if interest.is_readable() {
            mask |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if interest.is_writable() {
            mask |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        if interest.is_priority() {
            mask |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        mask
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `READABLE` is set.
    pub const fn is_readable(self) -> bool {
        self.0 & Ready::READABLE.0 != 0
    }

    /// Whether `WRITABLE` is set.
    pub const fn is_writable(self) -> bool {
        self.0 & Ready::WRITABLE.0 != 0
    }

    /// Whether `READ_CLOSED` is set.
    pub const fn is_read_closed(self) -> bool {
        self.0 & Ready::READ_CLOSED.0 != 0
    }

    /// Whether `WRITE_CLOSED` is set.
    pub const fn is_write_closed(self) -> bool {
        self.0 & Ready::WRITE_CLOSED.0 != 0
    }

    /// Whether `ERROR` is set.
    pub const fn is_error(self) -> bool {
        self.0 & Ready::ERROR.0 != 0
    }

    /// Whether `PRIORITY` is set.
    pub const fn is_priority(self) -> bool {
        self.0 & Ready::PRIORITY.0 != 0
    }

    /// Whether every flag of `other` is set in `self`.
    pub const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a flag.
    pub const fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    /// The set of the low [`Ready::BITS`] bits of `bits`.
    pub(crate) const fn from_bits_truncate(bits: u64) -> Ready {
        Ready((bits & Ready::ALL.0 as u64) as u8)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    /// The flags of `self` that are not in `rhs`.
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 6] = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
            (Ready::PRIORITY, "PRIORITY"),
        ];
        if self.is_empty() {
            return f.write_str("Ready(EMPTY)");
        }
        f.write_str("Ready(")?;
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        f.write_str(")")
    }
}

/// The direction of an `AsyncRead` / `AsyncWrite` operation: each has its own waker slot
/// in a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reading (or accepting, or receiving).
    Read,
    /// Writing (or sending, or waiting for a connect to finish).
    Write,
}

impl Direction {
    /// The readiness that wakes this direction: `READABLE | READ_CLOSED | ERROR` for
    /// reads, `WRITABLE | WRITE_CLOSED | ERROR` for writes.
    pub const fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0 | Ready::ERROR.0),
            Direction::Write => Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0 | Ready::ERROR.0),
        }
    }
}

/// A readiness observation: the flags a waiter asked about that were set, and the
/// driver tick that last set the registration's readiness.
///
/// Hand it back to [`Registration::clear_readiness`](crate::Registration::clear_readiness)
/// after an operation returned `WouldBlock`: the flags are cleared only if no newer
/// event (a later tick) arrived since this one was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyEvent {
    ready: Ready,
    tick: u32,
}

impl ReadyEvent {
    pub(crate) const fn new(ready: Ready, tick: u32) -> ReadyEvent {
        ReadyEvent { ready, tick }
    }

    /// The flags that were set (only those the waiter was interested in).
    pub const fn ready(&self) -> Ready {
        self.ready
    }

    /// The driver tick (turn number, wrapping) that last set the readiness.
    pub const fn tick(&self) -> u32 {
        self.tick
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(Ready::ALL.bits(), 0b11_1111);
        assert!(Direction::Read
            .mask()
            .contains(Ready::READABLE | Ready::ERROR));
        assert!(!Direction::Read.mask().intersects(Ready::WRITABLE));
        assert!(!Direction::Write.mask().intersects(Ready::READABLE));
        let both = Ready::from_interest(Interest::READABLE | Interest::WRITABLE);
        assert_eq!(both, Direction::Read.mask() | Direction::Write.mask());
        assert_eq!(Ready::from_bits_truncate(u64::MAX), Ready::ALL);
    }

    #[test]
    fn debug_lists_flags() {
        assert_eq!(format!("{:?}", Ready::EMPTY), "Ready(EMPTY)");
        assert_eq!(
            format!("{:?}", Ready::READABLE | Ready::ERROR),
            "Ready(READABLE | ERROR)"
        );
    }
}
