//! Exports for BI tools: one consistent version of lake tables (or read-only queries over them)
//! written as hive-partitioned Parquet or CSV to a local folder or an object store URL, and
//! published whole.
//!
//! Every dataset is first written completely to a staging folder, then published: on local disk
//! by renaming the staged folder into place (a reader sees the old export or the new one); on an
//! object store by removing `<name>/_SUCCESS`, uploading the new files (each object appears whole),
//! deleting the previous export's files and writing `<name>/_SUCCESS` last, the marker Spark, Data
//! Factory and Databricks wait for. `_SUCCESS` records the Delta version each table was read at,
//! the rows and the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::lake::query::{self, QueryLimits};
use crate::lake::{Lake, schema};
use crate::{Error, Result};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Parquet,
    Csv,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// `[[exports]]` in a pipeline: after each run, these tables go to `to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSpec {
    /// A local folder or an object store URL (`az://container/prefix`, `abfss://…`).
    pub to: String,
    /// Lake tables to export, each to `<to>/<table>/`.
    pub tables: Vec<String>,
    #[serde(default)]
    pub format: Format,
}

impl ExportSpec {
    /// What is wrong with this export (unknown tables, an unsupported URL), for `validate`.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .tables
            .iter()
            .filter_map(|t| table(t).err().map(|e| e.to_string()))
            .collect();
        if self.tables.is_empty() {
            problems.push(format!("export to `{}` names no table", self.to));
        }
        if let Err(e) = check_destination(&self.to) {
            problems.push(e.to_string());
        }
        problems
    }
}

/// One dataset to export.
#[derive(Debug, Clone)]
pub enum Dataset {
    /// A lake table, partitioned as the lake partitions it.
    Table(String),
    /// A read-only query, exported as `name`, partitioned by these columns of its result.
    Query {
        name: String,
        sql: String,
        partition_by: Vec<String>,
    },
}

impl Dataset {
    pub fn name(&self) -> &str {
        match self {
            Dataset::Table(t) => t,
            Dataset::Query { name, .. } => name,
        }
    }
}

/// What one dataset's export holds; also its `_SUCCESS` marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exported {
    pub name: String,
    /// Where it was published (`<to>/<name>/`).
    pub location: String,
    pub format: Format,
    /// The Delta version of each table read (a table's own export: just that table).
    pub versions: BTreeMap<String, Option<u64>>,
    pub partition_by: Vec<String>,
    pub rows: u64,
    pub files: usize,
    pub exported_at: chrono::DateTime<chrono::Utc>,
}

/// The lake table called `name`, or an error listing the tables there are.
fn table(name: &str) -> Result<schema::TableDef> {
    schema::all()
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Error::Config {
            file: "export".into(),
            message: format!(
                "no lake table named `{name}`{}; the tables: {}",
                crate::suggest::hint(name, schema::all().iter().map(|d| d.name)),
                schema::all()
                    .iter()
                    .map(|d| d.name)
                    .filter(|n| !n.starts_with('_'))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Refuse a destination this binary cannot write to before anything is read.
fn check_destination(to: &str) -> Result<()> {
    let problem = url::Url::parse(to)
        .ok()
        .filter(|url| url.scheme().len() > 1)
        .and_then(|url| crate::lake::scheme_problem(url.scheme()));
    match problem {
        Some(problem) => Err(Error::Config {
            file: "export".into(),
            message: format!("cannot export to `{to}`: {problem}"),
        }),
        None => Ok(()),
    }
}

/// Export `datasets` from `lake` to `to` in `format`: every dataset is read from the same table
/// versions (registered once), written to staging, then published. `progress` hears of each one
/// as it is published.
pub async fn export(
    lake: &Lake,
    datasets: &[Dataset],
    to: &str,
    format: Format,
    limits: &QueryLimits,
    progress: &(dyn Fn(&Exported) + Sync),
) -> Result<Vec<Exported>> {
    check_destination(to)?;
    for d in datasets {
        if let Dataset::Table(t) = d {
            table(t)?;
        }
        check_name(d.name())?;
    }
    let ctx = query::session(limits);
    let versions = lake.register_all(&ctx).await?;
    let dest = Lake::open(to)?;
    let id = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id()
    );
    // Staged on the destination's disk when it is local (so publishing is a rename), else in
    // the system's temporary folder.
    let staging = match dest.local_root() {
        Some(root) => root.join(format!(".staging-{id}")),
        None => std::env::temp_dir().join(format!("cloudoptima-export-{id}")),
    };
    let result = async {
        let mut out = Vec::new();
        for dataset in datasets {
            let exported = stage(&ctx, &versions, dataset, &staging, format, &dest).await?;
            publish(&dest, &staging, &exported, format).await?;
            progress(&exported);
            out.push(exported);
        }
        Ok(out)
    }
    .await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Dataset names become folder names: letters, digits, `_` and `-` only.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Config {
            file: "export".into(),
            message: format!(
                "export name `{name}` must be letters, digits, `_` and `-` (it names a folder)"
            ),
        })
    }
}

/// Write `dataset` completely to `<staging>/<name>/`, with its `_SUCCESS` marker.
async fn stage(
    ctx: &SessionContext,
    versions: &BTreeMap<&'static str, Option<u64>>,
    dataset: &Dataset,
    staging: &Path,
    format: Format,
    dest: &Lake,
) -> Result<Exported> {
    let (df, partition_by, read) = match dataset {
        Dataset::Table(name) => {
            let def = table(name)?;
            let df = query::plan_read_only(ctx, &format!("SELECT * FROM \"{name}\"")).await?;
            let read = BTreeMap::from([(name.clone(), versions.get(def.name).copied().flatten())]);
            let partition_by: Vec<String> =
                def.partition_by.iter().map(|c| c.to_string()).collect();
            (df, partition_by, read)
        }
        Dataset::Query {
            sql, partition_by, ..
        } => {
            let df = query::plan_read_only(ctx, sql).await?;
            for column in partition_by {
                if df.schema().field_with_unqualified_name(column).is_err() {
                    return Err(Error::Query(format!(
                        "--partition-by `{column}` is not a column of the query's result"
                    )));
                }
            }
            let read = tables_read(df.logical_plan())
                .into_iter()
                .map(|t| {
                    let version = versions.get(t.as_str()).copied().flatten();
                    (t, version)
                })
                .collect();
            (df, partition_by.clone(), read)
        }
    };
    let df = hive_partition_values(df, &partition_by)?;
    let folder = staging.join(dataset.name());
    std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
    let target = format!("{}/", folder.display());
    let options = DataFrameWriteOptions::new().with_partition_by(partition_by.clone());
    let written = match format {
        Format::Parquet => df.write_parquet(&target, options, None).await,
        Format::Csv => df.write_csv(&target, options, None).await,
    }
    .map_err(|e| {
        Error::Query(format!(
            "export of `{}`: {}",
            dataset.name(),
            e.strip_backtrace()
        ))
    })?;
    rename_partition_folders(&folder, partition_by.len())?;
    let rows = written
        .iter()
        .filter_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::UInt64Array>()
        })
        .map(|a| a.iter().flatten().sum::<u64>())
        .sum();
    let files = staged_files(&folder, format)?.len();
    let exported = Exported {
        name: dataset.name().to_string(),
        location: format!(
            "{}{}/",
            dest.url().as_str().trim_start_matches("file://"),
            dataset.name()
        ),
        format,
        versions: read,
        partition_by,
        rows,
        files,
        exported_at: chrono::Utc::now(),
    };
    let marker = folder.join("_SUCCESS");
    std::fs::write(
        &marker,
        serde_json::to_vec_pretty(&exported).expect("serializes"),
    )
    .map_err(|e| Error::io(&marker, e))?;
    Ok(exported)
}

/// Hive's marker for a partition whose value is NULL (or empty), as Spark, Hive and DuckDB write
/// and read it: a folder `col=` with no value is not readable by them.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// `df` with its partition columns as the text of their folder names: NULL and empty values
/// become [`HIVE_NULL`] (readers give NULL back). Other columns are untouched.
fn hive_partition_values(
    df: datafusion::prelude::DataFrame,
    partition_by: &[String],
) -> Result<datafusion::prelude::DataFrame> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::prelude::{Expr, cast, col, lit, when};
    if partition_by.is_empty() {
        return Ok(df);
    }
    let exprs: Vec<Expr> = df
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let c = col(format!("\"{}\"", f.name()));
            if partition_by.iter().any(|p| p == f.name()) {
                let text = cast(c, DataType::Utf8);
                when(
                    text.clone().is_null().or(text.clone().eq(lit(""))),
                    lit(HIVE_NULL),
                )
                .otherwise(text)
                .map(|e| e.alias(f.name()))
            } else {
                Ok(c)
            }
        })
        .collect::<std::result::Result<_, _>>()?;
    Ok(df.select(exprs)?)
}

/// Rename the partition folders DataFusion wrote (`col=value`, its own percent-encoding) to Hive's
/// escaping, which Spark writes and Spark, DuckDB and Fabric read: `%`, `/`, `=`, `?`, `:`, `#`,
/// quotes and control characters as `%XX`, everything else (spaces, non-ASCII) as it is.
fn rename_partition_folders(dir: &Path, depth: usize) -> Result<()> {
    if depth == 0 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .expect("a folder has a name")
            .to_string_lossy();
        let Some((column, value)) = name.split_once('=') else {
            continue;
        };
        let escaped = format!("{column}={}", hive_escape(&percent_decode(value)));
        let target = if escaped == name {
            path.clone()
        } else {
            dir.join(&escaped)
        };
        if target != path {
            std::fs::rename(&path, &target).map_err(|e| Error::io(&path, e))?;
        }
        rename_partition_folders(&target, depth - 1)?;
    }
    Ok(())
}

/// `%XX` sequences back to the bytes they stand for.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A partition value as Hive writes it in a folder name.
fn hive_escape(value: &str) -> String {
    const SPECIAL: &[char] = &[
        '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', '{', '[', ']', '^', '\u{7f}',
    ];
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_control() || SPECIAL.contains(&c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The tables `plan` reads, also in subqueries.
fn tables_read(plan: &datafusion::logical_expr::LogicalPlan) -> Vec<String> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::logical_expr::LogicalPlan;
    let mut names = std::collections::BTreeSet::new();
    let _ = plan.apply_with_subqueries(|p| {
        if let LogicalPlan::TableScan(scan) = p {
            names.insert(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    names.into_iter().collect()
}

/// The data files under `folder`, relative to it, sorted.
fn staged_files(folder: &Path, format: Format) -> Result<Vec<String>> {
    fn walk(dir: &Path, base: &Path, ext: &str, out: &mut Vec<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.is_dir() {
                walk(&path, base, ext, out)?;
            } else if path.extension().is_some_and(|x| x == ext) {
                let rel = path.strip_prefix(base).expect("under its base");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(folder, folder, format.extension(), &mut out)?;
    out.sort();
    Ok(out)
}

/// Put the staged `<staging>/<name>/` in place of `<dest>/<name>/`.
async fn publish(dest: &Lake, staging: &Path, exported: &Exported, format: Format) -> Result<()> {
    let name = exported.name.as_str();
    let staged = staging.join(name);
    if let Some(root) = dest.local_root() {
        let live = root.join(name);
        let replaced: PathBuf = staging.join(format!("{name}.replaced"));
        if live.exists() {
            std::fs::rename(&live, &replaced).map_err(|e| Error::io(&live, e))?;
        }
        std::fs::rename(&staged, &live).map_err(|e| Error::io(&staged, e))?;
        let _ = std::fs::remove_dir_all(&replaced);
        return Ok(());
    }
    let marker = format!("{name}/_SUCCESS");
    dest.delete(&marker).await?;
    let before = dest.list_under(Some(name)).await?;
    let source = Lake::open(&staging.to_string_lossy())?;
    let files = staged_files(&staged, format)?;
    for file in &files {
        let path = format!("{name}/{file}");
        source.copy_to(&path, dest, &path).await?;
    }
    let kept: std::collections::HashSet<String> =
        files.iter().map(|f| format!("{name}/{f}")).collect();
    for old in before.iter().filter(|o| !kept.contains(&o.path)) {
        dest.delete(&old.path).await?;
    }
    source.copy_to(&marker, dest, &marker).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_escaped_as_hive_does() {
        assert_eq!(hive_escape("a / b=c?%"), "a %2F b%3Dc%3F%25");
        assert_eq!(hive_escape("Zürich 1"), "Zürich 1");
        assert_eq!(hive_escape("2026-06"), "2026-06");
        assert_eq!(percent_decode("a %2F b%25x%zz"), "a / b%x%zz");
        assert_eq!(percent_decode("%C3%A4"), "ä");
    }
}
