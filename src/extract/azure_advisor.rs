//! The `azure_advisor` source: Azure Advisor's cost recommendations per subscription (`GET
//! /subscriptions/{id}/providers/Microsoft.Advisor/recommendations`, every `nextLink` page), kept
//! so reports can set Advisor's findings beside cloudoptima's own.

use futures::StreamExt;
use serde::Deserialize;

use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{
    Covers, Dataset, ExtractContext, Extracted, Landed, scope_failure, subscriptions_or_failure,
};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, encode};

const API_VERSION: &str = "2025-01-01";
/// Subscriptions read at once (the client's Resource Manager pace still applies).
const PARALLEL_SUBSCRIPTIONS: usize = 4;

/// `[[sources]] kind = "azure_advisor"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisorSpec {
    /// Source name (landing folder). Default `azure_advisor`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Subscription ids. Empty: every subscription the identity can read.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Advisor categories to keep. Default `["Cost"]`.
    #[serde(default = "default_categories")]
    pub categories: Vec<String>,
}

fn default_name() -> String {
    "azure_advisor".into()
}

fn default_categories() -> Vec<String> {
    vec!["Cost".into()]
}

pub async fn extract(spec: &AdvisorSpec, cx: &ExtractContext<'_>) -> Result<Extracted> {
    let client = cx.azure().await?;
    let subscriptions =
        match subscriptions_or_failure(&spec.name, &spec.subscriptions, &client).await {
            Ok(s) => s,
            Err(failed) => return Ok(failed),
        };
    // The futures are made first, then run a few at a time: a stream that makes them as it goes
    // would make the whole extract future not `Send` (rustc cannot prove its closure's lifetimes).
    let reads: Vec<_> = subscriptions
        .iter()
        .map(|sub| read_subscription(&client, sub, &spec.categories))
        .collect();
    let results: Vec<_> = futures::stream::iter(reads)
        .buffered(PARALLEL_SUBSCRIPTIONS)
        .collect()
        .await;
    let mut out = Extracted::default();
    for (subscription, result) in subscriptions.iter().zip(results) {
        match result {
            Ok(pages) => {
                for (p, page) in pages.into_iter().enumerate() {
                    let name = format!("{subscription}/page-{:04}.json", p + 1);
                    let mut landed = cx.land(&spec.name, Dataset::Advisor, &name, page).await?;
                    landed.covers = Covers::Subscriptions(vec![subscription.clone()]);
                    out.landed.push(landed);
                }
            }
            Err(e) => {
                let scope = format!("subscription {subscription}");
                out.failed_scopes
                    .push(scope_failure(&spec.name, &scope, &e));
            }
        }
    }
    Ok(out)
}

async fn read_subscription(
    client: &AzureClient,
    subscription: &str,
    categories: &[String],
) -> std::result::Result<Vec<Vec<u8>>, CallError> {
    let filter = categories
        .iter()
        .map(|c| format!("Category eq '{c}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    let url = format!(
        "{}/subscriptions/{subscription}/providers/Microsoft.Advisor/recommendations?api-version={API_VERSION}&$filter={}",
        client.endpoints().resource_manager,
        encode(&filter)
    );
    let replies = client
        .pages(Api::ResourceManager, &url, None, "/nextLink", "/value")
        .await?;
    Ok(replies.into_iter().map(|r| r.bytes).collect())
}

#[async_trait::async_trait]
impl Source for AdvisorSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, _earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        let scopes = cx.subscription_scopes(&self.subscriptions);
        probe_scopes(scopes, "Reader", |scope| async move {
            let url = format!(
                "{}{scope}/providers/Microsoft.Advisor/recommendations?api-version={API_VERSION}&$top=1",
                cx.client.endpoints().resource_manager
            );
            cx.client.get(Api::ResourceManager, &url).await?;
            Ok("recommendations readable".to_string())
        })
        .await
    }
}
