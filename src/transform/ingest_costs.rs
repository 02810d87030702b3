//! Cost Management datasets into the lake: stage every cost file and price sheet, send unreadable
//! rows to `quarantine`, commit prices, reservation datasets and costs (each owner's billing periods
//! replaced in one transaction), record data quality, and reconcile billed totals.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use datafusion::prelude::{ParquetReadOptions, SessionContext};

use super::staging::Staging;
use super::{Quarantined, TransformReport, costs, quality, sql_list};
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
    let results = tokio::task::block_in_place(|| stage_all(&files, &locals, &staging.0));
    let mut staged = Vec::new();
    for ((file, local), result) in files.iter().zip(locals).zip(results) {
        let result = result?;
        tracing::info!(file = %file.key, dataset = ?result.as_ref().map(|s| &s.dataset), "staged");
        staged.push(quality::StagedFile {
            key: file.key.clone(),
            owner: file.owner.clone(),
            local,
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
        written = commit_costs(lake, &ctx, &keys, report).await?;
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
    let rejected = ctx
        .sql(&format!(
            "SELECT \"x_SourceFile\", {RECORD}, {REASON} FROM staged_{table} \
             WHERE {REASON} IS NOT NULL ORDER BY 1, 2"
        ))
        .await?
        .collect()
        .await?;
    let (files, records, reasons) = (
        strings(&rejected, 0)?,
        numbers(&rejected, 1)?,
        strings(&rejected, 2)?,
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
                costs::read_records(&f.local, info.format, &wanted)
            })?;
            read.insert(f.key.clone(), map);
        }
    }
    for i in 0..files.len() {
        let index = records[i] as i64;
        let record = read
            .get(&files[i])
            .and_then(|m| m.get(&index))
            .cloned()
            .unwrap_or_default();
        report.quarantined.push(Quarantined {
            source_file: files[i].clone(),
            line: if record.line > 0 {
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
async fn commit_costs(
    lake: &Lake,
    ctx: &SessionContext,
    keys: &[String],
    report: &mut TransformReport,
) -> Result<usize> {
    use crate::lake::columns::{numbers, strings};
    use costs::REASON;
    let query = |sql: String| {
        let ctx = ctx.clone();
        async move { ctx.sql(&sql).await?.collect().await.map_err(Error::from) }
    };
    // Which (owner, billing period) the readable rows cover, and their billed totals.
    let covered = query(format!(
        "SELECT \"x_SourceName\", \"BillingPeriod\", COUNT(*) FROM staged_costs \
         WHERE {REASON} IS NULL GROUP BY 1, 2 ORDER BY 1, 2"
    ))
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
    let totals = query(format!(
        "SELECT \"BillingPeriod\", COALESCE(\"BillingCurrency\", ''), SUM(\"BilledCost\") \
         FROM staged_costs WHERE {REASON} IS NULL GROUP BY 1, 2"
    ))
    .await?;
    let billed: HashMap<(String, String), f64> = strings(&totals, 0)?
        .into_iter()
        .zip(strings(&totals, 1)?)
        .zip(numbers(&totals, 2)?)
        .collect();

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
    report.unreconciled = reconcile(lake, &billed, keys).await?;
    if !report.unreconciled.is_empty() && !report.quarantined.is_empty() {
        report.unreconciled.push(format!(
            "{} row(s) of these files are in quarantine and not counted",
            report.quarantined.len()
        ));
    }
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

/// Compare the files' billed totals with what the lake now holds for the same files.
async fn reconcile(
    lake: &Lake,
    billed: &HashMap<(String, String), f64>,
    keys: &[String],
) -> Result<Vec<String>> {
    use crate::lake::columns::{numbers, strings};
    let ctx = crate::lake::session();
    lake.register(&ctx, &schema::costs()).await?;
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
