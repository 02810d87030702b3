//! `cloudoptima export`: lake tables (or a read-only query) as hive-partitioned Parquet or CSV for
//! BI tools, on a local folder or an object store, read from one consistent lake version and
//! published whole.

use super::{Context, EXIT_OK};
use crate::export::{self, Dataset, Exported, Format};
use crate::lake::Lake;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cloudoptima export costs recommendations --to exports/
  cloudoptima export --to az://bi/finops --query \"SELECT ServiceName, SUM(EffectiveCost) AS cost FROM costs GROUP BY 1\" --name cost_by_service
Read back (DuckDB): SELECT * FROM read_parquet('exports/costs/**/*.parquet', hive_partitioning = true)")]
pub struct Args {
    /// Lake tables to export, each to `<to>/<table>/`, partitioned as in the lake.
    tables: Vec<String>,
    /// A local folder or an object store URL (`az://container/prefix`, `abfss://…`).
    #[arg(long)]
    to: String,
    #[arg(long, value_enum, default_value = "parquet")]
    format: Format,
    /// Also export the result of this read-only query, as `--name`.
    #[arg(long, requires = "name")]
    query: Option<String>,
    /// The folder name of the `--query` export.
    #[arg(long, requires = "query")]
    name: Option<String>,
    /// Hive partition columns of the `--query` export.
    #[arg(long, requires = "query", value_delimiter = ',')]
    partition_by: Vec<String>,
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let lake = Lake::open_existing(&config.lake.url)?;
    let mut datasets: Vec<Dataset> = args.tables.into_iter().map(Dataset::Table).collect();
    if let (Some(sql), Some(name)) = (args.query, args.name) {
        datasets.push(Dataset::Query {
            name,
            sql,
            partition_by: args.partition_by,
        });
    }
    if datasets.is_empty() {
        return Err(Error::Config {
            file: "export".into(),
            message: "name the tables to export (`cloudoptima export costs --to DIR`) or give \
                      `--query` and `--name`"
                .into(),
        });
    }
    let spinner = super::progress::Spinner::new(format!("exporting to {}", args.to));
    let print = |e: &Exported| {
        let versions = e
            .versions
            .iter()
            .map(|(t, v)| match v {
                Some(v) => format!("{t}@v{v}"),
                None => format!("{t} (empty)"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        spinner.println(&format!(
            "{:<24} {:>10} rows {:>5} file(s)  {}  from {versions}",
            e.name, e.rows, e.files, e.location
        ));
    };
    let done = export::export(
        &lake,
        &datasets,
        &args.to,
        args.format,
        &config.query,
        &print,
    )
    .await?;
    drop(spinner);
    println!(
        "Exported {} dataset(s) to {}; each folder's _SUCCESS records what it holds.",
        done.len(),
        args.to
    );
    Ok(EXIT_OK)
}
