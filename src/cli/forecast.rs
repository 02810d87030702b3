//! `cloudoptima forecast`: run the forecast model on daily series from a CSV file (`series,date,value`),
//! outside any pipeline: to forecast data that is not in the lake, and for the forecast backtest,
//! which compares the model with other libraries on the same series through this command.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;

use super::EXIT_OK;
use crate::analyze::forecast;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV with a header and the columns `series,date,value` (date as YYYY-MM-DD, one row per
    /// series and day; missing days are interpolated).
    #[arg(long)]
    input: PathBuf,
    /// Days to forecast after each series' last day.
    #[arg(long, default_value_t = 90)]
    horizon: usize,
    /// Where to write `series,date,point,lower_80,upper_80,lower_95,upper_95,model`. Default:
    /// standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn exec(args: Args) -> Result<u8> {
    let file = args.input.display().to_string();
    let mut reader = csv::Reader::from_path(&args.input)
        .map_err(|e| Error::Invalid(vec![format!("{file}: {e}")]))?;
    let mut series: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let bad = |why: String| Error::Invalid(vec![format!("{file}: line {line}: {why}")]);
        let r = record.map_err(|e| bad(e.to_string()))?;
        let (Some(id), Some(day), Some(value)) = (r.get(0), r.get(1), r.get(2)) else {
            return Err(bad("expected series,date,value".into()));
        };
        let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
            .map_err(|_| bad(format!("`{day}` is not a YYYY-MM-DD date")))?;
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("`{value}` is not a number")))?;
        series.entry(id.to_string()).or_default().push((day, value));
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let io = |e: std::io::Error| Error::Internal(format!("writing the forecast: {e}"));
    writeln!(
        out,
        "series,date,point,lower_80,upper_80,lower_95,upper_95,model"
    )
    .map_err(io)?;
    let mut failed = Vec::new();
    for (id, points) in series {
        match forecast::forecast(&forecast::daily_series(&points), args.horizon) {
            Ok(f) => {
                for p in f.points {
                    writeln!(
                        out,
                        "{id},{},{},{},{},{},{},\"{}\"",
                        p.date, p.point, p.lower_80, p.upper_80, p.lower_95, p.upper_95, f.model
                    )
                    .map_err(io)?;
                }
            }
            Err(e) => failed.push(format!("{file}: series {id}: {e}")),
        }
    }
    out.flush().map_err(io)?;
    if failed.is_empty() {
        Ok(EXIT_OK)
    } else {
        Err(Error::Invalid(failed))
    }
}
