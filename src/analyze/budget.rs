//! Budgets: `[[budgets]]` in a pipeline (a scope, an amount in a currency, a period, thresholds on
//! actual and on forecast spend), judged each run into `budget_status`. Spend is `EffectiveCost`
//! (amortized, as Cost Management budgets on amortized cost count it) in the budget's currency; the
//! forecast is spend so far plus the forecast model's days to the end of the period, or the last 7
//! days' run rate when there is too little history for the model.

use chrono::{Datelike, Duration, NaiveDate};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Deserializer};

use super::forecast;
use super::scope::{self, Dimension, Series};
use crate::lake::columns::{BatchBuilder, sql_string};
use crate::lake::{Lake, RunKey, schema};
use crate::{Error, Result};

/// One `[[budgets]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Unique within the pipeline; names the budget in `budget_status` and alerts.
    pub name: String,
    /// `total`, `subscription:NAME-or-ID`, `resource_group:SUBSCRIPTION/GROUP`, `service:NAME`,
    /// `meter_category:NAME`, `region:NAME` or `tag:KEY=VALUE`.
    pub scope: BudgetScope,
    pub amount: f64,
    /// ISO 4217 code; only cost billed in it counts.
    pub currency: String,
    pub period: Period,
    /// Percent of `amount` reached by actual spend that raise an alert. Default 50, 80, 100.
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<f64>,
    /// Percent of `amount` reached by forecast spend at the period's end. Default 100.
    #[serde(default = "default_forecast_thresholds")]
    pub forecast_thresholds: Vec<f64>,
}

fn default_thresholds() -> Vec<f64> {
    vec![50.0, 80.0, 100.0]
}

fn default_forecast_thresholds() -> Vec<f64> {
    vec![100.0]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// The first and last day of the period holding `day`.
    pub fn bounds(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let (months, first_month) = match self {
            Period::Month => (1, day.month()),
            Period::Quarter => (3, (day.month() - 1) / 3 * 3 + 1),
            Period::Year => (12, 1),
        };
        let start = NaiveDate::from_ymd_opt(day.year(), first_month, 1).expect("a month start");
        let end = start
            .checked_add_months(chrono::Months::new(months))
            .expect("a later month")
            - Duration::days(1);
        (start, end)
    }
}

/// Which cost a budget counts.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetScope {
    pub text: String,
    pub dimension: Dimension,
    pub value: String,
}

impl BudgetScope {
    pub fn parse(text: &str) -> std::result::Result<BudgetScope, String> {
        let text = text.trim();
        if text == "total" {
            return Ok(BudgetScope {
                text: text.into(),
                dimension: Dimension::Total,
                value: String::new(),
            });
        }
        let usage = "a budget scope is `total`, `subscription:NAME`, `resource_group:SUBSCRIPTION/GROUP`, `service:NAME`, `meter_category:NAME`, `region:NAME` or `tag:KEY=VALUE`";
        let (kind, value) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: {usage}"))?;
        let (dimension, value) = if kind.trim() == "tag" {
            let (key, v) = value
                .split_once('=')
                .ok_or_else(|| format!("`{text}`: {usage}"))?;
            (
                Dimension::parse(&format!("tag:{key}"))?,
                v.trim().to_string(),
            )
        } else {
            let d = Dimension::parse(kind).map_err(|_| format!("`{text}`: {usage}"))?;
            (d, value.trim().to_string())
        };
        if value.is_empty() || matches!(dimension, Dimension::Total) {
            return Err(format!("`{text}`: {usage}"));
        }
        let value = if dimension == Dimension::ResourceGroup {
            value.to_lowercase()
        } else {
            value
        };
        Ok(BudgetScope {
            text: text.into(),
            dimension,
            value,
        })
    }

    /// SQL true for the cost rows the budget counts (a subscription by name or id).
    pub fn filter(&self) -> String {
        match self.dimension {
            Dimension::Subscription => {
                let v = sql_string(&self.value);
                let id = sql_string(&self.value.to_lowercase());
                format!(
                    "(\"SubAccountName\" = {v} OR lower(\"SubAccountId\") = {id} \
                     OR lower(\"SubAccountId\") = '/subscriptions/' || {id})"
                )
            }
            _ => self.dimension.filter(&self.value),
        }
    }
}

impl<'de> Deserialize<'de> for BudgetScope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        BudgetScope::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Problems with a pipeline's budgets, each naming the budget and key.
pub fn problems(budgets: &[BudgetSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, b) in budgets.iter().enumerate() {
        let at = format!("budgets[{i}] ({})", b.name);
        if !(b.amount.is_finite() && b.amount > 0.0) {
            out.push(format!("{at}.amount: must be above 0 (is {})", b.amount));
        }
        if b.currency.len() != 3 || !b.currency.chars().all(|c| c.is_ascii_uppercase()) {
            out.push(format!(
                "{at}.currency: `{}` is not an ISO 4217 code such as USD or EUR",
                b.currency
            ));
        }
        for (key, list) in [
            ("thresholds", &b.thresholds),
            ("forecast_thresholds", &b.forecast_thresholds),
        ] {
            for t in list
                .iter()
                .filter(|t| !(t.is_finite() && **t > 0.0 && **t <= 1000.0))
            {
                out.push(format!(
                    "{at}.{key}: {t} is not a percentage of the amount (above 0, at most 1000)"
                ));
            }
        }
        if budgets[..i].iter().any(|o| o.name == b.name) {
            out.push(format!("{at}.name: another budget has this name"));
        }
    }
    out
}

/// One budget's standing this run.
#[derive(Debug, Clone)]
pub struct BudgetStatus {
    pub spec: BudgetSpec,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub actual: f64,
    pub forecast: f64,
    pub forecast_method: String,
    pub last_cost_day: Option<NaiveDate>,
    /// `(on forecast?, threshold)` reached.
    pub crossed: Vec<(bool, f64)>,
}

impl BudgetStatus {
    pub fn actual_pct(&self) -> f64 {
        self.actual / self.spec.amount * 100.0
    }

    pub fn forecast_pct(&self) -> f64 {
        self.forecast / self.spec.amount * 100.0
    }

    pub fn status(&self) -> &'static str {
        if self.actual_pct() >= 100.0 {
            "over"
        } else if self.forecast_pct() >= 100.0 {
            "forecast_over"
        } else {
            "ok"
        }
    }

    pub fn crossed_text(&self) -> String {
        self.crossed
            .iter()
            .map(|(f, t)| format!("{} {t}%", if *f { "forecast" } else { "actual" }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Days of history the forecast model reads for a budget.
const HISTORY_DAYS: i64 = 180;

/// Judge every budget for the period holding the day before the run date, from the cost up to
/// `last` (the last day with cost, [`scope::last_cost_day`]), and write `budget_status` rows for
/// `run`.
pub async fn run(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    budgets: &[BudgetSpec],
    last: Option<NaiveDate>,
) -> Result<Vec<BudgetStatus>> {
    let mut out = Vec::new();
    for spec in budgets {
        let (start, end) = spec.period.bounds(run.as_of - Duration::days(1));
        let mut status = BudgetStatus {
            spec: spec.clone(),
            period_start: start,
            period_end: end,
            actual: 0.0,
            forecast: 0.0,
            forecast_method: "none: no cost".into(),
            last_cost_day: last,
            crossed: Vec::new(),
        };
        if let Some(last) = last {
            // The budget's scope, one series per billing currency; only the budget's own counts.
            let from = (last - Duration::days(HISTORY_DAYS)).min(start);
            let series = scope::daily(ctx, &Dimension::Total, &spec.scope.filter(), from, last)
                .await?
                .into_iter()
                .find(|s| s.scope.currency == spec.currency);
            status.actual = series.as_ref().map_or(0.0, |s| {
                (0..s.values.len())
                    .filter(|i| (start..=end).contains(&s.day(*i)))
                    .map(|i| s.values[i])
                    .sum()
            });
            let remaining = (end - last).num_days().max(0) as usize;
            let staged = stage_forecast(ctx, run, spec, last, end).await?;
            let (rest, method) = match staged {
                Some(points) if points.len() == remaining && remaining > 0 => (
                    points.iter().sum(),
                    "this run's forecast of the scope (as the report shows it)".into(),
                ),
                _ => remaining_spend(series.as_ref(), remaining),
            };
            status.forecast = status.actual + rest;
            status.forecast_method = method;
        }
        for t in &spec.thresholds {
            if status.actual_pct() >= *t {
                status.crossed.push((false, *t));
            }
        }
        for t in &spec.forecast_thresholds {
            if status.forecast_pct() >= *t {
                status.crossed.push((true, *t));
            }
        }
        out.push(status);
    }
    write(lake, run, &out).await?;
    Ok(out)
}

/// The forecast stage's daily points for the budget's scope and currency in this run, from the day
/// after `last` to `end`, when it forecast that scope: the budget then agrees with the report's
/// month-end figure.
async fn stage_forecast(
    ctx: &SessionContext,
    run: &RunKey,
    spec: &BudgetSpec,
    last: NaiveDate,
    end: NaiveDate,
) -> Result<Option<Vec<f64>>> {
    let scope = match spec.scope.dimension {
        Dimension::Total => "total".to_string(),
        ref d => format!("{d}={}", spec.scope.value),
    };
    let sql = format!(
        "SELECT point FROM forecasts WHERE run_date = DATE '{}' AND pipeline = {} AND scope = {} \
         AND currency = {} AND date > DATE '{last}' AND date <= DATE '{end}' ORDER BY date",
        run.as_of.format("%Y-%m-%d"),
        sql_string(&run.pipeline),
        sql_string(&scope),
        sql_string(&spec.currency),
    );
    // No forecasts table (a session without it): the budget forecasts on its own.
    let Ok(batches) = crate::lake::query::run(ctx, &sql).await else {
        return Ok(None);
    };
    let points = crate::lake::columns::numbers(&batches, 0)?;
    Ok((!points.is_empty()).then_some(points))
}

/// Spend forecast for the `days` after `series` ends: the model's points, or the last week's run
/// rate.
fn remaining_spend(series: Option<&Series>, days: usize) -> (f64, String) {
    if days == 0 {
        return (0.0, "none: the period has ended".into());
    }
    let history = series.map(Series::history).unwrap_or_default();
    match forecast::forecast(&history, days) {
        Ok(f) => (
            f.points.iter().map(|p| p.point).sum(),
            format!("model {}", f.model),
        ),
        Err(_) => {
            let values = series.map_or(&[][..], |s| s.values.as_slice());
            let week = &values[values.len().saturating_sub(7)..];
            let rate = week.iter().sum::<f64>() / week.len().max(1) as f64;
            (rate * days as f64, "run rate of the last 7 days".into())
        }
    }
}

async fn write(lake: &Lake, run: &RunKey, rows: &[BudgetStatus]) -> Result<()> {
    let batch = BatchBuilder::default()
        .text("run_id", rows.iter().map(|_| Some(run.run_id.as_str())))
        .text("pipeline", rows.iter().map(|_| Some(run.pipeline.as_str())))
        .text("budget", rows.iter().map(|r| Some(r.spec.name.as_str())))
        .text(
            "scope",
            rows.iter().map(|r| Some(r.spec.scope.text.as_str())),
        )
        .text("period", rows.iter().map(|r| Some(r.spec.period.as_str())))
        .date("period_start", rows.iter().map(|r| Some(r.period_start)))
        .date("period_end", rows.iter().map(|r| Some(r.period_end)))
        .text(
            "currency",
            rows.iter().map(|r| Some(r.spec.currency.as_str())),
        )
        .number("amount", rows.iter().map(|r| Some(r.spec.amount)))
        .number("actual", rows.iter().map(|r| Some(r.actual)))
        .number("forecast", rows.iter().map(|r| Some(r.forecast)))
        .number("actual_pct", rows.iter().map(|r| Some(r.actual_pct())))
        .number("forecast_pct", rows.iter().map(|r| Some(r.forecast_pct())))
        .text(
            "forecast_method",
            rows.iter().map(|r| Some(r.forecast_method.as_str())),
        )
        .date("last_cost_day", rows.iter().map(|r| r.last_cost_day))
        .text("crossed", rows.iter().map(|r| Some(r.crossed_text())))
        .text("status", rows.iter().map(|r| Some(r.status())))
        .date("run_date", rows.iter().map(|_| Some(run.as_of)))
        .finish()
        .map_err(|e| Error::Internal(format!("budget_status: {e}")))?;
    lake.write_batches(&schema::budget_status(), vec![batch], run.run_date_rows())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_hold_the_day() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 17).unwrap();
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(Period::Month.bounds(d), (ymd(2026, 8, 1), ymd(2026, 8, 31)));
        assert_eq!(
            Period::Quarter.bounds(d),
            (ymd(2026, 7, 1), ymd(2026, 9, 30))
        );
        assert_eq!(Period::Year.bounds(d), (ymd(2026, 1, 1), ymd(2026, 12, 31)));
        assert_eq!(
            Period::Month.bounds(ymd(2028, 2, 29)),
            (ymd(2028, 2, 1), ymd(2028, 2, 29))
        );
    }

    #[test]
    fn scopes_parse_and_bad_ones_say_what_is_allowed() {
        let s = BudgetScope::parse("tag:CostCenter=4711").unwrap();
        assert_eq!(s.dimension, Dimension::Tag("costcenter".into()));
        assert_eq!(s.value, "4711");
        let rg = BudgetScope::parse("resource_group:contoso-prod/RG-Web").unwrap();
        assert_eq!(rg.value, "contoso-prod/rg-web");
        for bad in ["subscription", "tag:costcenter", "everything:x", "total:x"] {
            let e = BudgetScope::parse(bad).unwrap_err();
            assert!(e.contains("tag:KEY=VALUE"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_amounts_currencies_thresholds_and_names_are_named() {
        let b: BudgetSpec = toml::from_str(
            "name = \"x\"\nscope = \"total\"\namount = 0\ncurrency = \"usd\"\nperiod = \"month\"\nthresholds = [80, 0]\n",
        )
        .unwrap();
        let p = problems(&[b.clone(), b]).join("\n");
        for want in [
            "budgets[0] (x).amount",
            "budgets[0] (x).currency",
            "budgets[0] (x).thresholds: 0",
            "budgets[1] (x).name",
        ] {
            assert!(p.contains(want), "{want} missing from:\n{p}");
        }
    }

    #[test]
    fn without_enough_history_the_run_rate_forecasts() {
        let series = Series {
            scope: scope::Scope {
                dimension: Dimension::Total,
                value: "total".into(),
                currency: "USD".into(),
            },
            start: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            values: vec![10.0; 10],
        };
        let (rest, method) = remaining_spend(Some(&series), 5);
        assert!(
            (rest - 50.0).abs() < 1e-9 && method.contains("run rate"),
            "{rest} {method}"
        );
    }
}
