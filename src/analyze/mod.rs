//! Analyze: SQL waste rules ([`rules`]) and cost forecasts ([`forecast`]) over the lake's tables,
//! written back to the lake as `recommendations` and `forecasts`.

pub mod forecast;
pub mod rules;
