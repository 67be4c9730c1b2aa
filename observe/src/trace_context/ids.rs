//! The fixed-size fields of `traceparent`: [`TraceId`], [`SpanId`] and [`TraceFlags`],
//! with their lowercase-hex encoding.

use std::fmt;

/// The lowercase hex digits, indexed by nibble value.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Decodes one lowercase hex digit (`0-9`, `a-f`); anything else, uppercase included,
/// is `None`, as `HEXDIGLC` in the spec.
fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Decodes exactly `2 * N` lowercase hex digits into `N` bytes.
pub(super) fn decode_lower_hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (lower_hex_value(pair[0])? << 4) | lower_hex_value(pair[1])?;
    }
    Some(out)
}

/// Writes `bytes` as lowercase hex.
fn write_lower_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 32];
    for chunk in bytes.chunks(16) {
        let len = 2 * chunk.len();
        for (pair, byte) in buf[..len].chunks_exact_mut(2).zip(chunk) {
            pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
            pair[1] = HEX_DIGITS[usize::from(byte & 0x0f)];
        }
        // Only ASCII hex digits were written.
        f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

/// The 16-byte id of a whole distributed trace (the `trace-id` field).
///
/// All zeroes is the invalid value ([`TraceId::INVALID`]); [`TraceContext`] never holds
/// it. Displays as 32 lowercase hex digits.
///
/// ```
/// use hookrt_observe::trace_context::TraceId;
///
/// let id = TraceId::from_bytes([0x4b; 16]);
/// assert!(id.is_valid());
/// assert_eq!(id.to_string(), "4b".repeat(16));
/// assert!(!TraceId::INVALID.is_valid());
/// ```
///
/// [`TraceContext`]: super::TraceContext
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// The all-zero id, which the spec forbids on the wire.
    pub const INVALID: TraceId = TraceId([0; 16]);

    /// The id with these bytes (big-endian, as written in the header).
    pub const fn from_bytes(bytes: [u8; 16]) -> TraceId {
        TraceId(bytes)
    }

    /// The bytes of the id, as written in the header.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Whether the id may be sent: not all zeroes.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 16]
    }

    /// Parses exactly 32 lowercase hex digits; the all-zero id is returned as is
    /// (check [`is_valid`](TraceId::is_valid)).
    pub fn from_hex(digits: &[u8]) -> Option<TraceId> {
        decode_lower_hex(digits).map(TraceId)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lower_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

/// The 8-byte id of one span (the `parent-id` field: the caller's span).
///
/// All zeroes is the invalid value ([`SpanId::INVALID`]). Displays as 16 lowercase hex
/// digits.
///
/// ```
/// use hookrt_observe::trace_context::SpanId;
///
/// let id = SpanId::from_hex(b"00f067aa0ba902b7").unwrap();
/// assert_eq!(id.to_bytes(), [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
/// assert_eq!(id.to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId([u8; 8]);

impl SpanId {
    /// The all-zero id, which the spec forbids on the wire.
    pub const INVALID: SpanId = SpanId([0; 8]);

    /// The id with these bytes (big-endian, as written in the header).
    pub const fn from_bytes(bytes: [u8; 8]) -> SpanId {
        SpanId(bytes)
    }

    /// The bytes of the id, as written in the header.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// Whether the id may be sent: not all zeroes.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 8]
    }

    /// Parses exactly 16 lowercase hex digits; the all-zero id is returned as is
    /// (check [`is_valid`](SpanId::is_valid)).
    pub fn from_hex(digits: &[u8]) -> Option<SpanId> {
        decode_lower_hex(digits).map(SpanId)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lower_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// The 8-bit `trace-flags` field. Displays as 2 lowercase hex digits.
///
/// Only [`SAMPLED`](TraceFlags::SAMPLED) (level 1) and [`RANDOM`](TraceFlags::RANDOM)
/// (level 2) are defined; a parsed header keeps the other bits as received (so it
/// formats back identically), and [`TraceContext::child`](super::TraceContext::child)
/// clears them, as the spec asks of a participant.
///
/// ```
/// use hookrt_observe::trace_context::TraceFlags;
///
/// // A bit field: mask, never compare the whole byte.
/// assert!(TraceFlags::new(0x09).is_sampled());
/// assert!(!TraceFlags::default().is_sampled());
/// assert_eq!(TraceFlags::SAMPLED.to_string(), "01");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceFlags(u8);

impl TraceFlags {
    /// The caller may have recorded trace data (bit 0).
    pub const SAMPLED: TraceFlags = TraceFlags(0x01);
    /// Level 2: the rightmost 7 bytes of the trace id are random (bit 1).
    pub const RANDOM: TraceFlags = TraceFlags(0x02);
    /// The bits this implementation knows; the others are reserved.
    pub const KNOWN: TraceFlags = TraceFlags(0x03);

    /// The flags with this bit pattern.
    pub const fn new(bits: u8) -> TraceFlags {
        TraceFlags(bits)
    }

    /// The bit pattern.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether the sampled bit is set.
    pub const fn is_sampled(self) -> bool {
        self.0 & TraceFlags::SAMPLED.0 != 0
    }

    /// These flags with the sampled bit set or cleared.
    #[must_use]
    pub const fn with_sampled(self, sampled: bool) -> TraceFlags {
        if sampled {
            TraceFlags(self.0 | TraceFlags::SAMPLED.0)
        } else {
            TraceFlags(self.0 & !TraceFlags::SAMPLED.0)
        }
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: TraceFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses exactly 2 lowercase hex digits.
    pub fn from_hex(digits: &[u8]) -> Option<TraceFlags> {
        decode_lower_hex::<1>(digits).map(|[bits]| TraceFlags(bits))
    }
}

impl std::ops::BitOr for TraceFlags {
    type Output = TraceFlags;

    fn bitor(self, rhs: TraceFlags) -> TraceFlags {
        TraceFlags(self.0 | rhs.0)
    }
}

impl std::ops::BitAnd for TraceFlags {
    type Output = TraceFlags;

    fn bitand(self, rhs: TraceFlags) -> TraceFlags {
        TraceFlags(self.0 & rhs.0)
    }
}

impl fmt::Display for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lower_hex(f, &[self.0])
    }
}

impl fmt::Debug for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceFlags({self})")
    }
}
