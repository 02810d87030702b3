//! The `azure_retail_prices` source: public retail prices (`GET {retail}/api/retail/prices`, every
//! `NextPageLink` page) for the VM sizes in the inventory, per region, plus any filters the pipeline
//! adds. They go to `prices`, so savings can be priced where no price sheet is exported. The price
//! list is replaced as a whole, so it lands only when every query has been read.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::estate;
use super::source::{CheckContext, CheckLine, Source, probe_scopes};
use super::{Dataset, DatasetHint, ExtractContext, Extracted, Landed, scope_failure};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, encode};

const API_VERSION: &str = "2023-01-01-preview";
/// VM sizes per query (the filter stays well inside URL limits).
const SIZES_PER_QUERY: usize = 10;

/// `[[sources]] kind = "azure_retail_prices"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetailPricesSpec {
    /// Source name (landing folder, `x_SourceName`). Default `azure_retail_prices`.
    #[serde(default = "default_name")]
    pub name: String,
    /// Price currency (ISO code). Default `USD`.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Price the VM sizes found in the inventory. Default true.
    #[serde(default = "yes")]
    pub inventory_vm_sizes: bool,
    /// Extra OData filters, one query each, e.g.
    /// `"serviceName eq 'Storage' and armRegionName eq 'westeurope'"`.
    #[serde(default)]
    pub filters: Vec<String>,
}

fn default_name() -> String {
    "azure_retail_prices".into()
}
fn default_currency() -> String {
    "USD".into()
}
fn yes() -> bool {
    true
}

/// The OData filters to run: VM consumption prices per region for the sizes in use, then the
/// pipeline's own.
pub fn filters(spec: &RetailPricesSpec, resources: &[estate::Resource]) -> Vec<String> {
    let mut sizes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    if spec.inventory_vm_sizes {
        for r in resources {
            if let Some(size) = &r.vm_size {
                let list = sizes.entry(r.region.as_str()).or_default();
                if !list.contains(&size.as_str()) {
                    list.push(size);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (region, list) in sizes {
        for chunk in list.chunks(SIZES_PER_QUERY) {
            let any = chunk
                .iter()
                .map(|s| format!("armSkuName eq '{s}'"))
                .collect::<Vec<_>>()
                .join(" or ");
            out.push(format!(
                "serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and \
                 armRegionName eq '{region}' and ({any})"
            ));
        }
    }
    out.extend(spec.filters.iter().cloned());
    out
}

pub async fn extract(
    spec: &RetailPricesSpec,
    cx: &ExtractContext<'_>,
    earlier: &[Landed],
) -> Result<Extracted> {
    let client = cx.azure().await?;
    let resources = estate::resources(cx.lake, earlier).await?;
    let filters = filters(spec, &resources);
    if filters.is_empty() {
        tracing::warn!("no VM sizes in the inventory and no filters: no retail prices to read");
        return Ok(Extracted::default());
    }
    let mut pages = Vec::new();
    for filter in &filters {
        match read_filter(&client, &spec.currency, filter).await {
            Ok(p) => pages.extend(p),
            Err(e) => {
                let scope = format!("prices where {filter}");
                return Ok(Extracted {
                    landed: Vec::new(),
                    failed_scopes: vec![scope_failure(&spec.name, &scope, &e)],
                });
            }
        }
    }
    let mut out = Extracted::default();
    for (p, page) in pages.into_iter().enumerate() {
        let name = format!("page-{:05}.json", p + 1);
        let mut landed = cx.land(&spec.name, Dataset::Costs, &name, page).await?;
        landed.hint = DatasetHint {
            dataset: Some("PriceSheet".into()),
            version: None,
            label: Some("RetailPrices".into()),
            source_total: None,
        };
        out.landed.push(landed);
    }
    Ok(out)
}

async fn read_filter(
    client: &AzureClient,
    currency: &str,
    filter: &str,
) -> std::result::Result<Vec<Vec<u8>>, CallError> {
    let url = format!(
        "{}/api/retail/prices?api-version={API_VERSION}&currencyCode='{currency}'&$filter={}",
        client.endpoints().retail_prices,
        encode(filter)
    );
    let replies = client
        .pages(Api::RetailPrices, &url, None, "/NextPageLink", "/Items")
        .await?;
    Ok(replies.into_iter().map(|r| r.bytes).collect())
}

#[async_trait::async_trait]
impl Source for RetailPricesSpec {
    async fn extract(&self, cx: &ExtractContext<'_>, earlier: &[Landed]) -> Result<Extracted> {
        extract(self, cx, earlier).await
    }

    async fn check(&self, cx: &CheckContext<'_>) -> Vec<CheckLine> {
        let scopes = vec!["(public API)".to_string()];
        probe_scopes(scopes, "no role", |_| async move {
            let url = format!(
                "{}/api/retail/prices?api-version={API_VERSION}&currencyCode='{}'&$filter={}",
                cx.client.endpoints().retail_prices,
                self.currency,
                encode("serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_D2s_v3'")
            );
            cx.client.get(Api::RetailPrices, &url).await?;
            Ok("retail prices reachable".to_string())
        })
        .await
    }
}
