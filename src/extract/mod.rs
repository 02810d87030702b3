//! Extract: each source fetches bytes and lands them unchanged under
//! `landing/<source>/<dataset>/<run_id>/`. Nothing is parsed here; the transform reads what landed.
//!
//! Adding a source means one module implementing [`source::Source`] and one line in
//! [`source::REGISTRY`] (the pipeline loader picks the entry from `kind`, and an unknown kind is
//! reported with the closest valid one).
//!
//! Azure sources work scope by scope (a subscription, a billing scope and month, a batch of
//! resources): a scope lands only once every page of it has been read, and a scope that fails is
//! reported by name and status while the others go on, so the lake never holds part of a scope.

pub mod azure_advisor;
pub mod azure_cost_details;
pub mod azure_cost_query;
pub mod azure_exports;
pub mod azure_monitor;
pub mod azure_resource_graph;
pub mod azure_retail_prices;
pub mod demo;
mod estate;
pub mod export_setup;
pub mod focus_files;
pub mod source;

use std::sync::Arc;

use chrono::NaiveDate;

use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::azure::{AzureClient, AzureConfig};
use crate::lake::Lake;
pub use crate::lake::landing::{Covers, Dataset, DatasetHint, Landed, LandingRecord};
use crate::{Error, Result};
pub use source::SourceSpec;

/// What a source did: the files it landed and the scopes it could not read (each naming the scope
/// and the status), whose data in the lake is left as it was.
#[derive(Debug, Default)]
pub struct Extracted {
    pub landed: Vec<Landed>,
    pub failed_scopes: Vec<String>,
}

impl From<Vec<Landed>> for Extracted {
    fn from(landed: Vec<Landed>) -> Self {
        Extracted {
            landed,
            failed_scopes: Vec::new(),
        }
    }
}

/// What every source gets to work with.
pub struct ExtractContext<'a> {
    pub lake: &'a Lake,
    pub run_id: &'a str,
    pub as_of: NaiveDate,
    /// `[azure]` from the config; the client is built on first use, so pipelines without Azure
    /// sources need no credentials.
    pub azure_config: &'a AzureConfig,
    pub azure: &'a OnceCell<Arc<AzureClient>>,
    /// What earlier runs landed: unchanged files are not landed again.
    pub landed_before: &'a crate::lake::landing::LandedBefore,
}

impl ExtractContext<'_> {
    /// The shared Azure client.
    pub async fn azure(&self) -> Result<Arc<AzureClient>> {
        self.azure
            .get_or_try_init(|| async {
                AzureClient::new(self.azure_config)
                    .map(Arc::new)
                    .map_err(Error::from)
            })
            .await
            .cloned()
    }

    /// Land `bytes` as `name` for `source` and `dataset` in this run (or point at an earlier
    /// run's identical file), and describe what landed.
    pub async fn land(
        &self,
        source: &str,
        dataset: Dataset,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Landed> {
        let folder = dataset.folder();
        let key = format!("{source}/{folder}/{name}");
        let fingerprint = crate::lake::sha256_hex(&bytes);
        let path = match self.landed_before.reuse(&key, &fingerprint) {
            Some(path) => path.to_string(),
            None => {
                let path = Lake::landing_path(source, folder, self.run_id, name);
                self.lake.put(&path, bytes).await?;
                path
            }
        };
        Ok(Landed {
            dataset,
            path,
            key,
            owner: source.to_string(),
            hint: DatasetHint::default(),
            covers: Covers::Partition,
            fingerprint: Some(fingerprint),
        })
    }

    /// Land the object `file` of `store` as `name` (streamed, never whole in memory), unless an
    /// earlier run landed the same content under the same key: then that file is used. Returns
    /// the landed path and the content's fingerprint.
    pub async fn land_copy(
        &self,
        store: &Lake,
        file: &str,
        source: &str,
        dataset: Dataset,
        name: &str,
    ) -> Result<(String, String)> {
        let folder = dataset.folder();
        let fingerprint = store.fingerprint(file).await?;
        let key = format!("{source}/{folder}/{name}");
        if let Some(path) = self.landed_before.reuse(&key, &fingerprint) {
            return Ok((path.to_string(), fingerprint));
        }
        let path = Lake::landing_path(source, folder, self.run_id, name);
        store.copy_to(file, self.lake, &path).await?;
        Ok((path, fingerprint))
    }
}

/// Run every source in order, and say what the run landed: the files, the scopes that could not be
/// read, and the sources that failed outright (the others still run).
pub async fn run_sources(
    sources: &[SourceSpec],
    cx: &ExtractContext<'_>,
    pipeline: &str,
) -> LandingRecord {
    let mut record = LandingRecord {
        run_id: cx.run_id.to_string(),
        pipeline: pipeline.to_string(),
        as_of: cx.as_of,
        landed: Vec::new(),
        failed_scopes: Vec::new(),
        failed_sources: Vec::new(),
    };
    for source in sources {
        let span = tracing::info_span!("stage", name = "extract", source = source.kind());
        match source
            .source()
            .extract(cx, &record.landed)
            .instrument(span)
            .await
        {
            Ok(out) => {
                record.landed.extend(out.landed);
                record.failed_scopes.extend(out.failed_scopes);
            }
            Err(e) => record
                .failed_sources
                .push(format!("source `{}`: {e}", source.kind())),
        }
    }
    record
}

/// The subscriptions a source reads: the configured ones, or every subscription the identity can
/// see (`GET /subscriptions`, all pages). Lowercase ids.
pub async fn subscriptions_in_scope(
    configured: &[String],
    client: &AzureClient,
) -> std::result::Result<Vec<String>, crate::azure::CallError> {
    if !configured.is_empty() {
        return Ok(configured.iter().map(|s| s.to_lowercase()).collect());
    }
    let url = format!(
        "{}/subscriptions?api-version=2022-12-01",
        client.endpoints().resource_manager
    );
    let replies = client
        .pages(
            crate::azure::Api::ResourceManager,
            &url,
            None,
            "/nextLink",
            "/value",
        )
        .await?;
    Ok(replies
        .iter()
        .flat_map(|r| r.json["value"].as_array().into_iter().flatten())
        .filter_map(|s| s["subscriptionId"].as_str())
        .map(str::to_lowercase)
        .collect())
}

/// The subscriptions `source` reads, or what to return when they cannot even be listed (that one
/// failed scope, nothing landed).
pub async fn subscriptions_or_failure(
    source: &str,
    configured: &[String],
    client: &AzureClient,
) -> std::result::Result<Vec<String>, Extracted> {
    subscriptions_in_scope(configured, client)
        .await
        .map_err(|e| Extracted {
            landed: Vec::new(),
            failed_scopes: vec![scope_failure(source, "listing subscriptions", &e)],
        })
}

/// `name` for a failed scope: `subscription 0000… : HTTP 429 …`.
pub fn scope_failure(source: &str, scope: &str, error: &crate::azure::CallError) -> String {
    format!("{source}: {scope}: {error}")
}

/// A file a cost source lands: CSV, gzip CSV (`.csv.gz`, or `.gz` as Cost Management names its
/// compressed export parts) or Parquet.
pub fn is_cost_file(path: &str) -> bool {
    let lower = path.to_lowercase();
    [".csv", ".csv.gz", ".gz", ".parquet"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}
