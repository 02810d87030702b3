//! Cost Management datasets into the lake: stage every cost file and price sheet, send unreadable
//! rows to `quarantine`, commit prices, reservation datasets and costs (each owner's billing periods
//! replaced in one transaction), record data quality, and reconcile billed totals.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use datafusion::prelude::{ParquetReadOptions, SessionContext};

use super::staging::Staging;
use super::{Quarantined, TransformReport, costs, quality, sql_list};
use crate::lake::columns::sql_string;
use crate::lake::landing::{Dataset, Landed};
use crate::lake::{Lake, WriteMode, schema};
use crate::{Error, Result};

/// Cost Management datasets: stage every landed cost file and price sheet with polars; commit price
/// sheets to `prices`, then the readable cost rows (missing prices filled from `prices`) in one Delta
/// transaction that replaces each owner's billing periods, so re-ingesting a period, or a later
/// month-to-date export of it, leaves each charge once. Unreadable rows go to `quarantine`, per-file
/// quality to `data_quality`, and billed totals are reconciled. Returns cost rows written.
pub(super) async fn ingest_costs(
    lake: &Lake,
    landed: &[Landed],
    run_id: &str,
    (as_of, tag_aliases): (chrono::NaiveDate, &super::parse::TagAliases),
    staging: &Staging,
    report: &mut TransformReport,
) -> Result<usize> {
    let files: Vec<&Landed> = landed
        .iter()
        .filter(|l| l.dataset == Dataset::Costs)
        .collect();
    if files.is_empty() {
        return Ok(0);
    }
    let mut locals = Vec::new();
    for file in &files {
        locals.push(lake.local_file(&file.path, &staging.0).await?);
    }
    // polars keeps about one core busy per file, so files are staged side by side, one per core.
    let results = tokio::task::block_in_place(|| {
        stage_all(&files, &locals, &staging.0, (as_of, tag_aliases))
    });
    let mut staged = Vec::new();
    for (file, result) in files.iter().zip(results) {
        // A file that cannot be read at all is named in `quarantine` (line 0) and the others go on.
        let result = match result {
            Ok(result) => result,
            Err(e) => {
                let reason = match &e {
                    Error::Data { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                tracing::error!(file = %file.key, %reason, "file not read");
                report.refused_files.push(format!("{}: {reason}", file.key));
                report.quarantined.push(Quarantined {
                    source_file: file.key.clone(),
                    line: 0,
                    reason: format!("the file was not read: {reason}"),
                    raw: String::new(),
                    source_cost: None,
                });
                continue;
            }
        };
        tracing::info!(file = %file.key, dataset = ?result.as_ref().map(|s| &s.dataset), "staged");
        if let Some(info) = &result {
            report
                .quarantined
                .extend(info.rejected.iter().map(|r| Quarantined {
                    source_file: file.key.clone(),
                    line: r.line,
                    reason: r.reason.clone(),
                    raw: r.raw.clone(),
                    source_cost: r.cost,
                }));
        }
        staged.push(quality::StagedFile {
            key: file.key.clone(),
            owner: file.owner.clone(),
            staged: result,
        });
    }
    let keys: Vec<String> = files.iter().map(|f| f.key.clone()).collect();
    let ctx = crate::lake::session();
    // Staged strings are read as plain UTF-8, the lake's type, rather than views cast back later.
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let mut tables = Vec::new();
    let all_tables = ["prices", "costs"]
        .into_iter()
        .chain(schema::RESERVATION_TABLES.iter().map(|(t, _, _)| *t));
    for table in all_tables {
        if staged
            .iter()
            .any(|f| f.staged.as_ref().is_some_and(|s| s.table == table))
        {
            let dir = staging.0.join(table);
            ctx.register_parquet(
                format!("staged_{table}"),
                format!("{}/", dir.display()),
                ParquetReadOptions::default().parquet_pruning(false),
            )
            .await?;
            tables.push(table);
        }
    }
    for table in &tables {
        quarantined(&ctx, table, &staged, report).await?;
    }
    let mut written = 0;
    if tables.contains(&"prices") {
        commit_prices(lake, &ctx).await?;
    }
    for table in tables.iter().filter(|t| t.starts_with("reservation_")) {
        commit_by_file(lake, &ctx, table, &keys).await?;
    }
    if tables.contains(&"costs") {
        written = commit_costs(lake, &ctx).await?;
        let checks = reconcile(lake, &ctx, &staged, report).await?;
        write_reconciliation(lake, run_id, &checks).await?;
        report.unreconciled = checks
            .iter()
            .filter(|c| !c.reconciled())
            .map(Reconciliation::describe)
            .collect();
    }
    // This run's findings replace earlier ones for the same inputs.
    write_quarantine(lake, run_id, &keys, &report.quarantined).await?;
    quality::record(lake, &ctx, run_id, &tables, &staged).await?;
    Ok(written)
}

/// Stage every file, as many at a time as there are cores; results in the order of `files`.
fn stage_all(
    files: &[&Landed],
    locals: &[PathBuf],
    staging: &Path,
    (as_of, tag_aliases): (chrono::NaiveDate, &super::parse::TagAliases),
) -> Vec<Result<Option<costs::Staged>>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len());
    let mut done: Vec<(usize, Result<Option<costs::Staged>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(n) else { break mine };
                        let input = costs::Input {
                            path: &locals[n],
                            key: &file.key,
                            source_name: &file.owner,
                            hint: &file.hint,
                            as_of,
                            tag_aliases,
                        };
                        mine.push((n, costs::stage(&input, staging, n)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("staging a file does not panic"))
            .collect()
    });
    done.sort_by_key(|(n, _)| *n);
    done.into_iter().map(|(_, result)| result).collect()
}

/// Collect the staged rows of `table` that could not be read, with the line each starts on.
async fn quarantined(
    ctx: &SessionContext,
    table: &str,
    staged: &[quality::StagedFile],
    report: &mut TransformReport,
) -> Result<()> {
    use crate::lake::columns::{numbers, strings};
    use costs::{REASON, RECORD};
    let line = costs::vet::LINE;
    let rejected = ctx
        .sql(&format!(
            "SELECT \"x_SourceFile\", {RECORD}, {REASON}, COALESCE({line}, -1) FROM staged_{table} \
             WHERE {REASON} IS NOT NULL ORDER BY 1, 2"
        ))
        .await?
        .collect()
        .await?;
    let (files, records, reasons, lines) = (
        strings(&rejected, 0)?,
        numbers(&rejected, 1)?,
        strings(&rejected, 2)?,
        numbers(&rejected, 3)?,
    );
    // The files are read again for these records only: their lines, and values for the reasons.
    let mut read: HashMap<String, HashMap<i64, costs::Record>> = HashMap::new();
    for f in staged {
        let Some(info) = &f.staged else { continue };
        let wanted: Vec<i64> = files
            .iter()
            .zip(&records)
            .filter(|(k, _)| **k == f.key)
            .map(|(_, r)| *r as i64)
            .collect();
        if !wanted.is_empty() {
            let map = tokio::task::block_in_place(|| {
                costs::read_records(&info.read_from, info.read_format, &wanted)
            })?;
            read.insert(f.key.clone(), map);
        }
    }
    for i in 0..files.len() {
        let index = records[i] as i64;
        let mut record = read
            .get(&files[i])
            .and_then(|m| m.get(&index))
            .cloned()
            .unwrap_or_default();
        record.fields.retain(|(h, _)| h != costs::vet::LINE);
        let cost_header = staged
            .iter()
            .find(|f| f.key == files[i])
            .and_then(|f| f.staged.as_ref()?.source_cost.as_ref())
            .map(|c| c.header.as_str());
        let source_cost = cost_header
            .and_then(|h| record.fields.iter().find(|(name, _)| name == h))
            .and_then(|(_, v)| super::parse::number(v.trim()).ok());
        report.quarantined.push(Quarantined {
            source_file: files[i].clone(),
            line: if lines[i] > 0.0 {
                lines[i] as i64
            } else if record.line > 0 {
                record.line
            } else {
                index + 2
            },
            reason: costs::describe(&reasons[i], &record),
            raw: record
                .fields
                .iter()
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(","),
            source_cost,
        });
    }
    Ok(())
}

/// The columns of `def` as a quoted SQL list.
fn column_list(def: &schema::TableDef) -> Vec<String> {
    def.schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect()
}

/// A price sheet replaces its source's earlier price sheet.
async fn commit_prices(lake: &Lake, ctx: &SessionContext) -> Result<()> {
    use crate::lake::columns::strings;
    use costs::REASON;
    let owners = ctx
        .sql(&format!(
            "SELECT DISTINCT \"x_SourceName\" FROM staged_prices WHERE {REASON} IS NULL"
        ))
        .await?
        .collect()
        .await?;
    let owners = strings(&owners, 0)?;
    if owners.is_empty() {
        return Ok(());
    }
    let def = schema::prices();
    let rows = ctx
        .sql(&format!(
            "SELECT {} FROM staged_prices WHERE {REASON} IS NULL",
            column_list(&def).join(", ")
        ))
        .await?;
    let predicate = format!(
        "\"x_SourceName\" IN ({})",
        sql_list(owners.iter().map(String::as_str))
    );
    lake.write(&def, rows, WriteMode::Replace(predicate)).await
}

/// Reservation datasets: re-ingesting a file (the same export and date range) replaces its rows.
async fn commit_by_file(
    lake: &Lake,
    ctx: &SessionContext,
    table: &str,
    keys: &[String],
) -> Result<()> {
    let def = schema::reservation(table).expect("staged tables are listed");
    let rows = ctx
        .sql(&format!(
            "SELECT {} FROM staged_{table} WHERE {} IS NULL",
            column_list(&def).join(", "),
            costs::REASON
        ))
        .await?;
    let predicate = format!(
        "\"x_SourceFile\" IN ({})",
        sql_list(keys.iter().map(String::as_str))
    );
    lake.write(&def, rows, WriteMode::Replace(predicate)).await
}

/// Cost columns the price sheet fills when a row lacks them, with the SQL that fills each (`s` is
/// the staged row, `p` its meter's consumption price). Savings are recomputed from the filled costs.
const PRICE_FILLS: &[(&str, &str)] = &[
    ("ListUnitPrice", "p.list_price"),
    ("ContractedUnitPrice", "p.contracted_price"),
    ("ListCost", "p.list_price * s.\"PricingQuantity\""),
    (
        "ContractedCost",
        "p.contracted_price * s.\"PricingQuantity\"",
    ),
];

/// Commit the staged cost rows, filling missing prices from the lake's `prices`.
async fn commit_costs(lake: &Lake, ctx: &SessionContext) -> Result<usize> {
    use crate::lake::columns::{numbers, strings};
    use costs::REASON;
    // Which (owner, billing period) the readable rows cover.
    let covered = ctx
        .sql(&format!(
            "SELECT \"x_SourceName\", \"BillingPeriod\", COUNT(*) FROM staged_costs \
             WHERE {REASON} IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
        ))
        .await?
        .collect()
        .await?;
    let (owners, periods, counts) = (
        strings(&covered, 0)?,
        strings(&covered, 1)?,
        numbers(&covered, 2)?,
    );
    let written = counts.iter().sum::<f64>() as usize;
    if written == 0 {
        return Ok(0);
    }
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
        .chain(std::iter::once(format!(
            // Rows written before sources owned their rows have no owner: re-ingesting their
            // period replaces them too.
            "(\"x_SourceName\" IS NULL AND \"BillingPeriod\" IN ({}))",
            sql_list(periods.iter().map(String::as_str))
        )))
        .collect::<Vec<_>>()
        .join(" OR ");
    let def = schema::costs();
    let sql = if lake.table_exists("prices").await? {
        lake.register(ctx, &schema::prices()).await?;
        costs_with_prices_sql(&def)
    } else {
        format!(
            "SELECT {} FROM staged_costs WHERE {REASON} IS NULL",
            column_list(&def).join(", ")
        )
    };
    let rows = ctx.sql(&sql).await?;
    lake.write(&def, rows, WriteMode::Replace(predicate))
        .await?;
    Ok(written)
}

/// The staged cost rows with prices their files lack taken from each meter's consumption price
/// (first tier) in `prices`, in the same currency; each fill is named in `x_SourceChanges`.
fn costs_with_prices_sql(def: &schema::TableDef) -> String {
    let filled = |name: &str| {
        PRICE_FILLS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| format!("COALESCE(s.\"{name}\", {e})"))
    };
    let principal =
        "(s.\"ChargeCategory\" = 'Purchase' AND s.\"CommitmentDiscountId\" IS NOT NULL)";
    let saving = |name: &str, a: &str, b: &str| {
        format!(
            "COALESCE(s.\"{name}\", CASE WHEN {principal} THEN NULL ELSE {} - {} END)",
            filled(a).unwrap_or(format!("s.\"{a}\"")),
            filled(b).unwrap_or(format!("s.\"{b}\""))
        )
    };
    let notes = PRICE_FILLS
        .iter()
        .map(|(name, e)| {
            format!(
                "CASE WHEN s.\"{name}\" IS NULL AND ({e}) IS NOT NULL THEN '{name}:from-price-sheet' END"
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let columns = def
        .schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name().as_str();
            let e = match name {
                "x_NegotiatedDiscountSavings" => saving(name, "ListCost", "ContractedCost"),
                "x_CommitmentDiscountSavings" => saving(name, "ContractedCost", "EffectiveCost"),
                "x_TotalSavings" => saving(name, "ListCost", "EffectiveCost"),
                "x_SourceChanges" => {
                    format!("NULLIF(concat_ws(';', s.\"x_SourceChanges\", {notes}), '')")
                }
                _ => filled(name).unwrap_or(format!("s.\"{name}\"")),
            };
            format!("{e} AS \"{name}\"")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH p AS ( \
           SELECT lower(\"x_SkuMeterId\") AS meter, \"BillingCurrency\" AS currency, \
                  MAX(\"ListUnitPrice\") AS list_price, MIN(\"ContractedUnitPrice\") AS contracted_price \
           FROM prices \
           WHERE (\"x_SkuPriceType\" IS NULL OR lower(\"x_SkuPriceType\") = 'consumption') \
             AND COALESCE(\"x_SkuTierMinimumUnits\", 0) = 0 \
           GROUP BY 1, 2) \
         SELECT {columns} FROM staged_costs s \
         LEFT JOIN p ON s.\"x_SkuMeterId\" = p.meter AND s.\"BillingCurrency\" = p.currency \
         WHERE s.{} IS NULL",
        costs::REASON
    )
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

/// One source's billing period(s) checked against what its files say.
#[derive(Debug, Clone)]
pub(super) struct Reconciliation {
    pub source: String,
    /// The billing period, or the periods of files that span several (`2026-01, 2026-02`).
    pub period: String,
    pub files: Vec<String>,
    /// `x_SourceDataset` of the files (a source may export actual and amortized cost).
    pub dataset: String,
    /// The lake column compared (`BilledCost`, or `EffectiveCost` for amortized datasets).
    pub column: &'static str,
    /// The files' cost column summed as written, every record.
    pub source_total: f64,
    /// The lake's total for the source and period(s) after the commit.
    pub lake_total: f64,
    /// The part of the source total in rows sent to quarantine.
    pub quarantined_total: f64,
}

impl Reconciliation {
    fn difference(&self) -> f64 {
        self.lake_total + self.quarantined_total - self.source_total
    }

    pub fn reconciled(&self) -> bool {
        // Half a cent, widened for the rounding of sums over millions of rows.
        self.difference().abs() < 0.005 + self.source_total.abs() * 1e-12
    }

    pub fn describe(&self) -> String {
        format!(
            "{} of {} {} {}: source files {:.2}, lake {:.2} + quarantined {:.2} (difference {:.2})",
            self.column,
            self.source,
            self.dataset,
            self.period,
            self.source_total,
            self.lake_total,
            self.quarantined_total,
            self.difference()
        )
    }
}

/// Check the lake against the source files: for each source and billing period its files cover,
/// the files' own cost column summed as written (taken while vetting, apart from the typed rows)
/// must equal what the lake now holds for that source and period plus what went to quarantine. A
/// misread number, a doubled or lost row, or rows left from an earlier ingest all show up here.
async fn reconcile(
    lake: &Lake,
    staged_ctx: &SessionContext,
    staged: &[quality::StagedFile],
    report: &TransformReport,
) -> Result<Vec<Reconciliation>> {
    use crate::lake::columns::{numbers, strings};
    // The periods each file's readable rows fell in.
    let batches = staged_ctx
        .sql(&format!(
            "SELECT DISTINCT \"x_SourceFile\", \"BillingPeriod\" FROM staged_costs WHERE {} IS NULL",
            costs::REASON
        ))
        .await?
        .collect()
        .await?;
    let mut periods_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (file, period) in strings(&batches, 0)?.into_iter().zip(strings(&batches, 1)?) {
        periods_of.entry(file).or_default().insert(period);
    }
    // Files of one source whose periods overlap are checked together.
    let mut groups: Vec<Reconciliation> = Vec::new();
    let mut group_periods: Vec<BTreeSet<String>> = Vec::new();
    for f in staged {
        let Some(info) = &f.staged else { continue };
        let Some(cost) = &info.source_cost else {
            continue;
        };
        if info.table != "costs" {
            continue;
        }
        let quarantined: f64 = report
            .quarantined
            .iter()
            .filter(|q| q.source_file == f.key)
            .filter_map(|q| q.source_cost)
            .sum();
        let rejected: f64 = info.rejected.iter().filter_map(|r| r.cost).sum();
        let periods = periods_of.get(&f.key).cloned().unwrap_or_default();
        let found = groups
            .iter()
            .position(|g| g.source == f.owner && g.dataset == info.dataset);
        let found = found.filter(|&i| !group_periods[i].is_disjoint(&periods));
        let i = match found {
            Some(i) => i,
            None => {
                groups.push(Reconciliation {
                    source: f.owner.clone(),
                    period: String::new(),
                    files: Vec::new(),
                    dataset: info.dataset.clone(),
                    column: cost.column,
                    source_total: 0.0,
                    lake_total: 0.0,
                    quarantined_total: 0.0,
                });
                group_periods.push(BTreeSet::new());
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.files.push(f.key.clone());
        g.source_total += cost.total + rejected;
        g.quarantined_total += quarantined;
        group_periods[i].extend(periods);
    }
    if groups.is_empty() {
        return Ok(groups);
    }
    let ctx = crate::lake::session();
    lake.register(&ctx, &schema::costs()).await?;
    for (g, periods) in groups.iter_mut().zip(&group_periods) {
        g.period = periods.iter().cloned().collect::<Vec<_>>().join(", ");
        if periods.is_empty() {
            continue;
        }
        let sql = format!(
            // A value the transform filled where the file had none is not the file's.
            "SELECT COALESCE(SUM(CASE WHEN ';' || COALESCE(\"x_SourceChanges\", '') || ';' \
             LIKE '%;{0}:%' THEN 0 ELSE \"{0}\" END), 0) FROM costs WHERE \"x_SourceName\" = {1} \
             AND \"x_SourceDataset\" = {2} AND \"BillingPeriod\" IN ({3})",
            g.column,
            sql_string(&g.source),
            sql_string(&g.dataset),
            sql_list(periods.iter().map(String::as_str))
        );
        let batches = ctx.sql(&sql).await?.collect().await?;
        g.lake_total = numbers(&batches, 0)?.first().copied().unwrap_or(0.0);
    }
    Ok(groups)
}

/// Record this run's checks in `reconciliation`, where `status` shows them.
async fn write_reconciliation(lake: &Lake, run_id: &str, checks: &[Reconciliation]) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, StringArray};
    use datafusion::arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    if checks.is_empty() {
        return Ok(());
    }
    let def = schema::reconciliation();
    let strings = |f: &dyn Fn(&Reconciliation) -> String| -> ArrayRef {
        Arc::new(StringArray::from(checks.iter().map(f).collect::<Vec<_>>()))
    };
    let floats = |f: &dyn Fn(&Reconciliation) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(checks.iter().map(f).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        def.schema.clone(),
        vec![
            strings(&|_| run_id.to_string()),
            strings(&|c| c.source.clone()),
            strings(&|c| c.period.clone()),
            strings(&|c| format!("files: {}", c.dataset)),
            strings(&|c| c.files.join(", ")),
            strings(&|c| c.column.to_string()),
            floats(&|c| c.source_total),
            floats(&|c| c.lake_total),
            floats(&|c| c.quarantined_total),
            floats(&|c| c.difference()),
            Arc::new(BooleanArray::from(
                checks.iter().map(|c| c.reconciled()).collect::<Vec<_>>(),
            )),
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    lake.write_batches(&def, vec![batch], WriteMode::Append)
        .await
}

#[cfg(test)]
mod tests {
    use super::Reconciliation;

    fn check(source_total: f64, lake_total: f64, quarantined_total: f64) -> Reconciliation {
        Reconciliation {
            source: "exports/daily".into(),
            period: "2026-03".into(),
            files: vec!["a.csv".into()],
            dataset: "FocusCost 1.2".into(),
            column: "BilledCost",
            source_total,
            lake_total,
            quarantined_total,
        }
    }

    #[test]
    fn the_lake_and_quarantine_must_add_up_to_the_source_to_the_cent() {
        assert!(check(100.0, 90.0, 10.0).reconciled());
        assert!(check(1e9, 1e9 - 0.004, 0.0).reconciled());
        // A doubled file, a lost row, a misread amount.
        for bad in [
            check(100.0, 200.0, 0.0),
            check(100.0, 89.99, 10.0),
            check(100.0, 100.1, 0.0),
        ] {
            assert!(!bad.reconciled());
            let said = bad.describe();
            assert!(
                said.contains("exports/daily") && said.contains("2026-03"),
                "{said}"
            );
        }
    }
}
