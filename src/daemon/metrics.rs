//! What the daemon has done, as Prometheus text (`/metrics`): runs by outcome, the last run's
//! stage durations, table rows, findings, savings and open anomalies, and per pipeline when it
//! last succeeded and when it runs next.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::pipeline::RunSummary;

/// One metric's samples (labels, value) from one pipeline's state.
type Samples<'a> = dyn Fn(&str, &PipelineState) -> Vec<(String, f64)> + 'a;

#[derive(Debug, Default)]
struct PipelineState {
    outcomes: BTreeMap<&'static str, u64>,
    stages: Vec<(&'static str, f64)>,
    tables: BTreeMap<&'static str, usize>,
    findings: usize,
    savings: f64,
    anomalies: usize,
    last_success: Option<DateTime<Utc>>,
    next_run: Option<DateTime<Utc>>,
    running: bool,
    skipped: u64,
}

/// The daemon's counters and gauges, one set per pipeline.
#[derive(Debug)]
pub struct Metrics {
    pipelines: Mutex<BTreeMap<String, PipelineState>>,
    stopping: std::sync::atomic::AtomicBool,
}

impl Metrics {
    pub fn new(pipelines: impl Iterator<Item = String>) -> Self {
        Metrics {
            pipelines: Mutex::new(pipelines.map(|p| (p, PipelineState::default())).collect()),
            stopping: Default::default(),
        }
    }

    fn with(&self, pipeline: &str, f: impl FnOnce(&mut PipelineState)) {
        let mut all = self.pipelines.lock().expect("not poisoned");
        f(all.entry(pipeline.to_string()).or_default());
    }

    pub fn set_next_run(&self, pipeline: &str, at: DateTime<Utc>) {
        self.with(pipeline, |p| p.next_run = Some(at));
    }

    /// When the pipeline last succeeded before this process started (from `_runs`).
    pub fn set_last_success(&self, pipeline: &str, at: DateTime<Utc>) {
        self.with(pipeline, |p| p.last_success = Some(at));
    }

    pub fn set_running(&self, pipeline: &str, running: bool) {
        self.with(pipeline, |p| p.running = running);
    }

    pub fn add_skipped(&self, pipeline: &str, n: u64) {
        self.with(pipeline, |p| p.skipped += n);
    }

    /// A run that ended without a summary: `busy`, `error` or `cancelled`.
    pub fn record_outcome(&self, pipeline: &str, outcome: &'static str) {
        self.with(pipeline, |p| *p.outcomes.entry(outcome).or_default() += 1);
    }

    pub fn record_run(&self, s: &RunSummary) {
        use crate::analyze::anomaly::Status;
        self.with(&s.pipeline, |p| {
            let outcome = if s.succeeded() { "succeeded" } else { "failed" };
            *p.outcomes.entry(outcome).or_default() += 1;
            p.stages = s
                .stages
                .iter()
                .map(|st| (st.name, st.elapsed_ms as f64 / 1000.0))
                .collect();
            p.tables = s.table_rows.clone();
            p.findings = s.rules.iter().map(|r| r.findings).sum();
            p.savings = s.rules.iter().map(|r| r.monthly_savings).sum();
            p.anomalies = s
                .anomalies
                .iter()
                .filter(|a| a.status != Status::Resolved)
                .count();
            if s.succeeded() {
                p.last_success = Some(Utc::now());
            }
        });
    }

    pub fn set_stopping(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let all = self.pipelines.lock().expect("not poisoned");
        let now = Utc::now();
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        };
        let each = |f: &Samples<'_>| {
            all.iter()
                .flat_map(|(name, p)| f(name, p))
                .collect::<Vec<_>>()
        };
        family(
            "cloudoptima_runs_total",
            "counter",
            "Pipeline runs by outcome: succeeded, failed (a stage failed), busy (another process was running it), error (did not start), cancelled (at shutdown).",
            each(&|n, p| {
                p.outcomes
                    .iter()
                    .map(|(o, c)| (format!("{},outcome=\"{o}\"", pl(n)), *c as f64))
                    .collect()
            }),
        );
        family(
            "cloudoptima_stage_duration_seconds",
            "gauge",
            "How long each stage of the pipeline's last run took.",
            each(&|n, p| {
                p.stages
                    .iter()
                    .map(|(s, secs)| (format!("{},stage=\"{s}\"", pl(n)), *secs))
                    .collect()
            }),
        );
        family(
            "cloudoptima_table_rows",
            "gauge",
            "Rows in each lake table after the pipeline's last run.",
            each(&|n, p| {
                p.tables
                    .iter()
                    .map(|(t, rows)| (format!("{},table=\"{t}\"", pl(n)), *rows as f64))
                    .collect()
            }),
        );
        family(
            "cloudoptima_findings",
            "gauge",
            "Rule findings of the pipeline's last run.",
            each(&|n, p| vec![(pl(n), p.findings as f64)]),
        );
        family(
            "cloudoptima_findings_monthly_savings",
            "gauge",
            "Estimated monthly savings of the last run's findings, summed as the rules report them (alternatives on one resource each counted).",
            each(&|n, p| vec![(pl(n), p.savings)]),
        );
        family(
            "cloudoptima_open_anomalies",
            "gauge",
            "New or continuing cost anomalies after the pipeline's last run.",
            each(&|n, p| vec![(pl(n), p.anomalies as f64)]),
        );
        family(
            "cloudoptima_last_success_timestamp_seconds",
            "gauge",
            "When the pipeline's last successful run ended (Unix time).",
            each(&|n, p| {
                p.last_success
                    .map(|t| (pl(n), t.timestamp() as f64))
                    .into_iter()
                    .collect()
            }),
        );
        family(
            "cloudoptima_seconds_since_last_success",
            "gauge",
            "Seconds since the pipeline's last successful run ended (also one before this process started).",
            each(&|n, p| {
                p.last_success
                    .map(|t| (pl(n), (now - t).num_milliseconds() as f64 / 1000.0))
                    .into_iter()
                    .collect()
            }),
        );
        family(
            "cloudoptima_next_run_timestamp_seconds",
            "gauge",
            "When the pipeline runs next (Unix time).",
            each(&|n, p| {
                p.next_run
                    .map(|t| (pl(n), t.timestamp() as f64))
                    .into_iter()
                    .collect()
            }),
        );
        family(
            "cloudoptima_running",
            "gauge",
            "1 while a run of the pipeline is in progress in this process.",
            each(&|n, p| vec![(pl(n), if p.running { 1.0 } else { 0.0 })]),
        );
        family(
            "cloudoptima_skipped_runs_total",
            "counter",
            "Scheduled times skipped because the pipeline's previous run was still going.",
            each(&|n, p| vec![(pl(n), p.skipped as f64)]),
        );
        out
    }
}

/// The `pipeline="…"` label, escaped as the format requires.
fn pl(name: &str) -> String {
    let escaped = name
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("pipeline=\"{escaped}\"")
}
