//! The `azure_exports` source: Cost Management export runs in a storage container (ADLS Gen2,
//! Blob, Azurite) or a local folder, read through object_store.
//!
//! Exports write `{root}/{export-name}/{yyyymmdd-yyyymmdd}/{run-id}/` folders holding the data
//! files (CSV, gzip CSV or snappy Parquet) and a `manifest.json` that names the dataset, its
//! version, the run and its blobs. A daily month-to-date export writes a new run for the same date
//! range every day; only the latest run of each export and date range is read (by the manifest's
//! `submittedTime`), so overlapping runs never count a charge twice. Folders without a manifest
//! (older exports) are grouped by their date-range folder and the most recently written run wins.
//! Files are copied into landing unchanged and streamed, never held whole in memory. With
//! `[sources.manage]`, the exports themselves are created and backfilled first ([`export_setup`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::azure_cost_query;
use super::export_setup::{self, ManageExports};
use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{Dataset, DatasetHint, ExtractContext, Extracted, Landed, is_cost_file};
use crate::lake::landing::INGESTED_DATASETS;
use crate::lake::{Lake, Listed};
use crate::{Error, Result};

/// `[[sources]] kind = "azure_exports"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureExportsSpec {
    /// Where the exports are: a local folder, or `az://container/prefix`,
    /// `abfss://container@account.dfs.core.windows.net/prefix` (credentials from the
    /// `AZURE_STORAGE_*` / `AZURE_CLIENT_*` environment variables; `AZURE_STORAGE_USE_EMULATOR=true`
    /// for Azurite).
    pub location: String,
    /// Only these export names (the folder under the root). Default: every export found.
    #[serde(default)]
    pub exports: Vec<String>,
    /// Name of the source (landing folder, `x_SourceName`). Default `azure_exports`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The Cost Management scope the exports belong to (`/subscriptions/…`,
    /// `/providers/Microsoft.Billing/billingAccounts/…`); `cloudoptima check` tests it, and
    /// `manage` needs it.
    pub scope: Option<String>,
    /// Create the exports when missing and backfill earlier months (see [`ManageExports`]).
    pub manage: Option<ManageExports>,
}

fn default_name() -> String {
    "azure_exports".into()
}

/// The parts of an export's `manifest.json` this source reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    export_config: ExportConfig,
    #[serde(default)]
    run_info: RunInfo,
    #[serde(default)]
    blobs: Vec<Blob>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportConfig {
    export_name: Option<String>,
    /// `FocusCost`, `ActualCost`, `AmortizedCost`, `PriceSheet`, `ReservationDetails`, …
    #[serde(rename = "type")]
    dataset: Option<String>,
    data_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunInfo {
    run_id: Option<String>,
    submitted_time: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    blob_name: String,
}

/// One export run chosen for reading.
struct Run {
    export: String,
    range: String,
    /// Sort key: the later run of the same export and range wins.
    order: String,
    hint: DatasetHint,
    /// Paths (relative to the location) of its data files.
    files: Vec<String>,
    /// Folder the files land under: `{export}/{range}` (the location-relative folder for files
    /// outside any export layout).
    folder: String,
}

pub async fn extract(spec: &AzureExportsSpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let mut failed_scopes = Vec::new();
    if let Some(manage) = &spec.manage {
        let scope = spec.scope.as_deref().ok_or_else(|| Error::Config {
            file: format!("source `{}`", spec.name),
            message:
                "`manage` needs `scope`: the subscription or billing scope the exports belong to"
                    .into(),
        })?;
        let client = cx.azure().await?;
        match export_setup::run(&client, cx.lake, &spec.name, scope, manage, cx.as_of).await {
            Ok(report) => tracing::info!(?report, "exports set up"),
            Err(e) => failed_scopes.push(super::scope_failure(
                &spec.name,
                &format!("creating or running exports in {scope}"),
                &e,
            )),
        }
    }
    let store = open_location(&spec.location)?;
    let objects = store.list().await?;
    let runs = choose_runs(&store, &objects, spec).await?;
    if runs.is_empty() && spec.manage.is_some() {
        tracing::warn!(location = %spec.location, "no export runs delivered yet");
        return Ok(Extracted {
            landed: Vec::new(),
            failed_scopes,
        });
    }
    if runs.is_empty() {
        return Err(Error::Data {
            file: spec.location.clone(),
            message: "no export runs found (no manifest.json and no .csv, .csv.gz or .parquet \
                      files)"
                .into(),
        });
    }
    let mut landed = Vec::new();
    for run in runs {
        if let Some(dataset) = &run.hint.dataset
            && !INGESTED_DATASETS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(dataset))
        {
            tracing::warn!(export = %run.export, dataset = %dataset, "skipped: not a dataset cloudoptima reads");
            continue;
        }
        for file in &run.files {
            let base = file.rsplit('/').next().unwrap_or(file);
            let name = if run.folder.is_empty() {
                base.to_string()
            } else {
                format!("{}/{base}", run.folder)
            };
            let (path, fingerprint) = cx
                .land_copy(&store, file, &spec.name, Dataset::Costs, &name)
                .await?;
            landed.push(Landed {
                fingerprint: Some(fingerprint),
                dataset: Dataset::Costs,
                path,
                key: format!("{}/costs/{name}", spec.name),
                owner: format!("{}/{}", spec.name, run.export),
                hint: run.hint.clone(),
                covers: Default::default(),
            });
        }
    }
    Ok(Extracted {
        landed,
        failed_scopes,
    })
}

/// What `check` says about the location: how many export runs (manifests) and data files it holds.
pub async fn describe_location(spec: &AzureExportsSpec) -> Result<String> {
    let store = open_location(&spec.location)?;
    let objects = store.list().await?;
    let manifests = objects
        .iter()
        .filter(|o| o.path.ends_with("manifest.json"))
        .count();
    let data = objects.iter().filter(|o| is_cost_file(&o.path)).count();
    Ok(format!(
        "{} readable: {manifests} export run(s), {data} data file(s)",
        spec.location
    ))
}

/// A handle on the exports' location; a local folder must already exist.
fn open_location(location: &str) -> Result<Lake> {
    let is_url = url::Url::parse(location).is_ok_and(|u| u.scheme().len() > 1);
    if !is_url && !std::path::Path::new(location).is_dir() {
        return Err(Error::Data {
            file: location.into(),
            message: "export folder not found".into(),
        });
    }
    Lake::open(location)
}

/// A date-range folder name: `20260101-20260131`.
fn is_range(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.len() == 17
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

/// The latest run per export and date range, from manifests where present, else from folders.
async fn choose_runs(
    store: &Lake,
    objects: &[Listed],
    spec: &AzureExportsSpec,
) -> Result<Vec<Run>> {
    let existing: std::collections::HashSet<&str> =
        objects.iter().map(|o| o.path.as_str()).collect();
    let mut best: BTreeMap<(String, String), Run> = BTreeMap::new();
    let mut covered: std::collections::HashSet<String> = Default::default();
    let consider = |run: Run, best: &mut BTreeMap<(String, String), Run>| {
        if !spec.exports.is_empty() && !spec.exports.contains(&run.export) {
            return;
        }
        let key = (run.export.clone(), run.range.clone());
        if best.get(&key).is_none_or(|b| b.order < run.order) {
            best.insert(key, run);
        }
    };

    for object in objects.iter().filter(|o| o.path.ends_with("manifest.json")) {
        let bytes = store.get(&object.path).await?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
            file: format!("{}/{}", spec.location, object.path),
            message: format!("cannot read the export manifest: {e}"),
        })?;
        let folder = object.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let mut files = Vec::new();
        for blob in &manifest.blobs {
            let base = blob.blob_name.rsplit('/').next().unwrap_or(&blob.blob_name);
            let beside = if folder.is_empty() {
                base.to_string()
            } else {
                format!("{folder}/{base}")
            };
            let found = [beside.as_str(), blob.blob_name.as_str()]
                .into_iter()
                .find(|p| existing.contains(p))
                .ok_or_else(|| Error::Data {
                    file: format!("{}/{}", spec.location, object.path),
                    message: format!(
                        "the manifest lists `{}`, which is not in the export folder",
                        blob.blob_name
                    ),
                })?;
            files.push(found.to_string());
        }
        covered.extend(
            objects
                .iter()
                .filter(|o| o.path.starts_with(&format!("{folder}/")))
                .map(|o| o.path.clone()),
        );
        let segments: Vec<&str> = folder.split('/').collect();
        let range_at = segments.iter().rposition(|s| is_range(s));
        let export = manifest
            .export_config
            .export_name
            .clone()
            .or_else(|| {
                range_at
                    .and_then(|i| i.checked_sub(1))
                    .map(|i| segments[i].to_string())
            })
            .unwrap_or_else(|| "export".into());
        let range = range_at
            .map(|i| segments[i].to_string())
            .or_else(|| {
                let run = &manifest.run_info;
                Some(format!(
                    "{}-{}",
                    run.start_date
                        .as_deref()
                        .unwrap_or("")
                        .get(..10)
                        .unwrap_or(""),
                    run.end_date
                        .as_deref()
                        .unwrap_or("")
                        .get(..10)
                        .unwrap_or("")
                ))
            })
            .unwrap_or_default();
        let order = format!(
            "{}|{}|{}",
            manifest.run_info.submitted_time.as_deref().unwrap_or(""),
            object.modified.to_rfc3339(),
            manifest.run_info.run_id.as_deref().unwrap_or("")
        );
        consider(
            Run {
                folder: format!("{export}/{range}"),
                export,
                range,
                order,
                hint: DatasetHint {
                    dataset: manifest.export_config.dataset.clone(),
                    version: manifest.export_config.data_version.clone(),
                    label: None,
                    source_total: None,
                },
                files,
            },
            &mut best,
        );
    }

    // Data files no manifest covers: grouped by run folder under their date-range folder.
    let mut loose: BTreeMap<(String, String, String), Vec<&Listed>> = BTreeMap::new();
    for object in objects
        .iter()
        .filter(|o| is_cost_file(&o.path) && !covered.contains(&o.path))
    {
        let segments: Vec<&str> = object.path.split('/').collect();
        let (export, range, run) = match segments.iter().rposition(|s| is_range(s)) {
            Some(i) => (
                i.checked_sub(1)
                    .map(|j| segments[j])
                    .unwrap_or("export")
                    .to_string(),
                segments[i].to_string(),
                // The run folder under the range, or the file itself for flat layouts.
                segments[i + 1].to_string(),
            ),
            None => (
                "files".to_string(),
                object.path.clone(),
                object.path.clone(),
            ),
        };
        loose.entry((export, range, run)).or_default().push(object);
    }
    for ((export, range, _), files) in loose {
        let newest = files
            .iter()
            .map(|f| f.modified)
            .max()
            .expect("non-empty group");
        // Outside the export layout every file stands alone, landing under its own folder.
        let folder = if is_range(&range) {
            format!("{export}/{range}")
        } else {
            range
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default()
        };
        consider(
            Run {
                folder,
                export,
                range,
                order: newest.to_rfc3339(),
                hint: DatasetHint::default(),
                files: files.iter().map(|f| f.path.clone()).collect(),
            },
            &mut best,
        );
    }
    Ok(best.into_values().collect())
}

#[async_trait::async_trait]
impl Source for AzureExportsSpec {
    fn problems(&self) -> Vec<String> {
        if self.manage.is_some() && self.scope.is_none() {
            vec![format!(
                "source `{}`: `manage` needs `scope`, the scope the exports belong to",
                self.name
            )]
        } else {
            Vec::new()
        }
    }

    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        let location = match describe_location(self).await {
            Ok(text) => CheckLine { ok: true, text },
            Err(e) => CheckLine {
                ok: false,
                text: format!("{e} (needs Storage Blob Data Reader on the container)"),
            },
        };
        let mut lines = vec![location];
        let scopes = self.scope.iter().cloned().collect();
        lines.extend(
            probe_scopes(scopes, azure_cost_query::COST_READER, |scope| {
                export_setup::probe(cx.client, scope)
            })
            .await,
        );
        lines
    }
}
