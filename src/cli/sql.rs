//! `cloudoptima sql "…"`: ad hoc, read-only SQL over every lake table, printed as a table, CSV or JSON.
//! DDL, DML (`INSERT`, `COPY`) and `SET` are refused before anything runs.

use std::io::{Read, Write};

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::context::SQLOptions;

use super::{Context, EXIT_OK};
use crate::lake::Lake;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query. Without it, the query is read from standard input.
    query: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

/// Plan and run `sql` read-only against the lake's tables.
pub async fn query(
    lake: &Lake,
    sql: &str,
) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
    let ctx = crate::lake::session();
    lake.register_all(&ctx).await?;
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let df = ctx.sql_with_options(sql, options).await.map_err(|e| {
        let msg = e.strip_backtrace();
        if msg.contains("not supported") && ["DDL", "DML", "Statement"].iter().any(|k| msg.contains(k)) {
            Error::Query(format!(
                "refused: `cloudoptima sql` is read-only; only queries run here (DDL, INSERT, COPY and SET are not allowed). [{msg}]"
            ))
        } else {
            Error::Query(msg)
        }
    })?;
    df.collect()
        .await
        .map_err(|e| Error::Query(e.strip_backtrace()))
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open(&config.lake.url)?;
    let sql = match args.query {
        Some(q) => q,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("<stdin>", e))?;
            s
        }
    };
    let batches = query(&lake, &sql).await?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    match args.format {
        Format::Table => {
            let text = pretty_format_batches(&batches).map_err(|e| Error::Query(e.to_string()))?;
            writeln!(out, "{text}").map_err(io)?;
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in &batches {
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
    Ok(EXIT_OK)
}
