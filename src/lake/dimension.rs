//! The dimensions cost is sliced by — the total, a subscription, a resource group, a service, a
//! meter category, a region, a tag's value — as SQL over `costs`, and the last day the lake has
//! cost for. Shared by the analyses (scopes of anomalies, forecasts, budgets) and the report
//! (showback).

use std::fmt;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Deserializer};

use crate::Result;
use crate::lake::columns::{parse_day, sql_string, strings};

/// A way of slicing cost.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    Total,
    Subscription,
    /// `subscription/group`: group names repeat across subscriptions.
    ResourceGroup,
    Service,
    MeterCategory,
    Region,
    /// The value of one (canonical, lowercase) tag key.
    Tag(String),
}

impl Dimension {
    /// Parse `total`, `subscription`, `resource_group`, `service`, `meter_category`, `region` or
    /// `tag:KEY`.
    pub fn parse(text: &str) -> std::result::Result<Dimension, String> {
        Ok(match text.trim() {
            "total" => Dimension::Total,
            "subscription" => Dimension::Subscription,
            "resource_group" => Dimension::ResourceGroup,
            "service" => Dimension::Service,
            "meter_category" => Dimension::MeterCategory,
            "region" => Dimension::Region,
            other => match other.strip_prefix("tag:").map(str::trim) {
                Some(key) if !key.is_empty() => Dimension::Tag(key.to_lowercase()),
                _ => {
                    return Err(format!(
                        "`{other}` is not a dimension (total, subscription, resource_group, service, meter_category, region, tag:KEY)"
                    ));
                }
            },
        })
    }

    /// The SQL expression over `costs` whose value names the scope (NULL: not in any scope of it).
    pub fn sql(&self) -> String {
        match self {
            Dimension::Total => "'total'".into(),
            Dimension::Subscription => "COALESCE(\"SubAccountName\", \"SubAccountId\")".into(),
            Dimension::ResourceGroup => "CASE WHEN \"x_ResourceGroupName\" IS NULL OR \"x_ResourceGroupName\" = '' THEN NULL \
                 ELSE COALESCE(\"SubAccountName\", \"SubAccountId\") || '/' || lower(\"x_ResourceGroupName\") END"
                .into(),
            Dimension::Service => "\"ServiceName\"".into(),
            Dimension::MeterCategory => "\"x_SkuMeterCategory\"".into(),
            Dimension::Region => "COALESCE(\"RegionId\", \"RegionName\")".into(),
            Dimension::Tag(key) => format!("json_get_str(\"Tags\", {})", sql_string(key)),
        }
    }

    /// SQL true for the rows of `value` in this dimension.
    pub fn filter(&self, value: &str) -> String {
        match self {
            Dimension::Total => "TRUE".into(),
            _ => format!("({}) = {}", self.sql(), sql_string(value)),
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Total => f.write_str("total"),
            Dimension::Subscription => f.write_str("subscription"),
            Dimension::ResourceGroup => f.write_str("resource_group"),
            Dimension::Service => f.write_str("service"),
            Dimension::MeterCategory => f.write_str("meter_category"),
            Dimension::Region => f.write_str("region"),
            Dimension::Tag(k) => write!(f, "tag:{k}"),
        }
    }
}

impl<'de> Deserialize<'de> for Dimension {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Dimension::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The last day with any cost before `before`, or `None` on an empty lake.
pub async fn last_cost_day(ctx: &SessionContext, before: NaiveDate) -> Result<Option<NaiveDate>> {
    let sql = format!(
        "SELECT CAST(MAX(CAST(\"ChargePeriodStart\" AS DATE)) AS VARCHAR) FROM costs \
         WHERE CAST(\"ChargePeriodStart\" AS DATE) < DATE '{before}'"
    );
    let b = crate::lake::query::run(ctx, &sql).await?;
    Ok(strings(&b, 0)?.first().and_then(|s| parse_day(s)))
}
