//! Extract: each source fetches bytes and lands them unchanged under
//! `landing/<source>/<dataset>/<run_id>/`. Nothing is parsed here; the transform reads what landed.
//!
//! Adding a source means one module and one variant in [`SourceSpec`] (the registry: serde picks the
//! variant from `kind`, and an unknown kind is reported with the closest valid one).

pub mod demo;
pub mod focus_files;

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::Result;
use crate::lake::Lake;

/// `[[sources]]` in a pipeline file, chosen by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// The built-in synthetic tenant.
    Demo(demo::DemoSpec),
    /// FOCUS cost files from any provider (CSV or Parquet), from a local folder.
    FocusFiles(focus_files::FocusFilesSpec),
}

impl SourceSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Demo(_) => "demo",
            SourceSpec::FocusFiles(_) => "focus_files",
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
    pub path: PathBuf,
    /// Stable name of the input, independent of the run (`demo/costs/2026-01.csv`), used to
    /// attribute rows and quarantine entries to their source.
    pub key: String,
}

/// What every source gets to work with.
pub struct ExtractContext<'a> {
    pub lake: &'a Lake,
    pub run_id: &'a str,
    pub as_of: NaiveDate,
}

/// Run one source: land its files and say what landed.
pub fn extract(spec: &SourceSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    match spec {
        SourceSpec::Demo(s) => demo_extract(s, cx),
        SourceSpec::FocusFiles(s) => focus_files::extract(s, cx),
    }
}

fn demo_extract(spec: &demo::DemoSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    let tenant = demo::DemoTenant::new(spec, cx.as_of);
    let mut landed = Vec::new();
    let dir = cx.lake.landing_dir("demo", "costs", cx.run_id)?;
    for (month, bytes) in tenant.cost_exports() {
        let name = format!("focuscost_{month}.csv");
        let path = cx.lake.put_landing(&dir, &name, &bytes)?;
        landed.push(Landed {
            dataset: Dataset::Costs,
            path,
            key: format!("demo/costs/{name}"),
        });
    }
    let dir = cx.lake.landing_dir("demo", "resources", cx.run_id)?;
    let path = cx
        .lake
        .put_landing(&dir, "resource_graph.json", &tenant.resource_graph())?;
    landed.push(Landed {
        dataset: Dataset::Resources,
        path,
        key: "demo/resources/resource_graph.json".into(),
    });
    let dir = cx.lake.landing_dir("demo", "metrics", cx.run_id)?;
    let path = cx
        .lake
        .put_landing(&dir, "metrics_batch.json", &tenant.metrics_batch())?;
    landed.push(Landed {
        dataset: Dataset::Metrics,
        path,
        key: "demo/metrics/metrics_batch.json".into(),
    });
    Ok(landed)
}
