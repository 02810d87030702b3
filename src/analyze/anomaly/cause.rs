//! Root cause: which resources and meters of an anomaly's scope changed on its peak day, each
//! judged against its own expectation (the detector's, from the 28 days before), ranked by the money
//! that moved in the anomaly's direction. Cost billed to no resource (subscription-level usage) is
//! named by its meter.

use chrono::Duration;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::Anomaly;
use super::detect::{self, WINDOW};
use crate::Result;
use crate::analyze::scope;
use crate::lake::columns::sql_string;

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
    let keys = [
        "NULLIF(\"ResourceId\", '')",
        "COALESCE(\"x_SkuMeterCategory\", \"ServiceName\", '') || ' / ' || \
         COALESCE(\"SkuMeter\", \"x_SkuMeterSubcategory\", \"ChargeDescription\", '')",
    ];
    let filter = format!(
        "COALESCE(\"BillingCurrency\", '') = {} AND {}",
        sql_string(&a.scope.currency),
        a.scope.dimension.filter(&a.scope.value)
    );
    let series = scope::daily_by(ctx, keys, &filter, from, a.peak_day).await?;
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
    let t = t as usize;
    let mut out: Vec<Cause> = series
        .into_iter()
        .map(|((resource, meter), v)| {
            // A resource new in the window has no expectation of its own: all of it is change.
            let expected = detect::expectation(&v, start, t).map_or_else(
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
