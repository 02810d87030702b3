//! FOCUS cost files → rows of the `costs` table.
//!
//! Columns are matched to FOCUS 1.2 names case-insensitively; values are typed; join keys
//! (`ResourceId`, `SubAccountId`, `x_ResourceGroupName`) are lowercased; tags are canonicalized. Every
//! change made to a row is named in `x_SourceChanges`. A row that cannot be read (a number that is
//! not a number, a charge without a period) is quarantined with the reason instead of dropped.

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;

use polars::prelude::*;

use super::Quarantined;
use super::parse;
use crate::lake::schema::{
    COST_BOOLEAN_COLUMNS, COST_DECIMAL_COLUMNS, COST_STRING_COLUMNS, COST_TIMESTAMP_COLUMNS,
};
use crate::{Error, Result};

/// Columns whose values are ids used for joins: lowercased.
const JOIN_KEYS: &[&str] = &["ResourceId", "SubAccountId", "x_ResourceGroupName"];

/// A cost file read into typed columns, plus what could not be read.
pub struct CostBatch {
    pub frame: DataFrame,
    pub quarantined: Vec<Quarantined>,
    /// `(BillingPeriod, ProviderName)` pairs present in `frame`.
    pub partitions: BTreeSet<(String, String)>,
    /// Sum of `BilledCost` per `(BillingPeriod, BillingCurrency)` as read from the file.
    pub billed: HashMap<(String, String), f64>,
}

/// Read one landed cost file (CSV, with or without a byte-order mark, or Parquet); `key` names it.
pub fn read(bytes: Vec<u8>, parquet: bool, key: &str) -> Result<CostBatch> {
    let data_err = |message: String| Error::Data {
        file: key.to_string(),
        message,
    };
    let raw = if parquet {
        let df = ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| data_err(e.to_string()))?;
        let cols = df
            .columns()
            .iter()
            .map(|c| c.cast(&DataType::String))
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| data_err(e.to_string()))?;
        DataFrame::new(df.height(), cols).map_err(|e| data_err(e.to_string()))?
    } else {
        let body = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&bytes)
            .to_vec();
        if body.iter().all(u8::is_ascii_whitespace) {
            DataFrame::empty()
        } else {
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .into_reader_with_file_handle(Cursor::new(body))
                .finish()
                .map_err(|e| data_err(e.to_string()))?
        }
    };
    normalize(&raw, key)
}

/// Type and tidy a frame of text columns.
fn normalize(raw: &DataFrame, key: &str) -> Result<CostBatch> {
    let height = raw.height();
    // FOCUS name -> source column, matched without regard to case or surrounding spaces.
    let mut source: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    let lookup: HashMap<String, &Column> = raw
        .columns()
        .iter()
        .map(|c| (c.name().trim().to_lowercase(), c))
        .collect();
    let all_columns = COST_DECIMAL_COLUMNS
        .iter()
        .chain(COST_TIMESTAMP_COLUMNS)
        .chain(COST_BOOLEAN_COLUMNS)
        .chain(COST_STRING_COLUMNS)
        .copied();
    for name in all_columns {
        if let Some(col) = lookup.get(&name.to_lowercase()) {
            let values = col
                .str()?
                .iter()
                .map(|v| parse::present(v).map(str::to_string))
                .collect();
            source.insert(name, values);
        }
    }
    let get = |name: &str, row: usize| source.get(name).and_then(|v| v[row].as_deref());

    // Blank lines (`\r\n` between records, as some exporters write) are not records: skip them.
    let mut keep: Vec<bool> = (0..height)
        .map(|row| {
            raw.columns().iter().any(|c| {
                c.str()
                    .ok()
                    .and_then(|s| s.get(row))
                    .is_some_and(|v| !v.trim().is_empty())
            })
        })
        .collect();
    let mut quarantined = Vec::new();
    let mut changes: Vec<Vec<String>> = vec![Vec::new(); height];
    let mut reject = |row: usize, reason: String, keep: &mut Vec<bool>| {
        if keep[row] {
            keep[row] = false;
            let raw_row = raw
                .columns()
                .iter()
                .map(|c| c.str().ok().and_then(|s| s.get(row)).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(",");
            quarantined.push(Quarantined {
                source_file: key.into(),
                line: row as i64 + 2,
                reason,
                raw: raw_row,
            });
        }
    };

    let mut rejected = Vec::new();
    let mut decimals = parse_columns(
        COST_DECIMAL_COLUMNS,
        height,
        &get,
        parse::number,
        &mut rejected,
    );
    let times = parse_columns(
        COST_TIMESTAMP_COLUMNS,
        height,
        &get,
        parse::timestamp_micros,
        &mut rejected,
    );
    let bools = parse_columns(
        COST_BOOLEAN_COLUMNS,
        height,
        &get,
        parse::boolean,
        &mut rejected,
    );
    for (row, reason) in rejected {
        reject(row, reason, &mut keep);
    }
    let mut strings: Vec<(&str, Vec<Option<String>>)> = Vec::new();
    for &name in COST_STRING_COLUMNS {
        let mut out: Vec<Option<String>> = (0..height)
            .map(|row| get(name, row).map(str::to_string))
            .collect();
        if JOIN_KEYS.contains(&name) {
            for (row, v) in out.iter_mut().enumerate() {
                if let Some(s) = v.as_mut().filter(|s| s.chars().any(char::is_uppercase)) {
                    *s = s.to_lowercase();
                    changes[row].push(format!("{name}:lowercased"));
                }
            }
        }
        if name == "Tags" {
            for (row, v) in out.iter_mut().enumerate() {
                let Some(s) = v.as_mut() else { continue };
                match parse::canonical_tags(s) {
                    Ok((json, true)) => {
                        *s = json;
                        changes[row].push("Tags:canonicalized".into());
                    }
                    Ok((_, false)) => {}
                    Err(e) => changes[row].push(format!("Tags:kept-as-text ({e})")),
                }
            }
        }
        strings.push((name, out));
    }

    // Required values and fills.
    let charge_start = &times
        .iter()
        .find(|(n, _)| *n == "ChargePeriodStart")
        .expect("listed")
        .1;
    let period_start = &times
        .iter()
        .find(|(n, _)| *n == "BillingPeriodStart")
        .expect("listed")
        .1;
    let mut billing_period = vec![None; height];
    for row in 0..height {
        match period_start[row].or(charge_start[row]) {
            Some(t) => billing_period[row] = Some(month_of(t)),
            None => reject(
                row,
                "ChargePeriodStart: missing (a charge needs its period)".into(),
                &mut keep,
            ),
        }
    }
    let idx = |cols: &Vec<(&str, Vec<Option<f64>>)>, name: &str| {
        cols.iter().position(|(n, _)| *n == name).expect("listed")
    };
    let (billed_i, effective_i) = (
        idx(&decimals, "BilledCost"),
        idx(&decimals, "EffectiveCost"),
    );
    for row in 0..height {
        match (decimals[billed_i].1[row], decimals[effective_i].1[row]) {
            (None, None) => reject(
                row,
                "BilledCost and EffectiveCost: both missing".into(),
                &mut keep,
            ),
            (Some(b), None) => {
                decimals[effective_i].1[row] = Some(b);
                changes[row].push("EffectiveCost:filled-from-BilledCost".into());
            }
            (None, Some(e)) => {
                decimals[billed_i].1[row] = Some(e);
                changes[row].push("BilledCost:filled-from-EffectiveCost".into());
            }
            _ => {}
        }
    }
    let provider_i = strings
        .iter()
        .position(|(n, _)| *n == "ProviderName")
        .expect("listed");
    for row in 0..height {
        if strings[provider_i].1[row].is_none() {
            strings[provider_i].1[row] = Some("Unknown".into());
            changes[row].push("ProviderName:filled-Unknown".into());
        }
    }
    let source_i = strings
        .iter()
        .position(|(n, _)| *n == "x_SourceFile")
        .expect("listed");
    let changes_i = strings
        .iter()
        .position(|(n, _)| *n == "x_SourceChanges")
        .expect("listed");
    for row in 0..height {
        strings[source_i].1[row] = Some(key.to_string());
        strings[changes_i].1[row] = (!changes[row].is_empty()).then(|| changes[row].join(";"));
    }

    // Partitions and the file's own billed totals, for reconciliation.
    let currency_i = strings
        .iter()
        .position(|(n, _)| *n == "BillingCurrency")
        .expect("listed");
    let mut partitions = BTreeSet::new();
    let mut billed = HashMap::new();
    for row in (0..height).filter(|r| keep[*r]) {
        let period = billing_period[row]
            .clone()
            .expect("kept rows have a period");
        partitions.insert((
            period.clone(),
            strings[provider_i].1[row].clone().expect("filled"),
        ));
        let currency = strings[currency_i].1[row].clone().unwrap_or_default();
        *billed.entry((period, currency)).or_insert(0.0) +=
            decimals[billed_i].1[row].unwrap_or(0.0);
    }

    let pick = |v: &[bool]| -> Vec<usize> { (0..height).filter(|r| v[*r]).collect() };
    let rows = pick(&keep);
    let mut columns: Vec<Column> = Vec::new();
    for (name, v) in decimals {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(|r| v[*r]).collect::<Vec<_>>(),
        ));
    }
    for (name, v) in times {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(|r| v[*r]).collect::<Vec<_>>(),
        ));
    }
    for (name, v) in bools {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(|r| v[*r]).collect::<Vec<_>>(),
        ));
    }
    for (name, v) in strings {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(|r| v[*r].clone()).collect::<Vec<_>>(),
        ));
    }
    columns.push(Column::new(
        "BillingPeriod".into(),
        rows.iter()
            .map(|r| billing_period[*r].clone())
            .collect::<Vec<_>>(),
    ));
    let frame = DataFrame::new(rows.len(), columns)?;
    Ok(CostBatch {
        frame,
        quarantined,
        partitions,
        billed,
    })
}

/// Parse each named column with `parse`; a value that does not parse is recorded in `rejected`
/// as `(row, "Column: reason")` and left NULL.
fn parse_columns<'a, T: Clone>(
    names: &[&'static str],
    height: usize,
    get: &impl Fn(&str, usize) -> Option<&'a str>,
    parse: fn(&str) -> Result<T, String>,
    rejected: &mut Vec<(usize, String)>,
) -> Vec<(&'static str, Vec<Option<T>>)> {
    names
        .iter()
        .map(|&name| {
            let values = (0..height)
                .map(|row| {
                    let raw = get(name, row)?;
                    parse(raw)
                        .map_err(|e| rejected.push((row, format!("{name}: {e}"))))
                        .ok()
                })
                .collect();
            (name, values)
        })
        .collect()
}

fn month_of(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}
