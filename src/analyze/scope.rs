//! Scopes of cost: a dimension's value and currency (the dimensions themselves, shared with the
//! report, are `lake::dimension`), and the daily `EffectiveCost` series of every value of a
//! dimension, one per billing currency, that anomalies, forecasts and budgets judge.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Duration, NaiveDate};
use datafusion::prelude::SessionContext;

use crate::lake::columns::{numbers, parse_day, strings};
pub use crate::lake::dimension::{Dimension, last_cost_day};
use crate::{Error, Result};

/// The total first, then `dimensions` (the total once, whether or not it is among them).
pub fn with_total(dimensions: &[Dimension]) -> Vec<Dimension> {
    std::iter::once(Dimension::Total)
        .chain(
            dimensions
                .iter()
                .filter(|d| **d != Dimension::Total)
                .cloned(),
        )
        .collect()
}

/// One scope: a dimension's value in one billing currency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub dimension: Dimension,
    pub value: String,
    pub currency: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dimension {
            Dimension::Total => write!(f, "total ({})", self.currency),
            _ => write!(f, "{} {} ({})", self.dimension, self.value, self.currency),
        }
    }
}

/// A scope's daily cost from `start`, one value per day (0 where it had no cost).
#[derive(Debug, Clone)]
pub struct Series {
    pub scope: Scope,
    pub start: NaiveDate,
    pub values: Vec<f64>,
}

impl Series {
    pub fn day(&self, i: usize) -> NaiveDate {
        self.start + Duration::days(i as i64)
    }

    /// `(day, cost)` from the first day with cost on (empty when there is none): what a forecast
    /// fits.
    pub fn history(&self) -> Vec<(NaiveDate, f64)> {
        let first = self
            .values
            .iter()
            .position(|v| *v != 0.0)
            .unwrap_or(self.values.len());
        (first..self.values.len())
            .map(|i| (self.day(i), self.values[i]))
            .collect()
    }
}

/// The daily series of every value of `dimension` (rows matching `filter`, SQL) over `[from, to]`.
pub async fn daily(
    ctx: &SessionContext,
    dimension: &Dimension,
    filter: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Series>> {
    let expr = dimension.sql();
    let keys = [expr.as_str(), "COALESCE(\"BillingCurrency\", '')"];
    let filter = format!("({filter}) AND ({expr}) IS NOT NULL");
    Ok(daily_by(ctx, keys, &filter, from, to)
        .await?
        .into_iter()
        .map(|((value, currency), values)| Series {
            scope: Scope {
                dimension: dimension.clone(),
                value,
                currency,
            },
            start: from,
            values,
        })
        .collect())
}

/// Daily `EffectiveCost` of the rows matching `filter` over `[from, to]`, per value of the two SQL
/// expressions `keys` (NULL read as empty): one value per day, 0 where there was none.
pub async fn daily_by(
    ctx: &SessionContext,
    keys: [&str; 2],
    filter: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<(String, String), Vec<f64>>> {
    let sql = format!(
        "SELECT a, b, CAST(day AS VARCHAR), cost FROM (\
           SELECT {} AS a, {} AS b, CAST(\"ChargePeriodStart\" AS DATE) AS day, \
                  SUM(\"EffectiveCost\") AS cost \
           FROM costs WHERE CAST(\"ChargePeriodStart\" AS DATE) BETWEEN DATE '{from}' AND DATE '{to}' \
             AND ({filter}) GROUP BY 1, 2, 3)",
        keys[0], keys[1],
    );
    let b = crate::lake::query::run(ctx, &sql).await?;
    let (first, second, days, costs) = (
        strings(&b, 0)?,
        strings(&b, 1)?,
        strings(&b, 2)?,
        numbers(&b, 3)?,
    );
    let len = (to - from).num_days() as usize + 1;
    let mut out: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for i in 0..first.len() {
        let day = parse_day(&days[i])
            .ok_or_else(|| Error::Internal(format!("cost day {:?} is not a date", days[i])))?;
        let series = out
            .entry((first[i].clone(), second[i].clone()))
            .or_insert_with(|| vec![0.0; len]);
        series[(day - from).num_days() as usize] += costs[i];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_parse_and_print_the_same() {
        for text in [
            "total",
            "subscription",
            "resource_group",
            "service",
            "meter_category",
            "region",
            "tag:costcenter",
        ] {
            assert_eq!(Dimension::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Dimension::parse("tag: CostCenter").unwrap(),
            Dimension::Tag("costcenter".into())
        );
        let err = Dimension::parse("resourcegroup").unwrap_err();
        assert!(err.contains("resource_group"), "{err}");
        assert!(Dimension::parse("tag:").is_err());
    }
}
