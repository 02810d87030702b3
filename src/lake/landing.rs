//! The contract between extract and transform: what a source landed (`landing/<source>/<dataset>/
//! <run_id>/…`), what each landed file is the complete picture of, and the record of one run's
//! landing (`landing/_runs/<run_id>.json`) that lets a run be transformed again later.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
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
    /// What identifies the file's content (a SHA-256 of the bytes, or of a remote object's
    /// identity): a later run landing the same key with the same fingerprint reuses this file
    /// instead of landing it again.
    #[serde(default)]
    pub fingerprint: Option<String>,
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

/// Where landing records live.
const RECORDS: &str = "landing/_runs/";

/// The landing records in the lake, with when each was written.
async fn records(lake: &Lake) -> Result<Vec<(LandingRecord, DateTime<Utc>, String)>> {
    let mut out = Vec::new();
    for object in lake.list_under(Some(RECORDS)).await? {
        if !object.path.ends_with(".json") {
            continue;
        }
        let bytes = lake.get(&object.path).await?;
        match serde_json::from_slice::<LandingRecord>(&bytes) {
            Ok(record) => out.push((record, object.modified, object.path)),
            Err(e) => {
                tracing::warn!(path = %object.path, error = %e, "unreadable landing record kept as it is")
            }
        }
    }
    Ok(out)
}

/// What earlier runs landed and is still in landing (found by [`sweep`]): a file landed again with
/// the same key and fingerprint is not copied a second time; the run's record points at the
/// earlier copy.
#[derive(Debug, Default)]
pub struct LandedBefore {
    by_content: HashMap<(String, String), String>,
}

impl LandedBefore {
    /// The landed file with this key and content, if an earlier run kept one.
    pub fn reuse(&self, key: &str, fingerprint: &str) -> Option<&str> {
        self.by_content
            .get(&(key.to_string(), fingerprint.to_string()))
            .map(String::as_str)
    }
}

/// What a sweep of landing deleted.
#[derive(Debug, Default, PartialEq)]
pub struct Swept {
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
}

/// True when `run_id` is one of `pipeline`'s (`<pipeline>-<YYYYMMDDTHHMMSSZ>-<hex4>`).
pub fn run_of(pipeline: &str, run_id: &str) -> bool {
    run_id
        .strip_prefix(pipeline)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| {
            let b = rest.as_bytes();
            b.len() == 21
                && b[8] == b'T'
                && b[15] == b'Z'
                && b[16] == b'-'
                && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
                && b[17..].iter().all(u8::is_ascii_hexdigit)
        })
}

/// Delete what landing no longer needs: records older than `days` beyond each pipeline's last
/// `runs`, files no kept record points at once they are older than `days`, and at once the files
/// of `dead_runs_of`'s runs that never wrote a record (a run killed mid-way; the caller holds
/// that pipeline's lease, so none of its runs is in progress). Returns what was deleted, and what
/// the kept records point at that is still there, for the run to reuse.
pub async fn sweep(
    lake: &Lake,
    days: u64,
    runs: usize,
    dead_runs_of: Option<&str>,
) -> Result<(Swept, LandedBefore)> {
    let cutoff = Utc::now() - chrono::Duration::days(days as i64);
    let mut records = records(lake).await?;
    records.sort_by_key(|r| std::cmp::Reverse(r.1));
    let mut per_pipeline: HashMap<String, usize> = HashMap::new();
    let (mut kept, mut swept) = (HashSet::new(), Swept::default());
    let mut recorded = HashSet::new();
    for (record, modified, path) in &records {
        recorded.insert(record.run_id.clone());
        let rank = per_pipeline.entry(record.pipeline.clone()).or_default();
        *rank += 1;
        if *modified >= cutoff || *rank <= runs {
            kept.extend(record.landed.iter().map(|l| l.path.clone()));
        } else {
            lake.delete(path).await?;
            swept.records += 1;
        }
    }
    let mut present = HashSet::new();
    for object in lake.list_under(Some("landing")).await? {
        if object.path.starts_with(RECORDS) || kept.contains(&object.path) {
            present.insert(object.path);
            continue;
        }
        // landing/<source>/<dataset>/<run_id>/<name…>
        let run_id = object.path.split('/').nth(3).unwrap_or_default();
        let dead = dead_runs_of.is_some_and(|p| run_of(p, run_id) && !recorded.contains(run_id));
        if object.modified < cutoff || dead {
            lake.delete(&object.path).await?;
            swept.files += 1;
            swept.bytes += object.size;
        }
    }
    if swept.files > 0 {
        lake.remove_empty_folders("landing");
    }
    // Oldest record first, so of two copies of one key and content the newer one is reused.
    let mut by_content = HashMap::new();
    for (record, _, _) in records.into_iter().rev() {
        for landed in record.landed {
            if let Some(fingerprint) = landed.fingerprint
                && present.contains(&landed.path)
            {
                by_content.insert((landed.key, fingerprint), landed.path);
            }
        }
    }
    Ok((swept, LandedBefore { by_content }))
}
