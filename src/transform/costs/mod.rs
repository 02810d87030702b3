//! One landed Cost Management or FOCUS file → staged Parquet rows for its table (`costs`, `prices`
//! or a `reservation_*` table), streamed through polars.
//!
//! polars scans the file lazily (CSV, gzip CSV or Parquet of any compression) and its streaming
//! engine reads it in morsels, so memory does not grow with the file. One plan types every column,
//! derives what legacy datasets lack (see [`super::dialect`]), lowercases join keys, canonicalizes
//! tags and fills costs, USD amounts, amortization class and savings; each change is named in
//! `x_SourceChanges`. A row that cannot be read stays in the staged file with its reason in
//! `__reason` and its text in `__raw`; the commit sends those rows to `quarantine` instead.
//!
//! Here: the file's format and the staging of one file. `plan` types each column, `legacy`
//! derives what legacy datasets and price sheets lack, `fill` fills costs, savings and classes
//! from the typed columns, `udf` holds the per-value functions polars calls, and `records`
//! reads quarantined records back from the file.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use self::fill::fill;
use self::plan::Plan;
pub use self::records::{Record, describe, read_records};
use super::api_json;
use super::dialect::{self, Dialect};
use super::parse::DateOrder;
use crate::lake::landing::DatasetHint;
use crate::lake::schema::{COST_TYPES, ColumnTypes, PRICE_TYPES, RESERVATION_TABLES};
use crate::{Error, Result};

mod fill;
mod legacy;
mod plan;
mod records;
mod udf;
pub mod vet;

/// Staged column holding why a row cannot be used (NULL for good rows).
pub const REASON: &str = "__reason";
/// Marks, in a reason, the name of the file's column whose value could not be read.
pub const VALUE_MARK: char = '\u{1}';
/// Staged column holding the 0-based data record number in the file.
pub const RECORD: &str = "__record";

/// Columns the transform itself sets; never read from a file.
pub(super) const OWN_COLUMNS: &[&str] = &[
    "x_SourceChanges",
    "x_SourceDataset",
    "x_SourceFile",
    "x_SourceName",
];

/// Join keys: Azure ids lowercased (display names, and other providers' ids, are kept as given).
pub(super) const JOIN_KEYS: &[&str] = &[
    "ResourceId",
    "SubAccountId",
    "x_ResourceGroupName",
    "x_SkuMeterId",
];

pub(super) const DAY_MICROS: i64 = 86_400_000_000;

/// How the bytes of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    CsvGzip,
    Parquet,
    /// An Azure API page: a Cost Management query response or a Retail Prices page.
    Json,
}

impl Format {
    /// From the file's first bytes: Parquet's `PAR1`, gzip's `1f 8b`, a JSON object's `{`,
    /// anything else is CSV.
    pub fn sniff(path: &Path) -> Result<Format> {
        let mut head = [0u8; 16];
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let n = file.read(&mut head).map_err(|e| Error::io(path, e))?;
        Ok(match &head[..n] {
            [b'P', b'A', b'R', b'1', ..] => Format::Parquet,
            [0x1f, 0x8b, ..] => Format::CsvGzip,
            h if api_json::looks_like_json(h) => Format::Json,
            _ => Format::Csv,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::CsvGzip => "csv.gz",
            Format::Parquet => "parquet",
            Format::Json => "json",
        }
    }
}

/// One file to stage.
pub struct Input<'a> {
    /// The file on local disk.
    pub path: &'a Path,
    /// Stable name of the file (`x_SourceFile`, quarantine, errors).
    pub key: &'a str,
    /// The configured source that owns the rows (`x_SourceName`).
    pub source_name: &'a str,
    pub hint: &'a DatasetHint,
    /// The run's date: a charge dated more than a year after it is a misread, not a value to store.
    pub as_of: chrono::NaiveDate,
    /// Tag keys read as another key.
    pub tag_aliases: &'a crate::transform::parse::TagAliases,
}

/// A file's cost column summed as the source wrote it, apart from the typed rows, so the lake's
/// total can be checked against the source and not against the transform itself.
#[derive(Debug, Clone)]
pub struct SourceCost {
    /// The file's column (exact header).
    pub header: String,
    /// The lake column that takes its values unchanged (`BilledCost`, or `EffectiveCost` for an
    /// amortized legacy dataset).
    pub column: &'static str,
    /// Sum over the records staged (records set aside by vetting are not in it; their costs are in
    /// [`Staged::rejected`]).
    pub total: f64,
}

/// What staging found out about a file.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The lake table its rows go to: `costs`, `prices` or a `reservation_*` table.
    pub table: &'static str,
    /// The file's format as it landed.
    pub format: Format,
    /// The file whose records the staged `__record` numbers count: the vetted copy of a CSV file
    /// (plain CSV), the file itself otherwise; and its format.
    pub read_from: std::path::PathBuf,
    pub read_format: Format,
    /// Records vetting set aside (CSV only).
    pub rejected: Vec<vet::Rejected>,
    pub source_cost: Option<SourceCost>,
    /// `x_SourceDataset` of its rows.
    pub dataset: String,
    /// Header columns no FOCUS or `x_` column takes (reported in `data_quality`).
    pub ignored_columns: Vec<String>,
}

/// Stage `input` as Parquet at `<staging>/<table>/<n>.parquet`. `Ok(None)` for a file with no
/// header at all (empty).
pub fn stage(input: &Input<'_>, staging: &Path, n: usize) -> Result<Option<Staged>> {
    let data_err = |e: PolarsError| Error::Data {
        file: input.key.to_string(),
        message: e.to_string(),
    };
    let format = Format::sniff(input.path)?;
    let row_index = || {
        Some(RowIndex {
            name: RECORD.into(),
            offset: 0,
        })
    };
    let scan_path = |p: &Path| PlRefPath::new(p.to_string_lossy().into_owned());
    // CSV: the header is read first, to know the dialect and the cost column before the records
    // are vetted; polars then reads the clean copy.
    let csv_header = match format {
        Format::Csv | Format::CsvGzip => {
            if is_blank(input.path, format)? {
                return Ok(None);
            }
            Some(vet::header(input.path, format, input.key)?)
        }
        _ => None,
    };
    let mut scan = match (&csv_header, format) {
        (Some(_), _) => None,
        (None, Format::Parquet) => Some(
            LazyFrame::scan_parquet(
                scan_path(input.path),
                ScanArgsParquet {
                    row_index: row_index(),
                    ..Default::default()
                },
            )
            .map_err(data_err)?,
        ),
        (None, _) => {
            let bytes = std::fs::read(input.path).map_err(|e| Error::io(input.path, e))?;
            Some(
                api_json::frame(&bytes, input.key)?
                    .lazy()
                    .with_row_index(RECORD, None),
            )
        }
    };
    let headers: Vec<String> = match (&csv_header, &mut scan) {
        (Some(header), _) => header.clone(),
        (None, Some(scan)) => scan
            .collect_schema()
            .map_err(data_err)?
            .iter_names()
            .map(|n| n.to_string())
            .filter(|n| n != RECORD)
            .collect(),
        (None, None) => unreachable!("a file without a CSV header has a scan"),
    };
    if headers.is_empty() {
        return Ok(None);
    }
    let normalized: Vec<String> = headers.iter().map(|h| dialect::normalize_name(h)).collect();
    let dialect = dialect::detect(&normalized, input.hint, input.key)?;
    let (table, types) = match dialect {
        Dialect::PriceSheet { .. } => ("prices", &PRICE_TYPES),
        Dialect::Reservation { table } => (
            table,
            &RESERVATION_TABLES
                .iter()
                .find(|(t, _, _)| *t == table)
                .expect("detected from this list")
                .2,
        ),
        _ => ("costs", &COST_TYPES),
    };
    let targets = target_columns(types);
    let map = dialect::map_columns(&headers, &dialect, &targets);
    let dataset =
        (input.hint.label.clone()).unwrap_or_else(|| dialect.label(input.hint.version.as_deref()));

    let cost = dialect::reconciled_cost(&dialect, &map);
    let mut vetted = None;
    let mut read_from = input.path.to_path_buf();
    if let Some(header) = &csv_header {
        let clean = staging.join("clean").join(format!("{n:05}.csv"));
        std::fs::create_dir_all(staging.join("clean")).map_err(|e| Error::io(staging, e))?;
        let cost_index = cost
            .as_ref()
            .and_then(|(h, _)| header.iter().position(|x| x == h));
        let known = vet::Known {
            key: input.key,
            cost: cost_index,
            // Cost Management writes its legacy datasets month first.
            documented_order: input
                .hint
                .dataset
                .is_some()
                .then_some(DateOrder::MonthFirst),
        };
        let v = vet::vet(input.path, format, header, &known, &clean)?;
        scan = Some(
            LazyCsvReader::new(scan_path(&clean))
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_row_index(row_index())
                .finish()
                .map_err(data_err)?,
        );
        read_from = clean;
        vetted = Some(v);
    }
    let mut scan = scan.expect("every format has a scan");
    let schema = scan.collect_schema().map_err(data_err)?;
    // A column whose type holds no single value (a list, a struct) cannot feed a table column:
    // the file is refused naming it, not failed later by a cast that names nothing.
    for (target, sources) in &map.by_target {
        for source in sources {
            if let Some(dtype) = schema.get(source)
                && dtype.is_nested()
            {
                return Err(Error::Data {
                    file: input.key.to_string(),
                    message: format!(
                        "column `{source}` is of type {dtype}, which holds no single value for \
                         `{target}`"
                    ),
                });
            }
        }
    }
    let order = vetted.as_ref().map_or(DateOrder::MonthFirst, |v| v.order);
    let mut plan = Plan::new(&schema, &map, order, input.tag_aliases);
    plan.type_columns(types, &targets);
    match dialect {
        Dialect::Legacy { amortized, .. } => plan.derive_legacy(amortized),
        Dialect::Focus => plan.derive_focus_preview(),
        Dialect::PriceSheet { .. } => plan.derive_prices(),
        Dialect::Reservation { .. } => {}
    }
    if table == "costs" {
        plan.require_period_and_cost(input.as_of);
    }
    let blank_filter =
        matches!(format, Format::Csv | Format::CsvGzip).then(|| plan.non_blank(&headers));
    let (reasons, changes) = (joined(&plan.reasons, "; "), joined(&plan.changes, ";"));
    let mut selected: Vec<Expr> = plan
        .typed
        .iter()
        .map(|(name, e)| e.clone().alias(name.as_str()))
        .collect();
    selected.push(reasons.alias(REASON));
    selected.push(col(RECORD).cast(DataType::Int64));
    selected.push(if vetted.is_some() {
        col(vet::LINE).cast(DataType::Int64).alias(vet::LINE)
    } else {
        null_of(DataType::Int64).alias(vet::LINE)
    });
    selected.push(changes.alias("__changes"));

    let mut lf = scan;
    if let Some(filter) = blank_filter {
        lf = lf.filter(filter);
    }
    let lf = lf.select(selected);
    let lf = if table == "costs" {
        fill(lf, &dialect)
    } else {
        lf.with_column(col("__changes").alias("x_SourceChanges"))
    };
    let lf = lf
        .with_columns([
            lit(input.key.to_string()).alias("x_SourceFile"),
            lit(input.source_name.to_string()).alias("x_SourceName"),
            lit(dataset.clone()).alias("x_SourceDataset"),
        ])
        .drop(by_name(["__changes"], true, false));
    let out = staging.join(table).join(format!("{n:05}.parquet"));

    let target = SinkTarget::Path(PlRefPath::new(out.to_string_lossy().into_owned()));
    let options = ParquetWriteOptions {
        compression: ParquetCompression::Snappy,
        ..Default::default()
    };
    lf.sink(
        SinkDestination::File { target },
        FileWriteFormat::Parquet(Arc::new(options)),
        UnifiedSinkArgs {
            mkdir: true,
            ..Default::default()
        },
    )
    .map_err(data_err)?
    .collect_with_engine(Engine::Streaming)
    .map_err(data_err)?;
    let source_cost = match (&cost, &vetted) {
        (Some((header, column)), Some(v)) => Some(SourceCost {
            header: header.clone(),
            column,
            total: v.copied_cost,
        }),
        (Some((header, column)), None) if format == Format::Parquet => Some(SourceCost {
            header: header.clone(),
            column,
            total: parquet_sum(input.path, header).map_err(data_err)?,
        }),
        // An API page: the total the API gave for the page's group (on its first page).
        (Some((header, column)), None) if format == Format::Json => {
            input.hint.source_total.map(|total| SourceCost {
                header: header.clone(),
                column,
                total,
            })
        }
        _ => None,
    };
    Ok(Some(Staged {
        table,
        format,
        read_format: if vetted.is_some() {
            Format::Csv
        } else {
            format
        },
        read_from,
        dataset,
        ignored_columns: map.ignored,
        rejected: vetted.map(|v| v.rejected).unwrap_or_default(),
        source_cost,
    }))
}

/// The sum of a Parquet file's cost column as stored, read apart from the plan (non-finite values
/// count nothing).
fn parquet_sum(path: &Path, header: &str) -> PolarsResult<f64> {
    let value = plan::finite(col(header).cast(DataType::Float64));
    let frame = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().into_owned()),
        ScanArgsParquet::default(),
    )?
    .select([value.sum().alias("total")])
    .collect()?;
    Ok(frame.column("total")?.f64()?.get(0).unwrap_or(0.0))
}

/// Every column of a table a file can feed.
fn target_columns(types: &ColumnTypes) -> Vec<&'static str> {
    types
        .decimal
        .iter()
        .chain(types.timestamp)
        .chain(types.boolean)
        .chain(types.string)
        .copied()
        .filter(|c| !OWN_COLUMNS.contains(c))
        .collect()
}

/// True when a CSV file holds nothing but a byte-order mark and whitespace.
fn is_blank(path: &Path, format: Format) -> Result<bool> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader: Box<dyn Read> = match format {
        Format::CsvGzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        _ => Box::new(file),
    };
    let mut head = vec![0u8; 4096];
    let n = reader.read(&mut head).map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Ok(head.iter().all(u8::is_ascii_whitespace) && n < 4096)
}

/// Concatenate the non-NULL parts with `sep`; NULL when there are none.
pub(super) fn joined(parts: &[Expr], sep: &str) -> Expr {
    if parts.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let s = concat_str(parts, sep, true);
    when(s.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(s)
}

pub(super) fn null_of(dtype: DataType) -> Expr {
    lit(NULL).cast(dtype)
}

/// Lowercased `text` mapped through `pairs` (value → FOCUS value); NULL for any other value.
pub(super) fn recode(text: &Expr, pairs: &[(&str, &str)]) -> Expr {
    pairs
        .iter()
        .rev()
        .fold(null_of(DataType::String), |otherwise, (from, to)| {
            when(text.clone().eq(lit(*from)))
                .then(lit(*to))
                .otherwise(otherwise)
        })
}

/// `e` if `cond`, else NULL text: one entry of `x_SourceChanges` or of a reason.
pub(super) fn note_if(cond: Expr, note: impl Into<String>) -> Expr {
    when(cond)
        .then(lit(note.into()))
        .otherwise(null_of(DataType::String))
}

#[cfg(test)]
mod tests {
    //! Each test stages a small file written here and reads the staged Parquet back: what the plan
    //! typed, derived and quarantined, value by value.

    use super::*;

    /// Stage `text` as file `key` (with no manifest hint) and return the staged rows, sorted by
    /// line.
    fn stage_text(key: &str, text: &str) -> (Staged, DataFrame) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(key);
        std::fs::write(&path, text).unwrap();
        let hint = DatasetHint::default();
        let input = Input {
            path: &path,
            key,
            source_name: "test",
            hint: &hint,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            tag_aliases: &Default::default(),
        };
        let staging = dir.path().join("staging");
        let staged = stage(&input, &staging, 0).unwrap().expect("a header");
        let file = staging.join(staged.table).join("00000.parquet");
        let frame = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap()
            .sort([vet::LINE], Default::default())
            .unwrap();
        (staged, frame)
    }

    /// Write `frame` as the Parquet file `path` in `dir` and stage it.
    fn stage_parquet(
        dir: &tempfile::TempDir,
        path: &Path,
        frame: &mut DataFrame,
    ) -> Result<Option<Staged>> {
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(frame)
            .unwrap();
        let hint = DatasetHint::default();
        let key = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = Input {
            path,
            key: &key,
            source_name: "test",
            hint: &hint,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            tag_aliases: &Default::default(),
        };
        stage(&input, &dir.path().join("staging"), 0)
    }

    fn text(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
        let c = frame
            .column(column)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        let c = c.str().unwrap();
        (0..c.len()).map(|i| c.get(i).map(str::to_string)).collect()
    }

    fn number(frame: &DataFrame, column: &str) -> Vec<Option<f64>> {
        let c = frame.column(column).unwrap();
        let c = c.f64().unwrap();
        (0..c.len()).map(|i| c.get(i)).collect()
    }

    #[test]
    fn focus_columns_are_typed_and_unreadable_values_quarantine_their_row() {
        let csv = "BilledCost,EffectiveCost,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,ResourceId,Tags\n\
                   1.5E+2,150,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,EUR,/SUBSCRIPTIONS/ABC/resourceGroups/RG/x,\"{\"\" Env \"\":\"\"prod\"\"}\"\n\
                   12abc,3,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,EUR,NULL,\n\
                   4,4,,,EUR,,\n";
        let (staged, rows) = stage_text("focus.csv", csv);
        assert_eq!(staged.table, "costs");
        assert_eq!(rows.height(), 3);
        // Scientific notation is a number; `NULL` text is NULL; join keys are lowercased.
        assert_eq!(number(&rows, "BilledCost")[0], Some(150.0));
        assert_eq!(
            text(&rows, "ResourceId"),
            [
                Some("/subscriptions/abc/resourcegroups/rg/x".into()),
                None,
                None
            ]
        );
        // Tags: keys trimmed and lowercased, as a JSON object.
        assert_eq!(text(&rows, "Tags")[0].as_deref(), Some(r#"{"env":"prod"}"#));
        let reasons = text(&rows, REASON);
        assert_eq!(reasons[0], None);
        // A value that is not a number names its column; the row is kept for quarantine.
        let bad = reasons[1].as_deref().unwrap();
        assert!(
            bad.contains("BilledCost") && bad.contains("number"),
            "{bad}"
        );
        // A charge without its period cannot be used.
        let no_period = reasons[2].as_deref().unwrap();
        assert!(no_period.contains("ChargePeriodStart"), "{no_period}");
        assert_eq!(text(&rows, "x_SourceFile")[0].as_deref(), Some("focus.csv"));
    }

    #[test]
    fn azure_ids_are_lowercased_and_other_providers_ids_kept_as_written() {
        let csv = "BilledCost,ChargePeriodStart,ProviderName,ResourceId,SubAccountId\n\
                   1,2026-03-01,AWS,arn:aws:ec2:us-east-1:123456789012:instance/i-0ABCdef,123456789012\n\
                   2,2026-03-01,Microsoft,/SUBSCRIPTIONS/ABC/resourceGroups/RG/x,/subscriptions/ABC\n";
        let (_, rows) = stage_text("mixed.csv", csv);
        assert_eq!(
            text(&rows, "ResourceId"),
            [
                Some("arn:aws:ec2:us-east-1:123456789012:instance/i-0ABCdef".into()),
                Some("/subscriptions/abc/resourcegroups/rg/x".into())
            ]
        );
        assert_eq!(
            text(&rows, "SubAccountId")[1].as_deref(),
            Some("/subscriptions/abc")
        );
    }

    #[test]
    fn a_legacy_ea_actual_cost_row_comes_out_as_focus() {
        let csv = "\u{feff}Date,BillingPeriodStartDate,BillingPeriodEndDate,SubscriptionId,SubscriptionName,\
                   MeterCategory,MeterName,Quantity,EffectivePrice,Cost,UnitPrice,PayGPrice,BillingCurrency,\
                   ResourceLocation,ConsumedService,ResourceId,UnitOfMeasure,ResourceGroup,ChargeType,\
                   PricingModel,Frequency\n\
                   09/21/2023,09/01/2023,09/30/2023,1caaa5a3-2b66-438e-8ab4-bce37d518c5d,Research,\
                   Virtual Machines,B1s,24,0.0104,0.2496,0.0104,0.013,USD,uksouth,Microsoft.Compute,\
                   /subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d/resourceGroups/RG-WEB/providers/Microsoft.Compute/virtualMachines/vm1,\
                   1 Hour,RG-WEB,Usage,OnDemand,UsageBased\n";
        let (staged, rows) = stage_text("EA_ActualCost.csv", csv);
        assert_eq!(staged.table, "costs");
        assert_eq!(text(&rows, REASON), [None]);
        // US dates: the charge's day, its end exclusive (the next day), the billing period
        // (staged as microseconds since the epoch, UTC).
        let day = |c: &str| {
            let micros: i64 = text(&rows, c)[0].clone().unwrap().parse().unwrap();
            chrono::DateTime::from_timestamp_micros(micros)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string()
        };
        assert_eq!(day("ChargePeriodStart"), "2023-09-21");
        assert_eq!(day("ChargePeriodEnd"), "2023-09-22");
        assert_eq!(day("BillingPeriodStart"), "2023-09-01");
        // Actual cost: billed and effective are the cost; list cost from the pay-as-you-go price.
        assert_eq!(number(&rows, "BilledCost"), [Some(0.2496)]);
        assert_eq!(number(&rows, "EffectiveCost"), [Some(0.2496)]);
        let list = number(&rows, "ListCost")[0].unwrap();
        assert!((list - 24.0 * 0.013).abs() < 1e-9, "{list}");
        // FOCUS names for legacy values, ids and places.
        let one = |c: &str| text(&rows, c)[0].clone();
        assert_eq!(one("ChargeCategory").as_deref(), Some("Usage"));
        assert_eq!(one("PricingCategory").as_deref(), Some("Standard"));
        assert_eq!(
            one("SubAccountId").as_deref(),
            Some("/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d")
        );
        assert_eq!(one("RegionId").as_deref(), Some("uksouth"));
        assert_eq!(one("RegionName").as_deref(), Some("UK South"));
        assert_eq!(one("ServiceName").as_deref(), Some("Virtual Machines"));
        assert_eq!(one("x_ResourceGroupName").as_deref(), Some("rg-web"));
        assert!(one("x_SourceDataset").unwrap().contains("ActualCost"));
        // Every derivation is named.
        let changes = one("x_SourceChanges").unwrap_or_default();
        assert!(!changes.is_empty());
    }

    #[test]
    fn commitments_are_counted_once_in_actual_and_in_amortized_legacy_files() {
        let header = "Date,Cost,ChargeType,PricingModel,MeterCategory,BillingCurrency\n";
        // (09/21 tells the file's dates are month first.)
        let rows = "09/01/2023,100,Purchase,Reservation,Virtual Machines,USD\n\
                    09/02/2023,3.2,Usage,Reservation,Virtual Machines,USD\n\
                    09/02/2023,0.8,UnusedReservation,Reservation,Virtual Machines,USD\n\
                    09/21/2023,5,Usage,OnDemand,Virtual Machines,USD\n";
        // Actual cost: the purchase is billed, and is no effective cost (its usage carries that).
        let (_, actual) = stage_text("ActualCost_2023.csv", &format!("{header}{rows}"));
        assert_eq!(
            number(&actual, "BilledCost"),
            [Some(100.0), Some(3.2), Some(0.8), Some(5.0)]
        );
        assert_eq!(
            number(&actual, "EffectiveCost"),
            [Some(0.0), Some(3.2), Some(0.8), Some(5.0)]
        );
        // Amortized cost: prepaid usage and unused hours are not billed again.
        let (_, amortized) = stage_text("AmortizedCost_2023.csv", &format!("{header}{rows}"));
        assert_eq!(
            number(&amortized, "BilledCost")[1..],
            [Some(0.0), Some(0.0), Some(5.0)]
        );
        assert_eq!(
            number(&amortized, "EffectiveCost")[1..],
            [Some(3.2), Some(0.8), Some(5.0)]
        );
        let changes = text(&amortized, "x_SourceChanges");
        assert!(
            changes[1]
                .as_deref()
                .is_some_and(|c| c.contains("BilledCost:zero-for-prepaid-commitment-usage")),
            "{changes:?}"
        );
    }

    #[test]
    fn non_finite_parquet_amounts_are_quarantined_and_not_summed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("focus.parquet");
        let mut frame = df!(
            "BilledCost" => [1.5f64, f64::NAN, f64::INFINITY],
            "ChargePeriodStart" => ["2026-03-01", "2026-03-01", "2026-03-01"],
        )
        .unwrap();
        let staged = stage_parquet(&dir, &path, &mut frame).unwrap().unwrap();
        assert_eq!(staged.source_cost.as_ref().unwrap().total, 1.5);
        let file = dir.path().join("staging/costs/00000.parquet");
        let rows = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap()
            .sort([RECORD], Default::default())
            .unwrap();
        let reasons = text(&rows, REASON);
        assert_eq!(reasons[0], None);
        for r in &reasons[1..] {
            assert!(
                r.as_deref().unwrap().contains("is not a finite number"),
                "{r:?}"
            );
        }
        assert_eq!(number(&rows, "BilledCost")[1..], [None, None]);
    }

    #[test]
    fn a_parquet_column_of_a_type_with_no_single_value_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested.parquet");
        let costs = Series::new("BilledCost".into(), [1.0f64, 2.0])
            .implode()
            .unwrap()
            .into_series();
        let mut frame = DataFrame::new(
            1,
            vec![
                costs.into_column(),
                Column::new("ChargePeriodStart".into(), ["2026-03-01"]),
            ],
        )
        .unwrap();
        let e = stage_parquet(&dir, &path, &mut frame)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`BilledCost`") && e.contains("list"), "{e}");
    }

    #[test]
    fn an_empty_file_stages_nothing_and_an_unknown_header_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let hint = DatasetHint::default();
        for (name, text, ok) in [
            ("empty.csv", "\u{feff}\n  \n", true),
            ("other.csv", "a,b\n1,2\n", false),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let input = Input {
                path: &path,
                key: name,
                source_name: "test",
                hint: &hint,
                as_of: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
                tag_aliases: &Default::default(),
            };
            let out = stage(&input, &dir.path().join("staging"), 0);
            match (ok, out) {
                (true, Ok(None)) => {}
                (false, Err(e)) => assert!(e.to_string().contains("not a cost file"), "{e}"),
                (_, other) => panic!("{name}: {other:?}"),
            }
        }
    }
}
