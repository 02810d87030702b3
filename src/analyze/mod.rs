//! Analyze: SQL waste rules ([`rules`]), cost forecasts ([`forecast`]), anomalies ([`anomaly`]) and
//! budgets ([`budget`]) over the lake's tables, written back to the lake as `recommendations`,
//! `forecasts`, `anomalies` and `budget_status`; findings tracked across runs in `findings`
//! ([`lifecycle`]); the scopes cost is sliced by in [`scope`].

pub mod anomaly;
pub mod budget;
pub mod forecast;
pub mod lifecycle;
pub mod rule_runner;
pub mod rules;
pub mod scope;
