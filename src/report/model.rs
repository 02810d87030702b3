//! The report's content as plain data, built from the lake with the SQL in `sql/report/`.
//! Renderers only lay this out; every number in a report comes from here.

use chrono::{Datelike, Duration, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::assets::SqlSet;
use crate::format::money;
use crate::lake::RunKey;
use crate::lake::columns::{numbers, sql_string, strings};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub title: String,
    pub resource_name: String,
    pub resource_group: String,
    pub reason: String,
    pub est_monthly_savings: f64,
    pub fit_score: f64,
    pub priority: String,
}

/// One day of the run's forecast, read from `forecasts`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastDay {
    pub date: NaiveDate,
    pub point: f64,
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportModel {
    pub title: String,
    pub as_of: NaiveDate,
    pub currency: String,
    /// Cost of the day before `as_of`.
    pub yesterday_cost: f64,
    /// Cost from the first of `as_of`'s month (of the last cost day) to the last cost day.
    pub month_to_date: f64,
    /// Month-to-date plus the forecast for the rest of the month, when a forecast exists.
    pub forecast_month_end: Option<f64>,
    pub potential_monthly_savings: f64,
    /// Daily cost, oldest first (the last 90 days).
    pub daily: Vec<(NaiveDate, f64)>,
    pub forecast: Vec<ForecastDay>,
    /// One sentence per anomaly still going.
    pub anomalies: Vec<String>,
    /// One sentence per budget.
    pub budgets: Vec<String>,
    /// Cost per service over the last 30 days, largest first.
    pub by_service: Vec<(String, f64)>,
    /// This run's findings, highest priority first, then largest savings.
    pub findings: Vec<Finding>,
}

/// Run `sql/report/<name>.sql` with `{{as_of}}` (the run date) and `{{pipeline}}` (its name)
/// filled in.
pub async fn query(
    ctx: &SessionContext,
    sql: &SqlSet,
    name: &str,
    run: &RunKey,
) -> Result<Vec<RecordBatch>> {
    let file = sql.get(name)?;
    let path = &file.path;
    let sql = file
        .text
        .replace(
            "{{as_of}}",
            &format!("DATE '{}'", run.as_of.format("%Y-%m-%d")),
        )
        .replace("{{pipeline}}", &sql_string(&run.pipeline));
    crate::lake::query::run(ctx, &sql)
        .await
        .map_err(|e| Error::Report(format!("{}: {e}", path.display())))
}

fn dates(batches: &[RecordBatch], i: usize) -> Result<Vec<NaiveDate>> {
    strings(batches, i)?
        .iter()
        .map(|s| {
            NaiveDate::parse_from_str(&s[..s.len().min(10)], "%Y-%m-%d")
                .map_err(|e| Error::Report(format!("{s:?}: {e}")))
        })
        .collect()
}

/// Total cost per day, every day the lake has before the run date.
async fn daily_cost(
    ctx: &SessionContext,
    sql: &SqlSet,
    run: &RunKey,
) -> Result<Vec<(NaiveDate, f64)>> {
    let b = query(ctx, sql, "daily_cost", run).await?;
    Ok(dates(&b, 0)?.into_iter().zip(numbers(&b, 1)?).collect())
}

/// This run's forecast, as the forecast stage wrote it to `forecasts` (none when it did not run).
async fn forecast(ctx: &SessionContext, sql: &SqlSet, run: &RunKey) -> Result<Vec<ForecastDay>> {
    let b = query(ctx, sql, "forecast", run).await?;
    let days = dates(&b, 0)?;
    let column = |i| numbers(&b, i);
    let (point, lower_80, upper_80, lower_95, upper_95) =
        (column(1)?, column(2)?, column(3)?, column(4)?, column(5)?);
    Ok((0..days.len())
        .map(|i| ForecastDay {
            date: days[i],
            point: point[i],
            lower_80: lower_80[i],
            upper_80: upper_80[i],
            lower_95: lower_95[i],
            upper_95: upper_95[i],
        })
        .collect())
}

impl ReportModel {
    /// The report of `run`, from the lake's tables registered in `ctx`.
    pub async fn build(
        ctx: &SessionContext,
        sql: &SqlSet,
        title: &str,
        run: &RunKey,
    ) -> Result<ReportModel> {
        let as_of = run.as_of;
        let daily_all = daily_cost(ctx, sql, run).await?;
        let forecast = forecast(ctx, sql, run).await?;
        let last_day = daily_all
            .last()
            .map(|d| d.0)
            .unwrap_or(as_of - Duration::days(1));
        let month_start =
            NaiveDate::from_ymd_opt(last_day.year(), last_day.month(), 1).expect("valid");
        let month_to_date = daily_all
            .iter()
            .filter(|(d, _)| *d >= month_start && *d <= last_day)
            .map(|(_, v)| v)
            .sum();
        let yesterday_cost = daily_all
            .iter()
            .find(|(d, _)| *d == as_of - Duration::days(1))
            .map_or(0.0, |d| d.1);
        let forecast_month_end = (!forecast.is_empty()).then(|| {
            month_to_date
                + forecast
                    .iter()
                    .filter(|p| {
                        p.date.month() == last_day.month() && p.date.year() == last_day.year()
                    })
                    .map(|p| p.point)
                    .sum::<f64>()
        });
        let services = query(ctx, sql, "cost_by_service", run).await?;
        let by_service = strings(&services, 0)?
            .into_iter()
            .zip(numbers(&services, 1)?)
            .collect();
        let recs = query(ctx, sql, "recommendations", run).await?;
        let findings: Vec<Finding> = {
            let (rule, title_col, name, group, reason) = (
                strings(&recs, 0)?,
                strings(&recs, 1)?,
                strings(&recs, 2)?,
                strings(&recs, 3)?,
                strings(&recs, 4)?,
            );
            let (savings, fit, priority) =
                (numbers(&recs, 5)?, numbers(&recs, 6)?, strings(&recs, 7)?);
            (0..rule.len())
                .map(|i| Finding {
                    rule_id: rule[i].clone(),
                    title: title_col[i].clone(),
                    resource_name: name[i].clone(),
                    resource_group: group[i].clone(),
                    reason: reason[i].clone(),
                    est_monthly_savings: savings[i],
                    fit_score: fit[i],
                    priority: priority[i].clone(),
                })
                .collect()
        };
        let currency = strings(&query(ctx, sql, "currency", run).await?, 0)?
            .into_iter()
            .next()
            .unwrap_or_else(|| "USD".into());
        let start = last_day - Duration::days(89);
        let anomalies = query(ctx, sql, "anomalies", run).await?;
        let anomalies = {
            let (dim, value, direction, first, cause) = (
                strings(&anomalies, 0)?,
                strings(&anomalies, 1)?,
                strings(&anomalies, 2)?,
                strings(&anomalies, 4)?,
                strings(&anomalies, 6)?,
            );
            let impact = numbers(&anomalies, 5)?;
            (0..dim.len())
                .map(|i| {
                    format!(
                        "Cost {} in {} {} since {} ({} {currency} above or below expected), caused mostly by {}.",
                        direction[i],
                        dim[i],
                        value[i],
                        first[i],
                        money(impact[i].abs()),
                        if cause[i].is_empty() { "nothing found" } else { cause[i].as_str() }
                    )
                })
                .collect()
        };
        let budgets = query(ctx, sql, "budgets", run).await?;
        let budgets = {
            let (name, cur, status, end) = (
                strings(&budgets, 0)?,
                strings(&budgets, 1)?,
                strings(&budgets, 5)?,
                strings(&budgets, 6)?,
            );
            let (amount, actual, forecast) = (
                numbers(&budgets, 2)?,
                numbers(&budgets, 3)?,
                numbers(&budgets, 4)?,
            );
            (0..name.len())
                .map(|i| {
                    format!(
                        "Budget {}: {} of {} {} spent, forecast {} by {} ({}).",
                        name[i],
                        money(actual[i]),
                        money(amount[i]),
                        cur[i],
                        money(forecast[i]),
                        end[i],
                        status[i].replace('_', " ")
                    )
                })
                .collect()
        };
        Ok(ReportModel {
            anomalies,
            budgets,
            title: title.to_string(),
            as_of,
            currency,
            yesterday_cost,
            month_to_date,
            forecast_month_end,
            potential_monthly_savings: findings.iter().map(|f| f.est_monthly_savings).sum(),
            daily: daily_all.into_iter().filter(|(d, _)| *d >= start).collect(),
            forecast,
            by_service,
            findings,
        })
    }

    /// The executive summary, written from the numbers (no LLM): a few plain sentences.
    pub fn summary(&self) -> Vec<String> {
        let c = &self.currency;
        let mut s = vec![format!(
            "Month-to-date cost is {} {c}; yesterday cost {} {c}.",
            money(self.month_to_date),
            money(self.yesterday_cost)
        )];
        // The last day with cost: the forecast starts the day after.
        if let Some(&(last, _)) = self.daily.last()
            && (self.as_of - last).num_days() > 1
        {
            let behind = (self.as_of - last).num_days() - 1;
            s.push(format!(
                "The cost data end on {last}, {behind} day(s) before this report's date: the forecast starts the day after, so its first {behind} day(s) are already past."
            ));
        }
        s.extend(self.anomalies.iter().take(5).cloned());
        if self.anomalies.len() > 5 {
            s.push(format!(
                "{} more anomalies are in the `anomalies` table.",
                self.anomalies.len() - 5
            ));
        }
        s.extend(self.budgets.iter().cloned());
        if let Some(end) = self.forecast_month_end {
            s.push(format!(
                "At the current trend the month ends near {} {c}.",
                money(end)
            ));
        }
        if let Some((name, cost)) = self.by_service.first() {
            let total: f64 = self.by_service.iter().map(|x| x.1).sum();
            s.push(format!(
                "{name} is the largest service over the last 30 days ({} {c}, {:.0}% of spend).",
                money(*cost),
                100.0 * cost / total.max(f64::EPSILON)
            ));
        }
        if self.findings.is_empty() {
            s.push("No waste findings in this run.".into());
        } else {
            s.push(format!(
                "{} findings could save about {} {c} a month ({} {c} a year).",
                self.findings.len(),
                money(self.potential_monthly_savings),
                money(self.potential_monthly_savings * 12.0)
            ));
        }
        s
    }
}
