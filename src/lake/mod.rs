//! The lake: the one place that knows where things live and how they are committed.
//!
//! A lake is a URL (`./lake` by default; `file://`, or Azure Blob / ADLS Gen2). Every byte goes
//! through object_store. Under it:
//! `landing/<source>/<dataset>/<run_id>/…` holds raw bytes as received, and `<table>/` holds one Delta
//! table per name in [`schema::all`]. Every table write is one Delta commit: a crash leaves either the
//! old version or the new one visible, never half a partition. Re-running a period replaces its
//! partitions (`replaceWhere`), so two runs leave the same rows as one; a table's first replace creates
//! it empty and then replaces in it, so two runs racing on a new lake conflict like any two replaces
//! (one commits, the other fails) instead of both appending.

pub mod columns;
pub mod dimension;
pub mod landing;
pub mod lease;
pub mod query;
pub mod schema;
pub mod time_limit;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::object_store::path::Path as ObjectPath;
use datafusion::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use datafusion::prelude::{DataFrame, SessionContext, col};
use deltalake::DeltaTable;
use deltalake::operations::write::SchemaMode;
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

/// The run that writes analysis rows, and so owns them: tables a pipeline writes (`recommendations`,
/// `findings`, `forecasts`, …) carry its name, and a run replaces only its own pipeline's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunKey {
    pub pipeline: String,
    pub run_id: String,
    /// The run date.
    pub as_of: chrono::NaiveDate,
}

impl RunKey {
    /// The rows this run replaces in a table partitioned by `run_date`: its pipeline's, for its date.
    pub fn run_date_rows(&self) -> WriteMode {
        WriteMode::Replace(format!(
            "run_date = '{}' AND {}",
            self.as_of.format("%Y-%m-%d"),
            self.owned_rows()
        ))
    }

    /// SQL true for the rows this run's pipeline owns. Rows written before tables had owners (no
    /// `pipeline`) are adopted by the first pipeline that runs, so an upgrade never leaves them
    /// beside their replacements.
    pub fn owned_rows(&self) -> String {
        format!(
            "(pipeline = {} OR pipeline IS NULL)",
            columns::sql_string(&self.pipeline)
        )
    }
}

/// Handle on one lake location.
#[derive(Debug, Clone)]
pub struct Lake {
    url: Url,
    /// The object store rooted at the lake's URL: landing files go through it.
    store: Arc<dyn ObjectStore>,
    /// The lease a run writes under: table writes and puts refuse once it is lost.
    guard: Option<lease::LeaseGuard>,
}

/// One object found by [`Lake::list`].
#[derive(Debug, Clone)]
pub struct Listed {
    /// Path relative to the location listed.
    pub path: String,
    pub size: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// URL schemes this binary can put a lake on.
pub const SCHEMES: &[&str] = &["file", "az", "azure", "abfs", "abfss", "adl"];

/// Why a location with this URL scheme cannot be a lake (or an export's destination), if it cannot.
pub fn scheme_problem(scheme: &str) -> Option<String> {
    (!SCHEMES.contains(&scheme)).then(|| {
        format!(
            "scheme `{scheme}` is not supported; use a local path or one of {}{}",
            SCHEMES
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(", "),
            crate::suggest::hint(scheme, SCHEMES.iter().copied())
        )
    })
}

impl Lake {
    /// Open the lake at `location`: a local path (created if missing), a `file://` URL, or an Azure
    /// Blob / ADLS Gen2 URL (`az://container/prefix`, `abfss://fs@account.dfs.core.windows.net/prefix`).
    /// Azure credentials come from the `AZURE_STORAGE_*` / `AZURE_CLIENT_*` environment variables
    /// (`AZURE_STORAGE_USE_EMULATOR=true` for Azurite).
    pub fn open(location: &str) -> Result<Self> {
        let config_err = |message: String| Error::Config {
            file: "lake".into(),
            message,
        };
        let mut url = match Url::parse(location) {
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
        if let Some(problem) = scheme_problem(url.scheme()) {
            return Err(config_err(format!("lake URL {problem}")));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        if let Ok(dir) = url.to_file_path() {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let store = deltalake::DeltaTableBuilder::from_url(url.clone())
            .and_then(|b| b.build())
            .map_err(|e| config_err(format!("cannot open lake {url}: {e}")))?
            .log_store()
            .object_store(None);
        Ok(Lake {
            url,
            store,
            guard: None,
        })
    }

    /// Open the lake at `location` to read it: nothing is created or changed. A local path that
    /// holds no lake is an error (a mistyped `--lake` must not answer "0 rows").
    pub fn open_existing(location: &str) -> Result<Self> {
        let local = match Url::parse(location) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().ok(),
            Ok(url) if url.scheme().len() > 1 => None,
            _ => Some(PathBuf::from(location)),
        };
        if let Some(path) = local
            && !path.is_dir()
        {
            return Err(Error::Config {
                file: "lake".into(),
                message: format!(
                    "no lake at `{location}`: the folder does not exist (`cloudoptima run` creates \
                     one; `--lake` or `lake.url` in the config says where it is)"
                ),
            });
        }
        Self::open(location)
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

    /// Lake-relative path of a landing file for one source, dataset and run.
    pub fn landing_path(source: &str, dataset: &str, run_id: &str, name: &str) -> String {
        format!("landing/{source}/{dataset}/{run_id}/{name}")
    }

    /// This lake, for a run holding `guard`'s lease: every table write and put through it
    /// first checks that the lease is still held ([`Error::LeaseLost`] if not), so a run that
    /// stalled past its lease never writes beside the run that took it over.
    pub fn under_lease(&self, guard: lease::LeaseGuard) -> Lake {
        Lake {
            guard: Some(guard),
            ..self.clone()
        }
    }

    /// [`Error::LeaseLost`] if this lake is [under a lease](Self::under_lease) no longer held.
    pub fn check_lease(&self) -> Result<()> {
        self.guard.as_ref().map_or(Ok(()), |g| g.check())
    }

    /// Write `bytes` at the lake-relative `path`. Object stores write whole objects atomically
    /// (local disk: temp file and rename), so a reader never sees half a file.
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.check_lease()?;
        let location = ObjectPath::parse(path).map_err(|e| Error::lake(path, e))?;
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|e| Error::lake(path, e))?;
        Ok(())
    }

    /// Write `bytes` at `path` only if no object is there: true when written, false when one
    /// already was. Atomic on every store (local disk: a hard link that fails if the name exists;
    /// Azure: `If-None-Match: *`), so of two writers exactly one wins.
    pub async fn put_if_absent(&self, path: &str, bytes: Vec<u8>) -> Result<bool> {
        use datafusion::object_store::{PutMode, PutOptions};
        let location = ObjectPath::parse(path).map_err(|e| Error::lake(path, e))?;
        let options = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&location, PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(true),
            Err(datafusion::object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(Error::lake(path, e)),
        }
    }

    /// Start reading the object at the lake-relative `path`.
    async fn open_object(&self, path: &str) -> Result<datafusion::object_store::GetResult> {
        let location = ObjectPath::parse(path).map_err(|e| Error::lake(path, e))?;
        self.store
            .get(&location)
            .await
            .map_err(|e| Error::lake(path, e))
    }

    /// Read the object at the lake-relative `path`.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        let result = self.open_object(path).await?;
        Ok(result
            .bytes()
            .await
            .map_err(|e| Error::lake(path, e))?
            .to_vec())
    }

    /// Every object under this location (recursively), with its size and last-modified time.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        self.list_under(None).await
    }

    /// Every object under `prefix` (a lake-relative folder; `None`: the whole location),
    /// recursively, with paths relative to the location.
    pub async fn list_under(&self, prefix: Option<&str>) -> Result<Vec<Listed>> {
        use futures::TryStreamExt;
        let prefix = prefix
            .map(|p| ObjectPath::parse(p).map_err(|e| Error::lake(p, e)))
            .transpose()?;
        let objects: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| Error::lake(self.url.as_str(), e))?;
        let mut out: Vec<Listed> = objects
            .into_iter()
            .map(|o| Listed {
                path: o.location.to_string(),
                size: o.size,
                modified: o.last_modified,
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// On local disk, remove the empty folders under the lake-relative `folder` that deleting
    /// objects left (object stores have no folders).
    pub fn remove_empty_folders(&self, folder: &str) {
        fn prune(dir: &std::path::Path) -> bool {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return false;
            };
            let mut empty = true;
            for entry in entries.flatten() {
                let path = entry.path();
                if !(path.is_dir() && prune(&path) && std::fs::remove_dir(&path).is_ok()) {
                    empty = false;
                }
            }
            empty
        }
        if let Some(root) = self.local_root() {
            prune(&root.join(folder));
        }
    }

    /// Delete the object at the lake-relative `path`; one already gone is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let location = ObjectPath::parse(path).map_err(|e| Error::lake(path, e))?;
        match self.store.delete(&location).await {
            Ok(()) | Err(datafusion::object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::lake(path, e)),
        }
    }

    /// What identifies the content of the object at `path`: on local disk a SHA-256 of its bytes
    /// (read streaming), on an object store one of its path, size, ETag and modification time
    /// (what the store says changes when the content does), without downloading it.
    pub async fn fingerprint(&self, path: &str) -> Result<String> {
        if let Some(root) = self.local_root() {
            use std::io::Read as _;
            let file = root.join(path);
            let mut reader = std::fs::File::open(&file).map_err(|e| Error::io(&file, e))?;
            let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = reader.read(&mut buf).map_err(|e| Error::io(&file, e))?;
                if n == 0 {
                    break;
                }
                digest.update(&buf[..n]);
            }
            return Ok(hex(digest.finish().as_ref()));
        }
        let location = ObjectPath::parse(path).map_err(|e| Error::lake(path, e))?;
        let meta = self
            .store
            .head(&location)
            .await
            .map_err(|e| Error::lake(path, e))?;
        let identity = format!(
            "{}\n{path}\n{}\n{}\n{}",
            self.url,
            meta.size,
            meta.e_tag.unwrap_or_default(),
            meta.last_modified.to_rfc3339()
        );
        Ok(sha256_hex(identity.as_bytes()))
    }

    /// Copy the object at `path` here to `dest_path` in `dest`, streaming (never whole in memory).
    /// Between two local folders the copy is a hard link where the file system allows one.
    pub async fn copy_to(&self, path: &str, dest: &Lake, dest_path: &str) -> Result<u64> {
        use datafusion::object_store::WriteMultipart;
        use futures::StreamExt;
        if let (Some(from_root), Some(to_root)) = (self.local_root(), dest.local_root()) {
            let (from, to) = (from_root.join(path), to_root.join(dest_path));
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let _ = std::fs::remove_file(&to);
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(|e| Error::io(&from, e))?;
            }
            return std::fs::metadata(&to)
                .map(|m| m.len())
                .map_err(|e| Error::io(&to, e));
        }
        let to = ObjectPath::parse(dest_path).map_err(|e| Error::lake(dest_path, e))?;
        let result = self.open_object(path).await?;
        let upload = dest
            .store
            .put_multipart(&to)
            .await
            .map_err(|e| Error::lake(dest_path, e))?;
        let mut writer = WriteMultipart::new(upload);
        let mut stream = result.into_stream();
        let mut bytes = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::lake(path, e))?;
            bytes += chunk.len() as u64;
            writer.write(&chunk);
        }
        writer
            .finish()
            .await
            .map_err(|e| Error::lake(dest_path, e))?;
        Ok(bytes)
    }

    /// The object at the lake-relative `path` as a file on local disk, for readers that need one:
    /// the file itself in a local lake, otherwise a copy streamed into `scratch` (never held whole
    /// in memory).
    pub async fn local_file(&self, path: &str, scratch: &std::path::Path) -> Result<PathBuf> {
        if let Some(root) = self.local_root() {
            return Ok(root.join(path));
        }
        let downloads = scratch.join("downloads");
        let name = path.replace('/', "__");
        self.copy_to(path, &Lake::open(&downloads.to_string_lossy())?, &name)
            .await?;
        Ok(downloads.join(name))
    }

    /// A folder on local disk for transient files of one run (staged Parquet before a commit):
    /// inside a local lake, so data stays on its disk; in the system temp folder otherwise.
    pub fn scratch_dir(&self, run_id: &str) -> PathBuf {
        self.local_root()
            .map(|root| root.join("_staging"))
            .unwrap_or_else(|| std::env::temp_dir().join("cloudoptima-staging"))
            .join(run_id)
    }

    /// The table at `<lake>/<table>/`, loaded when it has commits, or an unloaded handle (version
    /// `None`) that the first write creates. Creates nothing.
    async fn open_table(&self, table: &str) -> Result<DeltaTable> {
        let url = self.table_url(table);
        let mut handle = deltalake::DeltaTableBuilder::from_url(url)
            .and_then(|b| b.build())
            .map_err(|e| Error::lake(table, e))?;
        if handle
            .log_store()
            .is_delta_table_location()
            .await
            .map_err(|e| Error::lake(table, e))?
        {
            handle.load().await.map_err(|e| Error::lake(table, e))?;
        }
        Ok(handle)
    }

    /// The table, created empty (version 0: its schema and partition columns, no rows) when it has
    /// no commit yet. Another process creating it at the same moment is not an error: whichever
    /// creation commits first stands, and both go on with that table.
    async fn create_if_missing(&self, def: &TableDef) -> Result<DeltaTable> {
        use deltalake::kernel::StructType;
        use deltalake::kernel::engine::arrow_conversion::TryIntoKernel as _;
        let table = self.open_table(def.name).await?;
        if table.version().is_some() {
            return Ok(table);
        }
        let schema: StructType = def
            .schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| Error::lake(def.name, e))?;
        let created = table
            .create()
            .with_columns(schema.fields().cloned())
            .with_partition_columns(def.partition_by.iter().copied())
            .with_save_mode(SaveMode::ErrorIfExists)
            .await;
        match created {
            Ok(table) => Ok(table),
            Err(e) => {
                // Lost the race to another writer: use the table it created.
                let table = self.open_table(def.name).await?;
                if table.version().is_some() {
                    tracing::debug!(table = def.name, error = %e, "Table created concurrently.");
                    Ok(table)
                } else {
                    Err(Error::lake(def.name, e))
                }
            }
        }
    }

    /// True when the table has at least one commit.
    pub async fn table_exists(&self, table: &str) -> Result<bool> {
        if self.local_table_missing(table) {
            return Ok(false);
        }
        Ok(self.open_table(table).await?.version().is_some())
    }

    /// True when the lake is on local disk and `table` has no folder yet (so no commit).
    fn local_table_missing(&self, table: &str) -> bool {
        self.table_url(table)
            .to_file_path()
            .is_ok_and(|dir| !dir.is_dir())
    }

    /// Commit `df` to `def`'s table in one Delta transaction. The frame is cast to the table's
    /// contract first, so a stage can never widen or reorder a table by accident.
    pub async fn write(&self, def: &TableDef, df: DataFrame, mode: WriteMode) -> Result<()> {
        self.check_lease()?;
        let df = conform(def, df)?;
        if let Ok(dir) = self.table_url(def.name).to_file_path() {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let table = match mode {
            // Appends never conflict with each other (two runs each add their manifest row).
            WriteMode::Append => self.open_table(def.name).await?,
            // A replace needs a table to replace in: create it empty first, so that two first
            // writes racing on a new lake both replace (and the second conflicts) instead of both
            // appending their rows.
            WriteMode::Replace(_) => self.create_if_missing(def).await?,
        };
        let (state, plan) = df.into_parts();
        let mut builder = table
            .write(Vec::<RecordBatch>::new())
            .with_input_plan(plan)
            .with_session_state(Arc::new(state))
            .with_partition_columns(def.partition_by.iter().copied())
            // A newer cloudoptima may add columns to a table: merge them instead of refusing the write.
            .with_schema_mode(SchemaMode::Merge);
        builder = match &mode {
            WriteMode::Append => builder.with_save_mode(SaveMode::Append),
            WriteMode::Replace(predicate) => builder
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(predicate.as_str()),
        };
        builder.await.map_err(|e| Error::lake(def.name, e))?;
        tracing::info!(table = def.name, ?mode, "Committed table write.");
        Ok(())
    }

    /// Commit in-memory batches (analysis results, manifests) the same way as [`Lake::write`].
    /// Each batch is matched to the table's columns by name, so batches from different queries
    /// (whose types or nullability differ slightly) commit together.
    pub async fn write_batches(
        &self,
        def: &TableDef,
        batches: Vec<RecordBatch>,
        mode: WriteMode,
    ) -> Result<()> {
        let batches = batches
            .iter()
            .map(|b| conform_batch(def, b))
            .collect::<Result<Vec<_>>>()?;
        let ctx = session();
        let mem = MemTable::try_new(def.schema.clone(), vec![batches])?;
        let df = ctx.read_table(Arc::new(mem))?;
        self.write(def, df, mode).await
    }

    /// Delete the data files of `def`'s table that its current version does not use and that are
    /// older than `retention` (replaced files, and files a killed write left) (`dry_run`: only list them). The table stays readable at
    /// its current version; plain Parquet readers then see only its live files. Returns the files.
    pub async fn vacuum(
        &self,
        def: &TableDef,
        retention: std::time::Duration,
        dry_run: bool,
    ) -> Result<Vec<String>> {
        if self.local_table_missing(def.name) {
            return Ok(Vec::new());
        }
        let table = self.open_table(def.name).await?;
        if table.version().is_none() {
            return Ok(Vec::new());
        }
        let retention = chrono::Duration::from_std(retention)
            .map_err(|e| Error::Internal(format!("retention: {e}")))?;
        let store = table.object_store();
        let vacuum = |table: deltalake::DeltaTable, dry_run: bool| {
            table
                .vacuum()
                .with_retention_period(retention)
                // The table's own minimum (7 days by default) would refuse a shorter one.
                .with_enforce_retention_duration(false)
                // Every file on storage the current version does not use (replaced ones, and
                // those a killed write left), by age.
                .with_mode(deltalake::operations::vacuum::VacuumMode::Full)
                .with_dry_run(dry_run)
        };
        // The candidates include every tombstone in the log, also files deleted long ago: report
        // only those still on storage (one listing, not a request per tombstone).
        let (table, planned) = vacuum(table, true)
            .await
            .map_err(|e| Error::lake(def.name, e))?;
        use futures::TryStreamExt as _;
        let stored: std::collections::HashSet<String> = store
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| Error::lake(def.name, e))?;
        let present: Vec<String> = planned
            .files_deleted
            .into_iter()
            .filter(|f| stored.contains(f))
            .collect();
        if !dry_run && !present.is_empty() {
            vacuum(table, false)
                .await
                .map_err(|e| Error::lake(def.name, e))?;
        }
        Ok(present)
    }

    /// [`Lake::vacuum`] on every table with `hours` of retention: each table's files.
    pub async fn vacuum_all(
        &self,
        hours: u64,
        dry_run: bool,
    ) -> Result<Vec<(&'static str, Vec<String>)>> {
        let retention = std::time::Duration::from_secs(hours * 3600);
        let mut out = Vec::new();
        for def in schema::all() {
            out.push((def.name, self.vacuum(&def, retention, dry_run).await?));
        }
        Ok(out)
    }

    /// Register every lake table in `ctx` under its name. Tables not written yet are registered
    /// empty with their contract schema, so queries and rule validation work on a fresh lake.
    /// Each table is pinned to the version it had when registered: queries on `ctx` see one
    /// consistent lake however many runs commit meanwhile. Returns those versions (`None`: no
    /// commit yet).
    pub async fn register_all(
        &self,
        ctx: &SessionContext,
    ) -> Result<std::collections::BTreeMap<&'static str, Option<u64>>> {
        let mut versions = std::collections::BTreeMap::new();
        for def in schema::all() {
            versions.insert(def.name, self.register(ctx, &def).await?);
        }
        Ok(versions)
    }

    /// Register one table under its name (empty, with its contract schema, before its first
    /// write). Returns the version registered.
    pub async fn register(&self, ctx: &SessionContext, def: &TableDef) -> Result<Option<u64>> {
        let (provider, version) = self.provider(ctx, def).await?;
        ctx.register_table(def.name, provider)?;
        Ok(version)
    }

    /// Re-register the tables whose version is not the one in `registered` (as
    /// [`Lake::register_all`] returned it), updating it; for a long-lived session such as
    /// `serve`'s. Each table is swapped in one step once its new version is open. Returns the
    /// tables re-registered.
    pub async fn refresh(
        &self,
        ctx: &SessionContext,
        registered: &mut std::collections::BTreeMap<&'static str, Option<u64>>,
    ) -> Result<Vec<&'static str>> {
        let mut changed = Vec::new();
        for def in schema::all() {
            // Only the log is read for an unchanged table; its provider is built when it changed.
            let table = self.committed_table(def.name).await?;
            let version = table.as_ref().and_then(|t| t.version());
            if registered.get(def.name) == Some(&version) {
                continue;
            }
            let provider = self.provider_of(ctx, &def, table).await?;
            ctx.deregister_table(def.name)?;
            ctx.register_table(def.name, provider)?;
            registered.insert(def.name, version);
            changed.push(def.name);
        }
        Ok(changed)
    }

    /// A provider of `def`'s table at its current version (empty, with its contract schema,
    /// before its first write), and that version.
    async fn provider(
        &self,
        ctx: &SessionContext,
        def: &TableDef,
    ) -> Result<(Arc<dyn datafusion::catalog::TableProvider>, Option<u64>)> {
        let table = self.committed_table(def.name).await?;
        let version = table.as_ref().and_then(|t| t.version());
        Ok((self.provider_of(ctx, def, table).await?, version))
    }

    /// The table loaded at its current version, if it has a commit.
    async fn committed_table(&self, table: &str) -> Result<Option<DeltaTable>> {
        if self.local_table_missing(table) {
            return Ok(None);
        }
        let handle = self.open_table(table).await?;
        Ok(handle.version().is_some().then_some(handle))
    }

    /// A provider of `table` (see [`Lake::committed_table`]), or of an empty `def`.
    async fn provider_of(
        &self,
        ctx: &SessionContext,
        def: &TableDef,
        table: Option<DeltaTable>,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let Some(table) = table else {
            return empty_provider(def);
        };
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| Error::lake(def.name, e))?;
        table
            .table_provider()
            .await
            .map_err(|e| Error::lake(def.name, e))
    }
}

/// A DataFusion session configured for the lake: delta-rs's planner (needed for its writes) and its
/// settings, among them case-sensitive identifiers, so `SELECT BilledCost FROM costs` needs no quotes;
/// plus JSON functions (`json_get_str(properties, 'accessTier')`, `json_length(…)`) for the raw
/// Resource Graph `properties` and the `Tags` objects.
pub fn session() -> SessionContext {
    let mut ctx = deltalake::delta_datafusion::create_session().into_inner();
    datafusion_functions_json::register_all(&mut ctx)
        .expect("JSON functions register on a fresh session");
    ctx
}

/// The SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// `bytes` in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Register `def` as an empty table with its contract schema.
pub fn register_empty(ctx: &SessionContext, def: &TableDef) -> Result<()> {
    ctx.register_table(def.name, empty_provider(def)?)?;
    Ok(())
}

/// An empty table with `def`'s contract schema.
fn empty_provider(def: &TableDef) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    Ok(Arc::new(MemTable::try_new(
        def.schema.clone(),
        vec![vec![]],
    )?))
}

/// `batch` with exactly `def`'s columns, in order and type: found by name and cast, missing ones NULL.
fn conform_batch(def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch> {
    use datafusion::arrow::array::new_null_array;
    use datafusion::arrow::compute::cast;
    let columns = def
        .schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => cast(c, f.data_type())
                .map_err(|e| Error::Internal(format!("{}.{}: {e}", def.name, f.name()))),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(def.schema.clone(), columns)
        .map_err(|e| Error::Internal(format!("{}: {e}", def.name)))
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
