//! The `azure_monitor` source: hourly platform metrics for the resources in the inventory, through
//! the metrics data plane's batch API (`POST {region endpoint}/subscriptions/{id}/metrics:getBatch`,
//! at most 50 resources of one type and region per call), falling back to the single-resource API
//! on Resource Manager where the batch API refuses (not offered, or the role is missing there).
//! Loads are incremental: each batch starts `late_hours` before the hour after its resources' last
//! hour with a value (or `lookback_days` before the run date) and ends at the start of the run
//! date. Hours Azure Monitor has not aggregated yet come back without a value and are not stored,
//! so they are read again, as are the trailing hours, where late values arrive.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::estate::{self, Resource};
use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{Covers, Dataset, ExtractContext, Extracted, Landed, scope_failure};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, encode, require_array};

const API_VERSION: &str = "2024-02-01";
/// Resources per `metrics:getBatch` call (the API's limit).
const BATCH_LIMIT: usize = 50;

/// The metrics read per resource type: (metric names, aggregations).
pub const METRICS: &[(&str, &[&str], &str)] = &[
    (
        "microsoft.compute/virtualmachines",
        &[
            "Percentage CPU",
            "Available Memory Bytes",
            "Network In Total",
            "Network Out Total",
            "Disk Read Operations/Sec",
            "Disk Write Operations/Sec",
        ],
        "average,maximum,minimum,total",
    ),
    (
        "microsoft.compute/disks",
        &[
            "Composite Disk Read Operations/sec",
            "Composite Disk Write Operations/sec",
            "Composite Disk Read Bytes/sec",
            "Composite Disk Write Bytes/sec",
        ],
        "average,maximum",
    ),
    (
        "microsoft.storage/storageaccounts",
        &["Transactions", "UsedCapacity"],
        "average,total",
    ),
    (
        "microsoft.web/serverfarms",
        &["CpuPercentage", "MemoryPercentage"],
        "average,maximum",
    ),
    (
        "microsoft.sql/servers/databases",
        &["dtu_consumption_percent", "cpu_percent"],
        "average,maximum",
    ),
];

/// `[[sources]] kind = "azure_monitor"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSpec {
    /// Source name (landing folder). Default `azure_monitor`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Only resources in these subscriptions. Empty: every resource in the inventory.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Days of history on a resource's first load. Default 30.
    #[serde(default = "default_lookback")]
    pub lookback_days: u32,
    /// Use the batch API (true, the default) or only the single-resource API.
    #[serde(default = "yes")]
    pub batch: bool,
    /// Hours before the last loaded hour read again on each load, for values that arrive late.
    /// Default 6.
    #[serde(default = "default_late_hours")]
    pub late_hours: u32,
}

fn default_name() -> String {
    "azure_monitor".into()
}
fn default_lookback() -> u32 {
    30
}
fn yes() -> bool {
    true
}
fn default_late_hours() -> u32 {
    6
}

pub async fn extract(
    spec: &MonitorSpec,
    cx: &ExtractContext<'_>,
    earlier: &[Landed],
) -> Result<Extracted> {
    let client = cx.azure().await?;
    let wanted: Vec<String> = spec
        .subscriptions
        .iter()
        .map(|s| s.to_lowercase())
        .collect();
    let resources: Vec<Resource> = estate::resources(cx.lake, earlier)
        .await?
        .into_iter()
        .filter(|r| wanted.is_empty() || wanted.contains(&r.subscription))
        .filter(|r| METRICS.iter().any(|(t, _, _)| *t == r.resource_type))
        .collect();
    if resources.is_empty() {
        tracing::warn!(
            "no resources with metrics in the inventory; run azure_resource_graph first"
        );
        return Ok(Extracted::default());
    }
    let last = estate::last_metric_hour(cx.lake).await?;
    let end = day_start(cx.as_of);
    let first_load = end - Duration::days(spec.lookback_days.into());

    // One call per subscription, type and region, 50 resources at most.
    let mut groups: BTreeMap<(String, String, String), Vec<&Resource>> = BTreeMap::new();
    for r in &resources {
        let key = (
            r.subscription.clone(),
            r.resource_type.clone(),
            r.region.clone(),
        );
        groups.entry(key).or_default().push(r);
    }
    // Calls run side by side; the client keeps the metrics API's pace.
    let mut calls = Vec::new();
    for ((subscription, resource_type, region), members) in &groups {
        for chunk in members.chunks(BATCH_LIMIT) {
            let start = chunk
                .iter()
                .map(|r| start_for(&last, &r.id, first_load, spec.late_hours))
                .min()
                .unwrap_or(first_load);
            if start < end {
                calls.push(Call {
                    subscription,
                    resource_type,
                    region,
                    chunk,
                    window: Window { start, end },
                });
            }
        }
    }
    // Futures made first, then run a few at a time (see `azure_advisor`: keeps the future `Send`).
    let reads: Vec<_> = calls
        .iter()
        .map(|call| read_call(&client, spec.batch, call))
        .collect();
    let results: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_CALLS)
        .collect()
        .await;
    let mut out = Extracted::default();
    for (n, (call, result)) in calls.iter().zip(results).enumerate() {
        match result {
            Ok(pages) => {
                for (p, (ids, page)) in pages.into_iter().enumerate() {
                    let name = format!("call-{:05}-{:03}.json", n + 1, p + 1);
                    let mut landed = cx.land(&spec.name, Dataset::Metrics, &name, page).await?;
                    landed.covers = Covers::Resources {
                        ids,
                        from_micros: call.window.start.timestamp_micros(),
                    };
                    out.landed.push(landed);
                }
            }
            Err(e) => out
                .failed_scopes
                .push(scope_failure(&spec.name, &call.scope(), &e)),
        }
    }
    Ok(out)
}

/// Calls in flight at once (the client's per-API limit still applies).
const PARALLEL_CALLS: usize = 4;

/// One call's worth of resources: one subscription, type and region, 50 at most.
struct Call<'a> {
    subscription: &'a str,
    resource_type: &'a str,
    region: &'a str,
    chunk: &'a [&'a Resource],
    window: Window,
}

impl Call<'_> {
    fn scope(&self) -> String {
        format!(
            "{} in {}, subscription {} ({} resource(s))",
            self.resource_type,
            self.region,
            self.subscription,
            self.chunk.len()
        )
    }
}

/// Read one call's metrics: the batch API, or one resource at a time where it is refused.
async fn read_call(
    client: &AzureClient,
    batch: bool,
    call: &Call<'_>,
) -> std::result::Result<Vec<(Vec<String>, Vec<u8>)>, CallError> {
    if batch {
        let result = read_batch(
            client,
            call.subscription,
            call.resource_type,
            call.region,
            call.chunk,
            &call.window,
        )
        .await;
        match result {
            Err(e) if falls_back(&e) => {
                tracing::warn!(scope = %call.scope(), error = %e, "batch API refused; reading one resource at a time");
            }
            other => return other,
        }
    }
    read_each(client, call.resource_type, call.chunk, &call.window).await
}

struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Window {
    fn text(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// The hour after `id`'s last loaded hour less `late_hours` (read again for late values), never
/// before the lookback window less those hours; `first_load` for a resource not loaded yet.
fn start_for(
    last: &HashMap<String, i64>,
    id: &str,
    first_load: DateTime<Utc>,
    late_hours: u32,
) -> DateTime<Utc> {
    let again = Duration::hours(i64::from(late_hours));
    last.get(id)
        .and_then(|micros| DateTime::from_timestamp_micros(*micros))
        .map(|t| (t + Duration::hours(1) - again).max(first_load - again))
        .unwrap_or(first_load)
}

/// The batch API is not available (404), not allowed (403) or does not take the request (400):
/// the single-resource API may still answer. Throttling and server errors are not retried there.
fn falls_back(e: &CallError) -> bool {
    matches!(e.status, Some(400 | 403 | 404))
}

fn metric_spec(resource_type: &str) -> (&'static [&'static str], &'static str) {
    METRICS
        .iter()
        .find(|(t, _, _)| *t == resource_type)
        .map(|(_, names, aggs)| (*names, *aggs))
        .expect("filtered to known types")
}

/// One `metrics:getBatch` call for `chunk`: one landed body covering all its resources.
async fn read_batch(
    client: &AzureClient,
    subscription: &str,
    resource_type: &str,
    region: &str,
    chunk: &[&Resource],
    window: &Window,
) -> std::result::Result<Vec<(Vec<String>, Vec<u8>)>, CallError> {
    let (names, aggregations) = metric_spec(resource_type);
    let base = client.endpoints().metrics.replace("{region}", region);
    let url = format!(
        "{base}/subscriptions/{subscription}/metrics:getBatch?metricnamespace={}&metricnames={}\
         &starttime={}&endtime={}&interval=PT1H&aggregation={aggregations}&api-version={API_VERSION}",
        encode(resource_type),
        encode(&names.join(",")),
        Window::text(window.start),
        Window::text(window.end),
    );
    let ids: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
    let reply = client
        .post(Api::Metrics, &url, &json!({ "resourceids": ids }))
        .await?;
    require_array(&reply, "/values")?;
    Ok(vec![(ids, reply.bytes)])
}

/// The single-resource API, one call per resource of `chunk`.
async fn read_each(
    client: &AzureClient,
    resource_type: &str,
    chunk: &[&Resource],
    window: &Window,
) -> std::result::Result<Vec<(Vec<String>, Vec<u8>)>, CallError> {
    let (names, aggregations) = metric_spec(resource_type);
    let mut out = Vec::new();
    for r in chunk {
        let url = format!(
            "{}{}/providers/Microsoft.Insights/metrics?metricnames={}&timespan={}/{}\
             &interval=PT1H&aggregation={aggregations}&api-version={API_VERSION}",
            client.endpoints().resource_manager,
            r.id,
            encode(&names.join(",")),
            Window::text(window.start),
            Window::text(window.end),
        );
        let reply = client.get(Api::ResourceManager, &url).await?;
        out.push((vec![r.id.clone()], reply.bytes));
    }
    Ok(out)
}

#[async_trait::async_trait]
impl Source for MonitorSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx, earlier).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        let scopes = cx.subscription_scopes(&self.subscriptions);
        probe_scopes(scopes, "Monitoring Reader", |scope| async move {
            let url = format!(
                "{}{scope}/providers/Microsoft.Insights/metricDefinitions?api-version=2021-05-01\
                 &region=eastus&metricnamespace=microsoft.compute/virtualmachines",
                cx.client.endpoints().resource_manager
            );
            cx.client.get(Api::ResourceManager, &url).await?;
            Ok("metrics readable".to_string())
        })
        .await
    }
}
