//! The `azure_cost_query` source: daily costs from the Cost Management Query API (`POST
//! {scope}/providers/Microsoft.CostManagement/query`) for scopes without exports — subscriptions,
//! resource groups, billing accounts and profiles. Each scope is asked one calendar month at a time
//! (the API's range limit and throttling favour short queries), every `nextLink` page is read, and a
//! month lands only when complete. Rows are grouped by resource, meter, service, resource group,
//! subscription, charge type and pricing model (and one tag key, if configured), and reach `costs`
//! as FOCUS rows through the same transform as an actual or amortized cost export.

use chrono::{Datelike, Duration, NaiveDate};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{Dataset, DatasetHint, ExtractContext, Extracted, Landed, scope_failure};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, scope_slug};

const API_VERSION: &str = "2025-03-01";
/// Scope-months queried at once (the client's Cost Management pace still applies).
const PARALLEL_QUERIES: usize = 2;

/// Dimensions every query groups by (the API takes up to 15 groupings).
pub const GROUPING: &[&str] = &[
    "ResourceId",
    "ResourceGroupName",
    "ResourceLocation",
    "SubscriptionId",
    "ServiceName",
    "MeterCategory",
    "MeterSubcategory",
    "Meter",
    "MeterId",
    "ChargeType",
    "PricingModel",
    "PublisherType",
    "Frequency",
];

/// Which cost view to ask for.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum CostDataset {
    /// Costs as billed (commitment purchases when bought).
    #[default]
    ActualCost,
    /// Costs with commitment purchases spread over their term.
    AmortizedCost,
}

impl CostDataset {
    /// As the API and exports name it.
    pub fn name(self) -> &'static str {
        match self {
            CostDataset::ActualCost => "ActualCost",
            CostDataset::AmortizedCost => "AmortizedCost",
        }
    }
}

/// `[[sources]] kind = "azure_cost_query"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostQuerySpec {
    /// Source name (landing folder; with the scope, the owner of its rows). Default
    /// `azure_cost_query`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Scopes to query: `/subscriptions/{id}`, `/subscriptions/{id}/resourceGroups/{name}`,
    /// `/providers/Microsoft.Billing/billingAccounts/{id}` (and `/billingProfiles/{id}`).
    pub scopes: Vec<String>,
    /// `ActualCost` (default) or `AmortizedCost`.
    #[serde(default)]
    pub dataset: CostDataset,
    /// Calendar months to read, ending with the run date's month (up to the day before it).
    /// Default 2, so the last days of a month are re-read after it closes.
    #[serde(default = "default_months")]
    pub months: u32,
    /// A tag key to group by as well; its values arrive in `Tags`.
    pub tag_key: Option<String>,
}

fn default_name() -> String {
    "azure_cost_query".into()
}
fn default_months() -> u32 {
    2
}

/// The first and last day of each month to query, oldest first; the run date's month ends the day
/// before the run date (and is left out on the first of the month).
pub fn months(as_of: NaiveDate, count: u32) -> Vec<(NaiveDate, NaiveDate)> {
    let yesterday = as_of - Duration::days(1);
    let mut out = Vec::new();
    let mut first = as_of.with_day(1).expect("day 1");
    for _ in 0..count {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .expect("in range");
        let last = (next - Duration::days(1)).min(yesterday);
        if first <= last {
            out.push((first, last));
        }
        first = first
            .checked_sub_months(chrono::Months::new(1))
            .expect("in range");
    }
    out.reverse();
    out
}

/// The query body for one month.
pub fn body(spec: &CostQuerySpec, from: NaiveDate, to: NaiveDate) -> Value {
    let mut grouping: Vec<Value> = GROUPING
        .iter()
        .map(|d| json!({"type": "Dimension", "name": d}))
        .collect();
    if let Some(key) = &spec.tag_key {
        grouping.push(json!({"type": "TagKey", "name": key}));
    }
    let dataset = spec.dataset.name();
    json!({
        "type": dataset,
        "timeframe": "Custom",
        "timePeriod": {
            "from": format!("{from}T00:00:00Z"),
            "to": format!("{to}T23:59:59Z"),
        },
        "dataset": {
            "granularity": "Daily",
            "aggregation": {
                "Cost": {"name": "Cost", "function": "Sum"},
                "CostUSD": {"name": "CostUSD", "function": "Sum"},
            },
            "grouping": grouping,
        },
    })
}

pub async fn extract(spec: &CostQuerySpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let client = cx.azure().await?;
    let dataset = spec.dataset.name();
    // Every scope and month is one unit; units run side by side at Cost Management's pace.
    let units: Vec<(String, NaiveDate, NaiveDate)> = spec
        .scopes
        .iter()
        .flat_map(|scope| {
            let scope = format!("/{}", scope.trim_matches('/'));
            months(cx.as_of, spec.months)
                .into_iter()
                .map(move |(from, to)| (scope.clone(), from, to))
        })
        .collect();
    // Futures made first, then run a few at a time (see `azure_advisor`: keeps the future `Send`).
    let reads: Vec<_> = units
        .iter()
        .map(|(scope, from, to)| read_month(&client, scope, body(spec, *from, *to)))
        .collect();
    let results: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_QUERIES)
        .collect()
        .await;
    let mut out = Extracted::default();
    for ((scope, from, _), result) in units.iter().zip(results) {
        let month = from.format("%Y-%m").to_string();
        match result {
            Ok(pages) => {
                for (p, page) in pages.into_iter().enumerate() {
                    let name = format!("{}/{month}/page-{:04}.json", scope_slug(scope), p + 1);
                    let mut landed = cx.land(&spec.name, Dataset::Costs, &name, page).await?;
                    landed.owner = format!("{}{scope}", spec.name);
                    landed.hint = DatasetHint {
                        dataset: Some(dataset.into()),
                        version: None,
                        label: Some(format!("CostQuery {dataset}")),
                    };
                    out.landed.push(landed);
                }
            }
            Err(e) => {
                let what = format!("{scope} ({month})");
                out.failed_scopes.push(scope_failure(&spec.name, &what, &e));
            }
        }
    }
    Ok(out)
}

/// Every page of one scope's month.
async fn read_month(
    client: &AzureClient,
    scope: &str,
    body: Value,
) -> std::result::Result<Vec<Vec<u8>>, CallError> {
    let url = format!(
        "{}{scope}/providers/Microsoft.CostManagement/query?api-version={API_VERSION}",
        client.endpoints().resource_manager
    );
    let replies = client
        .pages(
            Api::CostManagement,
            &url,
            Some(&body),
            "/properties/nextLink",
            "/properties/rows",
        )
        .await?;
    Ok(replies.into_iter().map(|r| r.bytes).collect())
}

#[async_trait::async_trait]
impl Source for CostQuerySpec {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.scopes.is_empty() {
            out.push(format!("source `{}`: `scopes` is empty", self.name));
        }
        out.extend(self.scopes.iter().filter(|x| !x.starts_with('/')).map(|x| {
            format!(
                "source `{}`: scope `{x}` should start with /subscriptions/ or /providers/",
                self.name
            )
        }));
        out
    }

    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        probe_scopes(self.scopes.clone(), COST_READER, |scope| {
            probe_costs(cx.client, scope)
        })
        .await
    }
}

/// The role a cost read needs.
pub const COST_READER: &str = "Cost Management Reader (or a billing reader role at billing scopes)";

/// One small cost query on `scope`: can this identity read its costs?
pub async fn probe_costs(
    client: &AzureClient,
    scope: String,
) -> std::result::Result<String, CallError> {
    let day = (chrono::Utc::now() - Duration::days(2)).date_naive();
    let body = json!({
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {"from": format!("{day}T00:00:00Z"), "to": format!("{day}T23:59:59Z")},
        "dataset": {"granularity": "None",
                    "aggregation": {"Cost": {"name": "Cost", "function": "Sum"}}},
    });
    let url = format!(
        "{}{scope}/providers/Microsoft.CostManagement/query?api-version={API_VERSION}",
        client.endpoints().resource_manager
    );
    client.post(Api::CostManagement, &url, &body).await?;
    Ok("costs readable".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_end_the_day_before_the_run_date() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            months(d("2026-11-22"), 2),
            vec![
                (d("2026-10-01"), d("2026-10-31")),
                (d("2026-11-01"), d("2026-11-21"))
            ]
        );
        // On the first, the new month has no complete day yet.
        assert_eq!(
            months(d("2026-03-01"), 2),
            vec![(d("2026-02-01"), d("2026-02-28"))]
        );
    }
}
