//! Reading query results back into Rust values: a column of every batch as strings or numbers.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use crate::{Error, Result};

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
