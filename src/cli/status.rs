//! `cloudoptima status`: the last runs from the lake's `_runs` table.

use super::{Context, EXIT_OK};
use crate::Result;
use crate::lake::Lake;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many runs to show, newest first.
    #[arg(long, default_value_t = 10)]
    last: usize,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let sql = format!(
        "SELECT run_id, pipeline, CAST(as_of AS VARCHAR) AS as_of, \
         CAST(started_at AS VARCHAR) AS started_at, \
         ROUND(CAST(date_part('epoch', finished_at) - date_part('epoch', started_at) AS DOUBLE), 1) AS seconds, \
         status, errors FROM _runs ORDER BY started_at DESC LIMIT {}",
        args.last
    );
    let batches = super::sql::query(&lake, &sql).await?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        println!(
            "No runs recorded in {} yet. Start one with `cloudoptima run`.",
            config.lake.url
        );
        return Ok(EXIT_OK);
    }
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .map_err(|e| crate::Error::Query(e.to_string()))?;
    println!("{text}");
    Ok(EXIT_OK)
}
