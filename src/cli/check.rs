//! `cloudoptima check`: sign in to Azure as the pipelines would, then try one small read against
//! every scope each Azure source is configured for, and say what can and cannot be read — and,
//! when Azure refuses, which role is missing where. Nothing is written anywhere.

use chrono::{Duration, Utc};
use serde_json::json;

use super::{Context, EXIT_FAILED, EXIT_OK};
use crate::Result;
use crate::azure::{Api, AzureClient, CallError, encode};
use crate::extract::{SourceSpec, subscriptions_in_scope};
use crate::pipeline::spec;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check only these pipelines (by name); default: every pipeline in the pipelines folder.
    #[arg(value_name = "PIPELINE")]
    pub names: Vec<String>,
}

/// One line of the report.
struct Line {
    ok: bool,
    text: String,
}

impl Line {
    /// A line for `kind`'s outcome.
    fn of(kind: &str, outcome: std::result::Result<String, String>) -> Line {
        match outcome {
            Ok(text) => Line {
                ok: true,
                text: format!("{kind:<21} {text}"),
            },
            Err(text) => Line {
                ok: false,
                text: format!("{kind:<21} {text}"),
            },
        }
    }

    fn print(&self) {
        println!("  {:<5} {}", if self.ok { "ok" } else { "FAIL" }, self.text);
    }
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let specs: Vec<_> = spec::load_dir(&cx.pipelines)?
        .into_iter()
        .filter(|s| args.names.is_empty() || args.names.contains(&s.name))
        .collect();
    let azure = &config.azure;
    let endpoints = azure.endpoints();
    println!(
        "Azure cloud {:?}, credentials: {}",
        azure.cloud,
        azure.auth.label()
    );
    println!("  resource manager  {}", endpoints.resource_manager);
    println!("  metrics           {}", endpoints.metrics);
    println!("  retail prices     {}", endpoints.retail_prices);

    let mut lines = Vec::new();
    println!("Credentials");
    let client = match AzureClient::new(azure) {
        Ok(c) => c,
        Err(e) => {
            let line = Line { ok: false, text: e };
            line.print();
            println!("1 check: 0 ok, 1 failed");
            return Ok(EXIT_FAILED);
        }
    };
    for scope in [&endpoints.resource_manager_scope, &endpoints.metrics_scope] {
        let line = match client.token(scope).await {
            Ok(_) => Line {
                ok: true,
                text: format!(
                    "{}: token for {scope}",
                    client.signed_in_with().await.map_or("?", |m| m.label())
                ),
            },
            Err(e) => Line {
                ok: false,
                text: e.to_string(),
            },
        };
        line.print();
        lines.push(line);
    }
    if lines.iter().any(|l| !l.ok) {
        return Ok(summary(&lines));
    }
    let visible = subscriptions_in_scope(&[], &client).await;
    let line = match &visible {
        Ok(subs) => Line {
            ok: true,
            text: format!("{} subscription(s) visible", subs.len()),
        },
        Err(e) => Line {
            ok: false,
            text: format!("listing subscriptions: {e}"),
        },
    };
    line.print();
    lines.push(line);
    let visible = visible.unwrap_or_default();

    for spec in &specs {
        let azure_sources: Vec<&SourceSpec> = spec
            .sources
            .iter()
            .filter(|s| s.kind().starts_with("azure_"))
            .collect();
        if azure_sources.is_empty() {
            continue;
        }
        println!("Pipeline {} ({})", spec.name, spec.file.display());
        for source in azure_sources {
            if let SourceSpec::AzureExports(exports) = source {
                let outcome = crate::extract::azure_exports::describe_location(exports)
                    .await
                    .map_err(|e| format!("{e} (needs Storage Blob Data Reader on the container)"));
                let line = Line::of(source.kind(), outcome);
                line.print();
                lines.push(line);
            }
            let mut scopes = source.azure_scopes();
            if scopes.is_empty() && uses_subscriptions(source) {
                scopes = visible
                    .iter()
                    .map(|s| format!("/subscriptions/{s}"))
                    .collect();
            }
            if matches!(source, SourceSpec::AzureRetailPrices(_)) {
                scopes.push("(public API)".into());
            }
            for scope in scopes {
                let outcome = probe(&client, source, &scope)
                    .await
                    .map(|what| format!("{scope} {what}"))
                    .map_err(|e| format!("{scope} {e}{}", missing_role(source, &e)));
                let line = Line::of(source.kind(), outcome);
                line.print();
                lines.push(line);
            }
        }
    }
    Ok(summary(&lines))
}

fn summary(lines: &[Line]) -> u8 {
    let failed = lines.iter().filter(|l| !l.ok).count();
    println!(
        "{} check(s): {} ok, {failed} failed",
        lines.len(),
        lines.len() - failed
    );
    if failed == 0 { EXIT_OK } else { EXIT_FAILED }
}

fn uses_subscriptions(source: &SourceSpec) -> bool {
    matches!(
        source,
        SourceSpec::AzureResourceGraph(_)
            | SourceSpec::AzureMonitor(_)
            | SourceSpec::AzureAdvisor(_)
    )
}

/// The role a refused read needs, as advice after the error.
fn missing_role(source: &SourceSpec, e: &CallError) -> String {
    if !matches!(e.status, Some(401 | 403)) {
        return String::new();
    }
    let role = match source {
        SourceSpec::AzureCostQuery(_) | SourceSpec::AzureExports(_) => {
            "Cost Management Reader (or a billing reader role at billing scopes)"
        }
        SourceSpec::AzureMonitor(_) => "Monitoring Reader",
        _ => "Reader",
    };
    format!(" (needs {role} on this scope)")
}

/// One small read that needs the same permission as the source's real work.
async fn probe(
    client: &AzureClient,
    source: &SourceSpec,
    scope: &str,
) -> std::result::Result<String, CallError> {
    let arm = &client.endpoints().resource_manager;
    match source {
        SourceSpec::AzureCostQuery(_) | SourceSpec::AzureExports(_) => {
            let day = (Utc::now() - Duration::days(2)).date_naive();
            let body = json!({
                "type": "ActualCost",
                "timeframe": "Custom",
                "timePeriod": {"from": format!("{day}T00:00:00Z"), "to": format!("{day}T23:59:59Z")},
                "dataset": {"granularity": "None",
                            "aggregation": {"Cost": {"name": "Cost", "function": "Sum"}}},
            });
            let url = format!(
                "{arm}{scope}/providers/Microsoft.CostManagement/query?api-version=2025-03-01"
            );
            client.post(Api::CostManagement, &url, &body).await?;
            Ok("costs readable".into())
        }
        SourceSpec::AzureResourceGraph(_) => {
            let subscription = scope.trim_start_matches("/subscriptions/");
            let body = json!({
                "subscriptions": [subscription],
                "query": "resources | project id | take 1",
                "options": {"$top": 1, "resultFormat": "objectArray"},
            });
            let url =
                format!("{arm}/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01");
            let reply = client.post(Api::ResourceGraph, &url, &body).await?;
            let total = reply.json["totalRecords"].as_u64().unwrap_or(0);
            Ok(format!("inventory readable ({total} resource(s))"))
        }
        SourceSpec::AzureMonitor(_) | SourceSpec::AzureAdvisor(_) => {
            let what = if matches!(source, SourceSpec::AzureAdvisor(_)) {
                "providers/Microsoft.Advisor/recommendations?api-version=2025-01-01&$top=1"
            } else {
                "providers/Microsoft.Insights/metricDefinitions?api-version=2021-05-01&region=eastus\
                 &metricnamespace=microsoft.compute/virtualmachines"
            };
            client
                .get(Api::ResourceManager, &format!("{arm}{scope}/{what}"))
                .await?;
            Ok(if matches!(source, SourceSpec::AzureAdvisor(_)) {
                "recommendations readable".into()
            } else {
                "metrics readable".into()
            })
        }
        SourceSpec::AzureRetailPrices(s) => {
            let url = format!(
                "{}/api/retail/prices?api-version=2023-01-01-preview&currencyCode='{}'&$filter={}",
                client.endpoints().retail_prices,
                s.currency,
                encode("serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_D2s_v3'")
            );
            client.get(Api::RetailPrices, &url).await?;
            Ok("retail prices reachable".into())
        }
        _ => Ok(String::new()),
    }
}
