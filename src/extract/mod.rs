//! Extract: each source fetches bytes and lands them unchanged under
//! `landing/<source>/<dataset>/<run_id>/`. Nothing is parsed here; the transform reads what landed.
//!
//! Adding a source means one module and one variant in [`SourceSpec`] (the registry: serde picks the
//! variant from `kind`, and an unknown kind is reported with the closest valid one).
//!
//! Azure sources work scope by scope (a subscription, a billing scope and month, a batch of
//! resources): a scope lands only once every page of it has been read, and a scope that fails is
//! reported by name and status while the others go on, so the lake never holds part of a scope.

pub mod azure_advisor;
pub mod azure_cost_query;
pub mod azure_exports;
pub mod azure_monitor;
pub mod azure_resource_graph;
pub mod azure_retail_prices;
pub mod demo;
mod estate;
pub mod export_setup;
pub mod focus_files;

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::azure::{AzureClient, AzureConfig};
use crate::lake::Lake;
pub use crate::transform::dialect::DatasetHint;
use crate::{Error, Result};

/// `[[sources]]` in a pipeline file, chosen by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Read once per run from a pipeline file: boxing the larger settings would only complicate matching.
#[allow(clippy::large_enum_variant)]
pub enum SourceSpec {
    /// The built-in synthetic tenant.
    Demo(demo::DemoSpec),
    /// FOCUS cost files from any provider (CSV or Parquet), from a local folder.
    FocusFiles(focus_files::FocusFilesSpec),
    /// Cost Management exports (manifest-aware) in a storage container or local folder.
    AzureExports(azure_exports::AzureExportsSpec),
    /// The Cost Management Query API, for scopes without exports.
    AzureCostQuery(azure_cost_query::CostQuerySpec),
    /// A daily inventory from Resource Graph.
    AzureResourceGraph(azure_resource_graph::ResourceGraphSpec),
    /// Hourly platform metrics from Azure Monitor.
    AzureMonitor(azure_monitor::MonitorSpec),
    /// Retail prices of the SKUs in the inventory.
    AzureRetailPrices(azure_retail_prices::RetailPricesSpec),
    /// Azure Advisor's cost recommendations.
    AzureAdvisor(azure_advisor::AdvisorSpec),
}

impl SourceSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Demo(_) => "demo",
            SourceSpec::FocusFiles(_) => "focus_files",
            SourceSpec::AzureExports(_) => "azure_exports",
            SourceSpec::AzureCostQuery(_) => "azure_cost_query",
            SourceSpec::AzureResourceGraph(_) => "azure_resource_graph",
            SourceSpec::AzureMonitor(_) => "azure_monitor",
            SourceSpec::AzureRetailPrices(_) => "azure_retail_prices",
            SourceSpec::AzureAdvisor(_) => "azure_advisor",
        }
    }

    /// What is wrong with this source's settings beyond their types (checked by `validate`).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            SourceSpec::AzureCostQuery(s) => {
                if s.scopes.is_empty() {
                    out.push(format!("source `{}`: `scopes` is empty", s.name));
                }
                out.extend(s.scopes.iter().filter(|x| !x.starts_with('/')).map(|x| {
                    format!(
                        "source `{}`: scope `{x}` should start with /subscriptions/ or /providers/",
                        s.name
                    )
                }));
            }
            SourceSpec::AzureExports(s) if s.manage.is_some() && s.scope.is_none() => {
                out.push(format!(
                    "source `{}`: `manage` needs `scope`, the scope the exports belong to",
                    s.name
                ));
            }
            _ => {}
        }
        out
    }

    /// The Azure scopes this source reads (subscriptions, billing scopes), for `check`.
    pub fn azure_scopes(&self) -> Vec<String> {
        let subs = |s: &[String]| s.iter().map(|s| format!("/subscriptions/{s}")).collect();
        match self {
            SourceSpec::AzureCostQuery(s) => s.scopes.clone(),
            SourceSpec::AzureResourceGraph(s) => subs(&s.subscriptions),
            SourceSpec::AzureMonitor(s) => subs(&s.subscriptions),
            SourceSpec::AzureAdvisor(s) => subs(&s.subscriptions),
            SourceSpec::AzureExports(s) => s.scope.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

/// What a landed file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dataset {
    /// FOCUS cost rows (CSV or Parquet).
    Costs,
    /// A Resource Graph response.
    Resources,
    /// A Monitor `metrics:getBatch` (or single-resource metrics) response.
    Metrics,
    /// An Advisor recommendations page.
    Advisor,
}

impl Dataset {
    /// Its folder under `landing/<source>/`.
    pub fn folder(self) -> &'static str {
        match self {
            Dataset::Costs => "costs",
            Dataset::Resources => "resources",
            Dataset::Metrics => "metrics",
            Dataset::Advisor => "advisor",
        }
    }
}

/// What a landed file is the complete, current picture of: the transform replaces exactly that in
/// its table, so rows of scopes that were not read this run stay as they were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Covers {
    /// The table's usual unit: a snapshot day, a range of metric days, the owner's billing periods.
    #[default]
    Partition,
    /// These subscriptions (lowercase ids), for inventory and Advisor.
    Subscriptions(Vec<String>),
    /// These resources (lowercase ids) from this hour on (microseconds since the epoch), for metrics.
    Resources { ids: Vec<String>, from_micros: i64 },
}

/// One file written into landing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Landed {
    pub dataset: Dataset,
    /// Lake-relative path of the landed object (`landing/<source>/<dataset>/<run_id>/<name>`).
    pub path: String,
    /// Stable name of the input, independent of the run (`demo/costs/2026-01.csv`), used to
    /// attribute rows and quarantine entries to their source.
    pub key: String,
    /// The source (and, for exports, the export) that owns the rows: re-ingesting a billing period
    /// replaces this owner's rows for that period and no one else's.
    pub owner: String,
    /// What the source knows about the file's dataset (from an export manifest), if anything.
    pub hint: DatasetHint,
    pub covers: Covers,
}

/// What one run landed, kept beside the landed files (`landing/_runs/<run_id>.json`) so the run can
/// be transformed again later from landing alone (`cloudoptima run --replay RUN_ID`), without
/// calling any source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LandingRecord {
    pub run_id: String,
    pub pipeline: String,
    pub as_of: NaiveDate,
    pub landed: Vec<Landed>,
    pub failed_scopes: Vec<String>,
}

impl LandingRecord {
    fn path(run_id: &str) -> String {
        format!("landing/_runs/{run_id}.json")
    }

    pub async fn write(&self, lake: &Lake) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("serializes");
        lake.put(&Self::path(&self.run_id), bytes).await
    }

    pub async fn read(lake: &Lake, run_id: &str) -> Result<Self> {
        let path = Self::path(run_id);
        let bytes = lake.get(&path).await.map_err(|e| Error::Config {
            file: "--replay".into(),
            message: format!(
                "no landing record for run `{run_id}` ({e}); `cloudoptima status` lists runs"
            ),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Data {
            file: path,
            message: e.to_string(),
        })
    }
}

/// What a source did: the files it landed and the scopes it could not read (each naming the scope
/// and the status), whose data in the lake is left as it was.
#[derive(Debug, Default)]
pub struct Extracted {
    pub landed: Vec<Landed>,
    pub failed_scopes: Vec<String>,
}

impl From<Vec<Landed>> for Extracted {
    fn from(landed: Vec<Landed>) -> Self {
        Extracted {
            landed,
            failed_scopes: Vec::new(),
        }
    }
}

/// What every source gets to work with.
pub struct ExtractContext<'a> {
    pub lake: &'a Lake,
    pub run_id: &'a str,
    pub as_of: NaiveDate,
    /// `[azure]` from the config; the client is built on first use, so pipelines without Azure
    /// sources need no credentials.
    pub azure_config: &'a AzureConfig,
    pub azure: &'a OnceCell<Arc<AzureClient>>,
}

impl ExtractContext<'_> {
    /// The shared Azure client.
    pub async fn azure(&self) -> Result<Arc<AzureClient>> {
        self.azure
            .get_or_try_init(|| async {
                AzureClient::new(self.azure_config)
                    .map(Arc::new)
                    .map_err(|message| Error::Config {
                        file: "[azure]".into(),
                        message,
                    })
            })
            .await
            .cloned()
    }

    /// Land `bytes` as `name` for `source` and `dataset` in this run, and describe what landed.
    pub async fn land(
        &self,
        source: &str,
        dataset: Dataset,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Landed> {
        let folder = dataset.folder();
        let path = Lake::landing_path(source, folder, self.run_id, name);
        self.lake.put(&path, bytes).await?;
        Ok(Landed {
            dataset,
            path,
            key: format!("{source}/{folder}/{name}"),
            owner: source.to_string(),
            hint: DatasetHint::default(),
            covers: Covers::Partition,
        })
    }
}

/// Run one source: land its files and say what landed. `earlier` is what the sources before it
/// landed in this run (the metrics and prices sources read this run's inventory from it).
pub async fn extract(
    spec: &SourceSpec,
    cx: &ExtractContext<'_>,
    earlier: &[Landed],
) -> Result<Extracted> {
    match spec {
        SourceSpec::Demo(s) => demo_extract(s, cx).await.map(Into::into),
        SourceSpec::FocusFiles(s) => focus_files::extract(s, cx).await.map(Into::into),
        SourceSpec::AzureExports(s) => azure_exports::extract(s, cx).await,
        SourceSpec::AzureCostQuery(s) => azure_cost_query::extract(s, cx).await,
        SourceSpec::AzureResourceGraph(s) => azure_resource_graph::extract(s, cx).await,
        SourceSpec::AzureMonitor(s) => azure_monitor::extract(s, cx, earlier).await,
        SourceSpec::AzureRetailPrices(s) => azure_retail_prices::extract(s, cx, earlier).await,
        SourceSpec::AzureAdvisor(s) => azure_advisor::extract(s, cx).await,
    }
}

/// The subscriptions a source reads: the configured ones, or every subscription the identity can
/// see (`GET /subscriptions`, all pages). Lowercase ids.
pub async fn subscriptions_in_scope(
    configured: &[String],
    client: &AzureClient,
) -> std::result::Result<Vec<String>, crate::azure::CallError> {
    if !configured.is_empty() {
        return Ok(configured.iter().map(|s| s.to_lowercase()).collect());
    }
    let url = format!(
        "{}/subscriptions?api-version=2022-12-01",
        client.endpoints().resource_manager
    );
    let replies = client
        .pages(
            crate::azure::Api::ResourceManager,
            &url,
            None,
            "/nextLink",
            "/value",
        )
        .await?;
    Ok(replies
        .iter()
        .flat_map(|r| r.json["value"].as_array().into_iter().flatten())
        .filter_map(|s| s["subscriptionId"].as_str())
        .map(str::to_lowercase)
        .collect())
}

/// The subscriptions `source` reads, or what to return when they cannot even be listed (that one
/// failed scope, nothing landed).
pub async fn subscriptions_or_failure(
    source: &str,
    configured: &[String],
    client: &AzureClient,
) -> std::result::Result<Vec<String>, Extracted> {
    subscriptions_in_scope(configured, client)
        .await
        .map_err(|e| Extracted {
            landed: Vec::new(),
            failed_scopes: vec![scope_failure(source, "listing subscriptions", &e)],
        })
}

/// `name` for a failed scope: `subscription 0000… : HTTP 429 …`.
pub fn scope_failure(source: &str, scope: &str, error: &crate::azure::CallError) -> String {
    format!("{source}: {scope}: {error}")
}

async fn demo_extract(spec: &demo::DemoSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    let tenant = demo::DemoTenant::new(spec, cx.as_of);
    let mut landed = Vec::new();
    for (month, bytes) in tenant.cost_exports() {
        landed.push(
            cx.land(
                "demo",
                Dataset::Costs,
                &format!("focuscost_{month}.csv"),
                bytes,
            )
            .await?,
        );
    }
    landed.push(
        cx.land(
            "demo",
            Dataset::Resources,
            "resource_graph.json",
            tenant.resource_graph(),
        )
        .await?,
    );
    landed.push(
        cx.land(
            "demo",
            Dataset::Metrics,
            "metrics_batch.json",
            tenant.metrics_batch(),
        )
        .await?,
    );
    Ok(landed)
}
