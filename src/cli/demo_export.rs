//! `cloudoptima demo-export`: write the synthetic tenant's costs as a Cost Management FOCUS export
//! folder (`{out}/{export}/{yyyymmdd-yyyymmdd}/{run-id}/part_0_0001.csv[.gz]` plus `manifest.json`
//! per month), to try the `azure_exports` source without Azure and to feed the ingest benchmark.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use super::EXIT_OK;
use crate::extract::demo::{DemoSpec, DemoTenant};
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write the export into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Copies of the demo estate: 1 ≈ 16k rows over 13 months, 63 ≈ 1M, 624 ≈ 10M.
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Days of history, ending the day before `--as-of`.
    #[arg(long, default_value_t = 395)]
    history_days: u32,
    /// The run date the data ends before (YYYY-MM-DD). Default: today.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Export name (the folder under `--out`).
    #[arg(long, default_value = "demo-focus")]
    export: String,
    /// Run id (the folder under each date range).
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000001")]
    run_id: String,
    /// Compress the CSV files with gzip, as exports with compression turned on do.
    #[arg(long)]
    gzip: bool,
}

pub fn exec(args: Args) -> Result<u8> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let spec = DemoSpec {
        scale: args.scale,
        history_days: args.history_days,
        ..DemoSpec::default()
    };
    let tenant = DemoTenant::new(&spec, as_of);
    let mut current: Option<MonthFile> = None;
    let mut months = 0;
    let rows = tenant
        .write_cost_exports(|month, bytes| {
            if current.as_ref().is_none_or(|f| f.month != month) {
                if let Some(done) = current.take() {
                    done.finish(&args)?;
                }
                current = Some(MonthFile::create(&args, month, as_of)?);
                months += 1;
            }
            let file = current.as_mut().expect("created above");
            file.rows += bytes.iter().filter(|b| **b == b'\n').count() as u64;
            file.writer.write_all(bytes)
        })
        .map_err(|e| Error::io(&args.out, e))?;
    if let Some(done) = current.take() {
        done.finish(&args).map_err(|e| Error::io(&args.out, e))?;
    }
    println!(
        "Wrote {rows} cost rows in {months} monthly export run(s) under {}",
        args.out.display()
    );
    Ok(EXIT_OK)
}

/// One month's export run being written.
struct MonthFile {
    month: String,
    dir: PathBuf,
    data_name: String,
    writer: Box<dyn Write>,
    /// Lines written, header included.
    rows: u64,
    start: NaiveDate,
    end: NaiveDate,
    /// When the run was submitted: the morning of the run date.
    submitted: String,
}

impl MonthFile {
    fn create(args: &Args, month: &str, as_of: NaiveDate) -> std::io::Result<Self> {
        let start = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let next = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        }
        .expect("valid month");
        let end = next.pred_opt().expect("valid day");
        let range = format!("{}-{}", start.format("%Y%m%d"), end.format("%Y%m%d"));
        let dir = args.out.join(&args.export).join(range).join(&args.run_id);
        std::fs::create_dir_all(&dir)?;
        let data_name = if args.gzip {
            "part_0_0001.csv.gz"
        } else {
            "part_0_0001.csv"
        }
        .to_string();
        let file = std::io::BufWriter::new(std::fs::File::create(dir.join(&data_name))?);
        let writer: Box<dyn Write> = if args.gzip {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            ))
        } else {
            Box::new(file)
        };
        Ok(MonthFile {
            month: month.to_string(),
            dir,
            data_name,
            writer,
            rows: 0,
            start,
            end,
            submitted: format!("{}T06:00:00Z", as_of.format("%Y-%m-%d")),
        })
    }

    /// Close the data file and write the run's manifest beside it.
    fn finish(mut self, args: &Args) -> std::io::Result<()> {
        self.writer.flush()?;
        drop(self.writer);
        let data = self.dir.join(&self.data_name);
        let bytes = std::fs::metadata(&data)?.len();
        let range = relative(&self.dir, &args.out);
        let manifest = serde_json::json!({
            "manifestVersion": "2024-04-01",
            "byteCount": bytes,
            "blobCount": 1,
            "dataRowCount": self.rows.saturating_sub(1),
            "exportConfig": {
                "exportName": args.export,
                "resourceId": format!("/providers/Microsoft.Billing/billingAccounts/demo/providers/Microsoft.CostManagement/exports/{}", args.export),
                "dataVersion": "1.2",
                "apiVersion": "2025-03-01",
                "type": "FocusCost",
                "timeFrame": "MonthToDate",
                "granularity": "Daily",
            },
            "deliveryConfig": {
                "partitionData": true,
                "dataOverwriteBehavior": "CreateNewReport",
                "fileFormat": "Csv",
                "compressData": if args.gzip { "Gzip" } else { "None" },
                "containerName": "exports",
                "rootFolderPath": "",
            },
            "runInfo": {
                "executionType": "Scheduled",
                "submittedTime": self.submitted,
                "runId": args.run_id,
                "startDate": format!("{}T00:00:00", self.start.format("%Y-%m-%d")),
                "endDate": format!("{}T00:00:00", self.end.format("%Y-%m-%d")),
            },
            "blobs": [{
                "blobName": format!("{range}/{}", self.data_name),
                "byteCount": bytes,
                "dataRowCount": self.rows.saturating_sub(1),
            }],
        });
        std::fs::write(
            self.dir.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?,
        )
    }
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
