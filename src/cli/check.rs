//! `cloudoptima check`: sign in to Azure as the pipelines would, then try one small read against
//! every scope each Azure source is configured for, and say what can and cannot be read — and,
//! when Azure refuses, which role is missing where. Nothing is written anywhere.

use super::{Context, EXIT_FAILED, EXIT_OK};
use crate::Result;
use crate::azure::AzureClient;
use crate::extract::source::CheckContext;
use crate::extract::subscriptions_in_scope;

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
    fn print(&self) {
        println!("  {:<5} {}", if self.ok { "ok" } else { "FAIL" }, self.text);
    }
}

pub async fn exec(cx: &Context, args: Args) -> Result<u8> {
    let config = cx.config()?;
    let specs: Vec<_> = cx
        .pipelines()?
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
            let line = Line {
                ok: false,
                text: e.to_string(),
            };
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
    let listing_failed = visible.is_err();
    let visible = visible.unwrap_or_default();

    let check_cx = CheckContext {
        client: &client,
        visible_subscriptions: &visible,
    };
    for spec in &specs {
        let mut header = false;
        for source in &spec.sources {
            let mut checked = source.source().check(&check_cx).await;
            // A source that reads every visible subscription has nothing to probe when none
            // could be listed: say so rather than leave it out.
            if checked.is_empty() && listing_failed && source.kind().starts_with("azure_") {
                checked.push(crate::extract::source::CheckLine {
                    ok: false,
                    text: "not probed: the subscriptions it reads could not be listed (see above)"
                        .into(),
                });
            }
            if checked.is_empty() {
                continue;
            }
            if !header {
                println!("Pipeline {} ({})", spec.name, spec.file.display());
                header = true;
            }
            for c in checked {
                let line = Line {
                    ok: c.ok,
                    text: format!("{:<21} {}", source.kind(), c.text),
                };
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
