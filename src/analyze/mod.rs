//! Analyze: SQL waste rules ([`rules`]) and cost forecasts ([`forecast`]) over the lake's tables,
//! written back to the lake as `recommendations` and `forecasts`; findings tracked across runs in
//! `findings` ([`lifecycle`]).

pub mod forecast;
pub mod lifecycle;
pub mod rule_runner;
pub mod rules;
