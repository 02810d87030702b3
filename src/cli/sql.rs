//! `cloudoptima sql "…"`: ad hoc, read-only SQL over every lake table, printed as a table, CSV or JSON;
//! with no query, a prompt on a terminal or one query from stdin.
//! DDL, DML (`INSERT`, `COPY`) and `SET` are refused before anything runs.

use std::io::{IsTerminal, Read, Write};

use datafusion::arrow::util::pretty::pretty_format_batches;

use super::{Context, EXIT_OK};
use crate::lake::Lake;
use crate::lake::query::{self, QueryLimits};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query. Without it: an interactive prompt on a terminal, else one query read from stdin.
    query: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Plan and run `sql` read-only against the lake's tables, within `limits`.
pub async fn query(
    lake: &Lake,
    sql: &str,
    limits: &QueryLimits,
) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
    query::read_only(lake, sql, limits).await
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    if let Some(q) = args.query {
        return print(&query(&lake, &q, &config.query).await?, args.format).map(|_| EXIT_OK);
    }
    if std::io::stdin().is_terminal() {
        return repl(&lake, args.format, &config.query).await;
    }
    let mut sql = String::new();
    std::io::stdin()
        .read_to_string(&mut sql)
        .map_err(|e| Error::io("<stdin>", e))?;
    print(&query(&lake, &sql, &config.query).await?, args.format)?;
    Ok(EXIT_OK)
}

/// Read statements ending in `;` from the terminal and run each; errors are shown, not fatal.
async fn repl(lake: &Lake, format: Format, limits: &QueryLimits) -> Result<u8> {
    println!(
        "cloudoptima sql on {} (read-only). End statements with `;`; `\\q` or Ctrl-D quits.",
        lake.url()
    );
    let stdin = std::io::stdin();
    let mut buffer = String::new();
    loop {
        print!("{}", if buffer.is_empty() { "sql> " } else { "...> " });
        std::io::stdout()
            .flush()
            .map_err(|e| Error::io("<stdout>", e))?;
        let mut line = String::new();
        if stdin
            .read_line(&mut line)
            .map_err(|e| Error::io("<stdin>", e))?
            == 0
            || line.trim() == "\\q"
        {
            println!();
            return Ok(EXIT_OK);
        }
        buffer.push_str(&line);
        if !buffer.trim_end().ends_with(';') {
            continue;
        }
        let statement = std::mem::take(&mut buffer);
        match query(lake, statement.trim().trim_end_matches(';'), limits).await {
            Ok(batches) => print(&batches, format)?,
            Err(e) => eprintln!("error: {e}"),
        }
    }
}

pub(super) fn print(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
    format: Format,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    match format {
        Format::Table => {
            let text = pretty_format_batches(batches).map_err(|e| Error::Query(e.to_string()))?;
            writeln!(out, "{text}").map_err(io)?;
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in batches {
                w.write(b).map_err(|e| Error::Query(e.to_string()))?;
            }
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(&mut out);
            let refs: Vec<_> = batches.iter().collect();
            w.write_batches(&refs)
                .map_err(|e| Error::Query(e.to_string()))?;
            w.finish().map_err(|e| Error::Query(e.to_string()))?;
            writeln!(out).map_err(io)?;
        }
    }
    Ok(())
}
