//! The contract between extract and transform: what a source landed (`landing/<source>/<dataset>/
//! <run_id>/…`), what each landed file is the complete picture of, and the record of one run's
//! landing (`landing/_runs/<run_id>.json`) that lets a run be transformed again later.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Lake;
use crate::{Error, Result};

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
    /// Scopes that could not be read (each naming the scope and the status); their rows in the
    /// lake are left as they were.
    pub failed_scopes: Vec<String>,
    /// Sources that failed outright (`source `kind`: error`): nothing of this run is transformed.
    #[serde(default)]
    pub failed_sources: Vec<String>,
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

/// What an export's manifest says about its files (both optional: plain folders have no manifest).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetHint {
    /// `FocusCost`, `ActualCost`, `AmortizedCost`, `PriceSheet`, `ReservationDetails`, …
    pub dataset: Option<String>,
    pub version: Option<String>,
    /// What `x_SourceDataset` says, when the source knows better than the header
    /// (`CostQuery ActualCost`, `RetailPrices`).
    pub label: Option<String>,
    /// The source's own cost total for the rows of this file's group (the Query API's ungrouped
    /// total of a scope-month, carried on its first page): what the lake is reconciled against.
    #[serde(default)]
    pub source_total: Option<f64>,
}

/// Dataset types the transform reads (cost datasets and price sheets).
pub const INGESTED_DATASETS: &[&str] = &[
    "FocusCost",
    "ActualCost",
    "AmortizedCost",
    "Usage",
    "PriceSheet",
    "ReservationDetails",
    "ReservationRecommendations",
    "ReservationTransactions",
];
