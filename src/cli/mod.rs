//! The command line. `main` stays thin: parse, dispatch to one file per subcommand, map the outcome
//! to an exit code (0 success, 1 the run finished with failed stages, 2 usage or configuration error).

mod ask;
mod check;
mod daemon;
mod demo_export;
mod export;
mod forecast;
mod mcp;
mod progress;
mod rules;
mod run;
mod serve;
mod sql;
mod status;
mod vacuum;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::assets::SqlSet;
use crate::config::Config;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run finished but a stage failed (or `strict` tripped).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad usage, configuration, pipeline, rule or query.
pub const EXIT_USAGE: u8 = 2;

/// cloudoptima: Azure cost data into a FOCUS lake, waste rules, forecasts and a PDF report.
///
/// With no configuration it runs on a built-in demo tenant, writes the lake to ./lake, the report to
/// out/reports/ and the email to out/outbox/.
#[derive(Debug, Parser)]
#[command(
    name = "cloudoptima",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 success; 1 the run finished but a stage failed (or `strict` tripped); 2 usage, configuration, rule or query error."
)]
pub struct Cli {
    /// Config file [default: config/cloudoptima.toml if it exists, else built-in defaults].
    #[arg(long, global = true, env = "CLOUDOPTIMA_CONFIG")]
    config: Option<PathBuf>,
    /// Lake location (path or URL); overrides `lake.url` from the config.
    #[arg(long, global = true, env = "CLOUDOPTIMA_LAKE")]
    lake: Option<String>,
    /// Folder of pipeline files [default: ./pipelines if it exists, else the built-in demo
    /// pipeline]. A folder given here must exist.
    #[arg(long, global = true, env = "CLOUDOPTIMA_PIPELINES")]
    pipelines: Option<PathBuf>,
    /// Folder of SQL rule files (with shared views in `views/`), instead of the rules built into
    /// the binary. A folder given here must exist.
    #[arg(long, global = true)]
    rules: Option<PathBuf>,
    /// Folder of report queries, instead of the ones built into the binary.
    #[arg(long, global = true)]
    report_sql: Option<PathBuf>,
    /// More log output on stderr: -v cloudoptima's info, -vv its debug, -vvv every library's debug.
    /// RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log lines as text (coloured only on a terminal) or one JSON object each, for log
    /// collectors.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: crate::telemetry::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run pipelines once, now: extract, transform, rules, forecast, report, delivery.
    Run(run::Args),
    /// Run every pipeline on its `schedule` until stopped (SIGTERM, Ctrl-C), with `/healthz` and
    /// Prometheus `/metrics` on `--listen`.
    Daemon(daemon::Args),
    /// The lake over the PostgreSQL wire protocol (read-only) for Power BI, Excel, Grafana,
    /// Metabase, psql and PostgreSQL drivers.
    Serve(serve::Args),
    /// Ad hoc, read-only SQL over the lake's tables.
    Sql(sql::Args),
    /// Check config, pipelines and rules; plan every rule against the table schemas.
    Validate(validate::Args),
    /// List the rules or show one.
    #[command(subcommand)]
    Rules(rules::Command),
    /// The last runs recorded in the lake: when, which pipeline, outcome, errors.
    Status(status::Args),
    /// Sign in to Azure and try one read on every scope the pipelines' Azure sources use; report
    /// what can and cannot be read and which role is missing.
    Check(check::Args),
    /// Write the demo tenant's costs as a Cost Management FOCUS export folder (with manifests).
    DemoExport(demo_export::Args),
    /// Forecast daily series from a CSV file (`series,date,value`) with the pipeline's model.
    Forecast(forecast::Args),
    /// Ask a question in plain language: the model in `[llm]` writes the SQL, shown and run
    /// read-only, with a short answer.
    Ask(ask::Args),
    /// A Model Context Protocol server on stdio: assistants list tables, run read-only SQL and
    /// read findings, anomalies, budgets and rules. Nothing it offers writes.
    Mcp(mcp::Args),
    /// Lake tables (or a read-only query) as hive-partitioned Parquet or CSV for BI tools, on a
    /// local folder or an object store, from one consistent lake version, published whole.
    Export(export::Args),
    /// Delete data files the lake's tables no longer use, once older than the retention period
    /// (each run does this too).
    Vacuum(vacuum::Args),
}

/// Shared by the subcommands: the paths given on the command line, and how to load what they name.
pub(crate) struct Context {
    pub config_path: Option<PathBuf>,
    pub lake_override: Option<String>,
    pub pipelines: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub report_sql: Option<PathBuf>,
}

impl Context {
    pub fn config(&self) -> crate::Result<Config> {
        let mut config = Config::load(self.config_path.as_deref())?;
        if let Some(lake) = &self.lake_override {
            config.lake.url = lake.clone();
        }
        Ok(config)
    }

    /// The pipelines: the folder given, or `./pipelines`, or the built-in demo pipeline.
    pub fn pipelines(&self) -> crate::Result<Vec<crate::pipeline::PipelineSpec>> {
        crate::pipeline::spec::load(self.pipelines.as_deref())
    }

    pub fn rules_set(&self) -> SqlSet {
        SqlSet::rules(self.rules.as_deref())
    }

    pub fn report_sql_set(&self) -> SqlSet {
        SqlSet::report(self.report_sql.as_deref())
    }
}

/// Whether `command` writes to network peers (SMTP, webhooks, Azure, database clients). The binary
/// starts with SIGPIPE's default action so that a command printing its result into `head` ends
/// quietly; these commands ignore it instead, or a peer closing its connection during a write
/// (a vectored socket write raises the signal) would kill the process without a word. They get
/// the write's error instead.
fn talks_to_servers(command: &Command) -> bool {
    !matches!(
        command,
        Command::Sql(_)
            | Command::Validate(_)
            | Command::Rules(_)
            | Command::Status(_)
            | Command::DemoExport(_)
            | Command::Forecast(_)
    )
}

/// Parse arguments, run the command, return the exit code.
pub async fn main() -> u8 {
    let cli = Cli::parse();
    // A service logs what it does (each run, stage and skipped tick) without being asked.
    let verbose = match cli.command {
        Command::Daemon(_) => cli.verbose.max(1),
        _ => cli.verbose,
    };
    crate::telemetry::init(verbose, cli.log_format);
    if talks_to_servers(&cli.command) {
        // SAFETY: setting one signal's disposition; no handler runs.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }
    let cx = Context {
        config_path: cli.config,
        lake_override: cli.lake,
        pipelines: cli.pipelines,
        rules: cli.rules,
        report_sql: cli.report_sql,
    };
    let result = match cli.command {
        Command::Run(args) => run::exec(&cx, args).await,
        Command::Sql(args) => sql::exec(&cx, args).await,
        Command::Validate(args) => validate::exec(&cx, args).await,
        Command::Rules(cmd) => rules::exec(&cx, cmd),
        Command::Status(args) => status::exec(&cx, args).await,
        Command::Check(args) => check::exec(&cx, args).await,
        Command::DemoExport(args) => demo_export::exec(args),
        Command::Forecast(args) => forecast::exec(args),
        Command::Ask(args) => ask::exec(&cx, args).await,
        Command::Mcp(args) => mcp::exec(&cx, args).await,
        Command::Vacuum(args) => vacuum::exec(&cx, args).await,
        Command::Export(args) => export::exec(&cx, args).await,
        Command::Daemon(args) => daemon::exec(&cx, args).await,
        Command::Serve(args) => serve::exec(&cx, args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_usage() {
                EXIT_USAGE
            } else {
                EXIT_FAILED
            }
        }
    }
}
