//! `cloudoptima daemon`: run every pipeline on its `schedule` until SIGTERM or SIGINT, with
//! `/healthz` and `/metrics` when `--listen` (or `[daemon] listen`) says where.

use super::{Context, EXIT_OK, EXIT_USAGE};
use crate::Result;
use crate::daemon::Daemon;
use crate::pipeline::RunOptions;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Schedules are cron expressions with seconds (`sec min hour day-of-month month day-of-week`) \
in each pipeline's `timezone` (default UTC): `schedule = \"0 0 6 * * *\"` runs at 06:00 every day.
A pipeline never runs twice at once: a tick that comes while it runs is skipped (and logged), and a
run elsewhere on the same lake (`cloudoptima run`, another daemon) holds its lease. SIGTERM or Ctrl-C
stops scheduling and lets running pipelines finish for `[daemon] shutdown_grace_seconds`."
)]
pub struct Args {
    /// Serve `/healthz` and `/metrics` (Prometheus) on this address, e.g. `0.0.0.0:9184`
    /// [default: `[daemon] listen`; none].
    #[arg(long)]
    listen: Option<String>,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let Some((config, checked)) = super::validate::ready(cx, "daemon").await else {
        return Ok(EXIT_USAGE);
    };
    let listen = args.listen.or_else(|| config.daemon.listen.clone());
    let now = chrono::Utc::now();
    for spec in &checked.specs {
        match crate::daemon::next_run(spec, now) {
            Some(next) => tracing::info!(
                pipeline = %spec.name,
                schedule = spec.schedule.as_ref().map(|s| s.expression()).unwrap_or_default(),
                timezone = %spec.timezone,
                next = %next.with_timezone(&spec.timezone).format("%Y-%m-%d %H:%M:%S %Z"),
                "Scheduled."
            ),
            None => tracing::info!(pipeline = %spec.name, "No schedule: not run by the daemon."),
        }
    }
    let daemon = Daemon {
        options: RunOptions {
            as_of: now.date_naive(),
            replay: None,
            no_extract: false,
            rules: checked.rules,
            report_sql: checked.report_sql,
            wait_for_lease: None,
            resend: false,
        },
        config,
        specs: checked.specs,
        listen,
    };
    daemon.run().await?;
    Ok(EXIT_OK)
}
