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

/// A batch built column by column, by name (the lake matches a batch's columns to a table's by
/// name, so the order does not matter and columns left out are written as NULL).
#[derive(Default)]
pub struct BatchBuilder {
    columns: Vec<(String, datafusion::arrow::array::ArrayRef)>,
}

impl BatchBuilder {
    pub fn text<S: AsRef<str>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<S>>,
    ) -> Self {
        use datafusion::arrow::array::StringArray;
        let array: StringArray = values.into_iter().collect();
        self.columns.push((name.into(), std::sync::Arc::new(array)));
        self
    }

    pub fn number(mut self, name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        use datafusion::arrow::array::Float64Array;
        let array: Float64Array = values.into_iter().collect();
        self.columns.push((name.into(), std::sync::Arc::new(array)));
        self
    }

    pub fn int(mut self, name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Self {
        use datafusion::arrow::array::Int64Array;
        let array: Int64Array = values.into_iter().collect();
        self.columns.push((name.into(), std::sync::Arc::new(array)));
        self
    }

    pub fn date(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = Option<chrono::NaiveDate>>,
    ) -> Self {
        use datafusion::arrow::array::Date32Array;
        let array: Date32Array = values.into_iter().map(|d| d.map(epoch_days)).collect();
        self.columns.push((name.into(), std::sync::Arc::new(array)));
        self
    }

    pub fn finish(self) -> Result<RecordBatch> {
        RecordBatch::try_from_iter(self.columns).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// A date column read back as text (`YYYY-MM-DD`, empty for NULL).
pub fn parse_day(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}
