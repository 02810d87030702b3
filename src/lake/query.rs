//! SQL as users write it, run within limits: the one way every SQL surface (`cloudoptima sql`,
//! rules, report queries, servers) plans and runs a query.
//!
//! - Unquoted identifiers are resolved against the lake's columns without regard to case
//!   (`BillingAccountID` is `"BillingAccountId"`, as DuckDB and the FOCUS use cases read it);
//!   quoted identifiers, and names that are no lake column, stay exact.
//! - The date functions DuckDB and PostgreSQL users reach for (`year`, `month`, `day`, `date`,
//!   `strftime`, `dayofweek`, …) are rewritten to DataFusion's (`date_part`, casts, `to_char`).
//! - A query runs under a memory limit (DataFusion's memory pool for joins, sorts and aggregates,
//!   the size of the result, the process's resident memory, and a cap on values built by `repeat`,
//!   `lpad` and `rpad`) and a time limit; over either it stops with an error saying which.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Value, visit_expressions_mut,
};
use futures::StreamExt;
use serde::Deserialize;

use crate::{Error, Result};

/// `[query]` in the config: the limits every query runs under.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryLimits {
    /// Memory one query may use, in MiB: DataFusion's pool for joins, sorts and aggregates, the
    /// result held, and the process's resident memory while it runs. Default 2048.
    pub memory_limit_mb: u64,
    /// Seconds one query may run. Default 300.
    pub time_limit_seconds: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_limit_mb: 2048,
            time_limit_seconds: 300,
        }
    }
}

impl QueryLimits {
    fn memory_bytes(&self) -> usize {
        (self.memory_limit_mb as usize).saturating_mul(1 << 20)
    }
}

/// A session whose joins, sorts and aggregates share a memory pool of the limit (spilling to disk
/// where DataFusion can), with the lake's JSON functions and the limit on built values.
pub fn session(limits: &QueryLimits) -> SessionContext {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(limits.memory_bytes())))
        .build_arc()
        .expect("a runtime with a memory pool builds");
    let base = super::session();
    // The lake's session options as they are (identifiers are case-sensitive there; unquoted ones
    // are resolved here instead), with the limits attached.
    let config = base
        .state()
        .config()
        .clone()
        .with_information_schema(true)
        .with_extension(Arc::new(limits.clone()));
    let state = datafusion::execution::SessionStateBuilder::new_from_existing(base.state())
        .with_config(config)
        .with_runtime_env(runtime)
        .build();
    SessionContext::new_with_state(state)
}

/// Lake column names by their lowercase form (two tables may spell one name differently:
/// `costs."Tags"`, `resources.tags`).
static COLUMNS: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for def in super::schema::all() {
        for f in def.schema.fields() {
            let names = map.entry(f.name().to_lowercase()).or_default();
            if !names.contains(f.name()) {
                names.push(f.name().clone());
            }
        }
    }
    map
});

/// Unquoted `ident` as the lake column it names: as written when a column is spelt so, else the
/// one column it names without regard to case; unchanged when it names none (or several), or is a
/// name the query gives itself (`AS Total`).
fn resolve(ident: &mut Ident, aliases: &HashSet<String>) {
    if ident.quote_style.is_some() || aliases.contains(&ident.value) {
        return;
    }
    let Some(names) = COLUMNS.get(&ident.value.to_lowercase()) else {
        return;
    };
    if names.contains(&ident.value) {
        return;
    }
    if let [exact] = names.as_slice() {
        ident.value = exact.clone();
        ident.quote_style = Some('"');
    }
}

/// `date_part` units of the functions DuckDB and PostgreSQL users call by name.
const DATE_PARTS: &[(&str, &str)] = &[
    ("year", "year"),
    ("quarter", "quarter"),
    ("month", "month"),
    ("week", "week"),
    ("day", "day"),
    ("dayofmonth", "day"),
    ("dayofweek", "dow"),
    ("isodow", "isodow"),
    ("dayofyear", "doy"),
    ("hour", "hour"),
    ("minute", "minute"),
    ("second", "second"),
    ("epoch", "epoch"),
];

fn single_name(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(i)] if i.quote_style.is_none() => Some(i.value.to_lowercase()),
        _ => None,
    }
}

fn unnamed_args(f: &mut Function) -> Option<&mut Vec<FunctionArg>> {
    match &mut f.args {
        FunctionArguments::List(list) => Some(&mut list.args),
        _ => None,
    }
}

/// Functions that build one value from a small input, and the argument giving its length.
const BUILDERS: &[&str] = &["repeat", "lpad", "rpad"];

/// Refuse a literal length that would build a value over `max_bytes` (`repeat('x', 2000000000)`
/// would take gigabytes in one allocation, before any other limit could stop it).
fn check_builder(name: &str, f: &mut Function, max_bytes: usize) -> Result<()> {
    if !BUILDERS.contains(&name) {
        return Ok(());
    }
    let Some(args) = unnamed_args(f) else {
        return Ok(());
    };
    let length = match args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) => match &v.value {
            Value::Number(n, _) => n.parse::<f64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match length {
        Some(n) if n > max_bytes as f64 => Err(Error::QueryLimit(format!(
            "{name}(…, {n}) would build a value of {n} characters, more than the memory limit \
             allows for one value ({max_bytes} bytes; `[query] memory_limit_mb` in the config)"
        ))),
        _ => Ok(()),
    }
}

/// The names a query gives with `AS` (columns, tables, CTEs), unquoted: they are the query's own
/// and are not resolved against the lake.
fn own_names(sql: &str) -> HashSet<String> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return HashSet::new();
    };
    let mut out = HashSet::new();
    let mut after_as = false;
    for t in tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))) {
        match t {
            Token::Word(w) if after_as && w.quote_style.is_none() => {
                out.insert(w.value.clone());
                after_as = false;
            }
            Token::Word(w) => after_as = w.keyword == Keyword::AS,
            _ => after_as = false,
        }
    }
    out
}

/// Rewrite one expression: identifiers resolved, date functions renamed.
fn rewrite(expr: &mut Expr, max_value_bytes: usize, aliases: &HashSet<String>) -> Result<()> {
    match expr {
        Expr::Identifier(ident) => resolve(ident, aliases),
        Expr::CompoundIdentifier(parts) => {
            if let Some(last) = parts.last_mut() {
                resolve(last, aliases);
            }
        }
        Expr::Function(f) => {
            let Some(name) = single_name(&f.name) else {
                return Ok(());
            };
            check_builder(&name, f, max_value_bytes)?;
            if let Some((_, unit)) = DATE_PARTS.iter().find(|(n, _)| *n == name) {
                let Some(args) = unnamed_args(f) else {
                    return Ok(());
                };
                if args.len() != 1 {
                    return Ok(());
                }
                args.insert(
                    0,
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
                        Value::SingleQuotedString(unit.to_string()),
                    ))),
                );
                f.name = ObjectName::from(vec![Ident::new("date_part")]);
            } else if name == "strftime" {
                f.name = ObjectName::from(vec![Ident::new("to_char")]);
            } else if name == "date" {
                let Some(args) = unnamed_args(f) else {
                    return Ok(());
                };
                if let [FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))] = args.as_slice() {
                    let inner = inner.clone();
                    *expr = Expr::Cast {
                        kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
                        expr: Box::new(inner),
                        data_type: datafusion::sql::sqlparser::ast::DataType::Date,
                        array: false,
                        format: None,
                    };
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parse `sql` (one statement) and rewrite it as this module describes.
pub fn prepare(sql: &str, limits: &QueryLimits) -> Result<DfStatement> {
    let mut statements = DFParser::parse_sql(sql).map_err(|e| Error::Query(e.to_string()))?;
    if statements.len() != 1 {
        return Err(Error::Query(format!(
            "expected one SQL statement, found {}",
            statements.len()
        )));
    }
    let mut statement = statements.pop_front().expect("one statement");
    // One value may take a quarter of the memory limit.
    let max_value_bytes = limits.memory_bytes() / 4;
    let aliases = own_names(sql);
    if let DfStatement::Statement(inner) = &mut statement
        && let ControlFlow::Break(e) = visit_expressions_mut(inner.as_mut(), |e| {
            match rewrite(e, max_value_bytes, &aliases) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => ControlFlow::Break(e),
            }
        })
    {
        return Err(e);
    }
    Ok(statement)
}

/// The limits `ctx` was made with ([`session`]), or the defaults.
pub fn limits_of(ctx: &SessionContext) -> QueryLimits {
    ctx.state()
        .config()
        .get_extension::<QueryLimits>()
        .map(|l| l.as_ref().clone())
        .unwrap_or_default()
}

/// Plan `sql` on `ctx` as this module describes; `options` restrict what may run (read-only
/// surfaces refuse DDL, DML and `SET`).
pub async fn plan(
    ctx: &SessionContext,
    sql: &str,
    options: Option<SQLOptions>,
) -> Result<DataFrame> {
    let statement = prepare(sql, &limits_of(ctx))?;
    let state = ctx.state();
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| Error::Query(e.strip_backtrace()))?;
    if let Some(options) = options {
        options
            .verify_plan(&plan)
            .map_err(|e| Error::Query(e.strip_backtrace()))?;
    }
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| Error::Query(e.strip_backtrace()))
}

/// Plan and run one statement of `sql` read-only (`cloudoptima sql`, `ask`, `mcp`) against the lake's tables, within `limits`.
pub async fn read_only(
    lake: &crate::lake::Lake,
    sql: &str,
    limits: &QueryLimits,
) -> Result<Vec<RecordBatch>> {
    let ctx = session(limits);
    lake.register_all(&ctx).await?;
    let df = plan_read_only(&ctx, sql).await?;
    collect(df, limits).await.map_err(|e| match e {
        Error::DataFusion(e) => execution_error(e),
        other => other,
    })
}

/// Plan one statement of `sql` on `ctx`, refusing anything but a query: DDL, DML (`INSERT`,
/// `COPY`) and statements such as `SET` are an error naming the rule. The one guard of every
/// read-only surface (`sql`, `ask`, `mcp`, `export --query`, `serve`).
pub async fn plan_read_only(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let options = datafusion::execution::context::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    plan(ctx, sql, Some(options)).await.map_err(|e| match e {
        Error::Query(msg)
            if msg.contains("not supported")
                && ["DDL", "DML", "Statement"].iter().any(|k| msg.contains(k)) =>
        {
            Error::Query(format!(
                "refused: the lake is read-only here; only queries run (DDL, INSERT, COPY \
                     and SET are not allowed). [{msg}]"
            ))
        }
        other => other,
    })
}

/// An error while a planned query ran: the query's fault (a cast that fails, a division by zero:
/// exit 2), or the lake's (a data file that cannot be read: exit 1).
fn execution_error(e: datafusion::error::DataFusionError) -> Error {
    match e.find_root() {
        datafusion::error::DataFusionError::IoError(_)
        | datafusion::error::DataFusionError::ObjectStore(_)
        | datafusion::error::DataFusionError::ParquetError(_)
        | datafusion::error::DataFusionError::External(_)
        | datafusion::error::DataFusionError::ResourcesExhausted(_) => Error::DataFusion(e),
        _ => Error::Query(e.strip_backtrace()),
    }
}

/// Plan and run `sql` on `ctx` within its limits.
pub async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    let df = plan(ctx, sql, None).await?;
    collect(df, &limits_of(ctx)).await
}

/// Run `df` to the end within `limits`: the result may not outgrow the memory limit, the process's
/// resident memory is watched while it runs, and the whole is stopped at the time limit.
pub async fn collect(df: DataFrame, limits: &QueryLimits) -> Result<Vec<RecordBatch>> {
    let memory = limits.memory_bytes();
    let time = Duration::from_secs(limits.time_limit_seconds);
    let started_rss = resident_bytes().unwrap_or(0);
    let work = async move {
        let mut stream = df.execute_stream().await.map_err(pool_error)?;
        let mut out = Vec::new();
        let mut held = 0usize;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(pool_error)?;
            held += batch.get_array_memory_size();
            if held > memory {
                return Err(over_memory(limits_text(memory), "its result"));
            }
            out.push(batch);
        }
        Ok(out)
    };
    let task = tokio::spawn(work);
    let abort = task.abort_handle();
    let watch = async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            if let Some(rss) = resident_bytes()
                && rss.saturating_sub(started_rss) > memory
            {
                abort.abort();
                return over_memory(limits_text(memory), "the process");
            }
        }
    };
    tokio::select! {
        done = tokio::time::timeout(time, task) => match done {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Error::Internal(format!("query task failed: {join}"))),
            Err(_) => {
                abort.abort();
                Err(Error::QueryLimit(over_time(limits.time_limit_seconds)))
            }
        },
        e = watch => Err(e),
    }
}

/// What a query stopped at its time limit of `seconds` is told.
pub(super) fn over_time(seconds: u64) -> String {
    format!(
        "the query ran longer than the time limit of {seconds} s and was stopped \
         (`[query] time_limit_seconds` in the config)"
    )
}

/// DataFusion's pool refusing memory is the memory limit speaking: said so, naming the setting.
fn pool_error(e: datafusion::error::DataFusionError) -> Error {
    match e.find_root() {
        datafusion::error::DataFusionError::ResourcesExhausted(what) => Error::QueryLimit(format!(
            "the query was stopped: it needs more memory than the limit (`[query] memory_limit_mb` \
             in the config) allows ({what}); aggregate, filter or add LIMIT"
        )),
        _ => Error::from(e),
    }
}

fn limits_text(memory: usize) -> String {
    format!("{} MiB", memory >> 20)
}

fn over_memory(limit: String, what: &str) -> Error {
    Error::QueryLimit(format!(
        "the query was stopped: {what} grew past the memory limit of {limit} (`[query] \
         memory_limit_mb` in the config); aggregate, filter or add LIMIT"
    ))
}

/// The process's resident memory (Linux; `None` elsewhere).
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * usize::try_from(page).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        prepare(sql, &QueryLimits::default()).unwrap().to_string()
    }

    #[test]
    fn a_literal_that_would_build_a_huge_value_is_refused_before_it_runs() {
        let e = prepare(
            "SELECT length(repeat('x', 2000000000))",
            &QueryLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::QueryLimit(_)), "{e}");
        assert!(prepare("SELECT repeat('x', 10)", &QueryLimits::default()).is_ok());
    }

    #[test]
    fn unquoted_identifiers_find_their_lake_column_and_quoted_ones_stay_exact() {
        let sql = rewritten(
            "SELECT BillingAccountID, c.invoiceid, \"billedcost\", Whatever FROM costs c \
             WHERE SubAccountID IS NOT NULL",
        );
        assert!(sql.contains("\"BillingAccountId\""), "{sql}");
        assert!(sql.contains("c.\"InvoiceId\""), "{sql}");
        assert!(sql.contains("\"billedcost\""), "{sql}");
        assert!(sql.contains("\"SubAccountId\""), "{sql}");
        // Not a lake column: left as written.
        assert!(sql.contains(" Whatever "), "{sql}");
        // A name the query gives itself, even one a lake table also has (`metrics.total`).
        let sql = rewritten("SELECT SUM(BilledCost) AS Total FROM costs ORDER BY Total");
        assert!(sql.ends_with("ORDER BY Total"), "{sql}");
        // Spelt as a column of some table: left as written (`resources.tags`, `costs."Tags"`).
        assert!(rewritten("SELECT tags, Tags FROM x").contains("SELECT tags, Tags FROM"));
    }

    #[test]
    fn date_functions_users_know_are_rewritten() {
        let sql = rewritten(
            "SELECT YEAR(ChargePeriodStart), month(x), DATE(ChargePeriodStart), \
             strftime(x, '%Y-%m') FROM costs",
        );
        assert!(
            sql.contains("date_part('year', ChargePeriodStart)"),
            "{sql}"
        );
        assert!(sql.contains("date_part('month', x)"), "{sql}");
        assert!(sql.contains("CAST(ChargePeriodStart AS DATE)"), "{sql}");
        assert!(sql.contains("to_char(x, '%Y-%m')"), "{sql}");
    }
}
