//! A CSV file's records checked one by one before polars reads them, so one bad record costs that
//! record and not the file.
//!
//! The `csv` crate reads the raw bytes: a record that is not UTF-8 text, or has more or fewer fields
//! than the header (a stray delimiter, an unterminated quote), is set aside with its line and reason;
//! every other record is copied to a clean file (plain CSV, the original starting line in a
//! [`LINE`] column) that polars then types. Along the way it decides the file's date order (see
//! [`DateOrder`]) and sums the source's cost column as written, for reconciliation.

use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Format;
use crate::transform::dialect::normalize_name;
use crate::transform::parse;
pub use crate::transform::parse::DateOrder;
use crate::{Error, Result};

/// Column of the clean file holding each record's first line in the original file.
pub const LINE: &str = "__line";

/// A record set aside, with why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// 1-based line the record starts on (the header is line 1).
    pub line: i64,
    pub reason: String,
    /// The record as text (bytes that are not UTF-8 shown as U+FFFD).
    pub raw: String,
    /// The record's cost value as written, when it could be read.
    pub cost: Option<f64>,
}

/// What vetting found.
#[derive(Debug)]
pub struct Vetted {
    pub order: DateOrder,
    pub rejected: Vec<Rejected>,
    /// Sum of the cost column over the records copied to the clean file (values that are not
    /// finite numbers count nothing; the transform quarantines those rows).
    pub copied_cost: f64,
}

/// The header of a CSV file (byte-order mark removed). Refuses a header that is not UTF-8 or
/// names one column twice (in any case: `BilledCost` and `billedcost` would feed one column).
pub fn header(path: &Path, format: Format, key: &str) -> Result<Vec<String>> {
    let mut csv = reader(path, format)?;
    let mut record = csv::ByteRecord::new();
    let refused = |message: String| Error::Data {
        file: key.to_string(),
        message,
    };
    csv.read_byte_record(&mut record)
        .map_err(|e| refused(format!("cannot read the header: {e}")))?;
    let mut names = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| refused(format!("header column {} is not UTF-8 text", i + 1)))?;
        let name = if i == 0 {
            name.trim_start_matches('\u{feff}')
        } else {
            name
        };
        names.push(name.to_string());
    }
    for (i, name) in names.iter().enumerate() {
        let norm = normalize_name(name);
        if norm.is_empty() {
            continue;
        }
        if let Some(first) = names[..i].iter().find(|n| normalize_name(n) == norm) {
            return Err(refused(format!(
                "the header names one column twice: `{first}` and `{name}` (columns are matched \
                 without regard to case or spaces, so one would silently replace the other)"
            )));
        }
    }
    Ok(names)
}

fn reader(path: &Path, format: Format) -> Result<csv::Reader<Box<dyn Read>>> {
    reader_counting(path, format, Arc::default())
}

/// A reader of the file's text that counts the quote characters it hands on. A well-formed CSV
/// has an even number (each quoted field opens and closes; an escaped quote is doubled), so an odd
/// count at the end means the last quoted field was never closed and ran to the end of the file.
fn reader_counting(
    path: &Path,
    format: Format,
    quotes: Arc<AtomicU64>,
) -> Result<csv::Reader<Box<dyn Read>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let raw: Box<dyn Read> = match format {
        Format::CsvGzip => Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file))),
        _ => Box::new(BufReader::new(file)),
    };
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Box::new(QuoteCount { inner: raw, quotes })))
}

struct QuoteCount {
    inner: Box<dyn Read>,
    quotes: Arc<AtomicU64>,
}

impl Read for QuoteCount {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let quotes = buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        self.quotes.fetch_add(quotes, Ordering::Relaxed);
        Ok(n)
    }
}

/// Evidence for a date order: the first value that proves it.
#[derive(Default)]
struct OrderEvidence {
    day_first: Option<(i64, String)>,
    month_first: Option<(i64, String)>,
}

/// `(a, b)` of a value that starts `a/b/yyyy`.
fn slash_date(field: &str) -> Option<(u32, u32)> {
    let mut parts = field.trim().splitn(3, '/');
    let a = parts.next()?;
    let b = parts.next()?;
    let rest = parts.next()?;
    let digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
    let year = rest.get(..4)?;
    if !digits(a) || !digits(b) || !year.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// What a file says about itself, for vetting.
pub struct Known<'a> {
    /// The file's name in errors.
    pub key: &'a str,
    /// Index of the source's cost column, if it has one.
    pub cost: Option<usize>,
    /// The date order the file's producer documents (an Azure export, known by its manifest, writes
    /// month first); `None` when only the file's values can tell.
    pub documented_order: Option<DateOrder>,
}

/// Copy the good records of `path` to `clean` (plain CSV with the header and a [`LINE`] column),
/// setting the bad ones aside.
pub fn vet(
    path: &Path,
    format: Format,
    header: &[String],
    known: &Known<'_>,
    clean: &Path,
) -> Result<Vetted> {
    let (key, cost) = (known.key, known.cost);
    let quotes = Arc::new(AtomicU64::new(0));
    let mut csv = reader_counting(path, format, quotes.clone())?;
    let out = std::fs::File::create(clean).map_err(|e| Error::io(clean, e))?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(out));
    // Records with a date that only the file's order can read wait here until the order is known.
    let held_path = clean.with_extension("held.csv");
    let held = std::fs::File::create(&held_path).map_err(|e| Error::io(&held_path, e))?;
    let mut held = csv::Writer::from_writer(std::io::BufWriter::new(held));
    let write_err = |e: csv::Error| Error::io(clean, std::io::Error::other(e.to_string()));
    let mut head = csv::ByteRecord::new();
    for h in header {
        head.push_field(h.as_bytes());
    }
    head.push_field(LINE.as_bytes());
    writer.write_byte_record(&head).map_err(write_err)?;

    let mut evidence = OrderEvidence::default();
    let mut rejected = Vec::new();
    let (mut copied_cost, mut held_cost, mut held_lines) = (0.0, 0.0, Vec::new());
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    let mut pending: Option<(csv::ByteRecord, bool, Option<f64>)> = None;
    let mut write_good = |r: csv::ByteRecord, ambiguous: bool, value: Option<f64>| -> Result<()> {
        if ambiguous {
            held.write_byte_record(&r).map_err(write_err)?;
            held_cost += value.unwrap_or(0.0);
            held_lines.push(last_line(&r));
        } else {
            writer.write_byte_record(&r).map_err(write_err)?;
            copied_cost += value.unwrap_or(0.0);
        }
        Ok(())
    };
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Only an I/O error (a truncated or corrupt gzip stream) stops the reader: the
                // file's end is unknown, so none of it is taken (never half a file).
                let _ = std::fs::remove_file(&held_path);
                let line = e.position().map_or(0, |p| p.line());
                return Err(Error::Data {
                    file: key.to_string(),
                    message: format!("cannot be read past line {line}: {e}"),
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line() as i64);
        if std::mem::take(&mut first) {
            continue; // the header
        }
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        let raw = || text_of(&record);
        let cost_of = |r: &csv::ByteRecord| cost_in(r, cost);
        if record.len() != header.len() {
            rejected.push(Rejected {
                line,
                reason: format!(
                    "the record has {} field(s) where the header has {} (a stray delimiter or an \
                     unterminated quote?)",
                    record.len(),
                    header.len()
                ),
                raw: raw(),
                cost: None,
            });
            continue;
        }
        if let Some((i, e)) = record
            .iter()
            .enumerate()
            .find_map(|(i, f)| std::str::from_utf8(f).err().map(|e| (i, e)))
        {
            let field = record.get(i).unwrap_or_default();
            let at = e.valid_up_to();
            rejected.push(Rejected {
                line,
                reason: format!(
                    "{}: not UTF-8 text (byte 0x{:02X} at position {})",
                    header[i],
                    field.get(at).copied().unwrap_or(0),
                    at + 1
                ),
                raw: raw(),
                cost: cost_of(&record),
            });
            continue;
        }
        let mut ambiguous = false;
        for field in record.iter() {
            let text = std::str::from_utf8(field).expect("checked above");
            if let Some((a, b)) = slash_date(text) {
                if a > 12 && evidence.day_first.is_none() {
                    evidence.day_first = Some((line, text.trim().to_string()));
                } else if b > 12 && evidence.month_first.is_none() {
                    evidence.month_first = Some((line, text.trim().to_string()));
                } else if a <= 12 && b <= 12 && a != b {
                    ambiguous = true;
                }
            }
        }
        let value = cost_of(&record);
        record.push_field(line.to_string().as_bytes());
        // Each good record is written when the next is read: the last one waits for the check
        // of the file's quotes.
        if let Some((prev, prev_ambiguous, prev_cost)) = pending.take() {
            write_good(prev, prev_ambiguous, prev_cost)?;
        }
        pending = Some((record.clone(), ambiguous, value));
    }
    if let Some((last, last_ambiguous, last_cost)) = pending.take() {
        if quotes.load(Ordering::Relaxed) % 2 == 1 {
            let line = last_line(&last);
            let mut fields = last.clone();
            fields.truncate(fields.len() - 1);
            rejected.push(Rejected {
                line,
                reason: "a quoted field opened in this record is never closed: it runs to the end \
                         of the file and takes every line after it"
                    .into(),
                raw: text_of(&fields),
                cost: None,
            });
        } else {
            write_good(last, last_ambiguous, last_cost)?;
        }
    }
    held.flush().map_err(|e| Error::io(&held_path, e))?;
    drop(held);
    let order = match (&evidence.day_first, &evidence.month_first) {
        (Some((dl, dv)), Some((ml, mv))) => {
            let _ = std::fs::remove_file(&held_path);
            return Err(Error::Data {
                file: key.to_string(),
                message: format!(
                    "its dates disagree on their order: {dv:?} (line {dl}) is day first, {mv:?} \
                     (line {ml}) is month first; no date of it can be trusted"
                ),
            });
        }
        (Some(_), None) => Some(DateOrder::DayFirst),
        (None, Some(_)) => Some(DateOrder::MonthFirst),
        (None, None) if held_lines.is_empty() => Some(DateOrder::MonthFirst),
        (None, None) => known.documented_order,
    };
    let mut held_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&held_path)
        .map_err(|e| Error::io(&held_path, std::io::Error::other(e.to_string())))?;
    for r in held_reader.byte_records() {
        let mut r = r.map_err(|e| Error::io(&held_path, std::io::Error::other(e.to_string())))?;
        if order.is_some() {
            writer.write_byte_record(&r).map_err(write_err)?;
        } else {
            let line = last_line(&r);
            r.truncate(r.len() - 1);
            let cost_value = cost_in(&r, cost);
            rejected.push(Rejected {
                line,
                reason: "a date such as 05/01/2026 could be day or month first, and no date in \
                         the file decides which (none has a part above 12)"
                    .into(),
                raw: text_of(&r),
                cost: cost_value,
            });
        }
    }
    let _ = std::fs::remove_file(&held_path);
    if order.is_some() {
        copied_cost += held_cost;
    }
    writer.flush().map_err(|e| Error::io(clean, e))?;
    rejected.sort_by_key(|r| r.line);
    Ok(Vetted {
        order: order.unwrap_or(DateOrder::MonthFirst),
        rejected,
        copied_cost,
    })
}

/// The record's value in column `cost` as written, when it is a finite number
/// ([`parse::number`]).
fn cost_in(record: &csv::ByteRecord, cost: Option<usize>) -> Option<f64> {
    let field = std::str::from_utf8(record.get(cost?)?).ok()?;
    parse::number(field.trim()).ok()
}

/// The record's fields as text, comma-separated (bytes that are not UTF-8 as U+FFFD).
fn text_of(record: &csv::ByteRecord) -> String {
    record
        .iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(",")
}

/// The [`LINE`] value a clean record ends with.
fn last_line(record: &csv::ByteRecord) -> i64 {
    std::str::from_utf8(record.get(record.len() - 1).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vet_text(text: &[u8]) -> (Result<Vetted>, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, text).unwrap();
        let clean = dir.path().join("clean.csv");
        let header = match header(&path, Format::Csv, "in.csv") {
            Ok(h) => h,
            Err(e) => return (Err(e), String::new()),
        };
        let known = Known {
            key: "in.csv",
            cost: Some(1),
            documented_order: None,
        };
        let out = vet(&path, Format::Csv, &header, &known, &clean);
        let copied = std::fs::read_to_string(&clean).unwrap_or_default();
        (out, copied)
    }

    #[test]
    fn bad_records_are_set_aside_with_their_line_and_the_rest_is_copied() {
        let text = b"Date,Cost,Name\n\
                     01/20/2026,1.5,a\n\
                     01/21/2026,2,b,extra\n\
                     01/22/2026,3,caf\xE9\n\
                     \"01/23/2026\",4,\"multi\nline\"\n\
                     01/24/2026,5,\"never closed\n\
                     01/25/2026,6,lost\n";
        let (out, copied) = vet_text(text);
        let out = out.unwrap();
        assert_eq!(out.order, DateOrder::MonthFirst);
        let lines: Vec<i64> = out.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 7], "{:?}", out.rejected);
        assert!(
            out.rejected[0]
                .reason
                .contains("4 field(s) where the header has 3")
        );
        assert!(out.rejected[1].reason.contains("Name: not UTF-8"));
        assert_eq!(out.rejected[1].cost, Some(3.0));
        // The copy keeps each good record's first line.
        assert!(copied.starts_with("Date,Cost,Name,__line\n"), "{copied}");
        assert!(copied.contains("1.5,a,2\n"), "{copied}");
        assert!(copied.contains("\"multi\nline\",5\n"), "{copied}");
        assert_eq!(out.copied_cost, 5.5);
    }

    #[test]
    fn one_value_decides_the_date_order_of_the_whole_file() {
        let (out, _) = vet_text(b"Date,Cost\n05/01/2026,1\n13/01/2026,2\n");
        assert_eq!(out.unwrap().order, DateOrder::DayFirst);
        let (out, _) = vet_text(b"Date,Cost\n05/01/2026,1\n01/13/2026,2\n");
        let out = out.unwrap();
        assert_eq!(out.order, DateOrder::MonthFirst);
        assert!(out.rejected.is_empty());
        // Nothing decides: the ambiguous rows are set aside, the unambiguous one is kept.
        let (out, copied) = vet_text(b"Date,Cost\n05/01/2026,1\n03/03/2026,2\n");
        let out = out.unwrap();
        assert_eq!(out.rejected.len(), 1);
        assert!(out.rejected[0].reason.contains("day or month first"));
        assert!(copied.contains("03/03/2026"));
        // Both orders: the file is refused.
        let (out, _) = vet_text(b"Date,Cost\n13/01/2026,1\n01/13/2026,2\n");
        assert!(out.unwrap_err().to_string().contains("disagree"));
    }

    #[test]
    fn a_truncated_gzip_file_is_refused_whole() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut text = String::from("Date,Cost\n");
        for d in 1..=28 {
            text.push_str(&format!("01/{d:02}/2026,{d}\n"));
        }
        gz.write_all(text.repeat(50).as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let header = header(&path, Format::CsvGzip, "cut.csv.gz").unwrap();
        let known = Known {
            key: "cut.csv.gz",
            cost: Some(1),
            documented_order: None,
        };
        let e = vet(
            &path,
            Format::CsvGzip,
            &header,
            &known,
            &dir.path().join("c.csv"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cut.csv.gz") && e.contains("cannot be read past line"),
            "{e}"
        );
    }

    #[test]
    fn a_column_named_twice_in_different_case_is_refused() {
        let (out, _) = vet_text(b"BilledCost,Cost,billedcost\n1,2,3\n");
        let e = out.unwrap_err().to_string();
        assert!(e.contains("BilledCost") && e.contains("billedcost"), "{e}");
    }
}
