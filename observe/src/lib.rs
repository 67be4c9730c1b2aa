//! Ready-made observability tools for hookrt, built only on the public hooks API.
#![doc = "TODO"]

mod correlation;
mod flow;
mod leaks;
mod log_bridge;
mod log_layer;
mod sampler;
mod shard;
mod site;
mod stats;
mod timed;

pub use correlation::{Correlation, CorrelationFields};
pub use flow::{FlowEvent, FlowKind, FlowRecorder, DEFAULT_CAPACITY};
pub use leaks::{LeakDetector, LeakGroup, LeakReport, LiveResource, MAX_CHAIN};
pub use log_bridge::CorrelatedLogger;
pub use log_layer::{CorrelatedJson, CorrelationLayer};
pub use sampler::{SamplePolicy, Sampled, Sampler, SAMPLED};
pub use site::Site;
pub use stats::{
    LatencyHistogram, ResourceStats, SiteStats, TaskStats, DEFAULT_FINISHED, DEFAULT_SLOW_POLL,
};
pub use timed::{timed, Timed};
