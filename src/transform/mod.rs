//! Transform: landed files → lake tables (`costs`, `resources`, `metrics`, `quarantine`).
//!
//! polars reads and types each file; the typed frames are written as Parquet into a staging folder
//! inside the lake, and the lake commits them to Delta in one transaction per table, replacing the
//! partitions the input covers. After the commit, `BilledCost` per billing period and currency is
//! reconciled against the source files.

pub mod costs;
pub mod dialect;
pub mod inventory;
pub mod lookups;
pub mod parse;
mod quality;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::prelude::ParquetReadOptions;
use polars::prelude::{DataFrame, ParquetWriter};

use crate::extract::{Dataset, Landed};
use crate::lake::{Lake, WriteMode, schema};
use crate::{Error, Result};

/// A row that could not be read, kept with the reason.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub source_file: String,
    /// 1-based line in the file (header is line 1).
    pub line: i64,
    pub reason: String,
    pub raw: String,
}

/// What the transform did, for the run manifest and the console.
#[derive(Debug, Default, Clone)]
pub struct TransformReport {
    /// Rows committed per table.
    pub rows: BTreeMap<&'static str, usize>,
    pub quarantined: Vec<Quarantined>,
    /// Differences between the source files' billed totals and the lake's; empty when reconciled.
    pub unreconciled: Vec<String>,
}

/// Staging folder for one run; removed when dropped.
struct Staging(PathBuf);

impl Staging {
    fn new(lake: &Lake, run_id: &str) -> Result<Self> {
        let dir = lake.scratch_dir(run_id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Staging(dir))
    }

    /// Write `frame` as `<table>/<n>.parquet` and return the table's staging folder.
    fn put(&self, table: &str, n: usize, frame: &mut DataFrame) -> Result<PathBuf> {
        let dir = self.0.join(table);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{n:05}.parquet"));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        ParquetWriter::new(file).finish(frame)?;
        Ok(dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        // The shared parent goes too once no run is using it (remove_dir fails while it has entries).
        if let Some(parent) = self.0.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

async fn commit_staged(
    lake: &Lake,
    def: &schema::TableDef,
    dir: &Path,
    mode: WriteMode,
) -> Result<()> {
    let ctx = crate::lake::session();
    let location = format!("{}/", dir.display());
    let df = ctx
        .read_parquet(
            location,
            ParquetReadOptions::default().parquet_pruning(false),
        )
        .await?;
    lake.write(def, df, mode).await
}

fn sql_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Transform everything that landed in this run.
pub async fn run(
    lake: &Lake,
    landed: &[Landed],
    run_id: &str,
    as_of: NaiveDate,
) -> Result<TransformReport> {
    let staging = Staging::new(lake, run_id)?;
    let mut report = TransformReport::default();

    let cost_rows = ingest_costs(lake, landed, run_id, &staging, &mut report).await?;
    report.rows.insert("costs", cost_rows);

    // Inventory: one snapshot per run date.
    let mut resource_rows = 0;
    let mut resource_dir = None;
    let inventories = landed.iter().filter(|l| l.dataset == Dataset::Resources);
    for (n, file) in inventories.enumerate() {
        let bytes = lake.get(&file.path).await?;
        let mut frame = inventory::resources(&bytes, &file.key, as_of)?;
        resource_rows += frame.height();
        resource_dir = Some(staging.put("resources", n, &mut frame)?);
    }
    if let Some(dir) = resource_dir {
        let predicate = format!("snapshot_date = '{}'", as_of.format("%Y-%m-%d"));
        commit_staged(
            lake,
            &schema::resources(),
            &dir,
            WriteMode::Replace(predicate),
        )
        .await?;
    }
    report.rows.insert("resources", resource_rows);

    // Metrics.
    let mut metric_rows = 0;
    let mut days = BTreeSet::new();
    let mut metric_dir = None;
    for (n, file) in landed
        .iter()
        .filter(|l| l.dataset == Dataset::Metrics)
        .enumerate()
    {
        let bytes = lake.get(&file.path).await?;
        let mut frame = inventory::metrics(&bytes, &file.key)?;
        metric_rows += frame.height();
        if let Ok(col) = frame.column("date").and_then(|c| c.i32().cloned()) {
            days.extend(col.iter().flatten());
        }
        metric_dir = Some(staging.put("metrics", n, &mut frame)?);
    }
    if let (Some(dir), Some(first), Some(last)) = (metric_dir, days.first(), days.last()) {
        let day = |d: i32| {
            (NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(d.into()))
                .format("%Y-%m-%d")
                .to_string()
        };
        let predicate = format!(
            "\"date\" >= '{}' AND \"date\" <= '{}'",
            day(*first),
            day(*last)
        );
        commit_staged(
            lake,
            &schema::metrics(),
            &dir,
            WriteMode::Replace(predicate),
        )
        .await?;
    }
    report.rows.insert("metrics", metric_rows);

    Ok(report)
}

/// Costs: stage every landed cost file with polars, then commit the readable rows in one Delta
/// transaction that replaces each owner's billing periods (so re-ingesting a period, or a later
/// month-to-date export of it, leaves each charge once), send unreadable rows to `quarantine`,
/// record per-file quality in `data_quality`, and reconcile billed totals. Returns rows written.
async fn ingest_costs(
    lake: &Lake,
    landed: &[Landed],
    run_id: &str,
    staging: &Staging,
    report: &mut TransformReport,
) -> Result<usize> {
    use crate::lake::columns::{numbers, strings};
    use costs::{RAW, REASON, RECORD};
    let files: Vec<&Landed> = landed
        .iter()
        .filter(|l| l.dataset == Dataset::Costs)
        .collect();
    if files.is_empty() {
        return Ok(0);
    }
    let dir = staging.0.join("costs");
    let mut staged = Vec::new();
    for (n, file) in files.iter().enumerate() {
        let local = lake.local_file(&file.path, &staging.0).await?;
        let out = dir.join(format!("{n:05}.parquet"));
        let input = costs::Input {
            path: &local,
            key: &file.key,
            source_name: &file.owner,
            hint: &file.hint,
        };
        let result = tokio::task::block_in_place(|| costs::stage(&input, &out))?;
        tracing::info!(file = %file.key, dataset = ?result.as_ref().map(|s| &s.dataset), "staged cost file");
        staged.push(quality::StagedFile {
            key: file.key.clone(),
            owner: file.owner.clone(),
            local,
            staged: result,
        });
    }
    let keys: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let ctx = crate::lake::session();
    let mut written = 0;
    if staged.iter().any(|f| f.staged.is_some()) {
        ctx.register_parquet(
            "staged",
            format!("{}/", dir.display()),
            ParquetReadOptions::default().parquet_pruning(false),
        )
        .await?;
        let query = |sql: String| {
            let ctx = ctx.clone();
            async move { ctx.sql(&sql).await?.collect().await.map_err(Error::from) }
        };

        // Unreadable rows, with the line each starts on.
        let rejected = query(format!(
            "SELECT \"x_SourceFile\", {RECORD}, {REASON}, {RAW} FROM staged \
             WHERE {REASON} IS NOT NULL ORDER BY 1, 2"
        ))
        .await?;
        let (q_files, q_records, q_reasons, q_raw) = (
            strings(&rejected, 0)?,
            numbers(&rejected, 1)?,
            strings(&rejected, 2)?,
            strings(&rejected, 3)?,
        );
        let mut lines: HashMap<String, HashMap<i64, i64>> = HashMap::new();
        for f in &staged {
            let Some(info) = &f.staged else { continue };
            let records: Vec<i64> = q_files
                .iter()
                .zip(&q_records)
                .filter(|(k, _)| **k == f.key)
                .map(|(_, r)| *r as i64)
                .collect();
            if !records.is_empty() {
                let map = tokio::task::block_in_place(|| {
                    costs::record_lines(&f.local, info.format, &records)
                })?;
                lines.insert(f.key.clone(), map);
            }
        }
        for i in 0..q_files.len() {
            let record = q_records[i] as i64;
            let line = lines
                .get(&q_files[i])
                .and_then(|m| m.get(&record))
                .copied()
                .unwrap_or(record + 2);
            report.quarantined.push(Quarantined {
                source_file: q_files[i].clone(),
                line,
                reason: q_reasons[i].clone(),
                raw: q_raw[i].clone(),
            });
        }

        // Which (owner, billing period) the readable rows cover, and their billed totals.
        let covered = query(format!(
            "SELECT \"x_SourceName\", \"BillingPeriod\", COUNT(*) FROM staged \
             WHERE {REASON} IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ))
        .await?;
        let (owners, periods, counts) = (
            strings(&covered, 0)?,
            strings(&covered, 1)?,
            numbers(&covered, 2)?,
        );
        written = counts.iter().sum::<f64>() as usize;
        let totals = query(format!(
            "SELECT \"BillingPeriod\", COALESCE(\"BillingCurrency\", ''), SUM(\"BilledCost\") \
             FROM staged WHERE {REASON} IS NULL GROUP BY 1, 2"
        ))
        .await?;
        let billed: HashMap<(String, String), f64> = strings(&totals, 0)?
            .into_iter()
            .zip(strings(&totals, 1)?)
            .zip(numbers(&totals, 2)?)
            .collect();

        if written > 0 {
            let mut by_owner: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (owner, period) in owners.iter().zip(&periods) {
                by_owner.entry(owner).or_default().push(period);
            }
            let predicate = by_owner
                .iter()
                .map(|(owner, periods)| {
                    format!(
                        "(\"x_SourceName\" = {} AND \"BillingPeriod\" IN ({}))",
                        sql_list([*owner]),
                        sql_list(periods.iter().copied())
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR ");
            let def = schema::costs();
            let columns = def
                .schema
                .fields()
                .iter()
                .map(|f| format!("\"{}\"", f.name()))
                .collect::<Vec<_>>()
                .join(", ");
            let rows = ctx
                .sql(&format!(
                    "SELECT {columns} FROM staged WHERE {REASON} IS NULL"
                ))
                .await?;
            lake.write(&def, rows, WriteMode::Replace(predicate))
                .await?;
            report.unreconciled = reconcile(lake, &billed, &keys).await?;
            if !report.unreconciled.is_empty() && !report.quarantined.is_empty() {
                report.unreconciled.push(format!(
                    "{} row(s) of these files are in quarantine and not counted",
                    report.quarantined.len()
                ));
            }
        }
    }
    // This run's findings replace earlier ones for the same inputs.
    write_quarantine(lake, run_id, &keys, &report.quarantined).await?;
    quality::record(lake, &ctx, run_id, &staged).await?;
    Ok(written)
}

async fn write_quarantine(
    lake: &Lake,
    run_id: &str,
    keys: &[String],
    rows: &[Quarantined],
) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    if rows.is_empty() && !lake.table_exists("quarantine").await? {
        return Ok(());
    }
    let def = schema::quarantine();
    let strings = |f: &dyn Fn(&Quarantined) -> String| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        def.schema.clone(),
        vec![
            strings(&|_| run_id.to_string()),
            strings(&|q| q.source_file.clone()),
            Arc::new(Int64Array::from(
                rows.iter().map(|q| q.line).collect::<Vec<_>>(),
            )),
            strings(&|q| q.reason.clone()),
            strings(&|q| q.raw.clone()),
            strings(&|_| "costs".to_string()),
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let predicate = format!(
        "dataset = 'costs' AND source_file IN ({})",
        sql_list(keys.iter().map(String::as_str))
    );
    lake.write_batches(&def, vec![batch], WriteMode::Replace(predicate))
        .await
}

/// Compare the files' billed totals with what the lake now holds for the same files.
async fn reconcile(
    lake: &Lake,
    billed: &HashMap<(String, String), f64>,
    keys: &[String],
) -> Result<Vec<String>> {
    use crate::lake::columns::{numbers, strings};
    let ctx = crate::lake::session();
    lake.register_all(&ctx).await?;
    let sql = format!(
        "SELECT \"BillingPeriod\", COALESCE(\"BillingCurrency\", ''), SUM(\"BilledCost\") FROM costs \
         WHERE \"x_SourceFile\" IN ({}) GROUP BY 1, 2",
        sql_list(keys.iter().map(String::as_str))
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let (periods, currencies, totals) = (
        strings(&batches, 0)?,
        strings(&batches, 1)?,
        numbers(&batches, 2)?,
    );
    let lake_totals: HashMap<(String, String), f64> =
        periods.into_iter().zip(currencies).zip(totals).collect();
    let mut problems = Vec::new();
    for ((period, currency), expected) in billed {
        let got = lake_totals
            .get(&(period.clone(), currency.clone()))
            .copied()
            .unwrap_or(0.0);
        if (got - expected).abs() >= 0.005 {
            problems.push(format!(
                "BilledCost for {period} {currency}: source files {expected:.2}, lake {got:.2} (difference {:.2})",
                got - expected
            ));
        }
    }
    problems.sort();
    Ok(problems)
}
