//! Findings across runs: the `findings` table holds one row per rule and resource with its status
//! (`open`, `resolved`, `snoozed`, `dismissed`), when it was first and last seen, how many runs in
//! a row found it, and — once it disappears — the monthly saving it realized (its cost when last
//! seen minus what the resource cost over the last 30 days). A suppressions file snoozes a finding
//! until a date or dismisses it, matched by rule, resource, resource group or subscription.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::lake::columns::epoch_days;
use crate::lake::columns::{numbers, strings};
use crate::lake::{Lake, RunKey, WriteMode, schema};
use crate::{Error, Result};

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Resolved,
    Snoozed,
    Dismissed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Snoozed => "snoozed",
            Status::Dismissed => "dismissed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "resolved" => Status::Resolved,
            "snoozed" => Status::Snoozed,
            "dismissed" => Status::Dismissed,
            _ => Status::Open,
        }
    }
}

/// A finding of this run (a row of `recommendations`).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub rule_id: String,
    pub resource_id: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub resource_name: String,
    pub monthly_cost: f64,
    pub est_monthly_savings: f64,
}

/// One row of `findings`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub seen: Seen,
    pub status: Status,
    pub first_seen: NaiveDate,
    pub last_seen: NaiveDate,
    pub consecutive_runs: i64,
    pub resolved_on: Option<NaiveDate>,
    pub realized_monthly_savings: Option<f64>,
    pub suppression_reason: Option<String>,
    pub suppressed_until: Option<NaiveDate>,
}

/// `suppressions.toml`: `[[suppress]]` entries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppressions {
    #[serde(default)]
    pub suppress: Vec<Suppression>,
}

/// Hide findings that match every selector given: snoozed until `until`, or dismissed (for good,
/// or until `until`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// A rule id.
    pub rule: Option<String>,
    /// A resource id (any case).
    pub resource: Option<String>,
    pub resource_group: Option<String>,
    /// A subscription id.
    pub subscription: Option<String>,
    /// `snoozed` (needs `until`) or `dismissed`.
    pub status: String,
    /// Last day the suppression holds (exclusive: from this date the finding is open again).
    pub until: Option<NaiveDate>,
    /// Why: shown beside the finding, required.
    pub reason: String,
}

impl Suppressions {
    /// Load and check `path`; every problem names the file and the entry.
    pub fn load(path: &Path) -> Result<Suppressions> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let parsed: Suppressions = toml::from_str(&text).map_err(|e| Error::Config {
            file: file.clone(),
            message: crate::config::describe_toml_error(&e, &text),
        })?;
        let mut problems = Vec::new();
        for (i, s) in parsed.suppress.iter().enumerate() {
            let at = format!("{file}: suppress #{}", i + 1);
            if s.rule.is_none()
                && s.resource.is_none()
                && s.resource_group.is_none()
                && s.subscription.is_none()
            {
                problems.push(format!(
                    "{at}: give at least one of rule, resource, resource_group, subscription"
                ));
            }
            match s.status.as_str() {
                "snoozed" if s.until.is_none() => {
                    problems.push(format!("{at}: `snoozed` needs `until` (a date)"))
                }
                "snoozed" | "dismissed" => {}
                other => problems.push(format!(
                    "{at}: status `{other}` is neither `snoozed` nor `dismissed`"
                )),
            }
            if s.reason.trim().is_empty() {
                problems.push(format!("{at}: `reason` is empty"));
            }
        }
        if problems.is_empty() {
            Ok(parsed)
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// The suppression in force for `seen` on `as_of`, if any (the first that matches).
    fn matching(&self, seen: &Seen, as_of: NaiveDate) -> Option<&Suppression> {
        let same = |want: &Option<String>, have: &str| {
            want.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(have))
        };
        self.suppress.iter().find(|s| {
            s.until.is_none_or(|u| as_of < u)
                && same(&s.rule, &seen.rule_id)
                && same(&s.resource, &seen.resource_id)
                && same(&s.resource_group, &seen.resource_group)
                && same(&s.subscription, &seen.subscription_id)
        })
    }
}

/// The findings after a run on `as_of` that ran the rules in `ran` and found `current`. A finding
/// whose rule did not run is left as it was; one its rule no longer finds is resolved, with the
/// saving realized since (`cost_30d`: each resource's cost over the last 30 days).
pub fn advance(
    previous: Vec<Finding>,
    current: Vec<Seen>,
    ran: &HashSet<String>,
    cost_30d: &HashMap<String, f64>,
    suppressions: &Suppressions,
    as_of: NaiveDate,
) -> Vec<Finding> {
    let key = |s: &Seen| (s.rule_id.clone(), s.resource_id.clone());
    let mut previous: HashMap<(String, String), Finding> =
        previous.into_iter().map(|f| (key(&f.seen), f)).collect();
    let mut out = Vec::new();
    for seen in current {
        let continuing = previous
            .remove(&key(&seen))
            .filter(|p| p.status != Status::Resolved);
        let (first_seen, consecutive_runs) = match continuing {
            // A re-run on the same date does not count twice.
            Some(p) if p.last_seen >= as_of => (p.first_seen, p.consecutive_runs),
            Some(p) => (p.first_seen, p.consecutive_runs + 1),
            None => (as_of, 1),
        };
        let suppression = suppressions.matching(&seen, as_of);
        out.push(Finding {
            status: match suppression.map(|s| s.status.as_str()) {
                Some("snoozed") => Status::Snoozed,
                Some(_) => Status::Dismissed,
                None => Status::Open,
            },
            suppression_reason: suppression.map(|s| s.reason.clone()),
            suppressed_until: suppression.and_then(|s| s.until),
            seen,
            first_seen,
            last_seen: as_of,
            consecutive_runs,
            resolved_on: None,
            realized_monthly_savings: None,
        });
    }
    for (_, mut p) in previous {
        if p.status != Status::Resolved && ran.contains(&p.seen.rule_id) {
            let now = cost_30d.get(&p.seen.resource_id).copied().unwrap_or(0.0);
            p.status = Status::Resolved;
            p.resolved_on = Some(as_of);
            p.realized_monthly_savings = Some((p.seen.monthly_cost - now).max(0.0));
            p.suppression_reason = None;
            p.suppressed_until = None;
        }
        out.push(p);
    }
    out.sort_by_key(|a| key(&a.seen));
    out
}

/// Read the findings, advance them with this run's recommendations (`found`, the rule runner's
/// batches), write them back.
pub async fn update(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    found: &[RecordBatch],
    ran: &HashSet<String>,
    suppressions: &Suppressions,
) -> Result<Vec<Finding>> {
    // The table may have changed since `ctx` registered it: read its current version.
    let def = schema::findings();
    ctx.deregister_table(def.name)?;
    lake.register(ctx, &def).await?;
    let current = seen_in(found)?;
    let previous = read(ctx, run).await?;
    let spend = ctx
        .sql("SELECT resource_id, cost_30d FROM resource_cost_30d")
        .await?
        .collect()
        .await?;
    let cost_30d: HashMap<String, f64> = strings(&spend, 0)?
        .into_iter()
        .zip(numbers(&spend, 1)?)
        .collect();
    let findings = advance(previous, current, ran, &cost_30d, suppressions, run.as_of);
    lake.write_batches(
        &def,
        vec![to_batch(&findings, &run.pipeline)?],
        WriteMode::Replace(run.owned_rows()),
    )
    .await?;
    Ok(findings)
}

/// This run's findings from the runner's batches (recommendations schema), by column name.
fn seen_in(found: &[RecordBatch]) -> Result<Vec<Seen>> {
    let Some(first) = found.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    let at = |name: &str| {
        schema
            .index_of(name)
            .map_err(|e| Error::Internal(e.to_string()))
    };
    let text = |name| strings(found, at(name)?);
    let (rules, ids, subs) = (
        text("rule_id")?,
        text("resource_id")?,
        text("subscription_id")?,
    );
    let (groups, names) = (text("resource_group")?, text("resource_name")?);
    let costs = numbers(found, at("monthly_cost")?)?;
    let savings = numbers(found, at("est_monthly_savings")?)?;
    Ok((0..rules.len())
        .map(|i| Seen {
            rule_id: rules[i].clone(),
            resource_id: ids[i].clone(),
            subscription_id: subs[i].clone(),
            resource_group: groups[i].clone(),
            resource_name: names[i].clone(),
            monthly_cost: costs[i],
            est_monthly_savings: savings[i],
        })
        .collect())
}

/// The findings `run`'s pipeline owns.
async fn read(ctx: &SessionContext, run: &RunKey) -> Result<Vec<Finding>> {
    let b = ctx
        .sql(&format!(
            // Text columns first (0–10), then numbers (11–14).
            "SELECT rule_id, resource_id, subscription_id, resource_group, resource_name, status, \
             CAST(first_seen AS VARCHAR), CAST(last_seen AS VARCHAR), CAST(resolved_on AS VARCHAR), \
             suppression_reason, CAST(suppressed_until AS VARCHAR), \
             consecutive_runs, monthly_cost, est_monthly_savings, realized_monthly_savings \
             FROM findings WHERE {}",
            run.owned_rows()
        ))
        .await?
        .collect()
        .await?;
    let s: Vec<Vec<String>> = (0..11).map(|i| strings(&b, i)).collect::<Result<_>>()?;
    let n: Vec<Vec<f64>> = (11..15).map(|i| numbers(&b, i)).collect::<Result<_>>()?;
    let date = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    let text = |t: &str| Some(t.to_string()).filter(|t| !t.is_empty());
    Ok((0..s[0].len())
        .map(|i| Finding {
            seen: Seen {
                rule_id: s[0][i].clone(),
                resource_id: s[1][i].clone(),
                subscription_id: s[2][i].clone(),
                resource_group: s[3][i].clone(),
                resource_name: s[4][i].clone(),
                monthly_cost: n[1][i],
                est_monthly_savings: n[2][i],
            },
            status: Status::parse(&s[5][i]),
            first_seen: date(&s[6][i]).unwrap_or_default(),
            last_seen: date(&s[7][i]).unwrap_or_default(),
            consecutive_runs: n[0][i] as i64,
            resolved_on: date(&s[8][i]),
            realized_monthly_savings: date(&s[8][i]).map(|_| n[3][i]),
            suppression_reason: text(&s[9][i]),
            suppressed_until: date(&s[10][i]),
        })
        .collect())
}

fn to_batch(findings: &[Finding], pipeline: &str) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&Finding) -> Option<String>| -> ArrayRef {
        Arc::new(findings.iter().map(f).collect::<StringArray>())
    };
    let day = |f: &dyn Fn(&Finding) -> Option<NaiveDate>| -> ArrayRef {
        Arc::new(
            findings
                .iter()
                .map(|x| f(x).map(epoch_days))
                .collect::<Date32Array>(),
        )
    };
    let money = |f: &dyn Fn(&Finding) -> Option<f64>| -> ArrayRef {
        Arc::new(findings.iter().map(f).collect::<Float64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![pipeline; findings.len()])),
        text(&|f| Some(f.seen.rule_id.clone())),
        text(&|f| Some(f.seen.resource_id.clone())),
        text(&|f| Some(f.seen.subscription_id.clone())),
        text(&|f| Some(f.seen.resource_group.clone())),
        text(&|f| Some(f.seen.resource_name.clone())),
        text(&|f| Some(f.status.as_str().to_string())),
        day(&|f| Some(f.first_seen)),
        day(&|f| Some(f.last_seen)),
        Arc::new(
            findings
                .iter()
                .map(|f| Some(f.consecutive_runs))
                .collect::<Int64Array>(),
        ),
        money(&|f| Some(f.seen.monthly_cost)),
        money(&|f| Some(f.seen.est_monthly_savings)),
        day(&|f| f.resolved_on),
        money(&|f| f.realized_monthly_savings),
        text(&|f| f.suppression_reason.clone()),
        day(&|f| f.suppressed_until),
    ];
    RecordBatch::try_new(schema::findings().schema, columns)
        .map_err(|e| Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn seen(rule: &str, resource: &str, cost: f64) -> Seen {
        Seen {
            rule_id: rule.into(),
            resource_id: resource.into(),
            subscription_id: "s1".into(),
            resource_group: "rg-dev".into(),
            resource_name: resource.into(),
            monthly_cost: cost,
            est_monthly_savings: cost,
        }
    }

    #[test]
    fn findings_open_continue_resolve_and_reopen() {
        let ran: HashSet<String> = ["idle".to_string(), "disk".to_string()].into();
        let none = Suppressions::default();
        let costs = HashMap::from([("vm1".to_string(), 20.0)]);
        let day1 = advance(
            vec![],
            vec![seen("idle", "vm1", 140.0), seen("disk", "d1", 30.0)],
            &ran,
            &costs,
            &none,
            d("2026-06-01"),
        );
        assert!(
            day1.iter()
                .all(|f| f.status == Status::Open && f.consecutive_runs == 1)
        );
        // Day 2 finds vm1 again (twice the same day counts once) and no longer finds d1.
        let again = advance(
            day1.clone(),
            vec![seen("idle", "vm1", 140.0)],
            &ran,
            &costs,
            &none,
            d("2026-06-02"),
        );
        let again = advance(
            again,
            vec![seen("idle", "vm1", 140.0)],
            &ran,
            &costs,
            &none,
            d("2026-06-02"),
        );
        let vm = again.iter().find(|f| f.seen.resource_id == "vm1").unwrap();
        assert_eq!((vm.first_seen, vm.consecutive_runs), (d("2026-06-01"), 2));
        let disk = again.iter().find(|f| f.seen.resource_id == "d1").unwrap();
        assert_eq!(disk.status, Status::Resolved);
        assert_eq!(disk.resolved_on, Some(d("2026-06-02")));
        // The disk is gone: its whole cost is realized.
        assert_eq!(disk.realized_monthly_savings, Some(30.0));
        // vm1 stops being found; it still costs 20 of the 140 it did: 120 realized.
        let later = advance(again, vec![], &ran, &costs, &none, d("2026-06-03"));
        let vm = later.iter().find(|f| f.seen.resource_id == "vm1").unwrap();
        assert_eq!(vm.realized_monthly_savings, Some(120.0));
        // Found again later: a new finding, counted from that day.
        let back = advance(
            later,
            vec![seen("disk", "d1", 30.0)],
            &ran,
            &costs,
            &none,
            d("2026-06-09"),
        );
        let disk = back.iter().find(|f| f.seen.resource_id == "d1").unwrap();
        assert_eq!(
            (disk.status, disk.first_seen, disk.consecutive_runs),
            (Status::Open, d("2026-06-09"), 1)
        );
    }

    #[test]
    fn a_rule_that_did_not_run_resolves_nothing() {
        let first = advance(
            vec![],
            vec![seen("idle", "vm1", 10.0)],
            &HashSet::new(),
            &HashMap::new(),
            &Suppressions::default(),
            d("2026-06-01"),
        );
        let next = advance(
            first.clone(),
            vec![],
            &HashSet::new(),
            &HashMap::new(),
            &Suppressions::default(),
            d("2026-06-02"),
        );
        assert_eq!(next, first);
    }

    #[test]
    fn suppressions_snooze_until_a_date_and_dismiss() {
        let s: Suppressions = toml::from_str(
            r#"
            [[suppress]]
            rule = "idle"
            resource = "VM1"
            status = "snoozed"
            until = "2026-06-05"
            reason = "migration in June"
            [[suppress]]
            resource_group = "rg-dev"
            rule = "disk"
            status = "dismissed"
            reason = "scratch disks are wanted"
            "#,
        )
        .unwrap();
        let ran: HashSet<String> = ["idle".to_string(), "disk".to_string()].into();
        let found = vec![
            seen("idle", "vm1", 10.0),
            seen("disk", "d1", 5.0),
            seen("idle", "vm2", 7.0),
        ];
        let on = |day| advance(vec![], found.clone(), &ran, &HashMap::new(), &s, d(day));
        let status =
            |fs: &[Finding], id: &str| fs.iter().find(|f| f.seen.resource_id == id).unwrap().status;
        let before = on("2026-06-04");
        assert_eq!(status(&before, "vm1"), Status::Snoozed);
        assert_eq!(status(&before, "d1"), Status::Dismissed);
        assert_eq!(status(&before, "vm2"), Status::Open);
        let expired = on("2026-06-05");
        assert_eq!(status(&expired, "vm1"), Status::Open);
        assert_eq!(status(&expired, "d1"), Status::Dismissed);
    }
}
