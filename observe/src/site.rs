//! [`Site`]: where a resource was created, the key the tools group by.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::Location;

/// The source location that created a resource (`spawn`, `sleep`, `bind`,
/// `AsyncResource::new`, [`timed`](crate::timed), ...), or unknown when the runtime did
/// not record one.
///
/// Two sites are equal when file, line and column are, so one call site is one group
/// even if the compiler emitted several `Location` constants for it.
#[derive(Clone, Copy)]
pub struct Site(Option<&'static Location<'static>>);

impl Site {
    /// The site of a resource's `location()`.
    pub fn new(location: Option<&'static Location<'static>>) -> Site {
        Site(location)
    }

    /// The location, when known.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.0
    }

    fn key(&self) -> Option<(&'static str, u32, u32)> {
        self.0.map(|l| (l.file(), l.line(), l.column()))
    }
}

impl PartialEq for Site {
    fn eq(&self, other: &Site) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Site {}

impl Hash for Site {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl PartialOrd for Site {
    fn partial_cmp(&self, other: &Site) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Site {
    fn cmp(&self, other: &Site) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(l) => write!(f, "{}:{}:{}", l.file(), l.line(), l.column()),
            None => f.write_str("<unknown location>"),
        }
    }
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Site({self})")
    }
}
