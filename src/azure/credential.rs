//! Which identity cloudoptima signs in as. azure_identity has no default chain, so this module
//! builds one in a documented order (see [`AuthMethod::Auto`]), remembers which credential worked,
//! and can start over with fresh credentials when Azure rejects a token it thought was valid.

use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

use super::cloud::{AuthMethod, AzureConfig};

/// A managed identity endpoint that does not answer in this time is taken as absent (in `auto`).
const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(10);

/// One credential of the chain, with the name users see.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub method: AuthMethod,
    pub credential: Arc<dyn TokenCredential>,
}

/// The credentials `config` allows, in the order they are tried. Errors name what is missing.
pub fn candidates(config: &AzureConfig) -> Result<Vec<Candidate>, super::SetupError> {
    let methods: Vec<AuthMethod> = match config.auth {
        AuthMethod::Auto => {
            let mut m = Vec::new();
            if config.client_secret.is_some() {
                m.push(AuthMethod::ClientSecret);
            }
            if std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                m.push(AuthMethod::WorkloadIdentity);
            }
            m.extend([AuthMethod::ManagedIdentity, AuthMethod::AzureCli]);
            m
        }
        pinned => vec![pinned],
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for method in methods {
        match build(method, config) {
            Ok(credential) => out.push(Candidate { method, credential }),
            Err(e) => problems.push(format!("{}: {e}", method.label())),
        }
    }
    if out.is_empty() {
        return Err(super::SetupError::NoCredential(problems));
    }
    Ok(out)
}

fn client_options(config: &AzureConfig) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = config.endpoints().authority;
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::from(custom))),
        ..ClientOptions::default()
    }
}

fn build(method: AuthMethod, config: &AzureConfig) -> Result<Arc<dyn TokenCredential>, String> {
    let e = |e: azure_core::Error| e.to_string();
    Ok(match method {
        AuthMethod::ClientSecret => {
            let tenant = config
                .tenant_id
                .as_deref()
                .ok_or("`azure.tenant_id` is not set")?;
            let client_id = config
                .client_id
                .clone()
                .ok_or("`azure.client_id` is not set")?;
            let secret = config
                .client_secret
                .as_ref()
                .and_then(|s| s.expose())
                .ok_or("`azure.client_secret` is not set")?;
            let options = ClientSecretCredentialOptions {
                client_options: client_options(config),
            };
            ClientSecretCredential::new(
                tenant,
                client_id,
                azure_core::credentials::Secret::new(secret.to_string()),
                Some(options),
            )
            .map_err(e)?
        }
        AuthMethod::WorkloadIdentity => {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(config),
                },
                client_id: config.client_id.clone(),
                tenant_id: config.tenant_id.clone(),
                ..Default::default()
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(e)?
        }
        AuthMethod::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: config.client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            };
            ManagedIdentityCredential::new(Some(options)).map_err(e)?
        }
        AuthMethod::AzureCli => {
            let options = AzureCliCredentialOptions {
                tenant_id: config.tenant_id.clone(),
                ..Default::default()
            };
            AzureCliCredential::new(Some(options)).map_err(e)?
        }
        AuthMethod::Auto => unreachable!("auto is expanded into methods"),
    })
}

/// Ask `candidate` for a token for `scope`, giving up on a silent managed identity endpoint.
pub async fn try_token(
    candidate: &Candidate,
    scope: &str,
    probing: bool,
) -> Result<azure_core::credentials::AccessToken, String> {
    let scopes = [scope];
    let ask = candidate.credential.get_token(&scopes, None);
    if probing && candidate.method == AuthMethod::ManagedIdentity {
        match tokio::time::timeout(MANAGED_IDENTITY_PROBE, ask).await {
            Ok(r) => r.map_err(|e| first_line(&e.to_string())),
            Err(_) => Err(format!(
                "no managed identity endpoint answered within {}s",
                MANAGED_IDENTITY_PROBE.as_secs()
            )),
        }
    } else {
        ask.await.map_err(|e| first_line(&e.to_string()))
    }
}

/// azure_identity errors can run to many lines of advice; the first says what happened.
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> AzureConfig {
        toml::from_str(text).unwrap()
    }

    fn methods(c: &AzureConfig) -> Vec<AuthMethod> {
        candidates(c).unwrap().iter().map(|c| c.method).collect()
    }

    #[test]
    fn auto_tries_configured_secrets_then_identities_then_the_cli() {
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::remove_var("AZURE_FEDERATED_TOKEN_FILE") };
        assert_eq!(
            methods(&config("")),
            [AuthMethod::ManagedIdentity, AuthMethod::AzureCli]
        );
        let with_secret = AzureConfig {
            client_secret: toml::from_str::<
                std::collections::BTreeMap<String, crate::config::Secret>,
            >("s = \"literal-for-this-test\"")
            .unwrap()
            .remove("s"),
            ..config(
                "tenant_id = \"72f988bf-86f1-41af-91ab-2d7cd011db47\"\nclient_id = \"00000000-0000-0000-0000-000000000001\"",
            )
        };
        assert_eq!(
            methods(&with_secret),
            [
                AuthMethod::ClientSecret,
                AuthMethod::ManagedIdentity,
                AuthMethod::AzureCli
            ]
        );
    }

    #[test]
    fn a_pinned_method_says_what_it_misses() {
        let e = candidates(&config("auth = \"client_secret\""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client secret: `azure.tenant_id` is not set"),
            "{e}"
        );
        assert_eq!(
            methods(&config("auth = \"azure_cli\"")),
            [AuthMethod::AzureCli]
        );
    }
}
