//! Transform: landed files → lake tables (`costs`, `prices`, `reservation_*`, `resources`,
//! `metrics`, `advisor_recommendations`, `quarantine`, `data_quality`).
//!
//! polars reads and types each file; the typed rows are written as Parquet into a staging folder
//! (inside a local lake, or the system temp folder), and DataFusion commits them to Delta in one
//! transaction per table, replacing what the input supersedes: a source's billing periods for costs,
//! its price sheet, a file's rows for reservation datasets, the day's inventory of the subscriptions
//! read, the resources and hours of metrics read (or a range of metric days), the Advisor
//! recommendations of the subscriptions read. After the cost commit, `BilledCost` per billing period
//! and currency is reconciled against the staged source rows.

pub mod api_json;
pub mod costs;
pub mod dialect;
mod ingest_costs;
pub mod inventory;
pub mod parse;
mod quality;
mod staging;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use self::ingest_costs::ingest_costs;
use self::staging::{Staging, commit_dir, stage_each};
use crate::Result;
use crate::lake::columns::sql_string;
use crate::lake::landing::{Covers, Dataset, Landed};
use crate::lake::{Lake, WriteMode, schema};

/// A row that could not be read, kept with the reason.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub source_file: String,
    /// 1-based line in the file (header is line 1).
    pub line: i64,
    pub reason: String,
    pub raw: String,
    /// The row's value in the file's cost column as written, when it is a number (for
    /// reconciliation).
    pub source_cost: Option<f64>,
}

/// What the transform did, for the run manifest and the console.
#[derive(Debug, Default, Clone)]
pub struct TransformReport {
    /// Rows committed per table.
    pub rows: BTreeMap<&'static str, usize>,
    pub quarantined: Vec<Quarantined>,
    /// Differences between the source files' cost totals and the lake's; empty when reconciled.
    pub unreconciled: Vec<String>,
    /// Files that could not be read at all, with why (each is also in `quarantine`, line 0).
    pub refused_files: Vec<String>,
}

/// The subscriptions `files` cover, or `None` when one of them covers its whole partition.
fn subscriptions_covered<'a>(files: &[&'a Landed]) -> Option<BTreeSet<&'a str>> {
    let mut out = BTreeSet::new();
    for f in files {
        match &f.covers {
            Covers::Subscriptions(subs) => out.extend(subs.iter().map(String::as_str)),
            _ => return None,
        }
    }
    Some(out)
}

/// What landed metrics replace: the metric days of whole-partition files (the demo), and the
/// resources and hours each Azure Monitor call read.
fn metrics_predicate(files: &[&Landed], days: &BTreeSet<i32>) -> String {
    let day = |d: i32| {
        (NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(d.into()))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut parts = Vec::new();
    if files.iter().any(|f| f.covers == Covers::Partition)
        && let (Some(first), Some(last)) = (days.first(), days.last())
    {
        parts.push(format!(
            "(\"date\" >= '{}' AND \"date\" <= '{}')",
            day(*first),
            day(*last)
        ));
    }
    for f in files {
        if let Covers::Resources { ids, from_micros } = &f.covers {
            let from = chrono::DateTime::from_timestamp_micros(*from_micros)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ");
            parts.push(format!(
                "(resource_id IN ({}) AND \"timestamp\" >= '{from}')",
                sql_list(ids.iter().map(String::as_str))
            ));
        }
    }
    if parts.is_empty() {
        "false".into()
    } else {
        parts.join(" OR ")
    }
}

/// `'a', 'b'`: the values as a SQL list.
fn sql_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(sql_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Transform everything that landed in this run.
pub async fn run(
    lake: &Lake,
    landed: &[Landed],
    run_id: &str,
    as_of: NaiveDate,
    tag_aliases: &parse::TagAliases,
) -> Result<TransformReport> {
    let staging = Staging::new(lake, run_id)?;
    let mut report = TransformReport::default();

    let cost_rows = ingest_costs(
        lake,
        landed,
        run_id,
        (as_of, tag_aliases),
        &staging,
        &mut report,
    )
    .await?;
    report.rows.insert("costs", cost_rows);

    // Inventory: one snapshot per run date, replaced for the subscriptions read in full.
    let (files, rows) = stage_each(
        lake,
        landed,
        Dataset::Resources,
        &staging,
        "resources",
        |f, b| inventory::resources(b, &f.key, as_of, tag_aliases),
    )
    .await?;
    if !files.is_empty() {
        let day = format!("snapshot_date = '{}'", as_of.format("%Y-%m-%d"));
        let predicate = match subscriptions_covered(&files) {
            Some(subs) => format!("{day} AND subscription_id IN ({})", sql_list(subs)),
            None => day,
        };
        let def = schema::resources();
        commit_dir(lake, &def, &staging, WriteMode::Replace(predicate)).await?;
    }
    report.rows.insert("resources", rows);

    // Metrics: replaced for the resources and hours read.
    let mut days = BTreeSet::new();
    let (files, rows) = stage_each(
        lake,
        landed,
        Dataset::Metrics,
        &staging,
        "metrics",
        |f, b| {
            let frame = inventory::metrics(b, &f.key)?;
            if let Ok(col) = frame.column("date").and_then(|c| c.i32().cloned()) {
                days.extend(col.iter().flatten());
            }
            Ok(frame)
        },
    )
    .await?;
    if !files.is_empty() {
        let predicate = metrics_predicate(&files, &days);
        let def = schema::metrics();
        commit_dir(lake, &def, &staging, WriteMode::Replace(predicate)).await?;
    }
    report.rows.insert("metrics", rows);

    // Advisor: each subscription read replaces its recommendations.
    let table = "advisor_recommendations";
    let (files, rows) = stage_each(lake, landed, Dataset::Advisor, &staging, table, |f, b| {
        let subscription = match &f.covers {
            Covers::Subscriptions(s) => s.first().map_or("", String::as_str),
            _ => "",
        };
        inventory::advisor(b, &f.key, subscription, as_of)
    })
    .await?;
    if !files.is_empty() {
        let subs = subscriptions_covered(&files).unwrap_or_default();
        let predicate = format!("subscription_id IN ({})", sql_list(subs));
        let def = schema::advisor_recommendations();
        commit_dir(lake, &def, &staging, WriteMode::Replace(predicate)).await?;
    }
    report.rows.insert(table, rows);

    Ok(report)
}
