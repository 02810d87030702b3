//! `cloudoptima status`: the last runs from the lake's `_runs` table, and how their cost data
//! reconciled with its sources (`reconciliation`).

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
    print_schedules(cx, Lake::open_existing(&config.lake.url).ok().as_ref()).await?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let sql = format!(
        "SELECT run_id, pipeline, CAST(as_of AS VARCHAR) AS as_of, \
         CAST(started_at AS VARCHAR) AS started_at, \
         ROUND(CAST(date_part('epoch', finished_at) - date_part('epoch', started_at) AS DOUBLE), 1) AS seconds, \
         status, errors FROM _runs ORDER BY started_at DESC LIMIT {}",
        args.last
    );
    let batches = super::sql::query(&lake, &sql, &config.query).await?;
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
    if lake.table_exists("reconciliation").await? {
        let sql = format!(
            "SELECT r.run_id, source, billing_period, cost_column, \
             ROUND(source_total, 2) AS source_total, ROUND(lake_total, 2) AS lake_total, \
             ROUND(quarantined_total, 2) AS quarantined, \
             CASE WHEN abs(difference) < 0.005 THEN 0 ELSE ROUND(difference, 2) END AS difference, \
             CASE WHEN reconciled THEN 'yes' ELSE 'NO' END AS reconciled, checked_against \
             FROM reconciliation r JOIN (SELECT run_id, started_at FROM _runs \
               ORDER BY started_at DESC LIMIT {}) runs ON r.run_id = runs.run_id \
             ORDER BY runs.started_at DESC, source, billing_period",
            args.last
        );
        let batches = super::sql::query(&lake, &sql, &config.query).await?;
        if batches.iter().any(|b| b.num_rows() > 0) {
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .map_err(|e| crate::Error::Query(e.to_string()))?;
            println!("\nCost totals against their sources:\n{text}");
        }
    }
    Ok(EXIT_OK)
}

/// Each pipeline's schedule, its next run and whether a run of it holds the lease now.
async fn print_schedules(cx: &Context, lake: Option<&Lake>) -> Result<()> {
    let specs = cx.pipelines()?;
    let now = chrono::Utc::now();
    println!("Pipelines ({}):", crate::pipeline::spec::origin(&specs));
    for spec in &specs {
        let when = match (&spec.schedule, crate::daemon::next_run(spec, now)) {
            (Some(s), Some(next)) => format!(
                "`{}` {}, next run {}",
                s.expression(),
                spec.timezone,
                next.with_timezone(&spec.timezone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
            ),
            (Some(s), None) => format!("`{}` never fires again", s.expression()),
            (None, _) => "no schedule (runs only with `cloudoptima run`)".into(),
        };
        let holder = match lake {
            Some(lake) => {
                crate::lake::lease::holder(lake, &format!("pipeline-{}", spec.name)).await?
            }
            None => None,
        };
        let running = holder.map_or(String::new(), |busy| format!("; running now: {busy}"));
        println!("  {:<20} {when}{running}", spec.name);
    }
    println!();
    Ok(())
}
