//! `[azure]` in `config/cloudoptima.toml`: which cloud, which endpoints, which credential, how hard
//! to retry. Presets cover the public cloud and the two sovereign clouds; every endpoint can be
//! overridden (a private link, a proxy, or the emulator the tests use).

use serde::Deserialize;

use crate::config::Secret;

/// The national cloud whose endpoints and token audiences are used.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
pub enum Cloud {
    #[default]
    AzureCloud,
    AzureUSGovernment,
    AzureChinaCloud,
}

/// How credentials are found.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Try, in order: client secret (when `client_secret` is set), workload identity (when
    /// `AZURE_FEDERATED_TOKEN_FILE` is set), managed identity, Azure CLI. The first that returns a
    /// token is used for the rest of the run.
    #[default]
    Auto,
    ManagedIdentity,
    WorkloadIdentity,
    ClientSecret,
    AzureCli,
}

impl AuthMethod {
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::ManagedIdentity => "managed identity",
            AuthMethod::WorkloadIdentity => "workload identity",
            AuthMethod::ClientSecret => "client secret",
            AuthMethod::AzureCli => "Azure CLI",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// `AzureCloud` (default), `AzureUSGovernment` or `AzureChinaCloud`.
    #[serde(default)]
    pub cloud: Cloud,
    /// Entra tenant id. Needed for client secret and workload identity; optional otherwise.
    pub tenant_id: Option<String>,
    /// `auto` (default), `managed_identity`, `workload_identity`, `client_secret` or `azure_cli`.
    #[serde(default)]
    pub auth: AuthMethod,
    /// Application (client) id: the app registration for a client secret or workload identity, or
    /// a user-assigned managed identity. Unset: the system-assigned identity.
    pub client_id: Option<String>,
    /// Client secret; must be a `${ENV_VAR}` reference.
    pub client_secret: Option<Secret>,
    /// Endpoint overrides; unset keys come from the cloud's preset.
    #[serde(default)]
    pub endpoints: EndpointOverrides,
    #[serde(default)]
    pub retry: RetryConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointOverrides {
    /// Azure Resource Manager: Cost Management, Resource Graph, Advisor, exports, single-resource
    /// metrics.
    pub resource_manager: Option<String>,
    /// Entra ID authority host, for client secret and workload identity.
    pub authority: Option<String>,
    /// Monitor metrics data plane (`metrics:getBatch`); `{region}` is replaced by the resources'
    /// region.
    pub metrics: Option<String>,
    /// Retail Prices API.
    pub retail_prices: Option<String>,
}

/// Endpoints and token audiences in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub resource_manager: String,
    pub authority: String,
    pub metrics: String,
    pub retail_prices: String,
    /// Token scope for Resource Manager calls.
    pub resource_manager_scope: String,
    /// Token scope for the metrics data plane.
    pub metrics_scope: String,
}

impl Cloud {
    /// The published endpoints of this cloud.
    pub fn preset(self) -> Endpoints {
        let (arm, authority, metrics_suffix) = match self {
            Cloud::AzureCloud => (
                "https://management.azure.com",
                "https://login.microsoftonline.com",
                "azure.com",
            ),
            Cloud::AzureUSGovernment => (
                "https://management.usgovcloudapi.net",
                "https://login.microsoftonline.us",
                "azure.us",
            ),
            Cloud::AzureChinaCloud => (
                "https://management.chinacloudapi.cn",
                "https://login.chinacloudapi.cn",
                "azure.cn",
            ),
        };
        Endpoints {
            resource_manager: arm.into(),
            authority: authority.into(),
            metrics: format!("https://{{region}}.metrics.monitor.{metrics_suffix}"),
            // The Retail Prices API is served from the public cloud only.
            retail_prices: "https://prices.azure.com".into(),
            resource_manager_scope: format!("{arm}/.default"),
            metrics_scope: format!("https://metrics.monitor.{metrics_suffix}/.default"),
        }
    }
}

impl AzureConfig {
    /// The cloud's preset with this config's overrides applied.
    pub fn endpoints(&self) -> Endpoints {
        let mut e = self.cloud.preset();
        let o = &self.endpoints;
        let trim = |s: &String| s.trim_end_matches('/').to_string();
        if let Some(v) = &o.resource_manager {
            e.resource_manager = trim(v);
        }
        if let Some(v) = &o.authority {
            e.authority = trim(v);
        }
        if let Some(v) = &o.metrics {
            e.metrics = trim(v);
        }
        if let Some(v) = &o.retail_prices {
            e.retail_prices = trim(v);
        }
        e
    }
}

/// Retries on throttling (429), server errors (5xx), timeouts and broken responses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per request, the first included. Default 6.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First backoff in milliseconds; doubles per attempt, with jitter. Default 1000.
    #[serde(default = "default_base_ms")]
    pub base_delay_ms: u64,
    /// Longest single wait in seconds, whether from backoff or a `Retry-After` header; a server
    /// asking for more fails the request. Default 300.
    #[serde(default = "default_max_delay")]
    pub max_delay_secs: u64,
    /// Seconds to wait for a response before the attempt counts as timed out. Default 120.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: default_attempts(),
            base_delay_ms: default_base_ms(),
            max_delay_secs: default_max_delay(),
            timeout_secs: default_timeout(),
        }
    }
}

fn default_attempts() -> u32 {
    6
}
fn default_base_ms() -> u64 {
    1000
}
fn default_max_delay() -> u64 {
    300
}
fn default_timeout() -> u64 {
    120
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_overrides() {
        let gov = Cloud::AzureUSGovernment.preset();
        assert_eq!(gov.resource_manager, "https://management.usgovcloudapi.net");
        assert_eq!(
            gov.metrics_scope,
            "https://metrics.monitor.azure.us/.default"
        );
        let config: AzureConfig = toml::from_str(
            "cloud = \"AzureChinaCloud\"\n[endpoints]\nresource_manager = \"http://127.0.0.1:9/\"",
        )
        .unwrap();
        let e = config.endpoints();
        assert_eq!(e.resource_manager, "http://127.0.0.1:9");
        assert_eq!(e.authority, "https://login.chinacloudapi.cn");
        // Audiences stay the cloud's, whatever host serves the API.
        assert_eq!(
            e.resource_manager_scope,
            "https://management.chinacloudapi.cn/.default"
        );
    }
}
