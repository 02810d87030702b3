//! `cloudoptima mcp`: a Model Context Protocol server on stdio (rmcp). Its tools list the lake's
//! tables and columns, run read-only SQL with a row limit (through the same guard as
//! `cloudoptima sql`), list findings, anomalies and budgets, and explain a rule. None writes.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;

use super::{Context, EXIT_OK};
use crate::assets::SqlSet;
use crate::lake::Lake;
use crate::lake::columns::sql_string;
use crate::lake::query::{self, QueryLimits};
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The most rows a `query` call returns (a caller may ask for fewer).
    #[arg(long, default_value_t = 500)]
    max_rows: usize,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
struct TableArgs {
    /// The table's name, as `list_tables` gives it.
    table: String,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
struct QueryArgs {
    /// One read-only SQL query (Apache DataFusion dialect; quote mixed-case columns with double
    /// quotes). DDL, INSERT, COPY, SET and multiple statements are refused.
    sql: String,
    /// The most rows to return (default 100).
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
struct FindingsArgs {
    /// Only findings of this priority: high, medium or low.
    priority: Option<String>,
    /// The most findings to return (default 50).
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
struct AnomaliesArgs {
    /// Include resolved anomalies too (default: only new and continuing ones).
    include_resolved: Option<bool>,
}

#[derive(Debug, Deserialize, rmcp::schemars::JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
struct RuleArgs {
    /// The rule's id (`compute_vm_idle`).
    rule_id: String,
}

#[derive(Clone)]
struct Server {
    lake: std::sync::Arc<Lake>,
    limits: QueryLimits,
    rules: std::sync::Arc<SqlSet>,
    max_rows: usize,
    tool_router: ToolRouter<Server>,
}

fn text(s: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(s)])
}

fn failure(s: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(s)])
}

#[tool_router]
impl Server {
    /// Rows of `sql` as a JSON array (at most `limit`), or the refusal or error as a tool error.
    async fn rows(&self, sql: &str, limit: usize) -> CallToolResult {
        match query::read_only(&self.lake, sql, &self.limits).await {
            Ok(batches) => {
                let total: usize = batches.iter().map(|b| b.num_rows()).sum();
                match crate::ask::rows_json(&batches, limit) {
                    Ok(rows) => {
                        let mut out = rows.to_string();
                        if total > limit {
                            out.push_str(&format!(
                                "\n({total} rows; the first {limit} shown: narrow the query or raise `limit`)"
                            ));
                        }
                        text(out)
                    }
                    Err(e) => failure(e.to_string()),
                }
            }
            Err(e) => failure(e.to_string()),
        }
    }

    #[tool(
        description = "List the lake's tables (FOCUS cost data, resources, metrics, findings, anomalies, budgets, forecasts, data-quality tables) with their columns' count."
    )]
    async fn list_tables(&self) -> std::result::Result<CallToolResult, ErrorData> {
        let lines: Vec<String> = crate::lake::schema::all()
            .iter()
            .map(|t| format!("{} ({} columns)", t.name, t.schema.fields().len()))
            .collect();
        Ok(text(lines.join("\n")))
    }

    #[tool(description = "The columns of one table with their types.")]
    async fn describe_table(
        &self,
        Parameters(args): Parameters<TableArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let Some(t) = crate::lake::schema::all()
            .into_iter()
            .find(|t| t.name == args.table)
        else {
            return Ok(failure(format!(
                "no table {:?}; list_tables names them",
                args.table
            )));
        };
        let lines: Vec<String> = t
            .schema
            .fields()
            .iter()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect();
        Ok(text(lines.join("\n")))
    }

    #[tool(
        description = "Run one read-only SQL query over the lake and return its rows as JSON. Amounts are in the row's BillingCurrency; never add different currencies."
    )]
    async fn query(
        &self,
        Parameters(args): Parameters<QueryArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let limit = args.limit.unwrap_or(100).min(self.max_rows);
        Ok(self.rows(&args.sql, limit).await)
    }

    #[tool(
        description = "The latest run's waste findings, highest priority and savings first: rule, resource, reason, monthly savings and currency, fit, priority, remediation."
    )]
    async fn list_findings(
        &self,
        Parameters(args): Parameters<FindingsArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let priority = match args.priority.as_deref() {
            Some(p @ ("high" | "medium" | "low")) => format!("AND priority = {}", sql_string(p)),
            Some(other) => {
                return Ok(failure(format!(
                    "priority {other:?}: expected high, medium or low"
                )));
            }
            None => String::new(),
        };
        let sql = format!(
            "SELECT pipeline, rule_id, title, resource_name, resource_group, reason, est_monthly_savings, \
             billing_currency, fit_score, priority, remediation, CAST(run_date AS VARCHAR) AS run_date \
             FROM recommendations r WHERE run_date = (SELECT MAX(run_date) FROM recommendations x WHERE x.pipeline = r.pipeline) {priority} \
             ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, est_monthly_savings DESC"
        );
        Ok(self
            .rows(&sql, args.limit.unwrap_or(50).min(self.max_rows))
            .await)
    }

    #[tool(
        description = "Cost anomalies with their scope, direction, days, impact (actual minus expected) and largest cause."
    )]
    async fn list_anomalies(
        &self,
        Parameters(args): Parameters<AnomaliesArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let filter = if args.include_resolved.unwrap_or(false) {
            ""
        } else {
            "WHERE status IN ('new', 'continuing')"
        };
        let sql = format!(
            "SELECT pipeline, dimension, value, currency, direction, status, severity, CAST(first_day AS VARCHAR) AS first_day, \
             CAST(last_day AS VARCHAR) AS last_day, expected, actual, impact, cause_resource_id, cause_meter, cause_share \
             FROM anomalies {filter} ORDER BY ABS(impact) DESC"
        );
        Ok(self.rows(&sql, self.max_rows).await)
    }

    #[tool(
        description = "Each budget's latest status: amount, spent, forecast at the period's end, thresholds crossed."
    )]
    async fn list_budgets(&self) -> std::result::Result<CallToolResult, ErrorData> {
        let sql = "SELECT * FROM budget_status b WHERE run_date = \
                   (SELECT MAX(run_date) FROM budget_status x WHERE x.pipeline = b.pipeline) ORDER BY pipeline, budget";
        Ok(self.rows(sql, self.max_rows).await)
    }

    #[tool(
        description = "What a waste rule detects, why it matters, how to fix it, its parameters and its SQL."
    )]
    async fn explain_rule(
        &self,
        Parameters(args): Parameters<RuleArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let rules = match crate::analyze::rules::load(&self.rules) {
            Ok(r) => r,
            Err(e) => return Ok(failure(e.to_string())),
        };
        let Some(r) = rules.iter().find(|r| r.id == args.rule_id) else {
            return Ok(failure(format!(
                "no rule {:?}; known rules: {}",
                args.rule_id,
                rules
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let params: Vec<String> = r
            .params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} = {v}{}",
                    r.param_docs
                        .get(k)
                        .map(|d| format!("  # {d}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        Ok(text(format!(
            "{} ({}): {}\ncategory {}, severity {}, effort {}, status {}\n\nWhat: {}\nWhy: {}\nFix: {}\n\nParameters:\n{}\n\nSQL:\n{}",
            r.id,
            r.title,
            r.what,
            r.category,
            r.severity,
            r.effort,
            r.status,
            r.what,
            r.why,
            r.fix,
            if params.is_empty() {
                "(none)".into()
            } else {
                params.join("\n")
            },
            r.sql
        )))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "cloudoptima",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "The cloudoptima FinOps lake: Azure (and other clouds') cost in FOCUS 1.2 columns \
                 (table `costs`), inventory, waste findings, anomalies, budgets and forecasts. \
                 Everything is read-only. Use `list_tables` and `describe_table`, then `query`.",
            )
    }
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let server = Server {
        lake: std::sync::Arc::new(lake),
        limits: config.query.clone(),
        rules: std::sync::Arc::new(cx.rules_set()),
        max_rows: args.max_rows.max(1),
        tool_router: Server::tool_router(),
    };
    tracing::info!("MCP server on stdio.");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Internal(format!("MCP: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::Internal(format!("MCP: {e}")))?;
    Ok(EXIT_OK)
}
