//! The lake: the one place that knows where things live and how they are committed.
//!
//! A lake is a URL (`./lake` by default; `file://`, or any object_store URL). Under it:
//! `landing/<source>/<dataset>/<run_id>/…` holds raw bytes as received, and `<table>/` holds one Delta
//! table per name in [`schema::all`]. Every table write is one Delta commit: a crash leaves either the
//! old version or the new one visible, never half a partition. Re-running a period replaces its
//! partitions (`replaceWhere`), so two runs leave the same rows as one.

pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionContext, col};
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use url::Url;

pub use schema::TableDef;

use crate::{Error, Result};

/// How a write treats rows already in the table.
#[derive(Debug, Clone)]
pub enum WriteMode {
    /// Add rows; keep everything already there (run manifests).
    Append,
    /// Replace the rows matching this SQL predicate (whole partitions) with the new rows.
    Replace(String),
}

/// Handle on one lake location.
#[derive(Debug, Clone)]
pub struct Lake {
    url: Url,
}

impl Lake {
    /// Open (and for local paths, create) the lake at `location`: a path or a URL.
    pub fn open(location: &str) -> Result<Self> {
        let url = match Url::parse(location) {
            Ok(url) if url.scheme().len() > 1 => url,
            _ => {
                let path = PathBuf::from(location);
                std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                let abs = path.canonicalize().map_err(|e| Error::io(&path, e))?;
                Url::from_directory_path(&abs).map_err(|_| {
                    Error::Internal(format!("cannot turn {} into a URL", abs.display()))
                })?
            }
        };
        let mut url = url;
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        if url.scheme() != "file" {
            return Err(Error::Config {
                file: "lake".into(),
                message: format!(
                    "lake URL scheme `{}` is not built into this binary yet; use a local path or file:// URL",
                    url.scheme()
                ),
            });
        }
        Ok(Lake { url })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The local directory of a `file://` lake.
    pub fn local_root(&self) -> Option<PathBuf> {
        self.url.to_file_path().ok()
    }

    pub fn table_url(&self, table: &str) -> Url {
        self.url
            .join(&format!("{table}/"))
            .expect("table names are valid URL segments")
    }

    /// Where raw bytes for one source, dataset and run land.
    pub fn landing_dir(&self, source: &str, dataset: &str, run_id: &str) -> Result<PathBuf> {
        let root = self
            .local_root()
            .ok_or_else(|| Error::Internal("landing needs a local lake".into()))?;
        Ok(root.join("landing").join(source).join(dataset).join(run_id))
    }

    /// Write `bytes` to a landing file, atomically (temp file + rename).
    pub fn put_landing(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    /// The table at `<lake>/<table>/`, loaded when it has commits, or an unloaded handle (version
    /// `None`) that the first write creates.
    async fn open_table(&self, table: &str) -> Result<DeltaTable> {
        let url = self.table_url(table);
        let dir = url
            .to_file_path()
            .map_err(|_| Error::Internal(format!("{url} is not a local path")))?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let has_commits = std::fs::read_dir(dir.join("_delta_log"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .unwrap_or(false);
        if has_commits {
            DeltaTable::try_from_url(url)
                .await
                .map_err(|e| Error::lake(table, e))
        } else {
            deltalake::DeltaTableBuilder::from_url(url)
                .and_then(|b| b.build())
                .map_err(|e| Error::lake(table, e))
        }
    }

    /// True when the table has at least one commit.
    pub async fn table_exists(&self, table: &str) -> Result<bool> {
        Ok(self.open_table(table).await?.version().is_some())
    }

    /// Commit `df` to `def`'s table in one Delta transaction. The frame is cast to the table's
    /// contract first, so a stage can never widen or reorder a table by accident.
    pub async fn write(&self, def: &TableDef, df: DataFrame, mode: WriteMode) -> Result<()> {
        let df = conform(def, df)?;
        let table = self.open_table(def.name).await?;
        let exists = table.version().is_some();
        let (state, plan) = df.into_parts();
        let mut builder = table
            .write(Vec::<RecordBatch>::new())
            .with_input_plan(plan)
            .with_session_state(Arc::new(state))
            .with_partition_columns(def.partition_by.iter().copied());
        builder = match (&mode, exists) {
            (WriteMode::Append, _) | (WriteMode::Replace(_), false) => {
                builder.with_save_mode(SaveMode::Append)
            }
            (WriteMode::Replace(predicate), true) => builder
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(predicate.as_str()),
        };
        builder.await.map_err(|e| Error::lake(def.name, e))?;
        tracing::info!(table = def.name, ?mode, "Committed table write.");
        Ok(())
    }

    /// Commit in-memory batches (analysis results, manifests) the same way as [`Lake::write`].
    pub async fn write_batches(
        &self,
        def: &TableDef,
        batches: Vec<RecordBatch>,
        mode: WriteMode,
    ) -> Result<()> {
        let ctx = session();
        let schema = batches
            .first()
            .map(|b| b.schema())
            .unwrap_or_else(|| def.schema.clone());
        let mem = MemTable::try_new(schema, vec![batches])?;
        let df = ctx.read_table(Arc::new(mem))?;
        self.write(def, df, mode).await
    }

    /// Register every lake table in `ctx` under its name. Tables not written yet are registered
    /// empty with their contract schema, so queries and rule validation work on a fresh lake.
    pub async fn register_all(&self, ctx: &SessionContext) -> Result<()> {
        for def in schema::all() {
            let table = self.open_table(def.name).await?;
            if table.version().is_some() {
                table
                    .update_datafusion_session(&ctx.state())
                    .map_err(|e| Error::lake(def.name, e))?;
                let provider = table
                    .table_provider()
                    .await
                    .map_err(|e| Error::lake(def.name, e))?;
                ctx.register_table(def.name, provider)?;
            } else {
                register_empty(ctx, &def)?;
            }
        }
        Ok(())
    }
}

/// A DataFusion session configured for the lake: delta-rs's planner (needed for its writes) and its
/// settings, among them case-sensitive identifiers, so `SELECT BilledCost FROM costs` needs no quotes.
pub fn session() -> SessionContext {
    deltalake::delta_datafusion::create_session().into_inner()
}

/// Register `def` as an empty table with its contract schema.
pub fn register_empty(ctx: &SessionContext, def: &TableDef) -> Result<()> {
    let mem = MemTable::try_new(def.schema.clone(), vec![vec![]])?;
    ctx.register_table(def.name, Arc::new(mem))?;
    Ok(())
}

/// Project and cast `df` onto the table's schema: missing columns become typed NULLs, extra
/// columns are an error (they would be silently lost otherwise).
fn conform(def: &TableDef, df: DataFrame) -> Result<DataFrame> {
    use datafusion::logical_expr::{Expr, ExprSchemable, cast, lit};
    use datafusion::scalar::ScalarValue;
    let have = df.schema().clone();
    for field in have.fields() {
        if def.schema.field_with_name(field.name()).is_err() {
            return Err(Error::Internal(format!(
                "column `{}` is not part of table `{}`'s schema",
                field.name(),
                def.name
            )));
        }
    }
    let exprs: Vec<Expr> = def
        .schema
        .fields()
        .iter()
        .map(|f| {
            let expr = if have.field_with_unqualified_name(f.name()).is_ok() {
                let c = col(format!("\"{}\"", f.name()));
                match c.get_type(&have) {
                    Ok(t) if &t == f.data_type() => c,
                    _ => cast(c, f.data_type().clone()),
                }
            } else {
                lit(ScalarValue::try_from(f.data_type()).unwrap_or(ScalarValue::Null))
            };
            expr.alias(f.name())
        })
        .collect();
    Ok(df.select(exprs)?)
}
