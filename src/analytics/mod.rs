//! Analytics as pure functions over plain data, each following `docs/metrics.md` and
//! unit-tested with its worked examples.

pub mod account;
pub mod alerts;
pub mod audience;
pub mod charts;
pub mod competitors;
pub mod curves;
pub mod engagement;
pub mod followers;
pub mod groups;
pub mod impact;
pub mod overview;
pub mod period;
pub mod stats;

pub use engagement::{EngagementDefinition, Format, PostFigures};
pub use impact::{CHECKPOINT_HOURS, Impact, MIN_COHORT};
