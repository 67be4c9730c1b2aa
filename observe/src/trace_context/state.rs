//! [`TraceState`]: the `tracestate` header, an ordered list of vendor entries.

use std::fmt;
use std::sync::Arc;

use super::ParseError;

/// One `key=value` entry.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Member {
    key: Box<str>,
    value: Box<str>,
}

/// The `tracestate` header: up to 32 `key=value` entries, leftmost most recent.
///
/// Cloning is a reference-count increment (the list is shared and copied on write),
/// so a [`TraceContext`](super::TraceContext) stays cheap to pass into every task;
/// the empty state allocates nothing.
///
/// [`parse`](TraceState::parse) follows the spec's grammar and rejects the header as a
/// whole when any member is invalid, a key repeats or there are more than
/// [`MAX_MEMBERS`](TraceState::MAX_MEMBERS); empty members and optional whitespace
/// around members are allowed and dropped. [`Display`](fmt::Display) writes the
/// header value.
///
/// ```
/// use hookrt_observe::trace_context::TraceState;
///
/// let mut state = TraceState::parse(b"congo=t61rcWkgMzE, ,rojo=00f067aa0ba902b7").unwrap();
/// assert_eq!(state.get("rojo"), Some("00f067aa0ba902b7"));
/// // A participant puts its own entry first.
/// state.insert("congo", "ucfJifl5GOE").unwrap();
/// assert_eq!(state.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
/// assert!(TraceState::parse(b"Bad=key").is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TraceState {
    /// `None` when empty: never `Some` of an empty list, so derived equality holds.
    members: Option<Arc<Vec<Member>>>,
}

/// Optional whitespace (`OWS`): space and horizontal tab.
pub(super) fn is_ows(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// `bytes` without leading and trailing `OWS`.
pub(super) fn trim_ows(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_ows(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `lcalpha / DIGIT / "_" / "-" / "*" / "/"`: the characters after a key's first.
fn is_key_tail(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'_' | b'-' | b'*' | b'/')
}

/// One key part: a first character (`lcalpha`, or `DIGIT` too when
/// `digit_first`), then tail characters, `max` in all.
fn is_key_part(part: &[u8], max: usize, digit_first: bool) -> bool {
    match part.split_first() {
        Some((&first, tail)) => {
            (first.is_ascii_lowercase() || (digit_first && first.is_ascii_digit()))
                && part.len() <= max
                && tail.iter().all(|&b| is_key_tail(b))
        }
        None => false,
    }
}

/// `simple-key / tenant-id "@" system-id`.
fn is_valid_key(key: &[u8]) -> bool {
    match key.iter().position(|&b| b == b'@') {
        None => is_key_part(key, 256, false),
        Some(at) => is_key_part(&key[..at], 241, true) && is_key_part(&key[at + 1..], 14, false),
    }
}

/// `0*255(chr) nblk-chr` with `chr = %x20 / nblk-chr` and
/// `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`.
fn is_valid_value(value: &[u8]) -> bool {
    let nblk = |b: u8| matches!(b, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    match value.split_last() {
        Some((&last, head)) => {
            value.len() <= 256 && nblk(last) && head.iter().all(|&b| b == b' ' || nblk(b))
        }
        None => false,
    }
}

/// Validated ASCII bytes as a boxed `str`.
fn ascii_str(bytes: &[u8]) -> Option<Box<str>> {
    std::str::from_utf8(bytes).ok().map(Box::from)
}

impl TraceState {
    /// At most this many entries (the spec's limit).
    pub const MAX_MEMBERS: usize = 32;

    /// The empty state.
    pub const fn new() -> TraceState {
        TraceState { members: None }
    }

    /// Parses a `tracestate` header value (several headers are joined with `,`
    /// first). Any invalid member rejects the whole header, as the spec asks.
    pub fn parse(header: &[u8]) -> Result<TraceState, ParseError> {
        let mut members: Vec<Member> = Vec::new();
        for (index, raw) in header.split(|&b| b == b',').enumerate() {
            let member = trim_ows(raw);
            if member.is_empty() {
                continue;
            }
            if members.len() == TraceState::MAX_MEMBERS {
                return Err(ParseError::TooManyMembers {
                    found: TraceState::MAX_MEMBERS + 1,
                });
            }
            let eq = member
                .iter()
                .position(|&b| b == b'=')
                .ok_or(ParseError::MissingEquals { member: index })?;
            let (key, value) = (&member[..eq], &member[eq + 1..]);
            if !is_valid_key(key) {
                return Err(ParseError::InvalidKey { member: index });
            }
            if !is_valid_value(value) {
                return Err(ParseError::InvalidValue { member: index });
            }
            if members.iter().any(|m| m.key.as_bytes() == key) {
                return Err(ParseError::DuplicateKey { member: index });
            }
            let key = ascii_str(key).ok_or(ParseError::InvalidKey { member: index })?;
            let value = ascii_str(value).ok_or(ParseError::InvalidValue { member: index })?;
            members.push(Member { key, value });
        }
        Ok(TraceState::from_members(members))
    }

    fn from_members(members: Vec<Member>) -> TraceState {
        TraceState {
            members: (!members.is_empty()).then(|| Arc::new(members)),
        }
    }

    fn members(&self) -> &[Member] {
        self.members.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members()
            .iter()
            .find(|m| &*m.key == key)
            .map(|m| &*m.value)
    }

    /// Sets `key` to `value` and moves it to the front (the spec's rule for a
    /// participant's own entry). When that makes 33 entries, the rightmost is dropped.
    /// Fails, changing nothing, if the key or value breaks the grammar.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        if !is_valid_key(key.as_bytes()) {
            return Err(ParseError::InvalidKey { member: 0 });
        }
        if !is_valid_value(value.as_bytes()) {
            return Err(ParseError::InvalidValue { member: 0 });
        }
        let mut members = self
            .members
            .take()
            .map_or_else(Vec::new, Arc::unwrap_or_clone);
        members.retain(|m| &*m.key != key);
        members.insert(
            0,
            Member {
                key: key.into(),
                value: value.into(),
            },
        );
        members.truncate(TraceState::MAX_MEMBERS);
        *self = TraceState::from_members(members);
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.members().iter().position(|m| &*m.key == key)?;
        let mut members = self
            .members
            .take()
            .map_or_else(Vec::new, Arc::unwrap_or_clone);
        let removed = members.remove(index);
        *self = TraceState::from_members(members);
        Some(removed.value.into())
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.members().len()
    }

    /// Whether there are no entries (then no `tracestate` header is sent).
    pub fn is_empty(&self) -> bool {
        self.members.is_none()
    }

    /// The entries as `(key, value)`, leftmost first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.members().iter().map(|m| (&*m.key, &*m.value))
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.members().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={}", m.key, m.value)?;
        }
        Ok(())
    }
}

impl fmt::Debug for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::str::FromStr for TraceState {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<TraceState, ParseError> {
        TraceState::parse(s.as_bytes())
    }
}
