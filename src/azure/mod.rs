//! Azure access shared by the Azure sources and `cloudoptima check`: the `[azure]` config (cloud,
//! endpoints, credentials, retries), the credential chain, and one paced, retrying HTTP client.
//! Every call is a read, except creating and running Cost Management exports when a pipeline asks.

pub mod client;
pub mod cloud;
pub mod credential;
pub mod resource_graph;

pub use client::{Api, AzureClient, CallError, Reply, require_array, retry_after};

/// Why the Azure client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No credential method could be built from `[azure]`; each says what it misses.
    #[error("no usable credential ({})", .0.join("; "))]
    NoCredential(Vec<String>),
    /// The machine's TLS or HTTP setup failed.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

impl SetupError {
    /// True when the `[azure]` settings are at fault (not the machine).
    pub fn is_settings(&self) -> bool {
        matches!(self, SetupError::NoCredential(_))
    }
}
pub use cloud::{AuthMethod, AzureConfig, Cloud};

/// Percent-encode one query-string value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A scope's id made safe as one path segment in landing (`/subscriptions/x/resourceGroups/y` →
/// `subscriptions_x_resourcegroups_y`).
pub fn scope_slug(scope: &str) -> String {
    scope
        .trim_matches('/')
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
