//! Alerts: what a run found that people must hear about now (a new anomaly, a spike, a budget
//! threshold crossed), sent on the channels a pipeline's `[[alerts]]` routes name. Every send is
//! recorded in the `alerts` table; an alert already sent on a channel is never sent on it again,
//! and one that failed is tried again by the next run. A failing channel does not stop the others.

pub mod channel;

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;
use datafusion::prelude::SessionContext;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Result;
use crate::analyze::anomaly::{self, Severity, Status};
use crate::analyze::budget::BudgetStatus;
use crate::config::Config;
use crate::format::money;
use crate::lake::columns::{BatchBuilder, sql_string, strings};
use crate::lake::{Lake, RunKey, WriteMode, schema};
pub use channel::{ChannelConfig, ChannelKind};

/// What raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Anomaly,
    Spike,
    Budget,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Anomaly => "anomaly",
            AlertKind::Spike => "spike",
            AlertKind::Budget => "budget",
        }
    }
}

/// One `[[alerts]]` route in a pipeline: which alerts go to which channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A `[channels.NAME]` of the config.
    pub channel: String,
    /// Which kinds: `anomaly`, `spike`, `budget`. Default all.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<AlertKind>,
    /// Send from this severity up: `low` (default), `medium` or `high`.
    #[serde(default = "lowest")]
    pub min_severity: Severity,
}

fn all_kinds() -> Vec<AlertKind> {
    vec![AlertKind::Anomaly, AlertKind::Spike, AlertKind::Budget]
}

fn lowest() -> Severity {
    Severity::Low
}

/// Routes naming channels the config does not define, as `file: alerts[i].channel: problem`.
pub fn route_problems(routes: &[Route], config: &Config, file: &str) -> Vec<String> {
    routes
        .iter()
        .enumerate()
        .filter(|(_, r)| !config.channels.contains_key(&r.channel))
        .map(|(i, r)| {
            let known: Vec<&str> = config.channels.keys().map(String::as_str).collect();
            format!(
                "{file}: alerts[{i}].channel: no channel `{}` in the config ({})",
                r.channel,
                if known.is_empty() {
                    "it defines none; add [channels.NAME]".to_string()
                } else {
                    format!("channels: {}", known.join(", "))
                }
            )
        })
        .collect()
}

/// One alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identifies the alert across runs: the same event gives the same key.
    pub key: String,
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub text: String,
    pub facts: Vec<(String, String)>,
}

impl Alert {
    /// The generic webhook body.
    pub fn to_json(&self) -> Value {
        let facts: serde_json::Map<String, Value> = self
            .facts
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "key": self.key,
            "kind": self.kind.as_str(),
            "severity": self.severity.as_str(),
            "title": self.title,
            "text": self.text,
            "facts": facts,
        })
    }
}

/// Anomalies still going within the last week of cost become alerts (one per anomaly, whatever
/// the number of days it lasts).
pub fn from_anomalies(out: &anomaly::Outcome) -> Vec<Alert> {
    let Some(last) = out.last_day else {
        return Vec::new();
    };
    out.anomalies
        .iter()
        .filter(|a| a.status != Status::Resolved || last - a.last_day < Duration::days(7))
        .map(|a| {
            let change = a
                .change_pct()
                .map_or("new cost".to_string(), |p| format!("{p:+.0}%"));
            let cause = a.causes.first().map_or("not found".to_string(), |c| {
                format!(
                    "{} ({}, {} of the change)",
                    c.resource_id.as_deref().unwrap_or("no resource"),
                    c.meter,
                    format_share(c.share)
                )
            });
            Alert {
                key: format!("anomaly:{}", a.id),
                kind: AlertKind::Anomaly,
                severity: a.severity,
                title: format!(
                    "Cost {} in {}: {change} on {}",
                    a.direction(),
                    a.scope,
                    a.peak_day
                ),
                text: format!(
                    "{} cost {} on {} against {} expected ({} over {} day(s) so far).",
                    a.scope,
                    money(a.peak_actual),
                    a.peak_day,
                    money(a.peak_expected),
                    money(a.impact()),
                    (a.last_day - a.first_day).num_days() + 1
                ),
                facts: vec![
                    ("Scope".into(), a.scope.to_string()),
                    ("Days".into(), format!("{} to {}", a.first_day, a.last_day)),
                    (
                        "Impact".into(),
                        format!("{} {}", money(a.impact()), a.scope.currency),
                    ),
                    ("Status".into(), a.status.as_str().into()),
                    ("Cause".into(), cause),
                    ("Anomaly".into(), a.id.clone()),
                ],
            }
        })
        .collect()
}

fn format_share(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Days caught by the spike rule become alerts (one per scope and day).
pub fn from_spikes(out: &anomaly::Outcome, spike_pct: f64) -> Vec<Alert> {
    out.spikes
        .iter()
        .map(|s| {
            let pct = (s.actual / s.expected - 1.0) * 100.0;
            Alert {
                key: format!(
                    "spike:{}:{}:{}:{}",
                    s.scope.dimension, s.scope.value, s.scope.currency, s.day
                ),
                kind: AlertKind::Spike,
                severity: s.severity,
                title: format!("{} cost {pct:+.0}% above expected on {}", s.scope, s.day),
                text: format!(
                    "{} cost {} on {} against {} expected: more than the {spike_pct}% the spike rule allows.",
                    s.scope,
                    money(s.actual),
                    s.day,
                    money(s.expected)
                ),
                facts: vec![
                    ("Scope".into(), s.scope.to_string()),
                    ("Day".into(), s.day.to_string()),
                    ("Actual".into(), money(s.actual)),
                    ("Expected".into(), money(s.expected)),
                ],
            }
        })
        .collect()
}

/// Each threshold a budget crossed this period becomes an alert.
pub fn from_budgets(budgets: &[BudgetStatus]) -> Vec<Alert> {
    let mut out = Vec::new();
    for b in budgets {
        for (on_forecast, t) in &b.crossed {
            let what = if *on_forecast { "forecast" } else { "actual" };
            let severity = match (on_forecast, *t >= 100.0) {
                (false, true) => Severity::High,
                (true, true) => Severity::Medium,
                _ if *t >= 80.0 => Severity::Medium,
                _ => Severity::Low,
            };
            let spend = if *on_forecast { b.forecast } else { b.actual };
            out.push(Alert {
                key: format!("budget:{}:{}:{what}:{t}", b.spec.name, b.period_start),
                kind: AlertKind::Budget,
                severity,
                title: format!(
                    "Budget {}: {what} spend at {:.0}% of {} {} ({} threshold {t}%)",
                    b.spec.name,
                    spend / b.spec.amount * 100.0,
                    money(b.spec.amount),
                    b.spec.currency,
                    what
                ),
                text: format!(
                    "{} ({}) has spent {} {} this {} ({} to {}); forecast at the end: {} ({}).",
                    b.spec.name,
                    b.spec.scope.text,
                    money(b.actual),
                    b.spec.currency,
                    b.spec.period.as_str(),
                    b.period_start,
                    b.period_end,
                    money(b.forecast),
                    b.forecast_method
                ),
                facts: vec![
                    (
                        "Budget".into(),
                        format!("{} {}", money(b.spec.amount), b.spec.currency),
                    ),
                    (
                        "Actual".into(),
                        format!("{} ({:.0}%)", money(b.actual), b.actual_pct()),
                    ),
                    (
                        "Forecast".into(),
                        format!("{} ({:.0}%)", money(b.forecast), b.forecast_pct()),
                    ),
                    (
                        "Period".into(),
                        format!("{} to {}", b.period_start, b.period_end),
                    ),
                ],
            });
        }
    }
    out
}

/// What delivery did.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// `(channel, alerts sent)`.
    pub sent: BTreeMap<String, usize>,
    /// Alerts not sent again because an earlier run sent them.
    pub already_sent: usize,
    /// One line per channel that failed.
    pub failures: Vec<String>,
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sent: Vec<String> = self
            .sent
            .iter()
            .map(|(c, n)| format!("{n} to {c}"))
            .collect();
        write!(
            f,
            "{} sent; {} sent earlier",
            if sent.is_empty() {
                "none".to_string()
            } else {
                sent.join(", ")
            },
            self.already_sent
        )
    }
}

/// Send `alerts` along `routes`, skipping what was sent before, and record every attempt.
pub async fn deliver(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    config: &Config,
    routes: &[Route],
    alerts: &[Alert],
) -> Result<Delivery> {
    let mut out = Delivery::default();
    if routes.is_empty() || alerts.is_empty() {
        return Ok(out);
    }
    let sent_before = sent(ctx, run).await?;
    let mut rows: Vec<(&Alert, String, std::result::Result<u32, channel::SendError>)> = Vec::new();
    for route in routes {
        let Some(channel) = config.channels.get(&route.channel) else {
            out.failures
                .push(format!("alerts: no channel `{}`", route.channel));
            continue;
        };
        let due: Vec<&Alert> = alerts
            .iter()
            .filter(|a| route.kinds.contains(&a.kind) && a.severity >= route.min_severity)
            .filter(|a| {
                let before = sent_before.contains(&(a.key.clone(), route.channel.clone()));
                out.already_sent += usize::from(before);
                !before
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let results = send(config, channel, run, &due).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
            out.failures.push(format!(
                "channel {}: {failed} of {} alert(s) not sent: {} (after {} attempt(s))",
                route.channel,
                due.len(),
                e.reason,
                e.attempts
            ));
        }
        *out.sent.entry(route.channel.clone()).or_default() += due.len() - failed;
        rows.extend(
            due.into_iter()
                .zip(results)
                .map(|(a, r)| (a, route.channel.clone(), r)),
        );
    }
    record(lake, run, &rows).await?;
    Ok(out)
}

/// Send `due` on one channel: one request per alert on the HTTP channels (after the first alert
/// that fails every attempt, the rest are not tried this run), one email listing all of them.
async fn send(
    config: &Config,
    channel: &ChannelConfig,
    run: &RunKey,
    due: &[&Alert],
) -> Vec<std::result::Result<u32, channel::SendError>> {
    if channel.kind == ChannelKind::Email {
        let result = send_email(config, channel, run, due).await;
        return due.iter().map(|_| result.clone()).collect();
    }
    let mut results = Vec::new();
    let mut down: Option<channel::SendError> = None;
    for alert in due {
        let r = match &down {
            Some(e) => Err(channel::SendError {
                attempts: 0,
                reason: format!(
                    "not tried: the channel failed earlier in this run ({})",
                    e.reason
                ),
            }),
            None => channel::post(channel, alert).await,
        };
        if let (Err(e), None) = (&r, &down) {
            down = Some(e.clone());
        }
        results.push(r);
    }
    results
}

async fn send_email(
    config: &Config,
    channel: &ChannelConfig,
    run: &RunKey,
    due: &[&Alert],
) -> std::result::Result<u32, channel::SendError> {
    let subject = if due.len() == 1 {
        format!("[cloudoptima] {}", due[0].title)
    } else {
        format!(
            "[cloudoptima] {} cost alerts for {} ({})",
            due.len(),
            run.pipeline,
            run.as_of
        )
    };
    let body: String = due
        .iter()
        .map(|a| {
            let facts: String = a
                .facts
                .iter()
                .map(|(k, v)| format!("  {k}: {v}\n"))
                .collect();
            format!(
                "[{}] {}\n{}\n{facts}\n",
                a.severity.as_str(),
                a.title,
                a.text
            )
        })
        .collect();
    let failed = |reason: String| channel::SendError {
        attempts: 1,
        reason,
    };
    let message = crate::report::delivery::plain_message(config, &channel.to, &subject, &body)
        .map_err(|e| failed(e.to_string()))?;
    crate::report::delivery::send(
        config.smtp.as_ref(),
        &config.azure,
        &config.output.outbox_dir,
        message,
    )
    .await
    .map(|_| 1)
    .map_err(|e| failed(e.to_string()))
}

/// `(alert_key, channel)` the pipeline has sent.
async fn sent(ctx: &SessionContext, run: &RunKey) -> Result<HashSet<(String, String)>> {
    let sql = format!(
        "SELECT alert_key, channel FROM alerts WHERE pipeline = {} AND status = 'sent'",
        sql_string(&run.pipeline)
    );
    let b = crate::lake::query::run(ctx, &sql).await?;
    Ok(strings(&b, 0)?.into_iter().zip(strings(&b, 1)?).collect())
}

async fn record(
    lake: &Lake,
    run: &RunKey,
    rows: &[(&Alert, String, std::result::Result<u32, channel::SendError>)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_micros();
    let batch = BatchBuilder::default()
        .text("run_id", rows.iter().map(|_| Some(run.run_id.as_str())))
        .text("pipeline", rows.iter().map(|_| Some(run.pipeline.as_str())))
        .text("alert_key", rows.iter().map(|r| Some(r.0.key.as_str())))
        .text("kind", rows.iter().map(|r| Some(r.0.kind.as_str())))
        .text("severity", rows.iter().map(|r| Some(r.0.severity.as_str())))
        .text("title", rows.iter().map(|r| Some(r.0.title.as_str())))
        .text("channel", rows.iter().map(|r| Some(r.1.as_str())))
        .text(
            "status",
            rows.iter()
                .map(|r| Some(if r.2.is_ok() { "sent" } else { "failed" })),
        )
        .int(
            "attempts",
            rows.iter().map(|r| {
                Some(i64::from(match &r.2 {
                    Ok(n) => *n,
                    Err(e) => e.attempts,
                }))
            }),
        )
        .text(
            "error",
            rows.iter()
                .map(|r| r.2.as_ref().err().map(|e| e.reason.as_str())),
        )
        .int("at", rows.iter().map(|_| Some(now)))
        .date("run_date", rows.iter().map(|_| Some(run.as_of)))
        .finish()?;
    // `at` is written as microseconds and cast to the table's timestamp.
    lake.write_batches(&schema::alerts(), vec![batch], WriteMode::Append)
        .await
}
