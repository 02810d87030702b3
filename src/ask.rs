//! Questions in plain language: the model gets the lake's schema (tables, columns, types, what the
//! main FOCUS columns mean, a few sample values) and writes one SQL query; it runs read-only
//! through the same guard as `cloudoptima sql`; an SQL error gets one repair round. A short
//! answer is written from the result, its numbers checked against it. [`evaluate`] runs a question
//! set against expected queries and measures execution accuracy.

use std::fmt::Write as _;
use std::path::Path;

use datafusion::arrow::record_batch::RecordBatch;
use serde::Deserialize;
use serde_json::Value;

use crate::lake::Lake;
use crate::lake::query::{self, QueryLimits};
use crate::lake::schema;
use crate::llm::Llm;
use crate::report::summary::check_numbers;
use crate::{Error, Result};

/// What the main FOCUS and cloudoptima columns mean, for the model.
const MEANINGS: &[(&str, &str)] = &[
    (
        "EffectiveCost",
        "amortized cost after discounts and commitments; use it for 'cost' and 'spend'",
    ),
    (
        "BilledCost",
        "cost as invoiced (commitment purchases up front)",
    ),
    ("ListCost", "cost at list prices, before discounts"),
    (
        "ChargePeriodStart",
        "UTC timestamp the charge's period starts; daily rows, so CAST(\"ChargePeriodStart\" AS DATE) is the day",
    ),
    (
        "BillingCurrency",
        "currency of every cost column; never add costs of different currencies",
    ),
    (
        "BillingPeriod",
        "the billing month as 'YYYY-MM' (partition column)",
    ),
    (
        "ServiceName",
        "the cloud service (Virtual Machines, Storage, SQL Database, ...)",
    ),
    (
        "ServiceCategory",
        "FOCUS service category (Compute, Storage, Databases, Networking, ...)",
    ),
    ("SubAccountId", "the Azure subscription's ID"),
    ("SubAccountName", "the Azure subscription's name"),
    ("x_ResourceGroupName", "the Azure resource group"),
    (
        "ResourceId",
        "the resource's ID (Azure resource IDs are lowercase here)",
    ),
    ("ResourceName", "the resource's name"),
    ("ResourceType", "the resource's type"),
    ("RegionName", "the region's display name"),
    (
        "ChargeCategory",
        "Usage, Purchase, Tax, Credit or Adjustment",
    ),
    ("PricingCategory", "Standard, Committed, Dynamic or Other"),
    (
        "Tags",
        "JSON object text; read a tag with json_get_str(\"Tags\", 'key'), keys lowercased",
    ),
    ("x_SkuMeterCategory", "Azure meter category"),
    (
        "est_monthly_savings",
        "a finding's estimated saving per month, in billing_currency",
    ),
];

/// The columns whose commonest values are shown to the model.
const SAMPLED: &[&str] = &[
    "ServiceName",
    "SubAccountName",
    "x_ResourceGroupName",
    "RegionName",
    "BillingCurrency",
    "ChargeCategory",
    "ResourceType",
];

/// The lake's schema as the model reads it: every table and column with its type, what the
/// main columns mean, and the commonest values of a few columns of `costs`.
pub async fn schema_text(lake: &Lake, limits: &QueryLimits) -> String {
    let mut s = String::from(
        "Tables (Apache DataFusion SQL; quote mixed-case column names with double quotes):\n",
    );
    for t in schema::all() {
        let columns: Vec<String> = t
            .schema
            .fields()
            .iter()
            .map(|f| format!("\"{}\" {}", f.name(), f.data_type()))
            .collect();
        let _ = writeln!(s, "- {}({})", t.name, columns.join(", "));
    }
    s.push_str("\nColumn meanings:\n");
    for (c, m) in MEANINGS {
        let _ = writeln!(s, "- {c}: {m}");
    }
    s.push_str("\nCommon values in costs:\n");
    for c in SAMPLED {
        let sql = format!(
            "SELECT \"{c}\" AS v FROM costs WHERE \"{c}\" IS NOT NULL GROUP BY 1 ORDER BY SUM(\"EffectiveCost\") DESC LIMIT 6"
        );
        if let Ok(b) = query::read_only(lake, &sql, limits).await
            && let Ok(values) = crate::lake::columns::strings(&b, 0)
            && !values.is_empty()
        {
            let _ = writeln!(s, "- {c}: {}", values.join(", "));
        }
    }
    if let Ok(b) = query::read_only(
        lake,
        "SELECT CAST(MIN(CAST(\"ChargePeriodStart\" AS DATE)) AS VARCHAR) AS a, \
         CAST(MAX(CAST(\"ChargePeriodStart\" AS DATE)) AS VARCHAR) AS b FROM costs",
        limits,
    )
    .await
        && let (Ok(a), Ok(b)) = (
            crate::lake::columns::strings(&b, 0),
            crate::lake::columns::strings(&b, 1),
        )
        && let (Some(a), Some(b)) = (a.first(), b.first())
    {
        let _ = writeln!(s, "- costs run from {a} to {b}");
    }
    s
}

const SQL_PROMPT: &str = "You turn questions about cloud cost into one read-only SQL query for \
Apache DataFusion over the tables below. Answer with the query only, in a ```sql block. Use only \
the tables and columns listed; quote mixed-case column names with double quotes; filter dates with \
CAST(\"ChargePeriodStart\" AS DATE) and DATE 'YYYY-MM-DD' literals; group amounts by currency when \
the question does not name one.\n\n";

/// The SQL in the model's answer: the first ```sql (or ```) block, else the whole text; without
/// a trailing `;`.
pub fn extract_sql(text: &str) -> String {
    let body = match text.split_once("```") {
        Some((_, rest)) => {
            let rest = rest
                .strip_prefix("sql")
                .or_else(|| rest.strip_prefix("SQL"))
                .unwrap_or(rest);
            rest.split("```").next().unwrap_or(rest)
        }
        None => text,
    };
    body.trim().trim_end_matches(';').trim().to_string()
}

/// The outcome of one question.
#[derive(Debug)]
pub struct Answer {
    /// The query that ran.
    pub sql: String,
    /// The model's first query and its error, when it needed the repair round.
    pub repaired: Option<(String, String)>,
    pub batches: Vec<RecordBatch>,
}

/// Why a question got no result.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("{0}")]
    Model(#[from] crate::llm::LlmError),
    /// The guard refused the query (it writes, or is more than one statement): no repair round.
    #[error("the model's query was refused: {reason}\n{sql}")]
    Refused { sql: String, reason: String },
    /// The query failed, and so did its one repair.
    #[error("the model's query failed twice: {reason}\n{sql}")]
    Failed { sql: String, reason: String },
    #[error(transparent)]
    Lake(#[from] Error),
}

fn refused(e: &Error) -> bool {
    matches!(e, Error::Query(m) if m.starts_with("refused") || m.starts_with("expected one SQL statement"))
}

/// The model's query for `question`, given `schema` (see [`schema_text`]).
pub async fn write_sql(
    llm: &Llm,
    schema: &str,
    question: &str,
) -> std::result::Result<String, AskError> {
    let text = llm
        .complete(&format!("{SQL_PROMPT}{schema}"), question)
        .await?;
    Ok(extract_sql(&text))
}

/// Ask `question`: the model's query, run read-only; on an SQL error, one repair round with the
/// error.
pub async fn ask(
    llm: &Llm,
    lake: &Lake,
    limits: &QueryLimits,
    schema: &str,
    question: &str,
) -> std::result::Result<Answer, AskError> {
    let sql = write_sql(llm, schema, question).await?;
    match query::read_only(lake, &sql, limits).await {
        Ok(batches) => Ok(Answer {
            sql,
            repaired: None,
            batches,
        }),
        Err(e) if refused(&e) => Err(AskError::Refused {
            sql,
            reason: e.to_string(),
        }),
        Err(Error::Query(first_error)) => {
            tracing::info!(error = %first_error, "The model's query failed; asking it once to repair it.");
            let repair = format!(
                "{question}\n\nYour query:\n```sql\n{sql}\n```\nfailed with:\n{first_error}\n\nWrite the corrected query."
            );
            let text = llm
                .complete(&format!("{SQL_PROMPT}{schema}"), &repair)
                .await?;
            let fixed = extract_sql(&text);
            match query::read_only(lake, &fixed, limits).await {
                Ok(batches) => Ok(Answer {
                    sql: fixed,
                    repaired: Some((sql, first_error)),
                    batches,
                }),
                Err(e) if refused(&e) => Err(AskError::Refused {
                    sql: fixed,
                    reason: e.to_string(),
                }),
                Err(e) => Err(AskError::Failed {
                    sql: fixed,
                    reason: e.to_string(),
                }),
            }
        }
        Err(e) => Err(AskError::Lake(e)),
    }
}

/// The result as JSON rows (at most `max`).
pub fn rows_json(batches: &[RecordBatch], max: usize) -> Result<Value> {
    let mut out = Vec::new();
    {
        let mut w = datafusion::arrow::json::ArrayWriter::new(&mut out);
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        w.write_batches(&refs)
            .map_err(|e| Error::Query(e.to_string()))?;
        w.finish().map_err(|e| Error::Query(e.to_string()))?;
    }
    let mut rows: Value = if out.is_empty() {
        Value::Array(Vec::new())
    } else {
        serde_json::from_slice(&out).map_err(|e| Error::Internal(e.to_string()))?
    };
    if let Value::Array(a) = &mut rows {
        a.truncate(max);
    }
    Ok(rows)
}

const ANSWER_PROMPT: &str = "Answer the question in one or two plain sentences from the query \
result given as JSON. Use only numbers that appear in the result; give amounts with their currency \
when the result has one. No markdown.";

/// A short answer from the result, its numbers checked against the result (and the question);
/// `Err(why)` when the model's answer cannot be used.
pub async fn short_answer(
    llm: &Llm,
    question: &str,
    answer: &Answer,
) -> std::result::Result<String, String> {
    let rows = rows_json(&answer.batches, 50).map_err(|e| e.to_string())?;
    let text = llm
        .complete(
            ANSWER_PROMPT,
            &format!(
                "Question: {question}\nQuery:\n{}\nResult:\n{rows}",
                answer.sql
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    let facts = serde_json::json!({"rows": rows, "question": question});
    check_numbers(&text, &facts)
        .map_err(|n| format!("the model's answer gives {n}, which is not in the result"))?;
    Ok(text.trim().to_string())
}

/// One question of an evaluation set, with the query whose result is the right answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalQuestion {
    pub question: String,
    pub sql: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalFile {
    question: Vec<EvalQuestion>,
}

/// How one question went.
#[derive(Debug)]
pub struct EvalOutcome {
    pub question: String,
    pub correct: bool,
    /// Why it was wrong (a different result, a refused or failed query).
    pub note: String,
}

/// A result as comparable rows: each value as text, numbers rounded to 2 decimals; sorted unless
/// `ordered`.
fn normalized(batches: &[RecordBatch], ordered: bool) -> Result<Vec<Vec<String>>> {
    let rows = rows_json(batches, usize::MAX)?;
    let mut out: Vec<Vec<String>> = rows
        .as_array()
        .map(|a| {
            a.iter()
                .map(|row| {
                    let map = row.as_object().cloned().unwrap_or_default();
                    let mut cells: Vec<String> = map
                        .values()
                        .map(|v| match v {
                            Value::Number(n) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                            Value::String(s) => s
                                .parse::<f64>()
                                .map_or_else(|_| s.clone(), |f| format!("{f:.2}")),
                            other => other.to_string(),
                        })
                        .collect();
                    // Column names and order may differ: compare the values as a set.
                    cells.sort();
                    cells
                })
                .collect()
        })
        .unwrap_or_default();
    if !ordered {
        out.sort();
    }
    Ok(out)
}

/// Run every question of `file` through the model and compare each result with its expected
/// query's: execution accuracy.
pub async fn evaluate(
    llm: &Llm,
    lake: &Lake,
    limits: &QueryLimits,
    file: &Path,
) -> Result<Vec<EvalOutcome>> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let set: EvalFile = toml::from_str(&text).map_err(|e| Error::Config {
        file: file.display().to_string(),
        message: crate::config::describe_toml_error(&e, &text),
    })?;
    let schema = schema_text(lake, limits).await;
    let mut out = Vec::new();
    for q in set.question {
        let expected = query::read_only(lake, &q.sql, limits)
            .await
            .map_err(|e| Error::Config {
                file: file.display().to_string(),
                message: format!("the expected query of {:?} fails: {e}", q.question),
            })?;
        let ordered = q.sql.to_uppercase().contains("ORDER BY");
        let (correct, note) = match ask(llm, lake, limits, &schema, &q.question).await {
            Ok(a) => {
                let same = normalized(&a.batches, ordered)? == normalized(&expected, ordered)?;
                (
                    same,
                    if same {
                        String::new()
                    } else {
                        format!("different result from: {}", one_line(&a.sql))
                    },
                )
            }
            Err(e) => (false, one_line(&e.to_string())),
        };
        out.push(EvalOutcome {
            question: q.question,
            correct,
            note,
        });
    }
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `n of m (p%)`.
pub fn accuracy(outcomes: &[EvalOutcome]) -> String {
    let right = outcomes.iter().filter(|o| o.correct).count();
    let pct = if outcomes.is_empty() {
        0.0
    } else {
        100.0 * right as f64 / outcomes.len() as f64
    };
    format!("{right} of {} ({pct:.1}%)", outcomes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_is_taken_from_the_first_fenced_block() {
        assert_eq!(
            extract_sql("Here:\n```sql\nSELECT 1;\n```\nDone."),
            "SELECT 1"
        );
        assert_eq!(extract_sql("```\nSELECT 2\n```"), "SELECT 2");
        assert_eq!(extract_sql("SELECT 3;"), "SELECT 3");
    }
}
