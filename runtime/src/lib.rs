//! hookrt
