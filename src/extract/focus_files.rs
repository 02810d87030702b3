//! The `focus_files` source: FOCUS cost files from any provider (AWS, GCP, OCI, Azure) in a local
//! folder or object storage (`az://`, `abfss://`, `s3://`-style URLs object_store reads, or a local
//! path). CSV, gzip CSV and Parquet files are copied into landing unchanged, streamed; `ProviderName`
//! in the data tells providers apart.

use std::path::Path;

use serde::Deserialize;

use super::source::Source;
use super::{Dataset, ExtractContext, Extracted, Landed, is_cost_file};
use crate::lake::Lake;
use crate::{Error, Result};

/// `[[sources]] kind = "focus_files"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FocusFilesSpec {
    /// A file, a folder searched recursively, or an object storage URL, holding `.csv`, `.csv.gz`
    /// and `.parquet` files.
    pub path: String,
    /// Name used for the landing folder. Default `focus_files`.
    #[serde(default = "default_name")]
    pub name: String,
}

fn default_name() -> String {
    "focus_files".into()
}

pub async fn extract(spec: &FocusFilesSpec, cx: &ExtractContext<'_>) -> Result<Vec<Landed>> {
    let location = spec.path.as_str();
    let is_url = url::Url::parse(location).is_ok_and(|u| u.scheme().len() > 1);
    let local = Path::new(location);
    // One local file: its folder is the store and it is the only object taken.
    let (store, files) = if !is_url && local.is_file() {
        let dir = local.parent().filter(|d| !d.as_os_str().is_empty());
        let store = Lake::open(&dir.unwrap_or(Path::new(".")).to_string_lossy())?;
        let base = local.file_name().unwrap_or_default().to_string_lossy();
        (store, vec![base.into_owned()])
    } else {
        if !is_url && !local.is_dir() {
            return Err(Error::Data {
                file: location.into(),
                message: "folder not found".into(),
            });
        }
        let store = Lake::open(location)?;
        let files: Vec<String> = store
            .list()
            .await?
            .into_iter()
            .map(|o| o.path)
            .filter(|p| is_cost_file(p))
            .collect();
        (store, files)
    };
    if files.is_empty() {
        return Err(Error::Data {
            file: location.into(),
            message: "no .csv, .csv.gz or .parquet files found".into(),
        });
    }
    let mut landed = Vec::new();
    for file in files {
        let name = file.replace(['/', '\\'], "__");
        // Streamed (a hard link when both are on the same local disk), never read whole.
        let (path, fingerprint) = cx
            .land_copy(&store, &file, &spec.name, Dataset::Costs, &name)
            .await?;
        landed.push(Landed {
            fingerprint: Some(fingerprint),
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

#[async_trait::async_trait]
impl Source for FocusFilesSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await.map(Into::into)
    }
}
