//! Moving values between Rust and the lake: a column of every batch as strings or numbers, dates as
//! Arrow `Date32` days, text as a SQL literal.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use crate::{Error, Result};

/// Days since 1970-01-01: a date as Arrow's `Date32`.
pub fn epoch_days(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// `text` as a SQL string literal (`'it''s'`), for predicates built from names.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Column `i` of every batch as strings (NULL → empty).
pub fn strings(batches: &[RecordBatch], i: usize) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = cast(b.column(i), &DataType::Utf8).map_err(|e| Error::Internal(e.to_string()))?;
        let col = col.as_string::<i32>();
        out.extend((0..col.len()).map(|r| {
            if col.is_null(r) {
                String::new()
            } else {
                col.value(r).to_string()
            }
        }));
    }
    Ok(out)
}

/// Column `i` of every batch as numbers (NULL → 0).
pub fn numbers(batches: &[RecordBatch], i: usize) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for b in batches {
        let col =
            cast(b.column(i), &DataType::Float64).map_err(|e| Error::Internal(e.to_string()))?;
        let col = col.as_primitive::<Float64Type>();
        out.extend((0..col.len()).map(|r| if col.is_null(r) { 0.0 } else { col.value(r) }));
    }
    Ok(out)
}
