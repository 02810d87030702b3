//! Quarantined records read back from their file, to show the value that could not be read.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;

use polars::prelude::*;

use super::{Format, VALUE_MARK};
use crate::transform::api_json;
use crate::{Error, Result};

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
        // A date that parsed but is out of range says why (a two-digit year), not just "cannot".
        let date = " as a date or time";
        match rest
            .strip_prefix(date)
            .map(|after| (after, why_not_a_date(value)))
        {
            Some((after, Some(why))) => {
                out.push_str(date);
                out.push_str(&format!(" ({why})"));
                out.push_str(after);
            }
            _ => out.push_str(rest),
        }
    }
    out
}

/// Why a value that reads as a date in either order is still refused, if it is.
fn why_not_a_date(value: &str) -> Option<String> {
    use crate::transform::parse::{DateOrder, timestamp_micros_in};
    [DateOrder::MonthFirst, DateOrder::DayFirst]
        .into_iter()
        .find_map(|order| timestamp_micros_in(value, order).err())
        .filter(|e| e.contains("before"))
}
