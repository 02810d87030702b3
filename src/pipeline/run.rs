//! One run of one pipeline: extract → transform → rules → forecast → report → delivery.
//!
//! Each stage runs in its own tracing span and is timed. A failed stage is recorded and the run goes
//! on where that still makes sense (a failing rule does not stop the forecast); analysis is skipped
//! when extraction or the transform failed, so a report never presents stale data as today's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::prelude::SessionContext;
use tracing::Instrument;

use super::manifest;
use super::spec::PipelineSpec;
use crate::analyze::{forecast, lifecycle, rules};
use crate::config::Config;
use crate::extract::{self, ExtractContext, LandingRecord};
use crate::lake::{Lake, WriteMode, columns, schema};
use crate::report::delivery::{self, Delivered};
use crate::report::{model, pdf};
use crate::transform::{self, inventory::epoch_days};
use crate::{Error, Result};

/// How this process runs a pipeline (not what the pipeline does: that is the spec).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The run date: analysis windows end here; the demo's data ends the day before.
    pub as_of: NaiveDate,
    /// Transform again what an earlier run landed instead of calling the sources.
    pub replay: Option<LandingRecord>,
    /// Skip extract and transform: the rules, forecast and report run over the lake as it is.
    pub no_extract: bool,
    pub rules_dir: PathBuf,
    pub report_sql_dir: PathBuf,
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

/// Findings of one rule.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    pub rule_id: String,
    pub findings: usize,
    pub monthly_savings: f64,
    /// How long the rule's query took (planning and execution).
    pub elapsed_ms: u64,
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
    pub pdf: Option<PathBuf>,
    pub delivered: Option<Delivered>,
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
    let run_id = new_run_id(&spec.name);
    let span = tracing::info_span!("run", run_id = %run_id, pipeline = %spec.name);
    async {
        let started = Utc::now();
        let lake = Lake::open(&config.lake.url)?;
        let mut s = RunSummary {
            run_id: run_id.clone(),
            pipeline: spec.name.clone(),
            as_of: opts.as_of,
            stages: Vec::new(),
            table_rows: BTreeMap::new(),
            rules: Vec::new(),
            forecast_totals: Vec::new(),
            pdf: None,
            delivered: None,
            quarantined: 0,
            unreconciled: Vec::new(),
            strict: spec.strict,
        };
        let stage = |s: &mut RunSummary, name, t: Instant, status, rows, detail: String| {
            let r = StageResult {
                name,
                status,
                elapsed_ms: t.elapsed().as_millis() as u64,
                rows,
                detail,
            };
            progress(&r);
            s.stages.push(r);
        };

        let (transformed, complete) = if opts.no_extract {
            for name in ["extract", "transform"] {
                let why = "--no-extract: the lake as it is".to_string();
                stage(
                    &mut s,
                    name,
                    Instant::now(),
                    StageStatus::Skipped(why),
                    0,
                    String::new(),
                );
            }
            (true, true)
        } else {
            extract_and_transform(config, spec, opts, &lake, &run_id, &mut s, &stage).await?
        };
        let skip = |s: &mut RunSummary, names: &[&'static str], why: &str| {
            for name in names {
                let status = StageStatus::Skipped(why.into());
                stage(s, name, Instant::now(), status, 0, String::new());
            }
        };
        if !transformed || !complete {
            let why = if transformed {
                "some scopes were not read; the lake holds every scope that was"
            } else {
                "an earlier stage failed"
            };
            skip(&mut s, &["rules", "forecast", "report", "deliver"], why);
            manifest::write(&lake, &s, started, Utc::now()).await?;
            return Ok(s);
        }

        let ctx = crate::lake::session();
        lake.register_all(&ctx).await?;

        // Rules.
        let t = Instant::now();
        if spec.rules.enabled {
            let (status, rows) = run_rules(&lake, &ctx, spec, opts, &run_id, &mut s.rules)
                .instrument(tracing::info_span!("stage", name = "rules"))
                .await;
            let detail = format!(
                "{} rule(s), {} finding(s), {} / month",
                s.rules.len(),
                rows,
                model::money(s.rules.iter().map(|r| r.monthly_savings).sum())
            );
            stage(&mut s, "rules", t, status, rows, detail);
        } else {
            skip(&mut s, &["rules"], "disabled in pipeline");
        }

        // Forecast.
        let t = Instant::now();
        let mut points = Vec::new();
        if spec.forecast.enabled {
            let result = run_forecast(&lake, &ctx, spec, opts, &run_id)
                .instrument(tracing::info_span!("stage", name = "forecast"))
                .await;
            match result {
                Ok(p) => {
                    for days in [30u32, 60, 90]
                        .into_iter()
                        .filter(|d| *d as usize <= p.len())
                    {
                        let slice = &p[..days as usize];
                        s.forecast_totals.push((
                            days,
                            slice.iter().map(|x| x.point).sum(),
                            slice.iter().map(|x| x.lower_80).sum(),
                            slice.iter().map(|x| x.upper_80).sum(),
                        ));
                    }
                    let n = p.len();
                    points = p;
                    stage(
                        &mut s,
                        "forecast",
                        t,
                        StageStatus::Ok,
                        n,
                        format!("{n} day(s) ahead, model {}", forecast::MODEL),
                    );
                }
                Err(e) => stage(
                    &mut s,
                    "forecast",
                    t,
                    StageStatus::Failed(e.to_string()),
                    0,
                    String::new(),
                ),
            }
        } else {
            skip(&mut s, &["forecast"], "disabled in pipeline");
        }

        // The rules and the forecast committed new table versions: report and count on a fresh session.
        let ctx = crate::lake::session();
        lake.register_all(&ctx).await?;

        // Report and delivery.
        if spec.report.enabled {
            let t = Instant::now();
            match build_report(&ctx, config, spec, opts, points).await {
                Ok((path, pdf_bytes, summary_text)) => {
                    stage(
                        &mut s,
                        "report",
                        t,
                        StageStatus::Ok,
                        1,
                        format!("{}", path.display()),
                    );
                    s.pdf = Some(path.clone());
                    let t = Instant::now();
                    match deliver(config, spec, opts, &path, pdf_bytes, &summary_text).await {
                        Ok(Some(d)) => {
                            stage(&mut s, "deliver", t, StageStatus::Ok, 1, d.to_string());
                            s.delivered = Some(d);
                        }
                        Ok(None) => stage(
                            &mut s,
                            "deliver",
                            t,
                            StageStatus::Skipped("no recipients".into()),
                            0,
                            String::new(),
                        ),
                        Err(e) => stage(
                            &mut s,
                            "deliver",
                            t,
                            StageStatus::Failed(e.to_string()),
                            0,
                            String::new(),
                        ),
                    }
                }
                Err(e) => {
                    stage(
                        &mut s,
                        "report",
                        t,
                        StageStatus::Failed(e.to_string()),
                        0,
                        String::new(),
                    );
                    skip(&mut s, &["deliver"], "an earlier stage failed");
                }
            }
        } else {
            skip(&mut s, &["report", "deliver"], "disabled in pipeline");
        }

        for def in schema::all().iter().filter(|d| d.name != "_runs") {
            if let Ok(df) = ctx.table(def.name).await
                && let Ok(n) = df.count().await
            {
                s.table_rows.insert(def.name, n);
            }
        }
        manifest::write(&lake, &s, started, Utc::now()).await?;
        Ok(s)
    }
    .instrument(span)
    .await
}

/// Extract every source (or take what a replayed run landed), then transform what was read in full.
/// Returns whether the transform succeeded and whether every scope was read.
async fn extract_and_transform(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    lake: &Lake,
    run_id: &str,
    s: &mut RunSummary,
    stage: &impl Fn(&mut RunSummary, &'static str, Instant, StageStatus, usize, String),
) -> Result<(bool, bool)> {
    // Extract.
    let t = Instant::now();
    let azure = tokio::sync::OnceCell::new();
    let cx = ExtractContext {
        lake,
        run_id,
        as_of: opts.as_of,
        azure_config: &config.azure,
        azure: &azure,
    };
    let mut landed = Vec::new();
    let mut source_errors = Vec::new();
    let mut failed_scopes = Vec::new();
    if let Some(replay) = &opts.replay {
        tracing::info!(run = %replay.run_id, "replaying what that run landed");
        landed = replay.landed.clone();
        failed_scopes = replay.failed_scopes.clone();
    } else {
        for source in &spec.sources {
            let span = tracing::info_span!("stage", name = "extract", source = source.kind());
            match extract::extract(source, &cx, &landed)
                .instrument(span)
                .await
            {
                Ok(out) => {
                    landed.extend(out.landed);
                    failed_scopes.extend(out.failed_scopes);
                }
                Err(e) => source_errors.push(format!("source `{}`: {e}", source.kind())),
            }
        }
        let record = LandingRecord {
            run_id: run_id.to_string(),
            pipeline: spec.name.clone(),
            as_of: opts.as_of,
            landed: landed.clone(),
            failed_scopes: failed_scopes.clone(),
        };
        record.write(lake).await?;
    }
    for failure in &failed_scopes {
        tracing::error!(scope = %failure, "scope not read; its data in the lake is unchanged");
    }
    // A source that failed outright stops the run; scopes that failed are left out, and what
    // was read completely is still transformed, but nothing downstream presents a partial day.
    let ok_upstream = source_errors.is_empty();
    let complete = ok_upstream && failed_scopes.is_empty();
    let mut problems = source_errors;
    problems.extend(failed_scopes.iter().map(|f| format!("scope not read: {f}")));
    let status = if problems.is_empty() {
        StageStatus::Ok
    } else {
        StageStatus::Failed(problems.join("; "))
    };
    stage(
        s,
        "extract",
        t,
        status,
        landed.len(),
        format!(
            "{} file(s) {}{}",
            landed.len(),
            match &opts.replay {
                Some(r) => format!("replayed from run {}", r.run_id),
                None => "landed".into(),
            },
            if failed_scopes.is_empty() {
                String::new()
            } else {
                format!("; {} scope(s) not read", failed_scopes.len())
            }
        ),
    );

    // Transform what was read in full (not when a source failed outright).
    let t = Instant::now();
    let transformed = if ok_upstream {
        let result = transform::run(lake, &landed, run_id, opts.as_of)
            .instrument(tracing::info_span!("stage", name = "transform"))
            .await;
        match result {
            Ok(report) => {
                s.quarantined = report.quarantined.len();
                s.unreconciled = report.unreconciled.clone();
                let tables: Vec<String> = report
                    .rows
                    .iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect();
                let reconciled = if report.unreconciled.is_empty() {
                    "billed totals reconcile".to_string()
                } else {
                    format!("NOT reconciled: {}", report.unreconciled.join("; "))
                };
                let detail = format!(
                    "{}; {} quarantined; {reconciled}",
                    tables.join(", "),
                    report.quarantined.len()
                );
                let status = if report.unreconciled.is_empty() {
                    StageStatus::Ok
                } else {
                    StageStatus::Failed(report.unreconciled.join("; "))
                };
                stage(
                    s,
                    "transform",
                    t,
                    status,
                    report.rows.values().sum(),
                    detail,
                );
                true
            }
            Err(e) => {
                stage(
                    s,
                    "transform",
                    t,
                    StageStatus::Failed(e.to_string()),
                    0,
                    String::new(),
                );
                false
            }
        }
    } else {
        stage(
            s,
            "transform",
            t,
            StageStatus::Skipped("extract failed".into()),
            0,
            String::new(),
        );
        false
    };
    Ok((transformed, complete))
}

async fn run_rules(
    lake: &Lake,
    ctx: &SessionContext,
    spec: &PipelineSpec,
    opts: &RunOptions,
    run_id: &str,
    outcomes: &mut Vec<RuleOutcome>,
) -> (StageStatus, usize) {
    let all = match rules::load_dir(&opts.rules_dir) {
        Ok(r) => r,
        Err(e) => return (StageStatus::Failed(e.to_string()), 0),
    };
    let selected = match rules::select(&all, &spec.rules, &spec.file.display().to_string()) {
        Ok(r) => r,
        Err(e) => return (StageStatus::Failed(e.to_string()), 0),
    };
    if let Err(e) =
        rules::register_views(ctx, &opts.rules_dir, opts.as_of, rules::Views::Materialized).await
    {
        return (StageStatus::Failed(e.to_string()), 0);
    }
    let mut batches = Vec::new();
    let mut errors = Vec::new();
    let mut ran = std::collections::HashSet::new();
    for rule in selected {
        let started = Instant::now();
        match rule
            .run(ctx, spec.rules.params.get(&rule.id), run_id, opts.as_of)
            .await
        {
            Ok(b) => {
                let findings = b.iter().map(RecordBatch::num_rows).sum();
                let savings_column = b
                    .first()
                    .and_then(|x| x.schema().index_of("est_monthly_savings").ok());
                let savings = savings_column
                    .and_then(|i| columns::numbers(&b, i).ok())
                    .map_or(0.0, |v| v.iter().sum());
                let elapsed_ms = started.elapsed().as_millis() as u64;
                tracing::info!(rule = %rule.id, findings, elapsed_ms, "Rule ran.");
                outcomes.push(RuleOutcome {
                    rule_id: rule.id.clone(),
                    findings,
                    monthly_savings: savings,
                    elapsed_ms,
                });
                ran.insert(rule.id.clone());
                batches.extend(b);
            }
            Err(e) => {
                tracing::error!(rule = %rule.id, error = %e, "Rule failed.");
                errors.push(e.to_string());
            }
        }
    }
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let predicate = format!("run_date = '{}'", opts.as_of.format("%Y-%m-%d"));
    if let Err(e) = lake
        .write_batches(
            &schema::recommendations(),
            batches.clone(),
            WriteMode::Replace(predicate),
        )
        .await
    {
        errors.push(e.to_string());
    } else {
        // Findings across runs: new, continuing, resolved, snoozed or dismissed.
        let suppressions = match &spec.rules.suppressions {
            Some(path) => lifecycle::Suppressions::load(path).unwrap_or_else(|e| {
                errors.push(e.to_string());
                Default::default()
            }),
            None => Default::default(),
        };
        if let Err(e) =
            lifecycle::update(lake, ctx, &batches, &ran, &suppressions, opts.as_of).await
        {
            errors.push(format!("findings: {e}"));
        }
    }
    if errors.is_empty() {
        (StageStatus::Ok, rows)
    } else {
        (StageStatus::Failed(errors.join("; ")), rows)
    }
}

async fn run_forecast(
    lake: &Lake,
    ctx: &SessionContext,
    spec: &PipelineSpec,
    opts: &RunOptions,
    run_id: &str,
) -> Result<Vec<forecast::ForecastPoint>> {
    let daily = model::daily_cost(ctx, &opts.report_sql_dir, opts.as_of).await?;
    let history: Vec<_> = forecast::daily_series(&daily)
        .into_iter()
        .filter(|(d, _)| *d < opts.as_of)
        .collect();
    let points = forecast::forecast(&history, spec.forecast.horizon_days as usize)?;
    let def = schema::forecasts();
    let n = points.len();
    let f = |g: fn(&forecast::ForecastPoint) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(points.iter().map(g).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        def.schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![run_id; n])),
            Arc::new(StringArray::from(vec!["total"; n])),
            Arc::new(Date32Array::from(
                points
                    .iter()
                    .map(|p| epoch_days(p.date))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from((1..=n as i32).collect::<Vec<_>>())),
            f(|p| p.point),
            f(|p| p.lower_80),
            f(|p| p.upper_80),
            f(|p| p.lower_95),
            f(|p| p.upper_95),
            Arc::new(StringArray::from(vec![forecast::MODEL; n])),
            Arc::new(Date32Array::from(vec![epoch_days(opts.as_of); n])),
        ],
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let predicate = format!("run_date = '{}'", opts.as_of.format("%Y-%m-%d"));
    lake.write_batches(&def, vec![batch], WriteMode::Replace(predicate))
        .await?;
    Ok(points)
}

async fn build_report(
    ctx: &SessionContext,
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    points: Vec<forecast::ForecastPoint>,
) -> Result<(PathBuf, Vec<u8>, String)> {
    let m = model::ReportModel::build(
        ctx,
        &opts.report_sql_dir,
        &spec.report.title,
        opts.as_of,
        points,
    )
    .await?;
    let bytes = pdf::render(&m);
    let dir = &config.output.reports_dir;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(format!(
        "{}-{}.pdf",
        spec.name,
        opts.as_of.format("%Y-%m-%d")
    ));
    std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
    Ok((path, bytes, m.summary().join("\n")))
}

async fn deliver(
    config: &Config,
    spec: &PipelineSpec,
    opts: &RunOptions,
    pdf_path: &std::path::Path,
    pdf_bytes: Vec<u8>,
    summary: &str,
) -> Result<Option<Delivered>> {
    if spec.report.recipients.is_empty() {
        return Ok(None);
    }
    let from = config
        .smtp
        .as_ref()
        .map_or("cloudoptima <cloudoptima@localhost>", |s| s.from.as_str());
    let subject = format!("{} - {}", spec.report.title, opts.as_of.format("%Y-%m-%d"));
    let body = format!("{summary}\n\nThe full report is attached.\n");
    let name = pdf_path
        .file_name()
        .map_or("report.pdf".into(), |n| n.to_string_lossy().into_owned());
    let message = delivery::message(
        from,
        &spec.report.recipients,
        &subject,
        &body,
        &name,
        pdf_bytes,
    )?;
    Ok(Some(match &config.smtp {
        Some(smtp) => delivery::send_smtp(smtp, message).await?,
        None => delivery::write_eml(&config.output.outbox_dir, message).await?,
    }))
}
