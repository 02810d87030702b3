//! The run's staging folder: typed rows written as Parquet before one Delta commit per table.

use std::path::PathBuf;

use datafusion::prelude::ParquetReadOptions;
use polars::prelude::{DataFrame, ParquetWriter};

use crate::lake::landing::{Dataset, Landed};
use crate::lake::{Lake, WriteMode, schema};
use crate::{Error, Result};

/// Staging folder for one run; removed when dropped.
pub(super) struct Staging(pub(super) PathBuf);

impl Staging {
    pub(super) fn new(lake: &Lake, run_id: &str) -> Result<Self> {
        let dir = lake.scratch_dir(run_id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Staging(dir))
    }

    /// Write `frame` as `<table>/<n>.parquet` and return the table's staging folder.
    pub(super) fn put(&self, table: &str, n: usize, frame: &mut DataFrame) -> Result<PathBuf> {
        let dir = self.0.join(table);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{n:05}.parquet"));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        ParquetWriter::new(file).finish(frame)?;
        Ok(dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        // The shared parent goes too once no run is using it (remove_dir fails while it has entries).
        if let Some(parent) = self.0.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// Parse every landed file of `dataset` with `parse` and stage its rows for `table`; returns those
/// files and the rows staged.
pub(super) async fn stage_each<'a>(
    lake: &Lake,
    landed: &'a [Landed],
    dataset: Dataset,
    staging: &Staging,
    table: &str,
    mut parse: impl FnMut(&Landed, &[u8]) -> Result<DataFrame>,
) -> Result<(Vec<&'a Landed>, usize)> {
    let files: Vec<&Landed> = landed.iter().filter(|l| l.dataset == dataset).collect();
    let mut rows = 0;
    for (n, file) in files.iter().enumerate() {
        let mut frame = parse(file, &lake.get(&file.path).await?)?;
        rows += frame.height();
        staging.put(table, n, &mut frame)?;
    }
    Ok((files, rows))
}

/// Commit every page staged for `def` in one transaction.
pub(super) async fn commit_dir(
    lake: &Lake,
    def: &schema::TableDef,
    staging: &Staging,
    mode: WriteMode,
) -> Result<()> {
    let ctx = crate::lake::session();
    let location = format!("{}/", staging.0.join(def.name).display());
    let df = ctx
        .read_parquet(
            location,
            ParquetReadOptions::default().parquet_pruning(false),
        )
        .await?;
    lake.write(def, df, mode).await
}
