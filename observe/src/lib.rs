//! Ready-made observability tools for hookrt, built only on the public hooks API.
#![doc = "TODO"]

mod flow;
mod leaks;
mod sampler;
mod shard;
mod site;
mod stats;
mod timed;

pub use flow::{FlowEvent, FlowKind, FlowRecorder, DEFAULT_CAPACITY};
pub use leaks::{LeakDetector, LeakGroup, LeakReport, LiveResource, MAX_CHAIN};
pub use sampler::{SamplePolicy, Sampled, Sampler, SAMPLED};
pub use site::Site;
pub use stats::{
    LatencyHistogram, ResourceStats, SiteStats, TaskStats, DEFAULT_FINISHED, DEFAULT_SLOW_POLL,
};
pub use timed::{timed, Timed};
