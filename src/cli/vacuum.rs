//! `cloudoptima vacuum`: delete the data files lake tables no longer use — replaced by a later
//! write more than the retention period ago — so the lake stops growing and a plain Parquet reader
//! of a table's folder sees each row once. Each run does the same with `[lake] retention_hours`.

use super::{Context, EXIT_OK};
use crate::Result;
use crate::lake::Lake;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep replaced files younger than this many hours [default: `[lake] retention_hours`, 168].
    /// Readers of an older table version need its files until then.
    #[arg(long)]
    retention_hours: Option<u64>,
    /// List what would be deleted; delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let hours = args.retention_hours.unwrap_or(config.lake.retention_hours);
    let verb = if args.dry_run {
        "would be deleted"
    } else {
        "deleted"
    };
    let mut total = 0;
    for (table, files) in lake.vacuum_all(hours, args.dry_run).await? {
        if !files.is_empty() {
            println!("{table:<28} {:>6} file(s) {verb}", files.len());
            total += files.len();
        }
    }
    println!("{total} file(s) no longer used and older than {hours} hour(s) {verb}.");
    Ok(EXIT_OK)
}
