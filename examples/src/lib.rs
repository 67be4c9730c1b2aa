//! Runnable programs that show hookrt's use cases end to end; see `src/bin/`.
//!
//! - `showcase`: a traced request fan-out, printed as a live event log and as the async
//!   tree the hooks reconstructed.
