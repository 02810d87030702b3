//! Pipelines: their specs ([`spec`]), one run of all stages ([`run`]), the run manifest each run
//! leaves in the lake's `_runs` table ([`manifest`]), and the lease and clean-up around a run.

mod housekeeping;
pub mod manifest;
pub mod run;
pub mod schedule;
pub mod spec;

pub use run::{RunOptions, RunSummary, StageResult, StageStatus};
pub use spec::PipelineSpec;
