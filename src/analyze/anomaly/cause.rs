//! Root cause: which resources and meters of an anomaly's scope changed on its peak day, each
//! judged against its own expectation (the detector's, from the 28 days before), ranked by the money
//! that moved in the anomaly's direction. Cost billed to no resource (subscription-level usage) is
//! named by its meter.

use chrono::Duration;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::Anomaly;
use super::detect::{self, WINDOW};
use crate::lake::columns::{numbers, parse_day, sql_string, strings};
use crate::{Error, Result};

/// One thing that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// The resource (lowercase Azure id), or none for cost billed to no resource.
    pub resource_id: Option<String>,
    /// `meter category / meter`.
    pub meter: String,
    pub expected: f64,
    pub actual: f64,
    /// Its share of the scope's change on the peak day (0–1; more than 1 when others moved back).
    pub share: f64,
}

/// Causes kept per anomaly.
const TOP: usize = 5;

/// The causes of `a`, largest first.
pub async fn explain(ctx: &SessionContext, a: &Anomaly) -> Result<Vec<Cause>> {
    let from = a.peak_day - Duration::days(WINDOW as i64);
    let sql = format!(
        "SELECT resource, meter, CAST(day AS VARCHAR), cost FROM (\
           SELECT NULLIF(\"ResourceId\", '') AS resource, \
                  COALESCE(\"x_SkuMeterCategory\", \"ServiceName\", '') || ' / ' || \
                  COALESCE(\"SkuMeter\", \"x_SkuMeterSubcategory\", \"ChargeDescription\", '') AS meter, \
                  CAST(\"ChargePeriodStart\" AS DATE) AS day, SUM(\"EffectiveCost\") AS cost \
           FROM costs WHERE CAST(\"ChargePeriodStart\" AS DATE) BETWEEN DATE '{from}' AND DATE '{peak}' \
             AND COALESCE(\"BillingCurrency\", '') = {currency} AND {filter} GROUP BY 1, 2, 3)",
        peak = a.peak_day,
        currency = sql_string(&a.scope.currency),
        filter = a.scope.dimension.filter(&a.scope.value),
    );
    let b = crate::lake::query::run(ctx, &sql).await?;
    let (resources, meters, days, costs) = (
        strings(&b, 0)?,
        strings(&b, 1)?,
        strings(&b, 2)?,
        numbers(&b, 3)?,
    );
    let mut series: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
    for i in 0..resources.len() {
        let day = parse_day(&days[i])
            .ok_or_else(|| Error::Internal(format!("cost day {:?} is not a date", days[i])))?;
        let v = series
            .entry((resources[i].clone(), meters[i].clone()))
            .or_insert_with(|| vec![0.0; WINDOW + 1]);
        v[(day - from).num_days() as usize] += costs[i];
    }
    Ok(rank(
        series,
        (a.peak_day - from).num_days(),
        a.peak_actual - a.peak_expected,
        from,
    ))
}

/// Rank `(resource, meter)` series by their change on day `t` in the direction of `change`.
fn rank(
    series: std::collections::BTreeMap<(String, String), Vec<f64>>,
    t: i64,
    change: f64,
    start: chrono::NaiveDate,
) -> Vec<Cause> {
    use chrono::Datelike;
    let t = t as usize;
    let weekday = |i: usize| {
        (start + Duration::days(i as i64))
            .weekday()
            .num_days_from_monday()
    };
    let mut out: Vec<Cause> = series
        .into_iter()
        .map(|((resource, meter), v)| {
            // A resource new in the window has no expectation of its own: all of it is change.
            let expected = detect::expectation(&v, t, weekday).map_or_else(
                || {
                    let before = &v[..t];
                    before.iter().sum::<f64>() / before.len().max(1) as f64
                },
                |(e, _)| e,
            );
            Cause {
                resource_id: Some(resource).filter(|r| !r.is_empty()),
                meter,
                expected,
                actual: v[t],
                share: if change != 0.0 {
                    (v[t] - expected) / change
                } else {
                    0.0
                },
            }
        })
        .filter(|c| c.share >= 0.01)
        .collect();
    out.sort_by(|a, b| b.share.total_cmp(&a.share));
    out.truncate(TOP);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_that_moved_ranks_first_and_the_steady_ones_not_at_all() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let mut series = std::collections::BTreeMap::new();
        let steady: Vec<f64> = (0..=WINDOW).map(|i| 10.0 + (i % 3) as f64 * 0.1).collect();
        let mut moved = steady.clone();
        moved[WINDOW] = 40.0;
        let mut new = vec![0.0; WINDOW + 1];
        new[WINDOW] = 5.0;
        series.insert(("/a".to_string(), "Compute / D2".to_string()), steady);
        series.insert(("/b".to_string(), "SQL / S3".to_string()), moved);
        series.insert((String::new(), "Logs / Ingestion".to_string()), new);
        let causes = rank(series, WINDOW as i64, 35.0, start);
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].resource_id.as_deref(), Some("/b"));
        assert!((causes[0].share - 30.0 / 35.0).abs() < 0.02, "{causes:?}");
        assert_eq!(causes[1].resource_id, None);
        assert_eq!(causes[1].meter, "Logs / Ingestion");
    }
}
