//! The rules stage: run a pipeline's selected rules over the lake, write their findings to
//! `recommendations` (the run's own rows for its date) and advance the pipeline's `findings`.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use super::lifecycle;
use super::rules::{self, RuleSelection};
use crate::assets::SqlSet;
use crate::lake::{Lake, RunKey, columns, schema};

/// Findings of one rule.
#[derive(Debug, Clone)]
pub struct RuleOutcome {
    pub rule_id: String,
    pub findings: usize,
    pub monthly_savings: f64,
    /// How long the rule's query took (planning and execution).
    pub elapsed_ms: u64,
}

/// What the stage did: each rule that ran, the findings written, and every error (a failing rule
/// does not stop the others).
#[derive(Debug, Default)]
pub struct RulesOutcome {
    pub rules: Vec<RuleOutcome>,
    pub findings: usize,
    pub errors: Vec<String>,
}

/// Where the stage finds its rules and which it runs.
pub struct RulesInput<'a> {
    pub rules: &'a SqlSet,
    pub selection: &'a RuleSelection,
    /// The pipeline file the selection came from, named in errors.
    pub origin: &'a Path,
}

/// Run the selected rules as `run` over the tables registered in `ctx`.
pub async fn run(
    lake: &Lake,
    ctx: &SessionContext,
    run: &RunKey,
    input: &RulesInput<'_>,
) -> RulesOutcome {
    let mut out = RulesOutcome::default();
    let all = match rules::load(input.rules) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let selected = match rules::select(&all, input.selection, &input.origin.display().to_string()) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    if let Err(e) =
        rules::register_views(ctx, input.rules, run.as_of, rules::Views::Materialized).await
    {
        out.errors.push(e.to_string());
        return out;
    }
    let mut batches = Vec::new();
    let mut ran = HashSet::new();
    for rule in selected {
        let started = Instant::now();
        match rule
            .run(ctx, input.selection.params.get(&rule.id), run)
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
                out.rules.push(RuleOutcome {
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
                out.errors.push(e.to_string());
            }
        }
    }
    out.findings = batches.iter().map(RecordBatch::num_rows).sum();
    if let Err(e) = lake
        .write_batches(
            &schema::recommendations(),
            batches.clone(),
            run.run_date_rows(),
        )
        .await
    {
        out.errors.push(e.to_string());
        return out;
    }
    // Findings across runs: new, continuing, resolved, snoozed or dismissed.
    let suppressions = match &input.selection.suppressions {
        Some(path) => lifecycle::Suppressions::load(path).unwrap_or_else(|e| {
            out.errors.push(e.to_string());
            Default::default()
        }),
        None => Default::default(),
    };
    if let Err(e) = lifecycle::update(lake, ctx, run, &batches, &ran, &suppressions).await {
        out.errors.push(format!("findings: {e}"));
    }
    out
}
