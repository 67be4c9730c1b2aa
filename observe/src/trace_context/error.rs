//! [`ParseError`]: why a `traceparent` or `tracestate` header was rejected.

use std::fmt;

/// Why a `traceparent` or `tracestate` header value was rejected.
///
/// The message never quotes the header (it may be hostile or binary); it names the
/// rule that failed and, where it helps, a byte offset or member index.
///
/// ```
/// use hookrt_observe::trace_context::{ParseError, TraceContext};
///
/// let upper = b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
/// assert_eq!(TraceContext::parse(upper, None).unwrap_err(), ParseError::NotLowerHex { field: "trace-id" });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// `traceparent` has the wrong length: version `00` needs exactly 55 characters,
    /// a later version at least 55.
    Length {
        /// The length found, in bytes.
        found: usize,
    },
    /// The version is not two lowercase hex digits followed by `-`.
    Version,
    /// The version is `ff`, which the spec forbids.
    ForbiddenVersion,
    /// A `-` delimiter is missing at this byte offset.
    Delimiter {
        /// Offset of the byte that should have been `-`.
        at: usize,
    },
    /// A field is not lowercase hex of its exact length.
    NotLowerHex {
        /// `"trace-id"`, `"parent-id"` or `"trace-flags"`.
        field: &'static str,
    },
    /// The trace id is all zeroes.
    ZeroTraceId,
    /// The parent (span) id is all zeroes.
    ZeroSpanId,
    /// The request carried more than one `traceparent` header.
    DuplicateHeader,
    /// `tracestate` has more than [`MAX_MEMBERS`](super::TraceState::MAX_MEMBERS)
    /// members.
    TooManyMembers {
        /// The number of non-empty members found (counting stops one past the limit).
        found: usize,
    },
    /// A `tracestate` member has no `=`.
    MissingEquals {
        /// Index of the member in the header (empty members counted).
        member: usize,
    },
    /// A `tracestate` key breaks the key grammar (`simple-key` or
    /// `tenant-id@system-id`).
    InvalidKey {
        /// Index of the member in the header (empty members counted).
        member: usize,
    },
    /// A `tracestate` value breaks the value grammar (1 to 256 printable ASCII
    /// characters, no `,` or `=`, not ending in a space).
    InvalidValue {
        /// Index of the member in the header (empty members counted).
        member: usize,
    },
    /// A `tracestate` key appears twice.
    DuplicateKey {
        /// Index of the second occurrence (empty members counted).
        member: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Length { found } => write!(
                f,
                "traceparent has {found} bytes (version 00 needs 55, later versions at least 55)"
            ),
            ParseError::Version => {
                f.write_str("traceparent version is not two lowercase hex digits and '-'")
            }
            ParseError::ForbiddenVersion => f.write_str("traceparent version ff is forbidden"),
            ParseError::Delimiter { at } => write!(f, "traceparent needs '-' at byte {at}"),
            ParseError::NotLowerHex { field } => {
                write!(f, "traceparent {field} is not lowercase hex of its length")
            }
            ParseError::ZeroTraceId => f.write_str("traceparent trace-id is all zeroes"),
            ParseError::ZeroSpanId => f.write_str("traceparent parent-id is all zeroes"),
            ParseError::DuplicateHeader => f.write_str("more than one traceparent header"),
            ParseError::TooManyMembers { found } => {
                write!(f, "tracestate has {found} members (at most 32)")
            }
            ParseError::MissingEquals { member } => {
                write!(f, "tracestate member {member} has no '='")
            }
            ParseError::InvalidKey { member } => {
                write!(f, "tracestate member {member} has an invalid key")
            }
            ParseError::InvalidValue { member } => {
                write!(f, "tracestate member {member} has an invalid value")
            }
            ParseError::DuplicateKey { member } => {
                write!(f, "tracestate member {member} repeats an earlier key")
            }
        }
    }
}

impl std::error::Error for ParseError {}
