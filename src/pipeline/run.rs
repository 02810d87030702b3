//! One run of one pipeline: extract → transform → rules → forecast → report → delivery.
//!
//! This file only sequences the stages (each owned by its module) and records what each did through
//! one `Recorder`. A failed stage is recorded and the run goes on where that still makes sense (a
//! failing rule does not stop the forecast); analysis is skipped when extraction or the transform
//! failed, so a report never presents stale data as today's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use tracing::Instrument;

use super::spec::PipelineSpec;
use super::{housekeeping, manifest};
use crate::Result;
use crate::analyze::forecast;
use crate::analyze::rule_runner::{self, RuleOutcome, RulesInput};
use crate::assets::SqlSet;
use crate::config::Config;
use crate::extract::{self, ExtractContext};
use crate::lake::landing::LandingRecord;
use crate::lake::{Lake, RunKey, schema};
use crate::report::delivery::{self, Delivered};
use crate::transform;

/// How this process runs a pipeline (not what the pipeline does: that is the spec).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run date: analysis windows end here; the demo's data ends the day before.
    pub as_of: NaiveDate,
    /// Transform again what an earlier run landed instead of calling the sources.
    pub replay: Option<LandingRecord>,
    /// Skip extract and transform: the rules, forecast and report run over the lake as it is.
    pub no_extract: bool,
    /// The rules (and their shared views) to choose from.
    pub rules: SqlSet,
    /// The report queries.
    pub report_sql: SqlSet,
    /// How long to wait for a run of the same pipeline elsewhere to finish; `None`: refuse at
    /// once with [`Error::Busy`].
    pub wait_for_lease: Option<std::time::Duration>,
    /// Send the report even when one was already sent for this pipeline and date.
    pub resend: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StageStatus {
    Ok,
    Failed(String),
    Skipped(String),
}

impl StageStatus {
    pub fn label(&self) -> &'static str {
        match self {
            StageStatus::Ok => "ok",
            StageStatus::Failed(_) => "failed",
            StageStatus::Skipped(_) => "skipped",
        }
    }
    pub fn error(&self) -> Option<&str> {
        match self {
            StageStatus::Failed(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StageResult {
    pub name: &'static str,
    pub status: StageStatus,
    pub elapsed_ms: u64,
    pub rows: usize,
    /// One line on what the stage did.
    pub detail: String,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub pipeline: String,
    pub as_of: NaiveDate,
    pub stages: Vec<StageResult>,
    pub table_rows: BTreeMap<&'static str, usize>,
    pub rules: Vec<RuleOutcome>,
    /// Forecast totals for the next 30, 60 and 90 days (as far as the horizon reaches).
    pub forecast_totals: Vec<(u32, f64, f64, f64)>,
    /// When the lake is behind: the last day with cost and the days between it and the run date.
    pub forecast_behind: Option<(NaiveDate, i64)>,
    pub pdf: Option<PathBuf>,
    pub delivered: Option<Delivered>,
    /// This run's anomalies (new, continuing and resolved within its window).
    pub anomalies: Vec<crate::analyze::anomaly::Anomaly>,
    pub budgets: Vec<crate::analyze::budget::BudgetStatus>,
    pub alerts: Option<crate::alert::Delivery>,
    pub quarantined: usize,
    pub unreconciled: Vec<String>,
    pub strict: bool,
}

impl RunSummary {
    /// True when every stage succeeded and, under `strict`, nothing was quarantined.
    pub fn succeeded(&self) -> bool {
        self.stages
            .iter()
            .all(|s| !matches!(s.status, StageStatus::Failed(_)))
            && !(self.strict && self.quarantined > 0)
    }
}

/// Records each stage as it ends: into the summary, and to the caller's progress callback.
struct Recorder<'a> {
    summary: RunSummary,
    progress: &'a (dyn Fn(&StageResult) + Sync),
}

impl Recorder<'_> {
    fn record(
        &mut self,
        name: &'static str,
        started: Instant,
        status: StageStatus,
        rows: usize,
        detail: String,
    ) {
        let r = StageResult {
            name,
            status,
            elapsed_ms: started.elapsed().as_millis() as u64,
            rows,
            detail,
        };
        (self.progress)(&r);
        self.summary.stages.push(r);
    }

    fn ok(&mut self, name: &'static str, started: Instant, rows: usize, detail: String) {
        self.record(name, started, StageStatus::Ok, rows, detail);
    }

    fn failed(&mut self, name: &'static str, started: Instant, error: impl ToString) {
        let status = StageStatus::Failed(error.to_string());
        self.record(name, started, status, 0, String::new());
    }

    fn skipped(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            let status = StageStatus::Skipped(why.into());
            self.record(name, Instant::now(), status, 0, String::new());
        }
    }
}

fn new_run_id(pipeline: &str) -> String {
    let now = Utc::now();
    format!(
        "{pipeline}-{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        now.timestamp_subsec_micros() & 0xffff
    )
}

/// Run every stage of `spec` once. `progress` is called as each stage ends.
pub async fn run(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    progress: &(dyn Fn(&StageResult) + Sync),
) -> Result<RunSummary> {
    let key = RunKey {
        pipeline: spec.name.clone(),
        run_id: new_run_id(&spec.name),
        as_of: opts.as_of,
    };
    let lake = Lake::open(&config.lake.url)?;
    let lease =
        housekeeping::take_lease(config, &lake, &spec.name, &key.run_id, opts.wait_for_lease)
            .await?;
    let guard = lease.guard();
    let result = run_under_lease(
        config,
        spec,
        opts,
        progress,
        &lake.under_lease(guard.clone()),
        &key,
    )
    .await
    // A run that lost its lease may fail of anything (the run that took over cleared its
    // staging): the lost lease is the cause to tell.
    .map_err(|e| match guard.check() {
        Err(lost) if !matches!(e, crate::Error::LeaseLost { .. }) => {
            tracing::debug!(error = %e, "Run failed after losing its lease.");
            lost
        }
        _ => e,
    });
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "Could not release the lease; it expires by itself.");
    }
    result
}

/// [`run`] once the lease is held.
async fn run_under_lease(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    progress: &(dyn Fn(&StageResult) + Sync),
    lake: &Lake,
    key: &RunKey,
) -> Result<RunSummary> {
    let key = key.clone();
    let lake = lake.clone();
    let span = tracing::info_span!("run", run_id = %key.run_id, pipeline = %spec.name);
    async {
        let started = Utc::now();
        let landed_before = housekeeping::clean_dead_runs(config, &lake, &key).await;
        let mut rec = Recorder {
            summary: RunSummary {
                run_id: key.run_id.clone(),
                pipeline: spec.name.clone(),
                as_of: opts.as_of,
                stages: Vec::new(),
                table_rows: BTreeMap::new(),
                rules: Vec::new(),
                forecast_totals: Vec::new(),
                forecast_behind: None,
                pdf: None,
                delivered: None,
                anomalies: Vec::new(),
                budgets: Vec::new(),
                alerts: None,
                quarantined: 0,
                unreconciled: Vec::new(),
                strict: spec.strict,
            },
            progress,
        };

        let (transformed, complete) = if opts.no_extract {
            rec.skipped(&["extract", "transform"], "--no-extract: the lake as it is");
            (true, true)
        } else {
            extract_and_transform(config, spec, opts, &lake, &key, &landed_before, &mut rec).await?
        };
        if !transformed || !complete {
            let why = if transformed {
                "some scopes or files were not read; the lake holds everything that was"
            } else {
                "an earlier stage failed"
            };
            rec.skipped(
                &[
                    "rules",
                    "forecast",
                    "anomalies",
                    "budgets",
                    "report",
                    "deliver",
                    "alerts",
                    "export",
                ],
                why,
            );
            manifest::write(&lake, &rec.summary, started, Utc::now()).await?;
            return Ok(rec.summary);
        }

        // Each stage below records its own failure and the run goes on, except when the lease
        // is lost: then nothing more is written, sent or exported.
        lake.check_lease()?;
        let ctx = crate::lake::query::session(&config.query);
        lake.register_all(&ctx).await?;
        // The forecast, anomalies and budgets all end at the last day with cost: found once.
        let last = crate::analyze::scope::last_cost_day(&ctx, opts.as_of).await?;
        analyze(spec, opts, &lake, &ctx, &key, last, &mut rec).await;
        let alerts = watch(spec, &lake, &ctx, &key, last, &mut rec).await;

        // The rules and the forecast committed new table versions: report and count on a fresh session.
        lake.check_lease()?;
        let ctx = crate::lake::query::session(&config.query);
        lake.register_all(&ctx).await?;
        report_and_deliver(config, spec, opts, &lake, &ctx, &key, &mut rec).await;
        lake.check_lease()?;
        send_alerts(config, spec, &lake, &ctx, &key, &alerts, &mut rec).await;
        let sent = schema::alerts();
        ctx.deregister_table(sent.name)?;
        lake.register(&ctx, &sent).await?;

        for def in schema::all().iter().filter(|d| d.name != "_runs") {
            if let Ok(df) = ctx.table(def.name).await
                && let Ok(n) = df.count().await
            {
                rec.summary.table_rows.insert(def.name, n);
            }
        }
        lake.check_lease()?;
        export(config, spec, &lake, &mut rec).await;
        manifest::write(&lake, &rec.summary, started, Utc::now()).await?;
        // Files replaced longer ago than the retention period go: the lake stops growing, and a
        // plain Parquet reader sees each row once. A failure here loses nothing; the next run
        // tries again.
        match lake.vacuum_all(config.lake.retention_hours, false).await {
            Ok(tables) => {
                let files: usize = tables.iter().map(|(_, f)| f.len()).sum();
                tracing::info!(
                    files,
                    hours = config.lake.retention_hours,
                    "Vacuumed replaced files."
                );
            }
            Err(e) => tracing::warn!(error = %e, "Vacuum failed; the next run tries again."),
        }
        Ok(rec.summary)
    }
    .instrument(span)
    .await
}

/// Extract every source (or take what a replayed run landed), then transform what was read in full.
/// `landed_before`: what earlier runs landed, reused where a source delivers it again unchanged.
/// Returns whether the transform succeeded and whether every scope was read.
async fn extract_and_transform(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    lake: &Lake,
    key: &RunKey,
    landed_before: &crate::lake::landing::LandedBefore,
    rec: &mut Recorder<'_>,
) -> Result<(bool, bool)> {
    let t = Instant::now();
    let record = match &opts.replay {
        Some(replay) => {
            tracing::info!(run = %replay.run_id, "replaying what that run landed");
            replay.clone()
        }
        None => {
            let azure = tokio::sync::OnceCell::new();
            let cx = ExtractContext {
                landed_before,
                lake,
                run_id: &key.run_id,
                as_of: opts.as_of,
                azure_config: &config.azure,
                azure: &azure,
            };
            let record = extract::run_sources(&spec.sources, &cx, &spec.name).await;
            record.write(lake).await?;
            record
        }
    };
    for failure in &record.failed_scopes {
        tracing::error!(scope = %failure, "scope not read; its data in the lake is unchanged");
    }
    // A source that failed outright stops the run; scopes that failed are left out, and what
    // was read completely is still transformed, but nothing downstream presents a partial day.
    let ok_upstream = record.failed_sources.is_empty();
    let complete = ok_upstream && record.failed_scopes.is_empty();
    let mut problems = record.failed_sources.clone();
    problems.extend(
        record
            .failed_scopes
            .iter()
            .map(|f| format!("scope not read: {f}")),
    );
    let origin = match &opts.replay {
        Some(r) => format!("replayed from run {}", r.run_id),
        None => "landed".into(),
    };
    let not_read = if record.failed_scopes.is_empty() {
        String::new()
    } else {
        format!("; {} scope(s) not read", record.failed_scopes.len())
    };
    let detail = format!("{} file(s) {origin}{not_read}", record.landed.len());
    let status = if problems.is_empty() {
        StageStatus::Ok
    } else {
        StageStatus::Failed(problems.join("; "))
    };
    rec.record("extract", t, status, record.landed.len(), detail);

    // Transform what was read in full (not when a source failed outright).
    let t = Instant::now();
    if !ok_upstream {
        rec.skipped(&["transform"], "extract failed");
        return Ok((false, complete));
    }
    let aliases = config.tags.aliases();
    let result = transform::run(lake, &record.landed, &key.run_id, opts.as_of, &aliases)
        .instrument(tracing::info_span!("stage", name = "transform"))
        .await;
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            rec.failed("transform", t, e);
            return Ok((false, complete));
        }
    };
    rec.summary.quarantined = report.quarantined.len();
    rec.summary.unreconciled = report.unreconciled.clone();
    let tables: Vec<String> = report
        .rows
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    let reconciled = if report.unreconciled.is_empty() {
        "cost totals reconcile with the sources".to_string()
    } else {
        format!("NOT reconciled: {}", report.unreconciled.join("; "))
    };
    let detail = format!(
        "{}; {} quarantined; {reconciled}",
        tables.join(", "),
        report.quarantined.len()
    );
    let mut problems = report.unreconciled.clone();
    problems.extend(
        report
            .refused_files
            .iter()
            .map(|f| format!("file not read: {f}")),
    );
    let status = if problems.is_empty() {
        StageStatus::Ok
    } else {
        StageStatus::Failed(problems.join("; "))
    };
    rec.record("transform", t, status, report.rows.values().sum(), detail);
    // A lake that does not match its sources is not analysed or reported; a file that could not
    // be read leaves the day incomplete, like a scope that was not read.
    Ok((
        report.unreconciled.is_empty(),
        complete && report.refused_files.is_empty(),
    ))
}

/// The rules, then the forecast, each writing its own table.
async fn analyze(
    spec: &PipelineSpec,
    opts: &RunOptions,
    lake: &Lake,
    ctx: &datafusion::prelude::SessionContext,
    key: &RunKey,
    last: Option<NaiveDate>,
    rec: &mut Recorder<'_>,
) {
    let t = Instant::now();
    if spec.rules.enabled {
        let input = RulesInput {
            rules: &opts.rules,
            selection: &spec.rules,
            origin: &spec.file,
        };
        let out = rule_runner::run(lake, ctx, key, &input)
            .instrument(tracing::info_span!("stage", name = "rules"))
            .await;
        let detail = format!(
            "{} rule(s), {} finding(s), {} / month",
            out.rules.len(),
            out.findings,
            crate::format::money(out.rules.iter().map(|r| r.monthly_savings).sum())
        );
        let status = if out.errors.is_empty() {
            StageStatus::Ok
        } else {
            StageStatus::Failed(out.errors.join("; "))
        };
        rec.summary.rules = out.rules;
        rec.record("rules", t, status, out.findings, detail);
    } else {
        rec.skipped(&["rules"], "disabled in pipeline");
    }

    let t = Instant::now();
    if !spec.forecast.enabled {
        rec.skipped(&["forecast"], "disabled in pipeline");
        return;
    }
    let result = forecast::run(lake, ctx, key, &spec.forecast, last)
        .instrument(tracing::info_span!("stage", name = "forecast"))
        .await;
    match result {
        Ok(out) => {
            let p = &out.total;
            for days in [30u32, 60, 90]
                .into_iter()
                .filter(|d| *d as usize <= p.len())
            {
                let slice = &p[..days as usize];
                rec.summary.forecast_totals.push((
                    days,
                    slice.iter().map(|x| x.point).sum(),
                    slice.iter().map(|x| x.lower_80).sum(),
                    slice.iter().map(|x| x.upper_80).sum(),
                ));
            }
            let mut detail = format!(
                "{} day(s) ahead for {} series, total by {}",
                p.len(),
                out.series,
                out.model
            );
            if let Some(end) = out.history_end
                && end < opts.as_of - chrono::Duration::days(1)
            {
                let behind = (opts.as_of - end).num_days() - 1;
                detail.push_str(&format!(
                    "; history ends {end}, {behind} day(s) before the run date: the first {behind} forecast day(s) are already past"
                ));
                rec.summary.forecast_behind = Some((end, behind));
            }
            if !out.skipped.is_empty() {
                detail.push_str(&format!("; {} series not forecast", out.skipped.len()));
            }
            rec.ok("forecast", t, out.series, detail);
        }
        Err(e) => rec.failed("forecast", t, e),
    }
}

/// Anomalies and the spike rule, then budgets; returns the alerts they raise.
async fn watch(
    spec: &PipelineSpec,
    lake: &Lake,
    ctx: &datafusion::prelude::SessionContext,
    key: &RunKey,
    last: Option<NaiveDate>,
    rec: &mut Recorder<'_>,
) -> Vec<crate::alert::Alert> {
    use crate::alert;
    use crate::analyze::{anomaly, budget};
    let mut alerts = Vec::new();
    let t = Instant::now();
    if spec.anomalies.enabled {
        let result = anomaly::run(lake, ctx, key, &spec.anomalies, last)
            .instrument(tracing::info_span!("stage", name = "anomalies"))
            .await;
        match result {
            Ok(out) => {
                let counts = anomaly::counts(&out.anomalies);
                let n = |s| counts.get(s).copied().unwrap_or(0);
                let detail = format!(
                    "{} scope(s) judged to {}: {} new, {} continuing, {} resolved; {} spike(s)",
                    out.scopes,
                    out.last_day.map_or("-".into(), |d| d.to_string()),
                    n("new"),
                    n("continuing"),
                    n("resolved"),
                    out.spikes.len()
                );
                alerts.extend(alert::from_anomalies(&out));
                alerts.extend(alert::from_spikes(&out, spec.anomalies.spike_pct));
                rec.ok("anomalies", t, out.anomalies.len(), detail);
                rec.summary.anomalies = out.anomalies;
            }
            Err(e) => rec.failed("anomalies", t, e),
        }
    } else {
        rec.skipped(&["anomalies"], "disabled in pipeline");
    }
    let t = Instant::now();
    if spec.budgets.is_empty() {
        rec.skipped(&["budgets"], "no [[budgets]] in pipeline");
        return alerts;
    }
    // The budgets read this run's forecasts: the table as the forecast stage committed it.
    let forecasts = schema::forecasts();
    if ctx.deregister_table(forecasts.name).is_ok()
        && let Err(e) = lake.register(ctx, &forecasts).await
    {
        tracing::warn!(error = %e, "The forecasts table could not be read again; budgets forecast on their own.");
    }
    let result = budget::run(lake, ctx, key, &spec.budgets, last)
        .instrument(tracing::info_span!("stage", name = "budgets"))
        .await;
    match result {
        Ok(statuses) => {
            let over = statuses.iter().filter(|b| b.status() != "ok").count();
            let detail = format!("{} budget(s), {over} over or forecast over", statuses.len());
            alerts.extend(alert::from_budgets(&statuses));
            rec.ok("budgets", t, statuses.len(), detail);
            rec.summary.budgets = statuses;
        }
        Err(e) => rec.failed("budgets", t, e),
    }
    alerts
}

/// Send the run's alerts along the pipeline's routes.
async fn send_alerts(
    config: &Config,
    spec: &PipelineSpec,
    lake: &Lake,
    ctx: &datafusion::prelude::SessionContext,
    key: &RunKey,
    alerts: &[crate::alert::Alert],
    rec: &mut Recorder<'_>,
) {
    if spec.alerts.is_empty() {
        rec.skipped(&["alerts"], "no [[alerts]] routes in pipeline");
        return;
    }
    let t = Instant::now();
    let result = crate::alert::deliver(lake, ctx, key, config, &spec.alerts, alerts)
        .instrument(tracing::info_span!("stage", name = "alerts"))
        .await;
    match result {
        Ok(d) => {
            let sent = d.sent.values().sum();
            let status = if d.failures.is_empty() {
                StageStatus::Ok
            } else {
                StageStatus::Failed(d.failures.join("; "))
            };
            rec.record("alerts", t, status, sent, d.to_string());
            rec.summary.alerts = Some(d);
        }
        Err(e) => rec.failed("alerts", t, e),
    }
}

/// The pipeline's `[[exports]]`, each from the lake as this run left it.
async fn export(config: &Config, spec: &PipelineSpec, lake: &Lake, rec: &mut Recorder<'_>) {
    if spec.exports.is_empty() {
        rec.skipped(&["export"], "no [[exports]] in pipeline");
        return;
    }
    let t = Instant::now();
    let (mut rows, mut done, mut problems) = (0, Vec::new(), Vec::new());
    for e in &spec.exports {
        let datasets: Vec<_> = e
            .tables
            .iter()
            .cloned()
            .map(crate::export::Dataset::Table)
            .collect();
        let result =
            crate::export::export(lake, &datasets, &e.to, e.format, &config.query, &|_| {})
                .instrument(tracing::info_span!("stage", name = "export"))
                .await;
        match result {
            Ok(exported) => {
                rows += exported.iter().map(|x| x.rows as usize).sum::<usize>();
                done.push(format!("{} table(s) to {}", exported.len(), e.to));
            }
            Err(err) => problems.push(format!("export to {}: {err}", e.to)),
        }
    }
    let status = if problems.is_empty() {
        StageStatus::Ok
    } else {
        StageStatus::Failed(problems.join("; "))
    };
    rec.record("export", t, status, rows, done.join("; "));
}

/// The report from the lake, then its delivery.
async fn report_and_deliver(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    lake: &Lake,
    ctx: &datafusion::prelude::SessionContext,
    key: &RunKey,
    rec: &mut Recorder<'_>,
) {
    if !spec.report.enabled {
        rec.skipped(&["report", "deliver"], "disabled in pipeline");
        return;
    }
    let t = Instant::now();
    let options = crate::report::Options {
        title: &spec.report.title,
        showback_tag: spec.report.showback_tag.as_deref(),
        llm: config.llm.as_ref().filter(|_| spec.report.llm_summary),
        llm_names: spec.report.llm_resource_names,
        azure: &config.azure,
    };
    let written = crate::report::write(
        ctx,
        &opts.report_sql,
        &options,
        key,
        &config.output.reports_dir,
    )
    .instrument(tracing::info_span!("stage", name = "report"))
    .await;
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            rec.failed("report", t, e);
            rec.skipped(&["deliver"], "an earlier stage failed");
            return;
        }
    };
    let summary = match (&written.summary.model, &written.summary.fallback) {
        (Some(model), _) => format!("summary by {model}, numbers checked"),
        (None, Some(reason)) => format!("deterministic summary: {reason}"),
        (None, None) => "deterministic summary".into(),
    };
    rec.ok(
        "report",
        t,
        1,
        format!(
            "{} and {}; {summary}",
            written.path.display(),
            written.html_path.display()
        ),
    );
    rec.summary.pdf = Some(written.path.clone());
    let t = Instant::now();
    // A report already sent for this pipeline and date (by a run that may have died right after)
    // is not sent again unless asked.
    let record = delivery::SentRecord::path(key);
    if !opts.resend
        && !spec.report.recipients.is_empty()
        && let Ok(bytes) = lake.get(&record).await
    {
        let earlier = serde_json::from_slice::<delivery::SentRecord>(&bytes)
            .map(|r| {
                format!(
                    " by run {} at {}",
                    r.run_id,
                    r.sent_at.format("%Y-%m-%d %H:%M UTC")
                )
            })
            .unwrap_or_default();
        rec.skipped(
            &["deliver"],
            &format!(
                "already sent for {}{earlier}; `run --resend` sends it again",
                key.as_of
            ),
        );
        return;
    }
    // A run that lost its lease sends nothing: the run that took over may be sending this report.
    if let Err(e) = lake.check_lease() {
        rec.failed("deliver", t, e);
        return;
    }
    let sent = delivery::send_report(
        config.smtp.as_ref(),
        &config.azure,
        &config.output.outbox_dir,
        &spec.report.recipients,
        &spec.report.title,
        key,
        written,
    )
    .await;
    match sent {
        Ok(Some(d)) => {
            // Recorded before the run reports itself done: a re-run knows it was sent.
            let sent = delivery::SentRecord {
                run_id: key.run_id.clone(),
                sent_at: Utc::now(),
                to: d.to_string(),
            };
            if let Err(e) = lake
                .put(
                    &record,
                    serde_json::to_vec_pretty(&sent).expect("serializes"),
                )
                .await
            {
                tracing::warn!(error = %e, "The report was sent but could not be recorded; a re-run may send it again.");
            }
            rec.ok("deliver", t, 1, d.to_string());
            rec.summary.delivered = Some(d);
        }
        Ok(None) => rec.skipped(&["deliver"], "no recipients"),
        Err(e) => rec.failed("deliver", t, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's future is `Send`, so a scheduler can run pipelines on any worker thread. (The check is
    /// the compiler's: this does not build when a stage holds something that is not `Send`.)
    #[test]
    fn a_run_can_move_between_threads() {
        fn assert_send<T: Send>(_: &T) {}
        let config = Config::default();
        let spec = PipelineSpec::builtin_demo();
        let opts = RunOptions {
            as_of: NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date"),
            replay: None,
            no_extract: false,
            rules: SqlSet::rules(None),
            report_sql: SqlSet::report(None),
            wait_for_lease: None,
            resend: false,
        };
        let progress = |_: &StageResult| {};
        let run = run(&config, &spec, &opts, &progress);
        assert_send(&run);
    }
}
