//! Runnable programs that show hookrt's use cases end to end; see `src/bin/`.
//!
//! - `showcase`: an HTTP server on hookrt + hyper under load, traced end to end with
//!   every `hookrt-observe` tool: correlated logs, latency breakdown, a leak found, a
//!   Perfetto trace and an async graph.
//! - `leaks`, `task_stats`, `flow_graph`, `sampling`, `log_correlation`, `timed`: one
//!   `hookrt-observe` tool each.
//! - `request_context`, `distributed_tracing`, `feature_flags`: production patterns built
//!   on `LocalStorage`.
//!
//! The library holds what several programs share: a minimal HTTP/1 server and client
//! on hookrt ([`http`]).

pub mod http;
