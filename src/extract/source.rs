//! The source registry. A source is one module that implements [`Source`] and one line in
//! [`REGISTRY`]: the pipeline loader, `validate`, `check` and the extract stage all go through it, so
//! nothing else changes when a source is added.

use std::future::Future;
use std::sync::Arc;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use super::{
    ExtractContext, Extracted, Landed, azure_advisor, azure_cost_details, azure_cost_query,
    azure_exports, azure_monitor, azure_resource_graph, azure_retail_prices, demo, focus_files,
};
use crate::Result;
use crate::azure::{AzureClient, CallError};

/// One kind of source.
#[async_trait::async_trait]
pub trait Source: std::fmt::Debug + Send + Sync {
    /// What is wrong with the settings beyond their types; checked before any stage runs.
    fn problems(&self) -> Vec<String> {
        Vec::new()
    }

    /// Land this source's files for one run. `earlier` is what the sources before it landed in
    /// this run (the metrics and prices sources read the run's inventory from it).
    async fn extract(&self, cx: &ExtractContext<'_>, earlier: &[Landed]) -> Result<Extracted>;

    /// For `check`: one small read per scope, sending the request `extract` sends, at minimum
    /// size. Sources that call no Azure API check nothing.
    async fn check(&self, _cx: &CheckContext<'_>) -> Vec<CheckLine> {
        Vec::new()
    }
}

/// Reads a source's settings (the `[[sources]]` table without `kind`).
type Parse = fn(toml::Value) -> std::result::Result<Arc<dyn Source>, String>;

fn parse<T: Source + DeserializeOwned + 'static>(
    settings: toml::Value,
) -> std::result::Result<Arc<dyn Source>, String> {
    T::deserialize(settings)
        .map(|s| Arc::new(s) as Arc<dyn Source>)
        .map_err(|e| e.to_string())
}

/// Every kind of source, by its `kind` in pipeline files.
pub const REGISTRY: &[(&str, Parse)] = &[
    ("demo", parse::<demo::DemoSpec>),
    ("focus_files", parse::<focus_files::FocusFilesSpec>),
    ("azure_exports", parse::<azure_exports::AzureExportsSpec>),
    ("azure_cost_query", parse::<azure_cost_query::CostQuerySpec>),
    (
        "azure_cost_details",
        parse::<azure_cost_details::CostDetailsSpec>,
    ),
    (
        "azure_resource_graph",
        parse::<azure_resource_graph::ResourceGraphSpec>,
    ),
    ("azure_monitor", parse::<azure_monitor::MonitorSpec>),
    (
        "azure_retail_prices",
        parse::<azure_retail_prices::RetailPricesSpec>,
    ),
    ("azure_advisor", parse::<azure_advisor::AdvisorSpec>),
];

/// `[[sources]]` in a pipeline file: its `kind` and its settings.
#[derive(Clone)]
pub struct SourceSpec {
    kind: &'static str,
    source: Arc<dyn Source>,
}

impl SourceSpec {
    /// The built-in demo tenant with its default settings.
    pub fn demo() -> Self {
        SourceSpec {
            kind: "demo",
            source: Arc::new(demo::DemoSpec::default()),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub fn source(&self) -> &dyn Source {
        self.source.as_ref()
    }
}

impl std::fmt::Debug for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.kind, self.source)
    }
}

impl<'de> Deserialize<'de> for SourceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let kind = match table.remove("kind") {
            Some(toml::Value::String(kind)) => kind,
            Some(_) => return Err(D::Error::custom("`kind` must be a string")),
            None => return Err(D::Error::missing_field("kind")),
        };
        let Some((kind, parse)) = REGISTRY.iter().find(|(k, _)| *k == kind) else {
            // Worded as serde words it, so the config error adds the closest valid kind.
            let kinds: Vec<String> = REGISTRY.iter().map(|(k, _)| format!("`{k}`")).collect();
            return Err(D::Error::custom(format!(
                "unknown variant `{kind}`, expected one of {}",
                kinds.join(", ")
            )));
        };
        let source = parse(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(format!("source `{kind}`: {e}")))?;
        Ok(SourceSpec { kind, source })
    }
}

/// What `check` gives each source.
pub struct CheckContext<'a> {
    pub client: &'a AzureClient,
    /// Every subscription the identity can see (lowercase ids), for sources configured without
    /// a list; empty when they could not be listed.
    pub visible_subscriptions: &'a [String],
}

impl CheckContext<'_> {
    /// `configured` as `/subscriptions/<id>` scopes, or every visible subscription.
    pub fn subscription_scopes(&self, configured: &[String]) -> Vec<String> {
        let subs = if configured.is_empty() {
            self.visible_subscriptions
        } else {
            configured
        };
        subs.iter().map(|s| format!("/subscriptions/{s}")).collect()
    }
}

/// One line of `check`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    pub ok: bool,
    pub text: String,
}

/// Probe each scope with `probe`; a scope Azure refuses says which `role` it needs. Only a 403
/// means a missing role: a 401 is the token (audience, expiry), not the role.
pub async fn probe_scopes<F, Fut>(scopes: Vec<String>, role: &str, probe: F) -> Vec<CheckLine>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = std::result::Result<String, CallError>>,
{
    let mut lines = Vec::new();
    for scope in scopes {
        let line = match probe(scope.clone()).await {
            Ok(what) => CheckLine {
                ok: true,
                text: format!("{scope} {what}"),
            },
            Err(e) => {
                let advice = match e.status {
                    Some(403) => format!(" (needs {role} on this scope)"),
                    Some(401) => " (the token was refused: check the credential and cloud)".into(),
                    _ => String::new(),
                };
                CheckLine {
                    ok: false,
                    text: format!("{scope} {e}{advice}"),
                }
            }
        };
        lines.push(line);
    }
    lines
}
