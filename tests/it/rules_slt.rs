//! Every rule in `sql/rules/` has a sqllogictest file in `tests/sql/rules/<rule_id>.slt` holding
//! findings and non-findings. Each file runs in its own DataFusion session where the lake tables
//! exist empty with their contract schemas (the file inserts its fixtures), the shared views of
//! `sql/rules/views/` are registered, and the rule is a view named after its id, rendered with its
//! default params and the run date 2026-06-15. A file may ask for more views of its rule with other
//! params: `# view NAME with { param = value, … }`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use cloudoptima::analyze::rules;
use cloudoptima::assets::SqlSet;
use cloudoptima::lake::{register_empty, schema, session};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use sqllogictest::{DBOutput, DefaultColumnType};

use crate::support::repo;

/// The run date every rule view is rendered with.
pub const AS_OF: &str = "2026-06-15";

struct RuleDb {
    ctx: SessionContext,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DbError(String);

/// One cell as sqllogictest text: NULL, `(empty)`, numbers rounded to 4 decimals.
fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return "NULL".into();
    }
    if let Some(f) = column
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Float64Array>()
    {
        let v = (f.value(row) * 10_000.0).round() / 10_000.0;
        return format!("{v}");
    }
    let text = ArrayFormatter::try_new(column, &FormatOptions::default())
        .unwrap()
        .value(row)
        .to_string();
    if text.is_empty() {
        "(empty)".into()
    } else {
        text
    }
}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => {
            DefaultColumnType::FloatingPoint
        }
        _ => DefaultColumnType::Text,
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for RuleDb {
    type Error = DbError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let df = self
            .ctx
            .sql(sql)
            .await
            .map_err(|e| DbError(e.strip_backtrace()))?;
        let types: Vec<DefaultColumnType> = df
            .schema()
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let is_query = sql.trim_start().to_lowercase().starts_with("select")
            || sql.trim_start().to_lowercase().starts_with("with");
        let batches: Vec<RecordBatch> = df
            .collect()
            .await
            .map_err(|e| DbError(e.strip_backtrace()))?;
        if !is_query {
            return Ok(DBOutput::StatementComplete(0));
        }
        let rows = batches
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .map(move |r| b.columns().iter().map(|c| cell(c.as_ref(), r)).collect())
            })
            .collect();
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "cloudoptima"
    }
}

/// Param overrides by name.
type Params = BTreeMap<String, toml::Value>;

/// Extra views a test file asks for, with params other than the defaults:
/// `# view NAME with { param = value, … }` (a TOML inline table).
fn param_views(text: &str) -> Result<Vec<(String, Params)>, String> {
    let mut views = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# view ") else {
            continue;
        };
        let (name, table) = rest
            .split_once(" with ")
            .ok_or_else(|| format!("`{line}`: expected `# view NAME with {{ param = value }}`"))?;
        let mut parsed: BTreeMap<String, Params> =
            toml::from_str(&format!("params = {}", table.trim()))
                .map_err(|e| format!("`{line}`: {e}"))?;
        views.push((
            name.trim().to_string(),
            parsed.remove("params").unwrap_or_default(),
        ));
    }
    Ok(views)
}

async fn run_file(rule: &rules::Rule, slt: &Path, text: &str) -> Result<(), String> {
    let ctx = session();
    for def in schema::all() {
        register_empty(&ctx, &def).map_err(|e| e.to_string())?;
    }
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    rules::register_views(
        &ctx,
        &SqlSet::Dir(repo().join("sql/rules")),
        as_of,
        rules::Views::Lazy,
    )
    .await
    .map_err(|e| e.to_string())?;
    // The rule with its defaults (no overrides), then the views the file asks for.
    for (view, overrides) in
        std::iter::once((rule.id.clone(), BTreeMap::new())).chain(param_views(text)?)
    {
        let sql = rule
            .render(Some(&overrides), as_of)
            .map_err(|e| e.to_string())?;
        ctx.sql(&format!("CREATE VIEW {view} AS {sql}"))
            .await
            .map_err(|e| e.strip_backtrace())?;
    }
    let mut runner = sqllogictest::Runner::new(move || {
        let ctx = ctx.clone();
        async move { Ok(RuleDb { ctx }) }
    });
    runner.with_column_validator(sqllogictest::strict_column_validator);
    runner
        .run_file_async(slt)
        .await
        .map_err(|e| e.display(true).to_string())
}

#[tokio::test]
async fn every_rule_has_a_passing_slt_with_findings_and_non_findings() {
    let all = rules::load_dir(&repo().join("sql/rules")).unwrap();
    let dir = repo().join("tests/sql/rules");
    let mut failures = Vec::new();
    for rule in &all {
        let slt: PathBuf = dir.join(format!("{}.slt", rule.id));
        if !slt.exists() {
            failures.push(format!("{}: no test file {}", rule.id, slt.display()));
            continue;
        }
        let text = std::fs::read_to_string(&slt).unwrap();
        for marker in ["# finding", "# non-finding"] {
            if !text.contains(marker) {
                failures.push(format!(
                    "{}: {} has no `{marker}` case",
                    rule.id,
                    slt.display()
                ));
            }
        }
        if let Err(e) = run_file(rule, &slt, &text).await {
            failures.push(format!("{}:\n{e}", rule.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule test file(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn rules_reference_is_current() {
    let all = rules::load_dir(&repo().join("sql/rules")).unwrap();
    let generated = rules::reference_markdown(&all);
    let checked_in = std::fs::read_to_string(repo().join("docs/rules.md")).unwrap_or_default();
    assert!(
        generated == checked_in,
        "docs/rules.md is stale: regenerate it with `cargo run -- rules docs > docs/rules.md`"
    );
}

/// The runner adds each finding's billing currency and its savings in USD: 1:1 for USD, from the
/// export's USD column for EUR, from the exchange rate where only that is known, and none when
/// nothing says.
#[tokio::test]
async fn runner_adds_billing_currency_and_usd_savings() {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;

    let ctx = session();
    for def in schema::all() {
        register_empty(&ctx, &def).unwrap();
    }
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let dir = repo().join("sql/rules");
    rules::register_views(&ctx, &SqlSet::Dir(dir.clone()), as_of, rules::Views::Lazy)
        .await
        .unwrap();
    // One reservation per subscription, 20 a day used and 10 a day unused (300 unused a month).
    ctx.sql(
        "INSERT INTO costs (\"CommitmentDiscountId\", \"CommitmentDiscountStatus\", \"SubAccountId\", \
         \"BillingCurrency\", \"PricingCurrency\", \"x_BillingExchangeRate\", \"EffectiveCost\", \
         \"x_EffectiveCostInUsd\", \"ChargePeriodStart\") \
         SELECT '/providers/microsoft.capacity/reservationorders/o/reservations/' || s.sub, u.status, \
                '/subscriptions/' || s.sub, s.currency, s.pricing, s.rate, u.cost, u.cost * s.usd, \
                to_timestamp_seconds(1778889600 + d.value * 86400) AS ts \
         FROM (SELECT 'usd' AS sub, 'USD' AS currency, 'USD' AS pricing, 1.0 AS rate, 1.0 AS usd \
               UNION ALL SELECT 'eur', 'EUR', 'EUR', 1.0, 1.08 \
               UNION ALL SELECT 'gbp', 'GBP', 'USD', 0.8, NULL \
               UNION ALL SELECT 'jpy', 'JPY', 'JPY', 1.0, NULL) AS s \
         CROSS JOIN (SELECT 'Used' AS status, 20.0 AS cost UNION ALL SELECT 'Unused', 10.0) AS u \
         CROSS JOIN generate_series(0, 29) AS d",
    )
    .await
    .unwrap()
    .collect()
    .await
    .unwrap();
    let all = rules::load_dir(&dir).unwrap();
    let rule = all
        .iter()
        .find(|r| r.id == "rate_commitment_underused")
        .unwrap();
    let run = cloudoptima::lake::RunKey {
        pipeline: "daily".into(),
        run_id: "run-1".into(),
        as_of,
    };
    let batches = rule.run(&ctx, None, &run).await.unwrap();
    let mut got = Vec::new();
    for b in &batches {
        let column = |name: &str| b.column(b.schema().index_of(name).unwrap()).clone();
        let (sub, currency) = (column("subscription_id"), column("billing_currency"));
        let (savings, usd) = (
            column("est_monthly_savings"),
            column("est_monthly_savings_usd"),
        );
        for i in 0..b.num_rows() {
            let usd = usd.as_primitive::<Float64Type>();
            got.push((
                sub.as_string::<i32>().value(i).to_string(),
                currency.as_string::<i32>().value(i).to_string(),
                savings.as_primitive::<Float64Type>().value(i),
                (!usd.is_null(i)).then(|| (usd.value(i) * 100.0).round() / 100.0),
            ));
        }
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("eur".into(), "EUR".into(), 300.0, Some(324.0)),
            ("gbp".into(), "GBP".into(), 300.0, Some(375.0)),
            ("jpy".into(), "JPY".into(), 300.0, None),
            ("usd".into(), "USD".into(), 300.0, Some(300.0)),
        ]
    );
}
