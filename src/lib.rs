//! cloudoptima: a FinOps pipeline for Azure in one binary.
//!
//! Stages talk only through lake tables: [`extract`] lands raw bytes, [`transform`] turns them into
//! FOCUS-shaped Delta tables, [`analyze`] runs SQL rules and forecasts over those tables, and
//! [`report`] renders and delivers the result. [`pipeline`] strings the stages together for one run;
//! [`cli`] is the command line on top.

pub mod alert;
pub mod analyze;
pub mod ask;
pub mod assets;
pub mod azure;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod error;
pub mod export;
pub mod extract;
pub mod format;
pub mod lake;
pub mod llm;
pub mod open_data;
pub mod pipeline;
pub mod report;
pub mod serve;
pub mod suggest;
pub mod telemetry;
pub mod transform;

pub use error::{Error, Result};
