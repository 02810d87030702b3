//! One landed Cost Management or FOCUS file → staged Parquet rows for its table (`costs`, `prices`
//! or a `reservation_*` table), streamed through polars.
//!
//! polars scans the file lazily (CSV, gzip CSV or Parquet of any compression) and its streaming
//! engine reads it in morsels, so memory does not grow with the file. One plan types every column,
//! derives what legacy datasets lack (see [`super::dialect`]), lowercases join keys, canonicalizes
//! tags and fills costs, USD amounts, amortization class and savings; each change is named in
//! `x_SourceChanges`. A row that cannot be read stays in the staged file with its reason in
//! `__reason` and its text in `__raw`; the commit sends those rows to `quarantine` instead.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use super::dialect::{self, Dialect};
use super::{api_json, parse};
use crate::lake::landing::DatasetHint;
use crate::lake::schema::{COST_TYPES, ColumnTypes, PRICE_TYPES, RESERVATION_TABLES};
use crate::open_data as lookups;
use crate::{Error, Result};

/// Staged column holding why a row cannot be used (NULL for good rows).
pub const REASON: &str = "__reason";
/// Marks, in a reason, the name of the file's column whose value could not be read.
pub const VALUE_MARK: char = '\u{1}';
/// Staged column holding the 0-based data record number in the file.
pub const RECORD: &str = "__record";

/// Columns the transform itself sets; never read from a file.
const OWN_COLUMNS: &[&str] = &[
    "x_SourceChanges",
    "x_SourceDataset",
    "x_SourceFile",
    "x_SourceName",
];

/// Join keys: lowercased (display names are kept as given).
const JOIN_KEYS: &[&str] = &[
    "ResourceId",
    "SubAccountId",
    "x_ResourceGroupName",
    "x_SkuMeterId",
];

const DAY_MICROS: i64 = 86_400_000_000;

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
}

/// What staging found out about a file.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The lake table its rows go to: `costs`, `prices` or a `reservation_*` table.
    pub table: &'static str,
    pub format: Format,
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
    let path = PlRefPath::new(input.path.to_string_lossy().into_owned());
    let row_index = Some(RowIndex {
        name: RECORD.into(),
        offset: 0,
    });
    let mut scan = match format {
        Format::Parquet => LazyFrame::scan_parquet(
            path,
            ScanArgsParquet {
                row_index,
                ..Default::default()
            },
        )
        .map_err(data_err)?,
        Format::Json => {
            let bytes = std::fs::read(input.path).map_err(|e| Error::io(input.path, e))?;
            api_json::frame(&bytes, input.key)?
                .lazy()
                .with_row_index(RECORD, None)
        }
        Format::Csv | Format::CsvGzip => {
            if is_blank(input.path, format)? {
                return Ok(None);
            }
            LazyCsvReader::new(path)
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_row_index(row_index)
                .finish()
                .map_err(data_err)?
        }
    };
    let schema = scan.collect_schema().map_err(data_err)?;
    let headers: Vec<String> = schema
        .iter_names()
        .map(|n| n.to_string())
        .filter(|n| n != RECORD)
        .collect();
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

    let mut plan = Plan::new(&schema, &map);
    plan.type_columns(types, &targets);
    match dialect {
        Dialect::Legacy { amortized, .. } => plan.derive_legacy(amortized),
        Dialect::Focus => plan.derive_focus_preview(),
        Dialect::PriceSheet { .. } => plan.derive_prices(),
        Dialect::Reservation { .. } => {}
    }
    if table == "costs" {
        plan.require_period_and_cost();
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
    Ok(Some(Staged {
        table,
        format,
        dataset,
        ignored_columns: map.ignored,
    }))
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
fn joined(parts: &[Expr], sep: &str) -> Expr {
    if parts.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let s = concat_str(parts, sep, true);
    when(s.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(s)
}

fn null_of(dtype: DataType) -> Expr {
    lit(NULL).cast(dtype)
}

/// Lowercased `text` mapped through `pairs` (value → FOCUS value); NULL for any other value.
fn recode(text: &Expr, pairs: &[(&str, &str)]) -> Expr {
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
fn note_if(cond: Expr, note: impl Into<String>) -> Expr {
    when(cond)
        .then(lit(note.into()))
        .otherwise(null_of(DataType::String))
}

/// The per-file plan: typed value per target column, and the reasons and changes collected.
struct Plan<'a> {
    schema: &'a Schema,
    map: &'a dialect::ColumnMap,
    typed: Vec<(String, Expr)>,
    reasons: Vec<Expr>,
    changes: Vec<Expr>,
}

impl<'a> Plan<'a> {
    fn new(schema: &'a Schema, map: &'a dialect::ColumnMap) -> Self {
        Plan {
            schema,
            map,
            typed: Vec::new(),
            reasons: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The cleaned text of header column `exact`: trimmed; empty and `NULL` become NULL.
    fn text_of(&self, exact: &str) -> Expr {
        clean_text_udf(self.as_text(exact))
    }

    /// Header column `exact` as text, whatever its type (instants as RFC 3339 in UTC).
    fn as_text(&self, exact: &str) -> Expr {
        let c = col(exact);
        match self.schema.get(exact).cloned().unwrap_or(DataType::String) {
            DataType::String => c,
            DataType::Datetime(_, _) => c
                .dt()
                .timestamp(TimeUnit::Microseconds)
                .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                .dt()
                .strftime("%Y-%m-%dT%H:%M:%S%.fZ"),
            _ => c.cast(DataType::String),
        }
    }

    /// Text of a column the file may have, by (case-insensitive) name, with its exact header.
    fn source_text(&self, name: &str) -> Option<(String, Expr)> {
        self.map
            .by_source
            .get(&name.to_lowercase())
            .map(|exact| (exact.clone(), self.text_of(exact)))
    }

    fn legacy_text(&self, name: &str) -> Option<Expr> {
        self.source_text(name).map(|(_, e)| e)
    }

    /// The first source column feeding `target` and its type; `None` when the file has none.
    fn source_dtype(&self, target: &str) -> Option<(String, DataType)> {
        let exact = self.map.by_target.get(target)?.first()?;
        Some((
            exact.clone(),
            self.schema.get(exact).cloned().unwrap_or(DataType::String),
        ))
    }

    /// How a value's column is named in a reason: the target, and the file's header when it
    /// differs by more than case (`x_SkuTierMinimumUnits (TierMinimumUnits)`).
    fn label(&self, target: &str) -> String {
        match self.map.by_target.get(target).and_then(|s| s.first()) {
            Some(header) if dialect::normalize_name(header) != dialect::normalize_name(target) => {
                format!(
                    "{target} ({})",
                    header.trim_start_matches('\u{feff}').trim()
                )
            }
            _ => target.to_string(),
        }
    }

    /// The cleaned text feeding `target`: the first of its source columns that has a value.
    fn target_text(&self, target: &str) -> Expr {
        let texts: Vec<Expr> = self.map.by_target[target]
            .iter()
            .map(|exact| self.text_of(exact))
            .collect();
        if texts.len() == 1 {
            texts.into_iter().next().expect("one")
        } else {
            coalesce(&texts)
        }
    }

    fn set(&mut self, name: &str, e: Expr) {
        match self.typed.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = e,
            None => self.typed.push((name.to_string(), e)),
        }
    }

    fn get(&self, name: &str) -> Expr {
        self.typed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .expect("typed columns are set before they are read")
    }

    /// Record why a present `text` gave no `value`. The reason is a literal (cheap on every row)
    /// naming the file's column between [`VALUE_MARK`]s; [`describe`] puts the value in its place
    /// for the few rows that are quarantined.
    fn unreadable(&mut self, label: &str, header: &str, text: Expr, value: Expr, what: &str) {
        self.reasons.push(note_if(
            text.is_not_null().and(value.is_null()),
            format!("{label}: cannot read {VALUE_MARK}{header}{VALUE_MARK} as {what}"),
        ));
    }

    /// A number from text; a value that is not a number leaves a reason.
    fn number(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let value = text.clone().cast(DataType::Float64);
        self.unreadable(label, header, text, value.clone(), "a number");
        value
    }

    /// Microseconds since the epoch (UTC) from text; unreadable text leaves a reason.
    fn micros(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let value = micros_udf(text.clone());
        self.unreadable(label, header, text, value.clone(), "a date or time");
        value
    }

    /// The file's column feeding `target` (the first, when several do).
    fn header(&self, target: &str) -> String {
        self.map.by_target[target][0].clone()
    }

    /// Type every target column from its source column (or NULL when the file lacks it).
    fn type_columns(&mut self, types: &ColumnTypes, targets: &[&str]) {
        for &target in targets {
            let source = self.source_dtype(target);
            let e = if types.decimal.contains(&target) {
                match source {
                    None => null_of(DataType::Float64),
                    Some((exact, dt)) if dt.is_primitive_numeric() || dt.is_decimal() => {
                        col(exact.as_str()).cast(DataType::Float64)
                    }
                    Some(_) => {
                        let text = self.target_text(target);
                        self.number(&self.label(target), &self.header(target), text)
                    }
                }
            } else if types.timestamp.contains(&target) {
                match source {
                    None => null_of(DataType::Int64),
                    Some((exact, DataType::Date)) => col(exact.as_str())
                        .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                        .dt()
                        .timestamp(TimeUnit::Microseconds),
                    Some((exact, DataType::Datetime(_, _))) => {
                        col(exact.as_str()).dt().timestamp(TimeUnit::Microseconds)
                    }
                    Some(_) => {
                        let text = self.target_text(target);
                        self.micros(&self.label(target), &self.header(target), text)
                    }
                }
            } else if types.boolean.contains(&target) {
                match source {
                    None => null_of(DataType::Boolean),
                    Some((exact, DataType::Boolean)) => col(exact.as_str()),
                    Some(_) => {
                        let text = self.target_text(target);
                        self.boolean(&self.label(target), &self.header(target), text)
                    }
                }
            } else {
                match source {
                    None => null_of(DataType::String),
                    Some(_) => {
                        let text = self.target_text(target);
                        self.string(target, text)
                    }
                }
            };
            self.set(target, e);
        }
    }

    fn boolean(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let lower = text.clone().str().to_lowercase();
        let is_any = |values: &[&str]| {
            values
                .iter()
                .map(|v| lower.clone().eq(lit(*v)))
                .reduce(|a, b| a.or(b))
                .expect("non-empty")
        };
        let value = when(is_any(&["true", "1", "yes"]))
            .then(lit(true))
            .when(is_any(&["false", "0", "no"]))
            .then(lit(false))
            .otherwise(null_of(DataType::Boolean));
        self.unreadable(label, header, text, value.clone(), "true/false");
        value
    }

    /// Text columns: join keys lowercased, tags canonicalized.
    fn string(&mut self, target: &str, text: Expr) -> Expr {
        if JOIN_KEYS.contains(&target) {
            let lower = lowercase_udf(text.clone());
            self.changes.push(note_if(
                lower.clone().neq(text),
                format!("{target}:lowercased"),
            ));
            return lower;
        }
        if target == "Tags" {
            let canonical = tags_udf(text.clone());
            self.changes.push(note_if(
                canonical
                    .clone()
                    .is_not_null()
                    .and(canonical.clone().neq(text.clone())),
                "Tags:canonicalized",
            ));
            self.changes.push(note_if(
                canonical.clone().is_null().and(text.clone().is_not_null()),
                "Tags:kept-as-text (not a JSON object)",
            ));
            return coalesce(&[canonical, text]);
        }
        text
    }

    /// Legacy actual/amortized datasets: costs, periods, categories and ids FOCUS defines.
    fn derive_legacy(&mut self, amortized: bool) {
        let upper = |e: Option<Expr>| e.map(|t| t.str().to_lowercase());
        let charge_type =
            upper(self.legacy_text("ChargeType")).unwrap_or(null_of(DataType::String));
        let pricing_model =
            upper(self.legacy_text("PricingModel")).unwrap_or(null_of(DataType::String));
        let frequency = upper(self.legacy_text("Frequency")).unwrap_or(null_of(DataType::String));
        let is = |e: &Expr, v: &str| e.clone().eq(lit(v.to_lowercase()));
        let commitment = is(&pricing_model, "Reservation").or(is(&pricing_model, "SavingsPlan"));
        let unused =
            is(&charge_type, "UnusedReservation").or(is(&charge_type, "UnusedSavingsPlan"));
        let purchase = is(&charge_type, "Purchase");

        // Costs: actual datasets bill commitment purchases (effective cost comes from usage later);
        // amortized datasets spread them over usage (already paid, so not billed again).
        let billed_zero = commitment
            .clone()
            .and(is(&charge_type, "Usage").or(unused.clone()));
        let effective_zero = commitment.clone().and(purchase.clone());
        for (cost_col, billed, effective) in [
            ("CostInBillingCurrency", "BilledCost", "EffectiveCost"),
            ("Cost", "BilledCost", "EffectiveCost"),
            ("CostInUsd", "x_BilledCostInUsd", "x_EffectiveCostInUsd"),
        ] {
            let Some((header, text)) = self.source_text(cost_col) else {
                continue;
            };
            if cost_col == "Cost" && self.map.by_source.contains_key("costinbillingcurrency") {
                continue;
            }
            let cost = self.number(&header, &header, text);
            let zero = lit(0.0f64);
            let (b, e, note) = if amortized {
                (
                    when(billed_zero.clone()).then(zero).otherwise(cost.clone()),
                    cost,
                    note_if(
                        billed_zero.clone(),
                        format!("{billed}:zero-for-prepaid-commitment-usage"),
                    ),
                )
            } else {
                (
                    cost.clone(),
                    when(effective_zero.clone()).then(zero).otherwise(cost),
                    note_if(
                        effective_zero.clone(),
                        format!("{effective}:zero-for-commitment-purchase"),
                    ),
                )
            };
            self.set(billed, b);
            self.set(effective, e);
            self.changes.push(note);
        }

        // Periods: legacy end dates are inclusive days; FOCUS ends are exclusive instants.
        if let Some((header, text)) = self.source_text("BillingPeriodEndDate") {
            let end = self.micros(&header, &header, text) + lit(DAY_MICROS);
            self.set("BillingPeriodEnd", end);
        }
        let start = self.get("ChargePeriodStart");
        self.set("ChargePeriodEnd", start + lit(DAY_MICROS));

        // Ids: subscription GUIDs become the ARM id FOCUS exports use.
        if let Some(text) = self.legacy_text("SubscriptionId") {
            let lower = text.str().to_lowercase();
            let id = when(lower.clone().str().starts_with(lit("/subscriptions/")))
                .then(lower.clone())
                .otherwise(concat_str([lit("/subscriptions/"), lower], "", false));
            self.set("SubAccountId", id);
            self.set("SubAccountType", lit("Subscription"));
        }
        if let Some(text) = self.legacy_text("ResourceLocation") {
            self.set("RegionId", lookups::region_id(text.clone()));
            self.set("RegionName", lookups::region_name(text));
        }
        // Quantities: legacy quantities count pricing blocks (`10K` units); FOCUS consumed
        // quantities count units.
        if let Some(unit) = self.legacy_text("UnitOfMeasure") {
            let block = lookups::pricing_block_size(unit.clone());
            let distinct = lookups::distinct_unit(unit);
            let quantity = self.get("PricingQuantity");
            self.changes.push(note_if(
                block
                    .clone()
                    .neq(lit(1.0))
                    .and(quantity.clone().is_not_null()),
                "ConsumedQuantity:blocks-times-block-size",
            ));
            self.set(
                "ConsumedQuantity",
                quantity * coalesce(&[block.clone(), lit(1.0)]),
            );
            self.set("x_PricingBlockSize", block);
            self.set("PricingUnit", distinct.clone());
            self.set("ConsumedUnit", distinct);
        }
        self.set("x_ResourceType", lookups::arm_type(self.get("ResourceId")));
        self.set(
            "ResourceType",
            lookups::resource_type_name(self.get("ResourceId")),
        );
        let service = lookups::service_name(self.get("x_ConsumedService"), self.get("ResourceId"));
        self.set(
            "ServiceName",
            coalesce(&[service, self.get("x_SkuMeterCategory")]),
        );
        let category =
            lookups::service_category(self.get("x_ConsumedService"), self.get("ResourceId"));
        self.set("ServiceCategory", category);

        // Categories.
        let text_or_null = |e: Expr| e.cast(DataType::String);
        self.set(
            "ChargeCategory",
            when(is(&charge_type, "Usage").or(unused.clone()))
                .then(lit("Usage"))
                .when(purchase.clone().or(is(&charge_type, "Refund")))
                .then(lit("Purchase"))
                .when(is(&charge_type, "Tax"))
                .then(lit("Tax"))
                .when(charge_type.clone().is_not_null())
                .then(lit("Adjustment"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "ChargeClass",
            when(is(&charge_type, "Refund"))
                .then(lit("Correction"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "CommitmentDiscountStatus",
            when(unused.clone())
                .then(lit("Unused"))
                .when(commitment.clone().and(is(&charge_type, "Usage")))
                .then(lit("Used"))
                .otherwise(null_of(DataType::String)),
        );
        self.set(
            "PricingCategory",
            recode(
                &pricing_model,
                &[
                    ("ondemand", "Standard"),
                    ("reservation", "Committed"),
                    ("savingsplan", "Committed"),
                    ("spot", "Dynamic"),
                ],
            ),
        );
        self.set(
            "CommitmentDiscountType",
            recode(
                &pricing_model,
                &[
                    ("reservation", "Reservation"),
                    ("savingsplan", "Savings Plan"),
                ],
            ),
        );
        self.set(
            "CommitmentDiscountCategory",
            recode(
                &pricing_model,
                &[("reservation", "Usage"), ("savingsplan", "Spend")],
            ),
        );
        self.set(
            "ChargeFrequency",
            recode(
                &frequency,
                &[
                    ("onetime", "One-Time"),
                    ("recurring", "Recurring"),
                    ("usagebased", "Usage-Based"),
                ],
            ),
        );
        self.set("ProviderName", text_or_null(lit("Microsoft")));
        self.set("InvoiceIssuerName", text_or_null(lit("Microsoft")));
        let currency = self.get("BillingCurrency");
        let pricing_currency = self.get("PricingCurrency");
        self.set("PricingCurrency", coalesce(&[pricing_currency, currency]));
    }

    /// Price sheets: pricing units from the unit of measure; a price needs its meter.
    fn derive_prices(&mut self) {
        let unit = self.get("x_PricingUnitDescription");
        self.set(
            "x_PricingBlockSize",
            lookups::pricing_block_size(unit.clone()),
        );
        self.set("PricingUnit", lookups::distinct_unit(unit));
        let meter = self.get("x_SkuMeterId");
        self.reasons.push(note_if(
            meter.is_null(),
            "MeterId: missing (a price needs its meter)",
        ));
    }

    /// FOCUS 1.0-preview's `ChargeSubcategory` became `CommitmentDiscountStatus` and `ChargeClass`.
    fn derive_focus_preview(&mut self) {
        let Some(sub) = self.legacy_text("ChargeSubcategory") else {
            return;
        };
        let sub = sub.str().to_lowercase();
        let status = self.get("CommitmentDiscountStatus");
        self.set(
            "CommitmentDiscountStatus",
            coalesce(&[
                status,
                recode(
                    &sub,
                    &[("used commitment", "Used"), ("unused commitment", "Unused")],
                ),
            ]),
        );
        let class = self.get("ChargeClass");
        self.set(
            "ChargeClass",
            coalesce(&[class, recode(&sub, &[("refund", "Correction")])]),
        );
    }

    /// A charge needs its period and a cost; rows without them are quarantined.
    fn require_period_and_cost(&mut self) {
        let (bps, cps) = (
            self.get("BillingPeriodStart"),
            self.get("ChargePeriodStart"),
        );
        self.reasons.push(note_if(
            bps.is_null().and(cps.is_null()),
            "ChargePeriodStart: missing (a charge needs its period)",
        ));
        let (billed, effective) = (self.get("BilledCost"), self.get("EffectiveCost"));
        self.reasons.push(note_if(
            billed.is_null().and(effective.is_null()),
            "BilledCost and EffectiveCost: both missing",
        ));
    }

    /// CSV only: records whose every field is empty (blank lines between records) are not rows.
    fn non_blank(&self, headers: &[String]) -> Expr {
        headers
            .iter()
            .map(|h| col(h.as_str()).is_not_null())
            .reduce(|a, b| a.or(b))
            .expect("a header has columns")
    }
}

/// Fills that read the typed columns: costs from each other, ContractedCost and ListCost from unit
/// prices, provider, amortization class, savings and the billing period.
fn fill(lf: LazyFrame, dialect: &Dialect) -> LazyFrame {
    let c = |n: &str| col(n);
    let mut notes = vec![col("__changes")];
    let filled = |target: &str, from: Expr, note: &str, notes: &mut Vec<Expr>| {
        notes.push(note_if(
            c(target).is_null().and(from.clone().is_not_null()),
            note,
        ));
        coalesce(&[c(target), from]).alias(target)
    };
    let mut exprs = vec![
        filled(
            "EffectiveCost",
            c("BilledCost"),
            "EffectiveCost:filled-from-BilledCost",
            &mut notes,
        ),
        filled(
            "BilledCost",
            c("EffectiveCost"),
            "BilledCost:filled-from-EffectiveCost",
            &mut notes,
        ),
        filled(
            "ContractedCost",
            c("ContractedUnitPrice") * c("PricingQuantity"),
            "ContractedCost:unit-price-times-quantity",
            &mut notes,
        ),
        filled(
            "ListCost",
            c("ListUnitPrice") * c("PricingQuantity"),
            "ListCost:unit-price-times-quantity",
            &mut notes,
        ),
    ];
    if *dialect == Dialect::Focus {
        exprs.push(filled(
            "ProviderName",
            lit("Unknown"),
            "ProviderName:filled-Unknown",
            &mut notes,
        ));
    }
    // The notes read the values before the fills, so they are computed alongside them.
    exprs.push(joined(&notes, ";").alias("__changes"));
    let lf = lf.with_columns(exprs);
    let mut notes = vec![col("__changes")];

    // Commitment purchases are the principal; usage they cover is the amortized charge. Counting
    // both would count the commitment twice, so savings are left out for principal rows.
    let principal = c("ChargeCategory")
        .eq(lit("Purchase"))
        .and(c("CommitmentDiscountId").is_not_null());
    let amortized_charge = c("ChargeCategory")
        .eq(lit("Usage"))
        .and(c("CommitmentDiscountStatus").is_not_null());
    let class = when(principal.clone())
        .then(lit("Principal"))
        .when(amortized_charge)
        .then(lit("Amortized Charge"))
        .otherwise(null_of(DataType::String));
    notes.push(note_if(
        c("x_AmortizationClass")
            .is_null()
            .and(class.clone().is_not_null()),
        "x_AmortizationClass:derived",
    ));
    // Money in USD beside the billing currency: the same amount when the billing currency is USD.
    let usd = c("BillingCurrency").eq(lit("USD"));
    let mut usd_fills = Vec::new();
    for (usd_col, billing_col) in [
        ("x_BilledCostInUsd", "BilledCost"),
        ("x_EffectiveCostInUsd", "EffectiveCost"),
        ("x_ListCostInUsd", "ListCost"),
        ("x_ContractedCostInUsd", "ContractedCost"),
    ] {
        let from = when(usd.clone())
            .then(c(billing_col))
            .otherwise(null_of(DataType::Float64));
        notes.push(note_if(
            c(usd_col).is_null().and(from.clone().is_not_null()),
            format!("{usd_col}:billing-currency-is-USD"),
        ));
        usd_fills.push(coalesce(&[c(usd_col), from]).alias(usd_col));
    }
    let saving = |a: &str, b: &str| {
        when(principal.clone())
            .then(null_of(DataType::Float64))
            .otherwise(c(a) - c(b))
    };
    let period = coalesce(&[c("BillingPeriodStart"), c("ChargePeriodStart")])
        .cast(DataType::Datetime(TimeUnit::Microseconds, None))
        .dt()
        .strftime("%Y-%m");
    let mut last = usd_fills;
    last.extend([
        coalesce(&[c("x_AmortizationClass"), class]).alias("x_AmortizationClass"),
        coalesce(&[
            c("x_NegotiatedDiscountSavings"),
            saving("ListCost", "ContractedCost"),
        ])
        .alias("x_NegotiatedDiscountSavings"),
        coalesce(&[
            c("x_CommitmentDiscountSavings"),
            saving("ContractedCost", "EffectiveCost"),
        ])
        .alias("x_CommitmentDiscountSavings"),
        coalesce(&[c("x_TotalSavings"), saving("ListCost", "EffectiveCost")])
            .alias("x_TotalSavings"),
        period.alias("BillingPeriod"),
        joined(&notes, ";").alias("x_SourceChanges"),
    ]);
    lf.with_columns(last)
}

/// Text with surrounding spaces trimmed and empty or `NULL` text as NULL ([`parse::present`]).
/// A column that needs none of that (the usual case) is passed on as it is, without a copy.
fn clean_text_udf(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let strings = c.str()?;
            let untidy = |s: &str| {
                s.is_empty()
                    || s.starts_with(char::is_whitespace)
                    || s.ends_with(char::is_whitespace)
                    || s.eq_ignore_ascii_case("null")
            };
            if !strings.iter().flatten().any(untidy) {
                return Ok(c);
            }
            let values: StringChunked = strings.iter().map(|v| parse::present(v)).collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Text lowercased; a column already all lowercase (ids usually are) is passed on without a copy.
fn lowercase_udf(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let strings = c.str()?;
            if !strings
                .iter()
                .flatten()
                .any(|s| s.chars().any(char::is_uppercase))
            {
                return Ok(c);
            }
            let values: StringChunked = strings.iter().map(|v| v.map(str::to_lowercase)).collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Text → microseconds since the epoch, with [`parse::timestamp_micros`]'s formats. Runs of equal
/// values (a day's rows share their dates) are parsed once.
fn micros_udf(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let strings = c.str()?;
            let mut last: Option<(&str, Option<i64>)> = None;
            let values: Int64Chunked = strings
                .iter()
                .map(|v| {
                    let s = v?;
                    match last {
                        Some((prev, parsed)) if prev == s => parsed,
                        _ => {
                            let parsed = parse::timestamp_micros(s).ok();
                            last = Some((s, parsed));
                            parsed
                        }
                    }
                })
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
    )
}

/// Tags text → canonical JSON ([`parse::canonical_tags`]), NULL where the text is not JSON.
fn tags_udf(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            let strings = c.str()?;
            let values: StringChunked = strings
                .iter()
                .map(|v| v.and_then(|s| parse::canonical_tags(s).ok().map(|(json, _)| json)))
                .collect();
            Ok(values.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// A quarantined record as the file holds it.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// 1-based line it starts on (the header is line 1); for Parquet, the 1-based row.
    pub line: i64,
    /// (header, value) of each field.
    pub fields: Vec<(String, String)>,
}

/// Most records read back from one Parquet file for quarantine (each is a separate slice).
const PARQUET_RECORDS_READ: usize = 1000;

/// Read back the given 0-based data records of a file, for quarantine: a CSV's line numbers count
/// lines inside quoted fields and skip blank lines as the scan does.
/// The first row of `frame` as the record numbered `record` (0-based; reported 1-based).
fn record_of(frame: &DataFrame, record: i64) -> Record {
    let fields = frame
        .columns()
        .iter()
        .map(|c| {
            let value = c
                .cast(&DataType::String)
                .ok()
                .and_then(|s| s.str().ok().and_then(|s| s.get(0).map(str::to_string)))
                .unwrap_or_default();
            (c.name().to_string(), value)
        })
        .collect();
    Record {
        line: record + 1,
        fields,
    }
}

pub fn read_records(path: &Path, format: Format, records: &[i64]) -> Result<HashMap<i64, Record>> {
    let mut wanted: Vec<i64> = records.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = HashMap::new();
    if format == Format::Json {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let frame = api_json::frame(&bytes, &path.display().to_string())?;
        for record in wanted {
            let row = frame.slice(record, 1);
            out.insert(record, record_of(&row, record));
        }
        return Ok(out);
    }
    if format == Format::Parquet {
        for record in wanted.into_iter().take(PARQUET_RECORDS_READ) {
            let frame = LazyFrame::scan_parquet(
                PlRefPath::new(path.to_string_lossy().into_owned()),
                ScanArgsParquet::default(),
            )
            .and_then(|lf| lf.slice(record, 1).collect())
            .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
            out.insert(record, record_of(&frame, record));
        }
        return Ok(out);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader: Box<dyn Read> = match format {
        Format::CsvGzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        _ => Box::new(file),
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(BufReader::new(reader));
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut next = wanted.iter().peekable();
    let mut record = csv::StringRecord::new();
    let mut index = 0i64;
    while next.peek().is_some() {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        if next.peek().is_some_and(|r| **r == index) {
            let line = record.position().map(|p| p.line() as i64).unwrap_or(0);
            let fields = headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect();
            out.insert(index, Record { line, fields });
            next.next();
        }
        index += 1;
    }
    Ok(out)
}

/// A staged reason with the unreadable values put in place of their column's marks.
pub fn describe(reason: &str, record: &Record) -> String {
    let mut out = String::new();
    let mut parts = reason.split(VALUE_MARK);
    out.push_str(parts.next().unwrap_or_default());
    while let (Some(header), Some(rest)) = (parts.next(), parts.next()) {
        let value = record
            .fields
            .iter()
            .find(|(h, _)| h == header)
            .map(|(_, v)| v.trim())
            .unwrap_or("?");
        out.push_str(&format!("{value:?}"));
        out.push_str(rest);
    }
    out
}
