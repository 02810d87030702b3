//! The `azure_cost_details` source: row-level costs from the Cost Management Cost Details API
//! (`POST {scope}/providers/Microsoft.CostManagement/generateCostDetailsReport`), for scopes without
//! exports that need every charge — meters, charge types, pricing models — which the Query API's two
//! groupings cannot carry.
//!
//! The API is asynchronous: the request answers 202 with a `Location` to poll (honouring
//! `Retry-After`), until the report's manifest lists its CSV blobs. Those have the columns of an
//! actual or amortized cost export, so the transform reads them as it reads exports, and reconciles
//! the lake against each file's own cost column. One report covers at most one month; each scope is
//! asked one calendar month at a time, and a month lands only when every blob of it is read.
//! Blob links carry their own signature (SAS): no token is sent to them, and they are never logged.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::azure_cost_query::{COST_READER, CostDataset, scope_months};
use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{Dataset, DatasetHint, ExtractContext, Extracted, Landed, scope_failure};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, retry_after, scope_slug};
use crate::lake::Lake;

const API_VERSION: &str = "2025-03-01";
/// Reports generated at once (each polls at Cost Management's pace).
const PARALLEL_REPORTS: usize = 2;

/// `[[sources]] kind = "azure_cost_details"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostDetailsSpec {
    /// Source name (landing folder; with the scope, the owner of its rows). Default
    /// `azure_cost_details`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Scopes: `/subscriptions/{id}`, or a billing account, profile or invoice section
    /// (`/providers/Microsoft.Billing/billingAccounts/{id}…`). Not resource groups: the API has no
    /// reports for them (use `azure_cost_query` there).
    pub scopes: Vec<String>,
    /// `ActualCost` (default) or `AmortizedCost`.
    #[serde(default)]
    pub dataset: CostDataset,
    /// Calendar months to read, ending with the run date's month (up to the day before it).
    /// Default 2.
    #[serde(default = "default_months")]
    pub months: u32,
    /// Longest wait for one report to be ready, in minutes. Default 30.
    #[serde(default = "default_wait")]
    pub max_wait_minutes: u64,
}

fn default_name() -> String {
    "azure_cost_details".into()
}
fn default_months() -> u32 {
    2
}
fn default_wait() -> u64 {
    30
}

fn report_url(client: &AzureClient, scope: &str) -> String {
    format!(
        "{}{scope}/providers/Microsoft.CostManagement/generateCostDetailsReport?api-version={API_VERSION}",
        client.endpoints().resource_manager
    )
}

/// The request for one period (at most one month).
pub fn body(spec: &CostDetailsSpec, from: NaiveDate, to: NaiveDate) -> Value {
    json!({
        "metric": spec.dataset.name(),
        "timePeriod": {"start": from.to_string(), "end": to.to_string()},
    })
}

pub async fn extract(spec: &CostDetailsSpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let client = cx.azure().await?;
    let dataset = spec.dataset.name();
    let units = scope_months(&spec.scopes, cx.as_of, spec.months);
    let wait = Duration::from_secs(spec.max_wait_minutes * 60);
    // Futures made first, then run a few at a time (see `azure_advisor`: keeps the future `Send`).
    let reads: Vec<_> = units
        .iter()
        .map(|(scope, from, to)| read_report(&client, scope, body(spec, *from, *to), wait))
        .collect();
    let results: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_REPORTS)
        .collect()
        .await;
    let mut out = Extracted::default();
    // Blobs are downloaded into a folder of this run's own, then copied into landing.
    let temp = std::env::temp_dir().join(format!("cloudoptima-{}-{}", cx.run_id, spec.name));
    let folder = Lake::open(&temp.to_string_lossy())?;
    for ((scope, from, _), result) in units.iter().zip(results) {
        let month = from.format("%Y-%m").to_string();
        let what = format!("{scope} ({month})");
        let links = match result {
            Ok(links) => links,
            Err(e) => {
                out.failed_scopes.push(scope_failure(&spec.name, &what, &e));
                continue;
            }
        };
        // Every blob first, into a temp folder: the month lands only when all of it was read.
        let mut parts = Vec::new();
        let mut failure = None;
        for (n, link) in links.iter().enumerate() {
            let part = format!("{}-{month}-part-{:04}.csv", scope_slug(scope), n + 1);
            match client.download(link, &temp.join(&part)).await {
                Ok(_) => parts.push(part),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            out.failed_scopes.push(scope_failure(&spec.name, &what, &e));
            continue;
        }
        for (n, part) in parts.iter().enumerate() {
            let name = format!("{}/{month}/part-{:04}.csv", scope_slug(scope), n + 1);
            let (path, fingerprint) = cx
                .land_copy(&folder, part, &spec.name, Dataset::Costs, &name)
                .await?;
            out.landed.push(Landed {
                fingerprint: Some(fingerprint),
                dataset: Dataset::Costs,
                path,
                key: format!("{}/{}/{name}", spec.name, Dataset::Costs.folder()),
                owner: format!("{}{scope}", spec.name),
                hint: DatasetHint {
                    dataset: Some(dataset.into()),
                    version: None,
                    label: Some(format!("CostDetails {dataset}")),
                    source_total: None,
                },
                covers: Default::default(),
            });
        }
    }
    let _ = std::fs::remove_dir_all(&temp);
    Ok(out)
}

/// Ask for one report and wait for it: the blob links of its manifest.
async fn read_report(
    client: &AzureClient,
    scope: &str,
    body: Value,
    max_wait: Duration,
) -> std::result::Result<Vec<String>, CallError> {
    let started = Instant::now();
    let mut reply = client
        .post(Api::CostManagement, &report_url(client, scope), &body)
        .await?;
    loop {
        if reply.json.get("manifest").is_some() {
            return blob_links(&reply.json);
        }
        let Some(location) = reply
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
        else {
            return Err(CallError::new(
                "the report request was accepted without a Location to poll".to_string(),
            ));
        };
        if started.elapsed() > max_wait {
            return Err(CallError::new(format!(
                "the report was not ready after {} minute(s) (max_wait_minutes)",
                max_wait.as_secs() / 60
            )));
        }
        let pause = retry_after(&reply.headers).unwrap_or(Duration::from_secs(5));
        tokio::time::sleep(pause.min(Duration::from_secs(60))).await;
        reply = client.get(Api::CostManagement, &location).await?;
    }
}

/// The blob links of a finished report's manifest; a failed report is an error with its status.
fn blob_links(result: &Value) -> std::result::Result<Vec<String>, CallError> {
    let status = result["status"].as_str().unwrap_or("Completed");
    if !status.eq_ignore_ascii_case("Completed") {
        return Err(CallError::new(format!("the report ended `{status}`")));
    }
    let format = result
        .pointer("/manifest/dataFormat")
        .and_then(Value::as_str)
        .unwrap_or("Csv");
    if !format.eq_ignore_ascii_case("Csv") {
        return Err(CallError::new(format!(
            "the report is `{format}`; cloudoptima reads CSV reports"
        )));
    }
    Ok(result
        .pointer("/manifest/blobs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b["blobLink"].as_str().map(str::to_string))
        .collect())
}

#[async_trait::async_trait]
impl Source for CostDetailsSpec {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.scopes.is_empty() {
            out.push(format!("source `{}`: `scopes` is empty", self.name));
        }
        for scope in &self.scopes {
            let lower = scope.to_lowercase();
            if !lower.starts_with("/subscriptions/") && !lower.starts_with("/providers/") {
                out.push(format!(
                    "source `{}`: scope `{scope}` should start with /subscriptions/ or /providers/",
                    self.name
                ));
            } else if lower.contains("/resourcegroups/") {
                out.push(format!(
                    "source `{}`: scope `{scope}` is a resource group; the Cost Details API has no \
                     reports for resource groups (use azure_cost_query there)",
                    self.name
                ));
            }
        }
        out
    }

    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        // The run's own request over one day; accepted (202) means the report can be made.
        let day = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
        probe_scopes(self.scopes.clone(), COST_READER, |scope| {
            let scope = format!("/{}", scope.trim_matches('/'));
            let body = body(self, day, day);
            async move {
                cx.client
                    .post(Api::CostManagement, &report_url(cx.client, &scope), &body)
                    .await?;
                Ok("cost details reports can be made".to_string())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_manifest_gives_its_links_and_a_failed_one_an_error() {
        let done = json!({"status": "Completed", "manifest": {"dataFormat": "Csv",
            "blobs": [{"blobLink": "https://x/a.csv?sig=s"}, {"blobLink": "https://x/b.csv?sig=s"}]}});
        assert_eq!(blob_links(&done).unwrap().len(), 2);
        let failed = json!({"status": "Failed", "manifest": {}});
        assert!(
            blob_links(&failed)
                .unwrap_err()
                .to_string()
                .contains("Failed")
        );
    }
}
