//! `cloudoptima daemon`: every pipeline on its schedule, in one long-running process.
//!
//! Each scheduled pipeline has one task that sleeps until its next time (the cron expression read
//! by croner in the pipeline's time zone, computed afresh for every tick so daylight saving time
//! never shifts it), runs the pipeline, and goes back to sleep. A pipeline never overlaps itself:
//! in this process its ticks that pass during a run are skipped and logged; across processes the
//! run's lease in the lake refuses a second run. On SIGTERM or SIGINT scheduling stops, running
//! pipelines get `shutdown_grace_seconds` to finish, then are cancelled (every table write is one
//! Delta commit, so the lake stays consistent; the next start clears what a cancelled run left).
//! A run missed while the daemon was down runs once at start (`catch_up`).

pub mod http;
pub mod metrics;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::watch;

use crate::config::Config;
use crate::lake::Lake;
use crate::pipeline::{PipelineSpec, RunOptions};
use crate::{Error, Result};
use metrics::Metrics;

/// `[daemon]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Address of the `/healthz` and `/metrics` endpoint (`0.0.0.0:9184` in a container);
    /// none by default. `--listen` overrides.
    #[serde(default)]
    pub listen: Option<String>,
    /// After SIGTERM, how long running pipelines may go on before they are cancelled. Default
    /// 120 (Kubernetes gives 30 unless `terminationGracePeriodSeconds` says more).
    #[serde(default = "default_grace")]
    pub shutdown_grace_seconds: u64,
    /// At start, run once each pipeline whose last scheduled time passed without a run (the
    /// daemon was down). Default true.
    #[serde(default = "yes")]
    pub catch_up: bool,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            listen: None,
            shutdown_grace_seconds: default_grace(),
            catch_up: true,
        }
    }
}

fn default_grace() -> u64 {
    120
}

fn yes() -> bool {
    true
}

/// What the daemon needs to run pipelines.
pub struct Daemon {
    pub config: Config,
    pub specs: Vec<PipelineSpec>,
    /// Options shared by every run; `as_of` is set per run to the tick's date in the pipeline's
    /// time zone.
    pub options: RunOptions,
    pub listen: Option<String>,
}

/// The next time `spec` runs after `after`, if it has a schedule.
pub fn next_run(spec: &PipelineSpec, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    spec.schedule
        .as_ref()
        .and_then(|s| s.next_after(after, spec.timezone))
        .map(|t| t.with_timezone(&Utc))
}

impl Daemon {
    /// Run until SIGTERM or SIGINT; returns when every pipeline has stopped.
    pub async fn run(self) -> Result<()> {
        let scheduled: Vec<PipelineSpec> = self
            .specs
            .iter()
            .filter(|s| s.schedule.is_some())
            .cloned()
            .collect();
        if scheduled.is_empty() {
            return Err(Error::Config {
                file: crate::pipeline::spec::origin(&self.specs),
                message: "no pipeline has a `schedule`; the daemon would have nothing to run \
                          (`schedule = \"0 0 6 * * *\"` runs one at 06:00 every day)"
                    .into(),
            });
        }
        let metrics = Arc::new(Metrics::new(scheduled.iter().map(|s| s.name.clone())));
        let (stop_tx, stop) = watch::channel(false);
        let (cancel_tx, cancel) = watch::channel(false);
        let shared = Arc::new((self.config, self.options));
        let lake = Lake::open(&shared.0.lake.url)?;
        // What the lake knows of earlier runs, before anything is served or scheduled.
        let mut known = Vec::new();
        for spec in scheduled {
            let (last, succeeded) = last_runs(&lake, &shared.0, &spec.name).await;
            if let Some(at) = succeeded {
                metrics.set_last_success(&spec.name, at);
            }
            known.push((spec, last));
        }
        let server = match &self.listen {
            Some(addr) => Some(http::serve(addr, metrics.clone()).await?),
            None => None,
        };
        let mut tasks = Vec::new();
        for (spec, last) in known {
            tasks.push(tokio::spawn(schedule_loop(
                spec,
                last,
                shared.clone(),
                metrics.clone(),
                stop.clone(),
                cancel.clone(),
            )));
        }
        tracing::info!(pipelines = tasks.len(), listen = ?self.listen, "Daemon started.");
        shutdown_signal().await;
        tracing::info!(
            grace_seconds = shared.0.daemon.shutdown_grace_seconds,
            "Stopping: no new runs; running ones may finish."
        );
        let _ = stop_tx.send(true);
        metrics.set_stopping();
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(shared.0.daemon.shutdown_grace_seconds);
        let mut cancelled = false;
        for mut task in tasks {
            if !cancelled {
                if tokio::time::timeout_at(deadline, &mut task).await.is_ok() {
                    continue;
                }
                tracing::warn!("Grace period over: cancelling the runs still going.");
                let _ = cancel_tx.send(true);
                cancelled = true;
            }
            let _ = task.await;
        }
        crate::lake::lease::settle_dropped().await;
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
        tracing::info!("Daemon stopped.");
        Ok(())
    }
}

/// When `pipeline` last started a run, and when its last successful run ended, from the lake's
/// `_runs` table (nothing on a new lake).
async fn last_runs(
    lake: &Lake,
    config: &Config,
    pipeline: &str,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    use datafusion::arrow::array::{Array, TimestampMicrosecondArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, TimeUnit};
    let sql = format!(
        "SELECT MAX(started_at) AS started, \
         MAX(CASE WHEN status = 'succeeded' THEN finished_at END) AS succeeded \
         FROM _runs WHERE pipeline = {}",
        crate::lake::columns::sql_string(pipeline)
    );
    let Ok(batches) = crate::lake::query::read_only(lake, &sql, &config.query).await else {
        return (None, None);
    };
    let at = |column: usize| {
        let batch = batches.first()?;
        let values = cast(
            batch.column(column),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )
        .ok()?;
        let values = values
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()?;
        if values.is_empty() || values.is_null(0) {
            return None;
        }
        DateTime::from_timestamp_micros(values.value(0))
    };
    (at(0), at(1))
}

/// SIGTERM (Kubernetes, systemd, `docker stop`) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Until `stop`: sleep to the pipeline's next time, run it, repeat.
async fn schedule_loop(
    spec: PipelineSpec,
    last_started: Option<DateTime<Utc>>,
    shared: Arc<(Config, RunOptions)>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
    cancel: watch::Receiver<bool>,
) {
    let (config, options) = (&shared.0, &shared.1);
    let schedule = spec
        .schedule
        .clone()
        .expect("only scheduled pipelines loop");
    // A run missed while the daemon was down: the last time the schedule fired before now.
    let now = Utc::now();
    let missed = schedule
        .previous_before(now, spec.timezone)
        .map(|t| t.with_timezone(&Utc))
        .filter(|due| last_started.is_none_or(|last| last < *due));
    let mut due = match missed {
        Some(tick) if config.daemon.catch_up => {
            tracing::info!(pipeline = %spec.name, missed = %tick, "A scheduled run was missed while the daemon was down: running it now.");
            tick
        }
        _ => match next_run(&spec, now) {
            Some(t) => t,
            None => return,
        },
    };
    loop {
        metrics.set_next_run(&spec.name, due);
        let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let as_of = due.with_timezone(&spec.timezone).date_naive();
        run_once(&spec, config, options, as_of, &metrics, cancel.clone()).await;
        // Ticks that passed while the run went on are skipped, not queued.
        let now = Utc::now();
        let mut next = next_run(&spec, due).unwrap_or(now);
        let mut skipped = 0u64;
        while next <= now {
            skipped += 1;
            match next_run(&spec, next) {
                Some(t) => next = t,
                None => return,
            }
        }
        if skipped > 0 {
            tracing::warn!(pipeline = %spec.name, skipped, next = %next, "Skipped scheduled run(s): the previous run was still going.");
            metrics.add_skipped(&spec.name, skipped);
        }
        due = next;
    }
}

/// One run of `spec`, recorded in `metrics`; cancelled when `cancel` turns true.
async fn run_once(
    spec: &PipelineSpec,
    config: &Config,
    options: &RunOptions,
    as_of: chrono::NaiveDate,
    metrics: &Metrics,
    mut cancel: watch::Receiver<bool>,
) {
    let mut opts = options.clone();
    opts.as_of = as_of;
    let progress = |s: &crate::pipeline::StageResult| {
        tracing::info!(pipeline = %spec.name, stage = s.name, status = s.status.label(), seconds = s.elapsed_ms as f64 / 1000.0, detail = %s.detail, "Stage ended.");
    };
    metrics.set_running(&spec.name, true);
    let started = std::time::Instant::now();
    let result = tokio::select! {
        r = crate::pipeline::run::run(config, spec, &opts, &progress) => Some(r),
        _ = cancel.wait_for(|c| *c) => None,
    };
    metrics.set_running(&spec.name, false);
    match result {
        Some(Ok(summary)) => {
            tracing::info!(pipeline = %spec.name, run_id = %summary.run_id, succeeded = summary.succeeded(), seconds = started.elapsed().as_secs_f64(), "Run finished.");
            metrics.record_run(&summary);
        }
        Some(Err(Error::Busy { holder, .. })) => {
            tracing::warn!(pipeline = %spec.name, %holder, "Skipped: a run of this pipeline is in progress elsewhere.");
            metrics.record_outcome(&spec.name, "busy");
        }
        Some(Err(e)) => {
            tracing::error!(pipeline = %spec.name, error = %e, "Run failed.");
            metrics.record_outcome(&spec.name, "error");
        }
        None => {
            tracing::warn!(pipeline = %spec.name, "Run cancelled at shutdown; the next start clears what it left.");
            metrics.record_outcome(&spec.name, "cancelled");
        }
    }
}
