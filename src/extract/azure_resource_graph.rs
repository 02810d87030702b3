//! The `azure_resource_graph` source: a daily inventory of every resource type the rules look at,
//! across the subscriptions in scope, from Resource Graph (`POST
//! /providers/Microsoft.ResourceGraph/resources`). Subscriptions are batched per query and each
//! batch is paged with `$skipToken` to the end; a batch lands only when all its pages are read.

use serde::Deserialize;
use serde_json::json;

use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{
    Covers, Dataset, ExtractContext, Extracted, Landed, scope_failure, subscriptions_or_failure,
};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, require_array};

const API_VERSION: &str = "2024-04-01";

/// Resource types the rules read (Resource Graph spells types in lowercase).
pub const RESOURCE_TYPES: &[&str] = &[
    "microsoft.compute/virtualmachines",
    "microsoft.compute/virtualmachinescalesets",
    "microsoft.compute/disks",
    "microsoft.compute/snapshots",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
    "microsoft.network/loadbalancers",
    "microsoft.network/applicationgateways",
    "microsoft.network/natgateways",
    "microsoft.network/virtualnetworkgateways",
    "microsoft.network/expressroutecircuits",
    "microsoft.network/connections",
    "microsoft.network/ddosprotectionplans",
    "microsoft.network/privateendpoints",
    "microsoft.storage/storageaccounts",
    "microsoft.web/serverfarms",
    "microsoft.web/sites",
    "microsoft.sql/servers/databases",
    "microsoft.sql/servers/elasticpools",
    "microsoft.containerservice/managedclusters",
];

/// `[[sources]] kind = "azure_resource_graph"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGraphSpec {
    /// Source name (landing folder). Default `azure_resource_graph`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Subscription ids to inventory. Empty: every subscription the identity can read.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Subscriptions per query (Resource Graph accepts up to 1,000). Default 100.
    #[serde(default = "default_batch")]
    pub subscriptions_per_query: usize,
    /// Rows per page (`$top`, at most 1,000). Default 1,000.
    #[serde(default = "default_page")]
    pub page_size: u32,
}

fn default_name() -> String {
    "azure_resource_graph".into()
}
fn default_batch() -> usize {
    100
}
fn default_page() -> u32 {
    1000
}

/// The query: one row per resource, with what the rules need (power state and disk state are
/// inside `properties`).
pub fn query() -> String {
    let types = RESOURCE_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "resources | where type in~ ({types}) | project id, name, type, location, subscriptionId, \
         resourceGroup, sku, kind, tags, managedBy, properties"
    )
}

pub async fn extract(spec: &ResourceGraphSpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let client = cx.azure().await?;
    let subscriptions =
        match subscriptions_or_failure(&spec.name, &spec.subscriptions, &client).await {
            Ok(s) => s,
            Err(failed) => return Ok(failed),
        };
    let mut out = Extracted::default();
    for (n, batch) in subscriptions
        .chunks(spec.subscriptions_per_query.clamp(1, 1000))
        .enumerate()
    {
        match read_batch(&client, batch, spec.page_size.clamp(1, 1000)).await {
            Ok(pages) => {
                tracing::info!(
                    subscriptions = batch.len(),
                    pages = pages.len(),
                    "inventory read"
                );
                for (p, page) in pages.into_iter().enumerate() {
                    let name = format!("batch-{:03}/page-{:04}.json", n + 1, p + 1);
                    let mut landed = cx.land(&spec.name, Dataset::Resources, &name, page).await?;
                    landed.covers = Covers::Subscriptions(batch.to_vec());
                    out.landed.push(landed);
                }
            }
            Err(e) => {
                let scope = format!("subscriptions {}", batch.join(", "));
                out.failed_scopes
                    .push(scope_failure(&spec.name, &scope, &e));
            }
        }
    }
    Ok(out)
}

/// Every page of the inventory of `subscriptions`, as received.
async fn read_batch(
    client: &AzureClient,
    subscriptions: &[String],
    page_size: u32,
) -> std::result::Result<Vec<Vec<u8>>, CallError> {
    let url = format!(
        "{}/providers/Microsoft.ResourceGraph/resources?api-version={API_VERSION}",
        client.endpoints().resource_manager
    );
    let mut pages = Vec::new();
    let mut skip_token: Option<String> = None;
    loop {
        let mut options = json!({ "$top": page_size, "resultFormat": "objectArray" });
        if let Some(token) = &skip_token {
            options["$skipToken"] = json!(token);
        }
        let body = json!({
            "subscriptions": subscriptions,
            "query": query(),
            "options": options,
        });
        let reply = client.post(Api::ResourceGraph, &url, &body).await?;
        skip_token = reply.json["$skipToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        require_array(&reply, "/data")?;
        pages.push(reply.bytes);
        if skip_token.is_none() {
            return Ok(pages);
        }
    }
}

#[async_trait::async_trait]
impl Source for ResourceGraphSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        let scopes = cx.subscription_scopes(&self.subscriptions);
        probe_scopes(scopes, "Reader", |scope| async move {
            let subscription = scope.trim_start_matches("/subscriptions/");
            let body = json!({
                "subscriptions": [subscription],
                "query": "resources | project id | take 1",
                "options": {"$top": 1, "resultFormat": "objectArray"},
            });
            let url = format!(
                "{}/providers/Microsoft.ResourceGraph/resources?api-version={API_VERSION}",
                cx.client.endpoints().resource_manager
            );
            let reply = cx.client.post(Api::ResourceGraph, &url, &body).await?;
            let total = reply.json["totalRecords"].as_u64().unwrap_or(0);
            Ok(format!("inventory readable ({total} resource(s))"))
        })
        .await
    }
}
