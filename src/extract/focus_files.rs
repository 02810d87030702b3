//! The `focus_files` source: FOCUS cost files from any provider (AWS, GCP, OCI, Azure) in a local
//! folder. Files are copied into landing unchanged; `ProviderName` in the data tells providers apart.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::source::Source;
use super::{Dataset, ExtractContext, Extracted, Landed};
use crate::lake::Lake;
use crate::{Error, Result};

/// `[[sources]] kind = "focus_files"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FocusFilesSpec {
    /// A file, or a folder searched recursively for `.csv` and `.parquet` files.
    pub path: PathBuf,
    /// Name used for the landing folder. Default `focus_files`.
    #[serde(default = "default_name")]
    pub name: String,
}

fn default_name() -> String {
    "focus_files".into()
}

pub async fn extract(spec: &FocusFilesSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    let mut files = Vec::new();
    collect(&spec.path, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(Error::Data {
            file: spec.path.display().to_string(),
            message: "no .csv or .parquet files found".into(),
        });
    }
    let mut landed = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&spec.path).unwrap_or(&file);
        let name = rel.to_string_lossy().replace(['/', '\\'], "__");
        let name = if name.is_empty() {
            file.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        } else {
            name
        };
        // Streamed (a hard link when the lake is on the same local disk), never read whole.
        let (dir, base) = (
            file.parent().unwrap_or(Path::new(".")),
            file.file_name().unwrap_or_default().to_string_lossy(),
        );
        let folder = Lake::open(&dir.to_string_lossy())?;
        let path = Lake::landing_path(&spec.name, "costs", cx.run_id, &name);
        folder.copy_to(&base, cx.lake, &path).await?;
        landed.push(Landed {
            dataset: Dataset::Costs,
            path,
            key: format!("{}/costs/{name}", spec.name),
            owner: spec.name.clone(),
            hint: Default::default(),
            covers: Default::default(),
        });
    }
    Ok(landed)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let p = entry.map_err(|e| Error::io(path, e))?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "csv" || x == "parquet") {
            out.push(p);
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Source for FocusFilesSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await.map(Into::into)
    }
}
