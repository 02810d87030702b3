//! The anomalies stage: every scope's daily cost judged by [`detect`], runs of unusual days kept as
//! one anomaly each with a lifecycle across runs (new, continuing, resolved), the resources and
//! meters that explain it ranked by money ([`cause`]), written to `anomalies`; and the spike rule
//! (a scope's recent day more than `spike_pct` above expected), whose hits become alerts.

pub mod cause;
pub mod detect;

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use super::scope::{self, Dimension, Scope};
use crate::lake::columns::{BatchBuilder, numbers, parse_day, strings};
use crate::lake::{Lake, RunKey, WriteMode, schema};
use crate::{Error, Result};

/// `[anomalies]` in a pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalySpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Dimensions judged besides the total. Default subscription, resource_group, service,
    /// meter_category, region; `tag:KEY` adds a tag's values.
    #[serde(default = "default_dimensions")]
    pub dimensions: Vec<Dimension>,
    /// Days judged each run, ending at the last day with cost. Default 30.
    #[serde(default = "default_lookback")]
    pub lookback_days: u32,
    /// Robust z-score a day must reach. Default 4.
    #[serde(default = "default_score")]
    pub min_score: f64,
    /// Change against expected a day must reach, percent. Default 15.
    #[serde(default = "default_change")]
    pub min_change_pct: f64,
    /// Change against expected a day must reach, in the billing currency. Default 5.
    #[serde(default = "default_amount")]
    pub min_amount: f64,
    /// The spike rule: a scope's day more than this percent above expected raises an alert.
    /// Default 25.
    #[serde(default = "default_spike_pct")]
    pub spike_pct: f64,
    /// ... when the day is also at least this much above expected (billing currency). Default 10.
    #[serde(default = "default_spike_amount")]
    pub spike_min_amount: f64,
    /// Severity by the peak day's change in money: at least this is `high`. Default 1000.
    #[serde(default = "default_high")]
    pub high_amount: f64,
    /// ... at least this is `medium`, less is `low`. Default 100.
    #[serde(default = "default_medium")]
    pub medium_amount: f64,
}

impl Default for AnomalySpec {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

impl AnomalySpec {
    /// Settings that make no sense, each as `key: problem`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut positive = |key: &str, v: f64| {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!(
                    "anomalies.{key}: must be a number above 0 (is {v})"
                ));
            }
        };
        positive("min_score", self.min_score);
        positive("min_change_pct", self.min_change_pct);
        positive("spike_pct", self.spike_pct);
        positive("high_amount", self.high_amount);
        positive("medium_amount", self.medium_amount);
        if self.min_amount < 0.0 || self.spike_min_amount < 0.0 {
            out.push("anomalies.min_amount / spike_min_amount: must not be negative".into());
        }
        if self.medium_amount > self.high_amount {
            out.push("anomalies.medium_amount: must not be above high_amount".into());
        }
        if self.lookback_days == 0 || self.lookback_days > 366 {
            out.push("anomalies.lookback_days: must be 1 to 366".into());
        }
        out
    }

    fn thresholds(&self) -> detect::Thresholds {
        detect::Thresholds {
            score: self.min_score,
            change: self.min_change_pct / 100.0,
            amount: self.min_amount,
        }
    }

    /// `low`, `medium` or `high` for a peak day `amount` away from expected.
    pub fn severity(&self, amount: f64) -> Severity {
        if amount.abs() >= self.high_amount {
            Severity::High
        } else if amount.abs() >= self.medium_amount {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

fn yes() -> bool {
    true
}
fn default_dimensions() -> Vec<Dimension> {
    vec![
        Dimension::Subscription,
        Dimension::ResourceGroup,
        Dimension::Service,
        Dimension::MeterCategory,
        Dimension::Region,
    ]
}
fn default_lookback() -> u32 {
    30
}
fn default_score() -> f64 {
    4.0
}
fn default_change() -> f64 {
    15.0
}
fn default_amount() -> f64 {
    5.0
}
fn default_spike_pct() -> f64 {
    25.0
}
fn default_spike_amount() -> f64 {
    10.0
}
fn default_high() -> f64 {
    1000.0
}
fn default_medium() -> f64 {
    100.0
}

/// How much an alert matters; routes send from a minimum severity up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    fn parse(text: &str) -> Severity {
        match text {
            "high" => Severity::High,
            "medium" => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// Where an anomaly is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still unusual on the last day with cost, first seen by this run.
    New,
    /// Still unusual on the last day with cost, seen by an earlier run.
    Continuing,
    /// Over: the scope's cost is back to what is expected (or the new level has become normal).
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Continuing => "continuing",
            Status::Resolved => "resolved",
        }
    }

    fn parse(text: &str) -> Status {
        match text {
            "new" => Status::New,
            "continuing" => Status::Continuing,
            _ => Status::Resolved,
        }
    }
}

/// One anomaly: a run of unusual days of one scope in one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub id: String,
    pub scope: Scope,
    pub spike: bool,
    pub status: Status,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub peak_day: NaiveDate,
    /// Expected and actual cost summed over the anomaly's days.
    pub expected: f64,
    pub actual: f64,
    pub peak_expected: f64,
    pub peak_actual: f64,
    pub score: f64,
    pub severity: Severity,
    /// What changed most on the peak day, largest first.
    pub causes: Vec<cause::Cause>,
    /// The run date of the run that first found it.
    pub detected_on: NaiveDate,
}

impl Anomaly {
    pub fn impact(&self) -> f64 {
        self.actual - self.expected
    }

    pub fn direction(&self) -> &'static str {
        if self.spike { "spike" } else { "drop" }
    }

    /// Peak day's change against expected, percent (None when nothing was expected).
    pub fn change_pct(&self) -> Option<f64> {
        (self.peak_expected > 0.0).then(|| (self.peak_actual / self.peak_expected - 1.0) * 100.0)
    }
}

/// A day of a scope caught by the spike rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub scope: Scope,
    pub day: NaiveDate,
    pub expected: f64,
    pub actual: f64,
    pub severity: Severity,
}

/// What the stage found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every anomaly this run judged (in its window), with its status.
    pub anomalies: Vec<Anomaly>,
    pub spikes: Vec<Spike>,
    /// Series judged.
    pub scopes: usize,
    /// The last day with cost: the day the window ends.
    pub last_day: Option<NaiveDate>,
}

/// Days, ending at the last day with cost, in which the spike rule looks for spikes (a run that
/// was skipped for a few days still sees what happened; sent alerts are never sent again).
const SPIKE_DAYS: i64 = 7;
/// At most this many anomalies get a root cause per run (the largest by money); the rest are
/// written without one.
const MAX_CAUSES: usize = 200;

/// Judge every scope up to `last` (the last day with cost, [`scope::last_cost_day`]) and update
/// `anomalies` for `run`'s pipeline.
pub async fn run(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    spec: &AnomalySpec,
    last: Option<NaiveDate>,
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let Some(last) = last else {
        return Ok(out);
    };
    out.last_day = Some(last);
    let lookback = spec.lookback_days as usize;
    let start = last - Duration::days((lookback + detect::WINDOW) as i64 - 1);
    let dimensions = scope::with_total(&spec.dimensions);
    let limits = spec.thresholds();
    let mut found = Vec::new();
    for dimension in &dimensions {
        for series in scope::daily(ctx, dimension, "TRUE", start, last).await? {
            out.scopes += 1;
            let days = detect::judge(&series.values, series.start, detect::WINDOW, &limits);
            for d in days.iter().filter(|d| {
                (last - series.day(d.index)).num_days() < SPIKE_DAYS
                    && d.expected > 0.0
                    && d.actual > d.expected * (1.0 + spec.spike_pct / 100.0)
                    && d.actual - d.expected >= spec.spike_min_amount
            }) {
                out.spikes.push(Spike {
                    scope: series.scope.clone(),
                    day: series.day(d.index),
                    expected: d.expected,
                    actual: d.actual,
                    severity: spec.severity(d.actual - d.expected),
                });
            }
            for e in detect::events(&days) {
                let peak = days
                    .iter()
                    .find(|d| d.index == e.peak)
                    .expect("peak is a day");
                found.push(Anomaly {
                    id: String::new(),
                    scope: series.scope.clone(),
                    spike: e.spike,
                    status: Status::New,
                    first_day: series.day(e.first),
                    last_day: series.day(e.last),
                    peak_day: series.day(e.peak),
                    expected: e.expected,
                    actual: e.actual,
                    peak_expected: peak.expected,
                    peak_actual: peak.actual,
                    score: e.score,
                    severity: spec.severity(peak.actual - peak.expected),
                    causes: Vec::new(),
                    detected_on: run.as_of,
                });
            }
        }
    }
    found.sort_by(|a, b| b.impact().abs().total_cmp(&a.impact().abs()));
    for a in found.iter_mut().take(MAX_CAUSES) {
        a.causes = cause::explain(ctx, a).await?;
    }
    if found.len() > MAX_CAUSES {
        tracing::warn!(
            anomalies = found.len(),
            "Only the {MAX_CAUSES} largest anomalies were given a root cause."
        );
    }
    let previous = read(ctx, run).await?;
    let (anomalies, kept) = advance(previous, found, last, start, run);
    write(lake, run, &anomalies, &kept).await?;
    out.anomalies = anomalies;
    Ok(out)
}

/// Give this run's anomalies their identity and status against the ones the pipeline already had:
/// an anomaly of the same scope and direction whose days touch an earlier one's is that one, going
/// on. Returns this run's anomalies and the earlier ones outside the window (kept as they were;
/// those inside it that were not found again are resolved).
fn advance(
    previous: Vec<Anomaly>,
    mut found: Vec<Anomaly>,
    last: NaiveDate,
    window_start: NaiveDate,
    run: &RunKey,
) -> (Vec<Anomaly>, Vec<Anomaly>) {
    let mut previous: Vec<Option<Anomaly>> = previous.into_iter().map(Some).collect();
    for a in &mut found {
        let earlier = previous.iter_mut().find(|p| {
            p.as_ref().is_some_and(|p| {
                p.scope == a.scope
                    && p.spike == a.spike
                    && p.first_day <= a.last_day + Duration::days(1)
                    && a.first_day <= p.last_day + Duration::days(1)
            })
        });
        match earlier.and_then(Option::take) {
            Some(p) => {
                a.id = p.id;
                a.detected_on = p.detected_on.min(run.as_of);
                a.first_day = a.first_day.min(p.first_day);
                a.status = if a.last_day >= last {
                    if p.detected_on < run.as_of {
                        Status::Continuing
                    } else {
                        Status::New
                    }
                } else {
                    Status::Resolved
                };
            }
            None => {
                a.id = anomaly_id(&run.pipeline, &a.scope, a.spike, a.first_day);
                a.status = if a.last_day >= last {
                    Status::New
                } else {
                    Status::Resolved
                };
            }
        }
    }
    let kept = previous
        .into_iter()
        .flatten()
        .map(|mut p| {
            if p.last_day >= window_start {
                p.status = Status::Resolved;
            }
            p
        })
        .collect();
    found.sort_by(|a, b| (b.last_day, &a.scope).cmp(&(a.last_day, &b.scope)));
    (found, kept)
}

/// A stable id: pipeline, scope, direction and first day.
fn anomaly_id(pipeline: &str, scope: &Scope, spike: bool, first: NaiveDate) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (pipeline, scope, spike, first).hash(&mut h);
    format!(
        "an-{}-{:012x}",
        first.format("%Y%m%d"),
        h.finish() & 0xffff_ffff_ffff
    )
}

/// The anomalies `run`'s pipeline owns.
async fn read(ctx: &SessionContext, run: &RunKey) -> Result<Vec<Anomaly>> {
    let sql = format!(
        "SELECT anomaly_id, dimension, value, currency, direction, status, severity, \
         CAST(first_day AS VARCHAR), CAST(last_day AS VARCHAR), CAST(peak_day AS VARCHAR), \
         CAST(detected_on AS VARCHAR), causes, \
         expected, actual, peak_expected, peak_actual, score FROM anomalies WHERE {}",
        run.owned_rows()
    );
    let b = crate::lake::query::run(ctx, &sql).await?;
    let s: Vec<Vec<String>> = (0..12).map(|i| strings(&b, i)).collect::<Result<_>>()?;
    let n: Vec<Vec<f64>> = (12..17).map(|i| numbers(&b, i)).collect::<Result<_>>()?;
    let day = |t: &str| {
        parse_day(t).ok_or_else(|| Error::Internal(format!("anomalies: {t:?} is not a date")))
    };
    (0..s[0].len())
        .map(|i| {
            Ok(Anomaly {
                id: s[0][i].clone(),
                scope: Scope {
                    dimension: Dimension::parse(&s[1][i]).map_err(Error::Internal)?,
                    value: s[2][i].clone(),
                    currency: s[3][i].clone(),
                },
                spike: s[4][i] == "spike",
                status: Status::parse(&s[5][i]),
                severity: Severity::parse(&s[6][i]),
                first_day: day(&s[7][i])?,
                last_day: day(&s[8][i])?,
                peak_day: day(&s[9][i])?,
                detected_on: day(&s[10][i])?,
                causes: serde_json::from_str(&s[11][i]).unwrap_or_default(),
                expected: n[0][i],
                actual: n[1][i],
                peak_expected: n[2][i],
                peak_actual: n[3][i],
                score: n[4][i],
            })
        })
        .collect()
}

/// Rewrite the pipeline's rows: this run's anomalies and the earlier ones kept.
async fn write(lake: &Lake, run: &RunKey, current: &[Anomaly], kept: &[Anomaly]) -> Result<()> {
    let all: Vec<&Anomaly> = current.iter().chain(kept).collect();
    let top = |a: &Anomaly| a.causes.first().cloned();
    let batch = BatchBuilder::default()
        .text("pipeline", all.iter().map(|_| Some(run.pipeline.as_str())))
        .text("run_id", all.iter().map(|_| Some(run.run_id.as_str())))
        .text("anomaly_id", all.iter().map(|a| Some(a.id.as_str())))
        .text(
            "dimension",
            all.iter().map(|a| Some(a.scope.dimension.to_string())),
        )
        .text("value", all.iter().map(|a| Some(a.scope.value.as_str())))
        .text(
            "currency",
            all.iter().map(|a| Some(a.scope.currency.as_str())),
        )
        .text("direction", all.iter().map(|a| Some(a.direction())))
        .text("status", all.iter().map(|a| Some(a.status.as_str())))
        .text("severity", all.iter().map(|a| Some(a.severity.as_str())))
        .date("first_day", all.iter().map(|a| Some(a.first_day)))
        .date("last_day", all.iter().map(|a| Some(a.last_day)))
        .date("peak_day", all.iter().map(|a| Some(a.peak_day)))
        .int(
            "days",
            all.iter()
                .map(|a| Some((a.last_day - a.first_day).num_days() + 1)),
        )
        .number("expected", all.iter().map(|a| Some(a.expected)))
        .number("actual", all.iter().map(|a| Some(a.actual)))
        .number("impact", all.iter().map(|a| Some(a.impact())))
        .number("peak_expected", all.iter().map(|a| Some(a.peak_expected)))
        .number("peak_actual", all.iter().map(|a| Some(a.peak_actual)))
        .number("change_pct", all.iter().map(|a| a.change_pct()))
        .number(
            "score",
            all.iter().map(|a| Some(a.score).filter(|s| s.is_finite())),
        )
        .text(
            "cause_resource_id",
            all.iter().map(|a| top(a).and_then(|c| c.resource_id)),
        )
        .text("cause_meter", all.iter().map(|a| top(a).map(|c| c.meter)))
        .number("cause_share", all.iter().map(|a| top(a).map(|c| c.share)))
        .text(
            "causes",
            all.iter().map(|a| serde_json::to_string(&a.causes).ok()),
        )
        .date("detected_on", all.iter().map(|a| Some(a.detected_on)))
        .date("updated_on", all.iter().map(|_| Some(run.as_of)))
        .finish()?;
    lake.write_batches(
        &schema::anomalies(),
        vec![batch],
        WriteMode::Replace(run.owned_rows()),
    )
    .await
}

/// Count of this run's anomalies by status, for a one-line summary.
pub fn counts(anomalies: &[Anomaly]) -> HashMap<&'static str, usize> {
    let mut out = HashMap::new();
    for a in anomalies {
        *out.entry(a.status.as_str()).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RunKey {
        RunKey {
            pipeline: "daily".into(),
            run_id: "r".into(),
            as_of: NaiveDate::from_ymd_opt(2026, 6, 20).unwrap(),
        }
    }

    fn anomaly(first: u32, last: u32) -> Anomaly {
        let d = |i| NaiveDate::from_ymd_opt(2026, 6, i).unwrap();
        Anomaly {
            id: String::new(),
            scope: Scope {
                dimension: Dimension::Service,
                value: "SQL Database".into(),
                currency: "USD".into(),
            },
            spike: true,
            status: Status::New,
            first_day: d(first),
            last_day: d(last),
            peak_day: d(first),
            expected: 10.0,
            actual: 30.0,
            peak_expected: 10.0,
            peak_actual: 30.0,
            score: 9.0,
            severity: Severity::Low,
            causes: Vec::new(),
            detected_on: key().as_of,
        }
    }

    #[test]
    fn one_event_keeps_its_id_across_runs_and_resolves_when_it_ends() {
        let last = NaiveDate::from_ymd_opt(2026, 6, 19).unwrap();
        let start = last - Duration::days(57);
        let (first_run, _) = advance(Vec::new(), vec![anomaly(18, 19)], last, start, &key());
        assert_eq!(first_run[0].status, Status::New);

        // Next day: still going.
        let mut next = key();
        next.as_of += Duration::days(1);
        let last2 = last + Duration::days(1);
        let (second, kept) = advance(
            first_run.clone(),
            vec![anomaly(18, 20)],
            last2,
            start,
            &next,
        );
        assert!(kept.is_empty());
        assert_eq!(second[0].id, first_run[0].id);
        assert_eq!(second[0].status, Status::Continuing);
        assert_eq!(second[0].detected_on, key().as_of);

        // The day after: over.
        let mut third = next.clone();
        third.as_of += Duration::days(1);
        let (done, _) = advance(
            second.clone(),
            vec![anomaly(18, 20)],
            last2 + Duration::days(1),
            start,
            &third,
        );
        assert_eq!(done[0].id, first_run[0].id);
        assert_eq!(done[0].status, Status::Resolved);

        // A re-run on the same date is still new, not continuing.
        let (again, _) = advance(
            first_run.clone(),
            vec![anomaly(18, 19)],
            last,
            start,
            &key(),
        );
        assert_eq!(again[0].status, Status::New);
    }

    #[test]
    fn defaults_make_sense_and_nonsense_is_named() {
        assert!(AnomalySpec::default().problems().is_empty());
        let bad: AnomalySpec = toml::from_str("min_score = 0\nmedium_amount = 5000").unwrap();
        let p = bad.problems().join("; ");
        assert!(
            p.contains("anomalies.min_score") && p.contains("anomalies.medium_amount"),
            "{p}"
        );
    }
}
