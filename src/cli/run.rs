//! `cloudoptima run [PIPELINE…]`: run pipelines once and print what each stage did.

use chrono::{NaiveDate, Utc};

use super::{Context, EXIT_FAILED, EXIT_OK};
use crate::format::money;
use crate::pipeline::{self, RunOptions, StageResult, StageStatus};
use crate::{Error, Result, suggest};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pipelines to run, by name [default: all in the pipelines folder].
    names: Vec<String>,
    /// Run date (YYYY-MM-DD): analysis windows end here [default: today, UTC].
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Transform again what run RUN_ID landed (its pipeline, run date and raw files in
    /// `landing/`), without calling any source; then the rules, forecast and report as usual.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["names", "as_of"])]
    replay: Option<String>,
    /// Read no source and transform nothing: run the rules, forecast and report over the lake as
    /// it is (after changing a threshold, a rule or a suppression).
    #[arg(long, conflicts_with = "replay")]
    no_extract: bool,
    /// When a run of the same pipeline is in progress (here or on another machine sharing the
    /// lake), wait up to this many seconds for it to finish instead of refusing at once.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
    /// Email the report even if one was already sent for this pipeline and date (each sent
    /// report is recorded in the lake, so a re-run does not send it twice).
    #[arg(long)]
    resend: bool,
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("expected YYYY-MM-DD: {e}"))
}

/// One line on a stage that ended.
fn stage_line(s: &StageResult) -> String {
    let mark = match s.status {
        StageStatus::Ok => "ok  ",
        StageStatus::Failed(_) => "FAIL",
        StageStatus::Skipped(_) => "skip",
    };
    let secs = s.elapsed_ms as f64 / 1000.0;
    match &s.status {
        StageStatus::Failed(e) => format!("  [{mark}] {:<9} {secs:>6.1}s  {e}", s.name),
        StageStatus::Skipped(why) => format!("  [{mark}] {:<9}          {why}", s.name),
        StageStatus::Ok => format!("  [{mark}] {:<9} {secs:>6.1}s  {}", s.name, s.detail),
    }
}

pub async fn exec(cx: &Context, mut args: Args) -> Result<u8> {
    // Everything `validate` reports stops the run before any stage: nothing is found wrong halfway.
    let Some((config, checked)) = super::validate::ready(cx, "run").await else {
        return Ok(super::EXIT_USAGE);
    };
    let specs = checked.specs;
    let replay = match &args.replay {
        Some(run_id) => {
            let lake = crate::lake::Lake::open_existing(&config.lake.url)?;
            let record = crate::extract::LandingRecord::read(&lake, run_id).await?;
            args.names = vec![record.pipeline.clone()];
            args.as_of = Some(record.as_of);
            Some(record)
        }
        None => None,
    };
    let chosen: Vec<_> = if args.names.is_empty() {
        specs.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for name in &args.names {
            match specs.iter().find(|s| &s.name == name) {
                Some(s) => chosen.push(s),
                None => {
                    return Err(Error::Config {
                        file: pipeline::spec::origin(&specs),
                        message: format!(
                            "no pipeline named `{name}`{}",
                            suggest::hint(name, specs.iter().map(|s| s.name.as_str()))
                        ),
                    });
                }
            }
        }
        chosen
    };
    let opts = RunOptions {
        as_of: args.as_of.unwrap_or_else(|| Utc::now().date_naive()),
        replay,
        no_extract: args.no_extract,
        rules: checked.rules,
        report_sql: checked.report_sql,
        wait_for_lease: args.wait.map(std::time::Duration::from_secs),
        resend: args.resend,
    };
    let mut code = EXIT_OK;
    for spec in chosen {
        println!(
            "Pipeline `{}` (as of {}, lake {})",
            spec.name, opts.as_of, config.lake.url
        );
        let spinner = super::progress::Spinner::new(format!("`{}`: extract", spec.name));
        let progress = |s: &StageResult| {
            spinner.println(&stage_line(s));
            spinner.set(format!("`{}`: {} done, going on", spec.name, s.name));
        };
        let s = pipeline::run::run(&config, spec, &opts, &progress).await?;
        drop(spinner);
        println!(
            "Run {}: {}",
            s.run_id,
            if s.succeeded() { "succeeded" } else { "FAILED" }
        );
        println!("  Tables:");
        let width = s.table_rows.keys().map(|t| t.len()).max().unwrap_or(0);
        for (table, rows) in &s.table_rows {
            println!("    {table:<width$} {rows:>10} rows");
        }
        if !s.rules.is_empty() {
            println!("  Findings:");
            for r in &s.rules {
                println!(
                    "    {:<38} {:>5}  {:>12} / month  {:>6.2}s",
                    r.rule_id,
                    r.findings,
                    money(r.monthly_savings),
                    r.elapsed_ms as f64 / 1000.0
                );
            }
        }
        for (days, point, lo, hi) in &s.forecast_totals {
            println!(
                "  Forecast next {days:>2} days: {} (80%: {} - {})",
                money(*point),
                money(*lo),
                money(*hi)
            );
        }
        if let Some((end, behind)) = s.forecast_behind {
            println!(
                "  The lake's cost ends {end}, {behind} day(s) before the run date: the forecast starts the day after, so its first {behind} day(s) are already past."
            );
        }
        let open: Vec<_> = s
            .anomalies
            .iter()
            .filter(|a| a.status != crate::analyze::anomaly::Status::Resolved)
            .collect();
        if !open.is_empty() {
            println!("  Anomalies (new or continuing; all in the `anomalies` table):");
            for a in open.iter().take(10) {
                println!(
                    "    {:<10} {:<5} {:<50} {} to {}  {:>10}  cause: {}",
                    a.status.as_str(),
                    a.direction(),
                    a.scope.to_string(),
                    a.first_day,
                    a.last_day,
                    money(a.impact()),
                    a.causes
                        .first()
                        .and_then(|c| c.resource_id.clone().or(Some(c.meter.clone())))
                        .unwrap_or_else(|| "-".into())
                );
            }
            if open.len() > 10 {
                println!("    … and {} more", open.len() - 10);
            }
        }
        for b in &s.budgets {
            println!(
                "  Budget {}: {} of {} {} ({:.0}%), forecast {} ({:.0}%) by {}: {}",
                b.spec.name,
                money(b.actual),
                money(b.spec.amount),
                b.spec.currency,
                b.actual_pct(),
                money(b.forecast),
                b.forecast_pct(),
                b.period_end,
                b.status()
            );
        }
        if let Some(d) = &s.alerts {
            println!("  Alerts: {d}");
            for f in &d.failures {
                println!("    FAILED {f}");
            }
        }
        if s.quarantined > 0 {
            println!(
                "  Quarantined rows: {} (see the `quarantine` table)",
                s.quarantined
            );
        }
        if let Some(pdf) = &s.pdf {
            println!("  Report: {}", pdf.display());
        }
        if let Some(d) = &s.delivered {
            println!("  Email: {d}");
        }
        if !s.succeeded() {
            code = EXIT_FAILED;
        }
    }
    Ok(code)
}
