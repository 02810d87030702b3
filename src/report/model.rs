//! The report's content as plain data, built from the lake with the SQL in `sql/report/`.
//! Renderers only lay this out; every number in a report comes from here, and every amount
//! carries its billing currency: nothing is summed across currencies.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::assets::SqlSet;
use crate::lake::RunKey;
use crate::lake::columns::{parse_day, sql_string, strings};
use crate::lake::dimension::{Dimension, last_cost_day};
use crate::{Error, Result};

/// A finding of this run, as the recommendations table has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub title: String,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_group: String,
    pub category: String,
    pub reason: String,
    pub est_monthly_savings: f64,
    pub currency: String,
    pub fit_score: f64,
    pub priority: String,
    pub remediation: String,
    /// Whether the saving counts in the total: false when a larger finding on the same resource
    /// is its alternative (named in `alternative_to`).
    pub counted: bool,
    pub alternative_to: String,
}

/// A point forecast with its 80% and 95% intervals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Band {
    pub point: f64,
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

impl Band {
    fn add(self, o: Band) -> Band {
        Band {
            point: self.point + o.point,
            lower_80: self.lower_80 + o.lower_80,
            upper_80: self.upper_80 + o.upper_80,
            lower_95: self.lower_95 + o.lower_95,
            upper_95: self.upper_95 + o.upper_95,
        }
    }

    fn shift(self, by: f64) -> Band {
        self.add(Band {
            point: by,
            lower_80: by,
            upper_80: by,
            lower_95: by,
            upper_95: by,
        })
    }
}

/// One day of the run's forecast in one currency, read from `forecasts`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub currency: String,
    pub band: Band,
}

/// The headline figures of one billing currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub currency: String,
    /// Cost of the last day with cost.
    pub last_day_cost: f64,
    /// From the first of the last cost day's month to that day.
    pub month_to_date: f64,
    /// The previous month, from its first to the same day of the month.
    pub previous_month_to_date: f64,
    /// Month-to-date plus the forecast of the month's remaining days, when a forecast exists. The
    /// interval adds the daily intervals: as wide as it gets if the days move together.
    pub month_end: Option<Band>,
    /// The findings' monthly savings, each resource's money counted once.
    pub savings_found: f64,
    /// Monthly savings of findings resolved this month.
    pub savings_realized: f64,
}

impl Headline {
    /// Month to date against the previous month to the same day, in percent; `None` when the
    /// previous month had nothing.
    pub fn change_pct(&self) -> Option<f64> {
        (self.previous_month_to_date.abs() > 0.005).then(|| {
            100.0 * (self.month_to_date - self.previous_month_to_date) / self.previous_month_to_date
        })
    }
}

/// The forecast's total over its next `days` days in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Horizon {
    pub currency: String,
    pub days: usize,
    pub band: Band,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub dimension: String,
    pub value: String,
    pub currency: String,
    pub direction: String,
    pub status: String,
    pub severity: String,
    pub first_day: String,
    pub last_day: String,
    /// Actual minus expected over the anomaly's days.
    pub impact: f64,
    pub cause: String,
    pub cause_share: f64,
}

impl Anomaly {
    /// The largest cause by name: the last segment of a resource ID (`…/databases/reporting` →
    /// `reporting`), or the meter.
    pub fn cause_name(&self) -> &str {
        if self.cause.starts_with('/') {
            self.cause.rsplit('/').next().unwrap_or(&self.cause)
        } else {
            &self.cause
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub name: String,
    pub currency: String,
    pub amount: f64,
    pub actual: f64,
    pub forecast: f64,
    pub status: String,
    pub period_end: String,
}

/// A finding that opened (`new`, with its estimated saving) or was resolved (`resolved`, with
/// the saving realized) on the run date.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingChange {
    pub status: String,
    pub rule_id: String,
    pub resource_name: String,
    pub resource_group: String,
    pub amount: f64,
    pub currency: String,
}

/// Cost of one name (a subscription, a resource, …) over the 30 days to the last cost day and the
/// 30 days before.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    pub name: String,
    /// The service, for a resource; empty otherwise.
    pub detail: String,
    pub currency: String,
    pub current: f64,
    pub previous: f64,
}

impl CostRow {
    pub fn change(&self) -> f64 {
        self.current - self.previous
    }

    /// The change in percent of the previous period; `None` when there was none.
    pub fn change_pct(&self) -> Option<f64> {
        (self.previous.abs() > 0.005).then(|| 100.0 * self.change() / self.previous)
    }
}

/// Cost by the values of one dimension (showback).
#[derive(Debug, Clone, PartialEq)]
pub struct Showback {
    /// What the rows are: `Subscription`, `Resource group`, `Service`, `Tag CostCenter`.
    pub label: String,
    pub rows: Vec<CostRow>,
}

/// How current one source of cost data is.
#[derive(Debug, Clone, PartialEq)]
pub struct Freshness {
    pub source: String,
    pub provider: String,
    pub last_day: String,
    pub rows: u64,
}

/// The latest check of one source and billing period against the source's own total.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    pub source: String,
    pub billing_period: String,
    pub source_total: f64,
    pub lake_total: f64,
    pub quarantined_total: f64,
    pub difference: f64,
    pub reconciled: bool,
}

/// Rows kept out of the lake, by dataset and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub dataset: String,
    pub reason: String,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportModel {
    pub title: String,
    pub as_of: NaiveDate,
    /// The last day with cost before `as_of` (none in an empty lake).
    pub last_day: Option<NaiveDate>,
    /// One per billing currency, largest month-to-date first.
    pub headlines: Vec<Headline>,
    /// Daily cost per currency, oldest first (the last 90 days).
    pub daily: BTreeMap<String, Vec<(NaiveDate, f64)>>,
    pub forecast: Vec<ForecastDay>,
    /// The forecast's 30, 60 and 90-day totals per currency.
    pub horizons: Vec<Horizon>,
    pub anomalies: Vec<Anomaly>,
    pub budgets: Vec<Budget>,
    pub changes: Vec<FindingChange>,
    pub showback: Vec<Showback>,
    /// The resources whose cost moved most, either way.
    pub movers: Vec<CostRow>,
    /// This run's findings, highest priority first, then largest savings.
    pub findings: Vec<Finding>,
    pub freshness: Vec<Freshness>,
    pub reconciliation: Vec<Reconciled>,
    pub quarantine: Vec<Quarantined>,
}

/// The rows of one report query, every value as text (NULL as empty), columns by name.
struct Rows {
    /// The query's file, named when a column the report reads is missing (a `--report-sql`
    /// folder's query may not return it).
    file: String,
    names: Vec<String>,
    columns: Vec<Vec<String>>,
}

impl Rows {
    fn read(file: String, batches: &[RecordBatch]) -> Result<Rows> {
        let names = batches.first().map_or_else(Vec::new, |b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        });
        let columns = (0..names.len())
            .map(|i| strings(batches, i))
            .collect::<Result<_>>()?;
        Ok(Rows {
            file,
            names,
            columns,
        })
    }

    fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    fn text(&self, row: usize, name: &str) -> Result<String> {
        let i = self.names.iter().position(|n| n == name).ok_or_else(|| {
            Error::Report(format!(
                "{}: the query returns no column `{name}` (it has {})",
                self.file,
                self.names.join(", ")
            ))
        })?;
        Ok(self.columns[i][row].clone())
    }

    fn num(&self, row: usize, name: &str) -> Result<f64> {
        let text = self.text(row, name)?;
        if text.is_empty() {
            return Ok(0.0);
        }
        text.parse().map_err(|_| {
            Error::Report(format!(
                "{}: column `{name}` holds {text:?}, not a number",
                self.file
            ))
        })
    }

    fn map<T>(&self, f: impl Fn(&Rows, usize) -> Result<T>) -> Result<Vec<T>> {
        (0..self.len()).map(|i| f(self, i)).collect()
    }
}

/// A date as a SQL literal.
fn date(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// The same day of the month a month earlier, clamped to that month's length.
fn month_before(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).expect("valid") - Duration::days(1);
    first.with_day(d.day().min(first.day())).expect("valid")
}

/// The report's queries, with `{{as_of}}` (the run date), `{{pipeline}}` and the dates derived
/// from the last cost day filled in.
struct Queries<'a> {
    ctx: &'a SessionContext,
    sql: &'a SqlSet,
    params: Vec<(&'static str, String)>,
}

impl Queries<'_> {
    async fn rows(&self, name: &str) -> Result<Rows> {
        self.rows_with(name, &[]).await
    }

    async fn rows_with(&self, name: &str, extra: &[(&str, String)]) -> Result<Rows> {
        let file = self.sql.get(name)?;
        let mut text = file.text.clone();
        let params = self.params.iter().map(|(k, v)| (*k, v.as_str()));
        for (key, value) in extra.iter().map(|(k, v)| (*k, v.as_str())).chain(params) {
            text = text.replace(&format!("{{{{{key}}}}}"), value);
        }
        let batches = crate::lake::query::run(self.ctx, &text)
            .await
            .map_err(|e| Error::Report(format!("{}: {e}", file.path.display())))?;
        Rows::read(file.path.display().to_string(), &batches)
    }
}

/// The showback dimensions: subscription, resource group, service, and the configured tag.
fn showback_dimensions(tag: Option<&str>) -> Vec<(String, Dimension)> {
    let mut dims = vec![
        ("Subscription".to_string(), Dimension::Subscription),
        ("Resource group".to_string(), Dimension::ResourceGroup),
        ("Service".to_string(), Dimension::Service),
    ];
    if let Some(key) = tag {
        dims.push((format!("Tag {key}"), Dimension::Tag(key.to_string())));
    }
    dims
}

impl ReportModel {
    /// The report of `run`, from the lake's tables registered in `ctx`; `tag` is the tag key the
    /// showback breaks cost down by.
    pub async fn build(
        ctx: &SessionContext,
        sql: &SqlSet,
        title: &str,
        run: &RunKey,
        tag: Option<&str>,
    ) -> Result<ReportModel> {
        let as_of = run.as_of;
        let last_day = last_cost_day(ctx, as_of).await?;
        let reference = last_day.unwrap_or(as_of - Duration::days(1));
        let month_start = reference.with_day(1).expect("valid");
        let previous_same_day = month_before(reference);
        let q = Queries {
            ctx,
            sql,
            params: vec![
                ("as_of", date(as_of)),
                ("pipeline", sql_string(&run.pipeline)),
                ("last_day", date(reference)),
                ("month_start", date(month_start)),
                (
                    "previous_month_start",
                    date(previous_same_day.with_day(1).expect("valid")),
                ),
                ("previous_same_day", date(previous_same_day)),
                ("as_of_month_start", date(as_of.with_day(1).expect("valid"))),
            ],
        };

        let mut daily: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
        let rows = q.rows("daily_cost").await?;
        for i in 0..rows.len() {
            daily
                .entry(rows.text(i, "currency")?)
                .or_default()
                .push((parse_date(&rows.text(i, "day")?)?, rows.num(i, "cost")?));
        }

        let forecast = q.rows("forecast").await?.map(|r, i| {
            Ok(ForecastDay {
                date: parse_date(&r.text(i, "day")?)?,
                currency: r.text(i, "currency")?,
                band: Band {
                    point: r.num(i, "point")?,
                    lower_80: r.num(i, "lower_80")?,
                    upper_80: r.num(i, "upper_80")?,
                    lower_95: r.num(i, "lower_95")?,
                    upper_95: r.num(i, "upper_95")?,
                },
            })
        })?;

        let findings = q.rows("recommendations").await?.map(|r, i| {
            Ok(Finding {
                rule_id: r.text(i, "rule_id")?,
                title: r.text(i, "title")?,
                resource_id: r.text(i, "resource_id")?,
                resource_name: r.text(i, "resource_name")?,
                resource_group: r.text(i, "resource_group")?,
                category: r.text(i, "category")?,
                reason: r.text(i, "reason")?,
                est_monthly_savings: r.num(i, "est_monthly_savings")?,
                currency: r.text(i, "currency")?,
                fit_score: r.num(i, "fit_score")?,
                priority: r.text(i, "priority")?,
                remediation: r.text(i, "remediation")?,
                counted: r.text(i, "counted")? == "true",
                alternative_to: r.text(i, "alternative_to")?,
            })
        })?;
        let realized: BTreeMap<String, f64> = q
            .rows("savings_realized")
            .await?
            .map(|r, i| Ok((r.text(i, "currency")?, r.num(i, "realized")?)))?
            .into_iter()
            .collect();

        let mut headlines = q.rows("headline").await?.map(|r, i| {
            let currency = r.text(i, "currency")?;
            let month_to_date = r.num(i, "month_to_date")?;
            let rest_of_month = forecast
                .iter()
                .filter(|f| f.currency == currency && f.date > reference)
                .filter(|f| {
                    f.date.month() == reference.month() && f.date.year() == reference.year()
                })
                .fold(Band::default(), |sum, f| sum.add(f.band));
            let has_forecast = forecast.iter().any(|f| f.currency == currency);
            Ok(Headline {
                last_day_cost: r.num(i, "last_day_cost")?,
                month_to_date,
                previous_month_to_date: r.num(i, "previous_month_to_date")?,
                month_end: has_forecast.then(|| rest_of_month.shift(month_to_date)),
                savings_found: findings
                    .iter()
                    .filter(|f| f.counted && f.currency == currency)
                    .map(|f| f.est_monthly_savings)
                    .sum(),
                savings_realized: realized.get(&currency).copied().unwrap_or(0.0),
                currency,
            })
        })?;
        headlines.sort_by(|a, b| b.month_to_date.total_cmp(&a.month_to_date));

        let mut horizons = Vec::new();
        for currency in forecast
            .iter()
            .map(|f| f.currency.clone())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let days: Vec<&ForecastDay> = forecast
                .iter()
                .filter(|f| f.currency == currency && f.date > reference)
                .collect();
            for n in [30, 60, 90] {
                if days.len() >= n {
                    horizons.push(Horizon {
                        currency: currency.clone(),
                        days: n,
                        band: days[..n]
                            .iter()
                            .fold(Band::default(), |sum, f| sum.add(f.band)),
                    });
                }
            }
        }

        let anomalies = q.rows("anomalies").await?.map(|r, i| {
            Ok(Anomaly {
                dimension: r.text(i, "dimension")?,
                value: r.text(i, "value")?,
                currency: r.text(i, "currency")?,
                direction: r.text(i, "direction")?,
                status: r.text(i, "status")?,
                severity: r.text(i, "severity")?,
                first_day: r.text(i, "first_day")?,
                last_day: r.text(i, "last_day")?,
                impact: r.num(i, "impact")?,
                cause: r.text(i, "cause")?,
                cause_share: r.num(i, "cause_share")?,
            })
        })?;
        let budgets = q.rows("budgets").await?.map(|r, i| {
            Ok(Budget {
                name: r.text(i, "budget")?,
                currency: r.text(i, "currency")?,
                amount: r.num(i, "amount")?,
                actual: r.num(i, "actual")?,
                forecast: r.num(i, "forecast")?,
                status: r.text(i, "status")?,
                period_end: r.text(i, "period_end")?,
            })
        })?;
        let changes = q.rows("finding_changes").await?.map(|r, i| {
            Ok(FindingChange {
                status: r.text(i, "status")?,
                rule_id: r.text(i, "rule_id")?,
                resource_name: r.text(i, "resource_name")?,
                resource_group: r.text(i, "resource_group")?,
                amount: r.num(i, "amount")?,
                currency: r.text(i, "currency")?,
            })
        })?;
        let mut showback = Vec::new();
        for (label, dimension) in showback_dimensions(tag) {
            let rows = q
                .rows_with("showback", &[("key", dimension.sql())])
                .await?
                .map(|r, i| {
                    Ok(CostRow {
                        name: r.text(i, "name")?,
                        detail: String::new(),
                        currency: r.text(i, "currency")?,
                        current: r.num(i, "current")?,
                        previous: r.num(i, "previous")?,
                    })
                })?;
            showback.push(Showback { label, rows });
        }
        let movers = q.rows("movers").await?.map(|r, i| {
            Ok(CostRow {
                name: r.text(i, "name")?,
                detail: r.text(i, "service")?,
                currency: r.text(i, "currency")?,
                current: r.num(i, "current")?,
                previous: r.num(i, "previous")?,
            })
        })?;
        let freshness = q.rows("freshness").await?.map(|r, i| {
            Ok(Freshness {
                source: r.text(i, "source")?,
                provider: r.text(i, "provider")?,
                last_day: r.text(i, "last_day")?,
                rows: r.num(i, "rows")? as u64,
            })
        })?;
        let reconciliation = q.rows("reconciliation").await?.map(|r, i| {
            Ok(Reconciled {
                source: r.text(i, "source")?,
                billing_period: r.text(i, "billing_period")?,
                source_total: r.num(i, "source_total")?,
                lake_total: r.num(i, "lake_total")?,
                quarantined_total: r.num(i, "quarantined_total")?,
                difference: r.num(i, "difference")?,
                reconciled: r.text(i, "reconciled")? == "true",
            })
        })?;
        let quarantine = q.rows("quarantine").await?.map(|r, i| {
            Ok(Quarantined {
                dataset: r.text(i, "dataset")?,
                reason: r.text(i, "reason")?,
                rows: r.num(i, "rows")? as u64,
            })
        })?;
        Ok(ReportModel {
            title: title.to_string(),
            as_of,
            last_day,
            headlines,
            daily,
            forecast,
            horizons,
            anomalies,
            budgets,
            changes,
            showback,
            movers,
            findings,
            freshness,
            reconciliation,
            quarantine,
        })
    }

    /// The forecast of one currency.
    pub fn forecast_of<'a>(&'a self, currency: &'a str) -> impl Iterator<Item = &'a ForecastDay> {
        self.forecast.iter().filter(move |f| f.currency == currency)
    }
}

/// A day as a report query returns it (`YYYY-MM-DD`).
fn parse_date(s: &str) -> Result<NaiveDate> {
    parse_day(s).ok_or_else(|| Error::Report(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_day_a_month_before_is_clamped_to_the_shorter_month() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_before(d("2026-03-31")), d("2026-02-28"));
        assert_eq!(month_before(d("2026-06-15")), d("2026-05-15"));
        assert_eq!(month_before(d("2026-01-10")), d("2025-12-10"));
    }

    #[test]
    fn a_change_against_nothing_has_no_percentage() {
        let row = |previous| CostRow {
            name: "x".into(),
            detail: String::new(),
            currency: "USD".into(),
            current: 50.0,
            previous,
        };
        assert_eq!(row(0.0).change_pct(), None);
        assert_eq!(row(40.0).change_pct(), Some(25.0));
    }
}
