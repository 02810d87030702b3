//! Extract: each source fetches bytes and lands them unchanged under
//! `landing/<source>/<dataset>/<run_id>/`. Nothing is parsed here; the transform reads what landed.
//!
//! Adding a source means one module and one variant in [`SourceSpec`] (the registry: serde picks the
//! variant from `kind`, and an unknown kind is reported with the closest valid one).

pub mod azure_exports;
pub mod demo;
pub mod focus_files;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::Result;
use crate::lake::Lake;
pub use crate::transform::dialect::DatasetHint;

/// `[[sources]]` in a pipeline file, chosen by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// The built-in synthetic tenant.
    Demo(demo::DemoSpec),
    /// FOCUS cost files from any provider (CSV or Parquet), from a local folder.
    FocusFiles(focus_files::FocusFilesSpec),
    /// Cost Management exports (manifest-aware) in a storage container or local folder.
    AzureExports(azure_exports::AzureExportsSpec),
}

impl SourceSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Demo(_) => "demo",
            SourceSpec::FocusFiles(_) => "focus_files",
            SourceSpec::AzureExports(_) => "azure_exports",
        }
    }
}

/// What a landed file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// FOCUS cost rows (CSV or Parquet).
    Costs,
    /// A Resource Graph response.
    Resources,
    /// A Monitor `metrics:getBatch` response.
    Metrics,
}

/// One file written into landing.
#[derive(Debug, Clone)]
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
}

/// What every source gets to work with.
pub struct ExtractContext<'a> {
    pub lake: &'a Lake,
    pub run_id: &'a str,
    pub as_of: NaiveDate,
}

impl ExtractContext<'_> {
    /// Land `bytes` as `name` for `source` and `dataset` in this run, and describe what landed.
    pub async fn land(
        &self,
        source: &str,
        dataset: Dataset,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Landed> {
        let folder = match dataset {
            Dataset::Costs => "costs",
            Dataset::Resources => "resources",
            Dataset::Metrics => "metrics",
        };
        let path = Lake::landing_path(source, folder, self.run_id, name);
        self.lake.put(&path, bytes).await?;
        Ok(Landed {
            dataset,
            path,
            key: format!("{source}/{folder}/{name}"),
            owner: source.to_string(),
            hint: DatasetHint::default(),
        })
    }
}

/// Run one source: land its files and say what landed.
pub async fn extract(spec: &SourceSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    match spec {
        SourceSpec::Demo(s) => demo_extract(s, cx).await,
        SourceSpec::FocusFiles(s) => focus_files::extract(s, cx).await,
        SourceSpec::AzureExports(s) => azure_exports::extract(s, cx).await,
    }
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
