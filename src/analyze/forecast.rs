//! Cost forecasts: total daily `EffectiveCost` → the next N days with 80% and 95% intervals, written
//! to the `forecasts` table under the pipeline that ran it. The forecast reads its own history from
//! `costs`; the report reads the result from `forecasts`.
//!
//! Model: MSTL (weekly season, plus yearly when there are two years of history) with a non-seasonal
//! AutoETS trend, from augurs. Missing days are interpolated. MSTL treats the season as fixed, so its
//! bands can be narrow; the bands are clamped at zero because cost cannot be negative.

use std::sync::Arc;

use augurs::ets::AutoETS;
use augurs::forecaster::transforms::LinearInterpolator;
use augurs::forecaster::{Forecaster, Transformer};
use augurs::mstl::MSTLModel;
use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::prelude::SessionContext;

use crate::lake::columns::{epoch_days, numbers, strings};
use crate::lake::{Lake, RunKey, schema};
use crate::{Error, Result};

/// The history the forecast fits: total effective cost per day before the run date.
const HISTORY_SQL: &str = "SELECT CAST(CAST(\"ChargePeriodStart\" AS DATE) AS VARCHAR) AS day, \
     SUM(\"EffectiveCost\") AS cost FROM costs \
     WHERE CAST(\"ChargePeriodStart\" AS DATE) < {as_of} GROUP BY 1 ORDER BY 1";

/// Forecast the total daily cost `horizon` days ahead from the `costs` in `ctx`, and write the
/// points to `forecasts` as `run`'s (replacing only its pipeline's rows for its date).
pub async fn run(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    horizon: usize,
) -> Result<Vec<ForecastPoint>> {
    let sql = HISTORY_SQL.replace(
        "{as_of}",
        &format!("DATE '{}'", run.as_of.format("%Y-%m-%d")),
    );
    let b = ctx.sql(&sql).await?.collect().await?;
    let days = strings(&b, 0)?
        .iter()
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ForecastError::BadDay { day: s.clone() }.into())
        })
        .collect::<Result<Vec<_>>>()?;
    let daily: Vec<_> = days.into_iter().zip(numbers(&b, 1)?).collect();
    let points = forecast(&daily_series(&daily), horizon)?;
    lake.write_batches(
        &schema::forecasts(),
        vec![to_batch(&points, run)?],
        run.run_date_rows(),
    )
    .await?;
    Ok(points)
}

/// The `forecasts` rows of `points` (scope `total`).
fn to_batch(points: &[ForecastPoint], run: &RunKey) -> Result<RecordBatch> {
    let def = schema::forecasts();
    let n = points.len();
    let f = |g: fn(&ForecastPoint) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(points.iter().map(g).collect::<Vec<_>>()))
    };
    let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v; n])) };
    let dates = points
        .iter()
        .map(|p| epoch_days(p.date))
        .collect::<Vec<_>>();
    RecordBatch::try_new(
        def.schema.clone(),
        vec![
            text(&run.run_id),
            text(&run.pipeline),
            text("total"),
            Arc::new(Date32Array::from(dates)),
            Arc::new(Int32Array::from((1..=n as i32).collect::<Vec<_>>())),
            f(|p| p.point),
            f(|p| p.lower_80),
            f(|p| p.upper_80),
            f(|p| p.lower_95),
            f(|p| p.upper_95),
            text(MODEL),
            Arc::new(Date32Array::from(vec![epoch_days(run.as_of); n])),
        ],
    )
    .map_err(|e| Error::Internal(format!("forecasts: {e}")))
}

/// Why there is no forecast.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error("no cost history to forecast from")]
    NoHistory,
    #[error("{days} days of history; at least 28 are needed")]
    TooShort { days: usize },
    #[error("history day {day:?} is not a date")]
    BadDay { day: String },
    #[error("the model: {0}")]
    Model(String),
    #[error("the model returned no intervals")]
    NoIntervals,
}

/// One forecast day.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub point: f64,
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

/// Name recorded with each forecast row.
pub const MODEL: &str = "mstl(7)+autoets";

/// Forecast `horizon` days after the last day of `history` (one value per consecutive day, oldest
/// first; `NaN` for days without data).
pub fn forecast(history: &[(NaiveDate, f64)], horizon: usize) -> Result<Vec<ForecastPoint>> {
    let Some(&(last, _)) = history.last() else {
        return Err(ForecastError::NoHistory.into());
    };
    if history.len() < 28 {
        return Err(ForecastError::TooShort {
            days: history.len(),
        }
        .into());
    }
    let y: Vec<f64> = history.iter().map(|(_, v)| *v).collect();
    let mut periods = vec![7];
    if y.len() >= 2 * 365 {
        periods.push(365);
    }
    let model = MSTLModel::new(periods, AutoETS::non_seasonal().into_trend_model());
    let mut f = Forecaster::new(model).with_transformers(vec![LinearInterpolator::new().boxed()]);
    f.fit(y.as_slice())
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let p80 = f
        .predict(horizon, 0.80)
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let p95 = f
        .predict(horizon, 0.95)
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let (i80, i95) = match (p80.intervals, p95.intervals) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(ForecastError::NoIntervals.into()),
    };
    Ok((0..horizon)
        .map(|i| ForecastPoint {
            date: last + Duration::days(i as i64 + 1),
            point: p80.point[i].max(0.0),
            lower_80: i80.lower[i].max(0.0),
            upper_80: i80.upper[i].max(0.0),
            lower_95: i95.lower[i].max(0.0),
            upper_95: i95.upper[i].max(0.0),
        })
        .collect())
}

/// Fill gaps so the series has one entry per calendar day from its first to its last day.
pub fn daily_series(points: &[(NaiveDate, f64)]) -> Vec<(NaiveDate, f64)> {
    let (Some(first), Some(last)) = (
        points.iter().map(|p| p.0).min(),
        points.iter().map(|p| p.0).max(),
    ) else {
        return Vec::new();
    };
    let by_day: std::collections::HashMap<NaiveDate, f64> = points.iter().copied().collect();
    (0..=(last - first).num_days())
        .map(|i| first + Duration::days(i))
        .map(|d| (d, by_day.get(&d).copied().unwrap_or(f64::NAN)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_series_forecast_has_ordered_bands_near_the_level() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let history: Vec<(NaiveDate, f64)> = (0..120)
            .map(|i| {
                (
                    start + Duration::days(i),
                    100.0 + if i % 7 >= 5 { -30.0 } else { 10.0 } + (i as f64) * 0.1,
                )
            })
            .collect();
        let out = forecast(&history, 30).unwrap();
        assert_eq!(out.len(), 30);
        assert_eq!(out[0].date, start + Duration::days(120));
        for p in &out {
            assert!(
                p.lower_95 <= p.lower_80
                    && p.lower_80 <= p.point
                    && p.point <= p.upper_80
                    && p.upper_80 <= p.upper_95,
                "{p:?}"
            );
            assert!((60.0..150.0).contains(&p.point), "{p:?}");
        }
    }

    #[test]
    fn gaps_become_nan_days() {
        let d = |i| NaiveDate::from_ymd_opt(2025, 1, i).unwrap();
        let s = daily_series(&[(d(1), 1.0), (d(4), 4.0)]);
        assert_eq!(s.len(), 4);
        assert!(s[1].1.is_nan());
    }
}
