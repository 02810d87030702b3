//! The `azure_cost_query` source: daily costs from the Cost Management Query API (`POST
//! {scope}/providers/Microsoft.CostManagement/query`) for scopes without exports — subscriptions,
//! resource groups, billing accounts and profiles.
//!
//! Within the API's documented limits: at most two groupings per query, daily granularity over at
//! most 31 days, grouping by `ResourceId` only at subscription and resource-group scopes. So each
//! scope is asked one calendar month at a time, grouped by resource (by subscription at billing
//! scopes) and by service name — or by the configured tag key instead of the service. Every
//! `nextLink` page is read, and a month lands only when complete, together with the month's
//! ungrouped total (one small query) that the transform reconciles the lake against. Rows reach
//! `costs` as FOCUS rows through the same transform as an actual or amortized cost export; what
//! the two groupings cannot carry (meters, charge types, pricing models) stays NULL, never guessed.

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

/// The most groupings one query may have ("Query can have up to 2 group by clauses").
pub const MAX_GROUPINGS: usize = 2;
/// The longest period a query with daily granularity may cover, in days.
pub const MAX_DAILY_DAYS: i64 = 31;

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
    /// A tag key to group by instead of the service name (the API takes two groupings: the
    /// resource, and this); its values arrive in `Tags`.
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

/// Every (scope, first day, last day) to read: each scope (as `/…`) for each of `count` months.
pub fn scope_months(
    scopes: &[String],
    as_of: NaiveDate,
    count: u32,
) -> Vec<(String, NaiveDate, NaiveDate)> {
    scopes
        .iter()
        .flat_map(|scope| {
            let scope = format!("/{}", scope.trim_matches('/'));
            months(as_of, count)
                .into_iter()
                .map(move |(from, to)| (scope.clone(), from, to))
        })
        .collect()
}

/// Whether costs at `scope` can be grouped by resource: subscription and resource-group scopes.
fn resource_scope(scope: &str) -> bool {
    scope.to_lowercase().starts_with("/subscriptions/")
}

/// The two groupings for `scope`: the resource (the subscription at billing scopes), and the
/// service name or the configured tag key.
pub fn grouping(spec: &CostQuerySpec, scope: &str) -> Vec<Value> {
    let first = if resource_scope(scope) {
        "ResourceId"
    } else {
        "SubscriptionId"
    };
    let second = match &spec.tag_key {
        Some(key) => json!({"type": "TagKey", "name": key}),
        None => json!({"type": "Dimension", "name": "ServiceName"}),
    };
    vec![json!({"type": "Dimension", "name": first}), second]
}

fn time_period(from: NaiveDate, to: NaiveDate) -> Value {
    json!({"from": format!("{from}T00:00:00Z"), "to": format!("{to}T23:59:59Z")})
}

/// The grouped, daily query for `scope` from `from` to `to` (at most 31 days).
pub fn body(spec: &CostQuerySpec, scope: &str, from: NaiveDate, to: NaiveDate) -> Value {
    debug_assert!((to - from).num_days() < MAX_DAILY_DAYS);
    json!({
        "type": spec.dataset.name(),
        "timeframe": "Custom",
        "timePeriod": time_period(from, to),
        "dataset": {
            "granularity": "Daily",
            "aggregation": {
                "Cost": {"name": "Cost", "function": "Sum"},
                "CostUSD": {"name": "CostUSD", "function": "Sum"},
            },
            "grouping": grouping(spec, scope),
        },
    })
}

/// The ungrouped total of the same period: what the lake is reconciled against.
pub fn total_body(spec: &CostQuerySpec, from: NaiveDate, to: NaiveDate) -> Value {
    json!({
        "type": spec.dataset.name(),
        "timeframe": "Custom",
        "timePeriod": time_period(from, to),
        "dataset": {
            "granularity": "None",
            "aggregation": {"Cost": {"name": "Cost", "function": "Sum"}},
        },
    })
}

pub async fn extract(spec: &CostQuerySpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let client = cx.azure().await?;
    let dataset = spec.dataset.name();
    // Every scope and month is one unit; units run side by side at Cost Management's pace.
    let units = scope_months(&spec.scopes, cx.as_of, spec.months);
    // Futures made first, then run a few at a time (see `azure_advisor`: keeps the future `Send`).
    let reads: Vec<_> = units
        .iter()
        .map(|(scope, from, to)| {
            read_month(
                &client,
                scope,
                body(spec, scope, *from, *to),
                total_body(spec, *from, *to),
            )
        })
        .collect();
    let results: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_QUERIES)
        .collect()
        .await;
    let mut out = Extracted::default();
    for ((scope, from, _), result) in units.iter().zip(results) {
        let month = from.format("%Y-%m").to_string();
        match result {
            Ok((pages, total)) => {
                for (p, page) in pages.into_iter().enumerate() {
                    let name = format!("{}/{month}/page-{:04}.json", scope_slug(scope), p + 1);
                    let mut landed = cx.land(&spec.name, Dataset::Costs, &name, page).await?;
                    landed.owner = format!("{}{scope}", spec.name);
                    landed.hint = DatasetHint {
                        dataset: Some(dataset.into()),
                        version: None,
                        label: Some(format!("CostQuery {dataset}")),
                        // The month's own total rides on its first page.
                        source_total: (p == 0).then_some(total),
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

fn query_url(client: &AzureClient, scope: &str) -> String {
    format!(
        "{}{scope}/providers/Microsoft.CostManagement/query?api-version={API_VERSION}",
        client.endpoints().resource_manager
    )
}

/// Every page of one scope's month, and the month's ungrouped total.
async fn read_month(
    client: &AzureClient,
    scope: &str,
    body: Value,
    total: Value,
) -> std::result::Result<(Vec<Vec<u8>>, f64), CallError> {
    let url = query_url(client, scope);
    let replies = client
        .pages(
            Api::CostManagement,
            &url,
            Some(&body),
            "/properties/nextLink",
            "/properties/rows",
        )
        .await?;
    let reply = client.post(Api::CostManagement, &url, &total).await?;
    Ok((
        replies.into_iter().map(|r| r.bytes).collect(),
        cost_total(&reply.json),
    ))
}

/// The `Cost` column summed over an ungrouped query's rows (one row, or none for no cost).
fn cost_total(reply: &Value) -> f64 {
    let columns = reply
        .pointer("/properties/columns")
        .and_then(Value::as_array);
    let Some(i) = columns.and_then(|c| c.iter().position(|c| c["name"] == "Cost")) else {
        return 0.0;
    };
    reply
        .pointer("/properties/rows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|row| row.get(i).and_then(Value::as_f64))
        .sum()
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
        // The run's own request (groupings, granularity), over one day.
        let day = (chrono::Utc::now() - Duration::days(2)).date_naive();
        probe_scopes(self.scopes.clone(), COST_READER, |scope| {
            let scope = format!("/{}", scope.trim_matches('/'));
            let body = body(self, &scope, day, day);
            probe_costs(cx.client, scope, body)
        })
        .await
    }
}

/// The role a cost read needs.
pub const COST_READER: &str = "Cost Management Reader (or a billing reader role at billing scopes)";

/// One cost query on `scope` with `body` (the source's own request shape, over one day): can this
/// identity read its costs as the run will?
pub async fn probe_costs(
    client: &AzureClient,
    scope: String,
    body: Value,
) -> std::result::Result<String, CallError> {
    let url = query_url(client, &scope);
    client.post(Api::CostManagement, &url, &body).await?;
    Ok("costs readable".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_stays_within_the_documented_limits() {
        let spec: CostQuerySpec =
            toml::from_str("scopes = [\"/subscriptions/s\"]\ntag_key = \"env\"").unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for scope in [
            "/subscriptions/s",
            "/subscriptions/s/resourceGroups/rg",
            "/providers/Microsoft.Billing/billingAccounts/1",
        ] {
            for (from, to) in months(d("2026-03-31"), 3) {
                assert!((to - from).num_days() < MAX_DAILY_DAYS);
                let b = body(&spec, scope, from, to);
                let groups = b["dataset"]["grouping"].as_array().unwrap();
                assert!(groups.len() <= MAX_GROUPINGS);
                let by_resource = groups.iter().any(|g| g["name"] == "ResourceId");
                assert_eq!(by_resource, scope.starts_with("/subscriptions/"), "{scope}");
                assert!(groups.iter().any(|g| g["type"] == "TagKey"));
            }
        }
    }

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
