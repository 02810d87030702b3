//! The language model: `[llm]` in the config names an OpenAI, Azure OpenAI or OpenAI-compatible
//! (Ollama, vLLM, llama.cpp) chat-completions endpoint; [`Llm::complete`] asks it one question
//! through async-openai, bounded by one deadline. Keys come only from the environment; Azure
//! OpenAI without a key signs in with the Azure credential chain (an Entra token).

use std::time::Duration;

use async_openai::Client;
use async_openai::config::Config as EndpointConfig;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequestArgs,
};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::SecretString;
use serde::Deserialize;

use crate::config::Secret;

/// Which kind of endpoint `[llm]` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// api.openai.com (or `base_url`), `Authorization: Bearer <key>`.
    OpenAi,
    /// `<base_url>/openai/deployments/<deployment>/chat/completions?api-version=…`, with an
    /// `api-key` header or, without a key, an Entra token.
    Azure,
    /// Any server speaking OpenAI's chat completions at `base_url` (key optional).
    Compatible,
}

/// `[llm]`: the endpoint the executive summary, `ask` and the question harness use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    pub provider: Provider,
    /// The API's base URL: `https://api.openai.com/v1` by default for `openai`; the resource's
    /// endpoint (`https://NAME.openai.azure.com`) for `azure`; the server's `/v1` URL otherwise.
    pub base_url: Option<String>,
    /// The model name (`gpt-4o-mini`, `llama3.1`); for `azure`, the deployment's name.
    pub model: String,
    /// Azure OpenAI's API version.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// `"${OPENAI_API_KEY}"`: the key, from the environment only.
    pub api_key: Option<Secret>,
    /// The whole exchange (connect, wait, read) must end within this time.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_api_version() -> String {
    "2024-10-21".into()
}

fn default_timeout() -> u64 {
    60
}

/// The Entra scope of Azure OpenAI tokens.
const COGNITIVE_SERVICES: &str = "https://cognitiveservices.azure.com/.default";

impl LlmConfig {
    /// What is wrong with the section, each problem a sentence naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.provider != Provider::OpenAi && self.base_url.is_none() {
            p.push("llm.base_url: required for this provider (the endpoint's URL)".into());
        }
        if let Some(url) = &self.base_url
            && url::Url::parse(url).is_err()
        {
            p.push(format!("llm.base_url: `{url}` is not a URL"));
        }
        if self.model.trim().is_empty() {
            p.push("llm.model: empty (the model, or for azure the deployment)".into());
        }
        if self.timeout_secs == 0 {
            p.push("llm.timeout_secs: must be at least 1".into());
        }
        if self.provider == Provider::OpenAi && self.api_key.is_none() {
            p.push("llm.api_key: OpenAI needs a key: `api_key = \"${OPENAI_API_KEY}\"`".into());
        }
        p
    }
}

/// Why the model gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no answer within {0}s (llm.timeout_secs)")]
    Timeout(u64),
    #[error("the model endpoint: {0}")]
    Api(String),
    #[error("the model's answer has no text")]
    Empty,
    #[error("cannot sign in to Azure OpenAI: {0}")]
    Token(String),
}

/// Where requests go and how they are signed.
#[derive(Debug, Clone)]
struct Endpoint {
    base: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    key: SecretString,
}

impl EndpointConfig for Endpoint {
    fn headers(&self) -> HeaderMap {
        self.headers.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn query(&self) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn api_base(&self) -> &str {
        &self.base
    }

    fn api_key(&self) -> &SecretString {
        &self.key
    }
}

/// A chat-completions client for one `[llm]` section.
pub struct Llm {
    client: Client<Endpoint>,
    model: String,
    timeout: Duration,
}

impl Llm {
    /// The client, signed in: an Azure endpoint without a key gets an Entra token first.
    pub async fn connect(
        config: &LlmConfig,
        azure: &crate::azure::AzureConfig,
    ) -> Result<Llm, LlmError> {
        let key = config.api_key.as_ref().and_then(|k| k.expose());
        let mut headers = HeaderMap::new();
        // Keys and tokens are marked sensitive: never printed with the request.
        let sensitive = |text: String| {
            let mut value = HeaderValue::from_str(&text)
                .map_err(|_| LlmError::Api("the key is not a valid header value".into()))?;
            value.set_sensitive(true);
            Ok::<_, LlmError>(value)
        };
        let base = match config.provider {
            Provider::OpenAi => config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.openai.com/v1".into()),
            Provider::Compatible => config.base_url.clone().unwrap_or_default(),
            Provider::Azure => format!(
                "{}/openai/deployments/{}",
                config
                    .base_url
                    .clone()
                    .unwrap_or_default()
                    .trim_end_matches('/'),
                config.model
            ),
        };
        let base = base.trim_end_matches('/').to_string();
        let mut query = Vec::new();
        match (config.provider, key) {
            (Provider::Azure, Some(key)) => {
                headers.insert("api-key", sensitive(key.to_string())?);
            }
            (Provider::Azure, None) => {
                let token = crate::azure::AzureClient::new(azure)
                    .map_err(|e| LlmError::Token(e.to_string()))?
                    .token(COGNITIVE_SERVICES)
                    .await
                    .map_err(|e| LlmError::Token(e.to_string()))?;
                headers.insert(AUTHORIZATION, sensitive(format!("Bearer {token}"))?);
            }
            (_, Some(key)) => {
                headers.insert(AUTHORIZATION, sensitive(format!("Bearer {key}"))?);
            }
            (_, None) => {}
        }
        if config.provider == Provider::Azure {
            query.push(("api-version".to_string(), config.api_version.clone()));
        }
        let timeout = Duration::from_secs(config.timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("cloudoptima/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::Api(e.to_string()))?;
        let endpoint = Endpoint {
            base,
            query,
            headers,
            key: SecretString::from(String::new()),
        };
        Ok(Llm {
            client: Client::with_config(endpoint).with_http_client(http),
            model: config.model.clone(),
            timeout,
        })
    }

    /// One exchange: the system prompt and the user's message; the model's text back.
    pub async fn complete(&self, system: &str, user: &str) -> Result<String, LlmError> {
        let request = CreateChatCompletionRequestArgs::default()
            .model(self.model.clone())
            .temperature(0.0)
            .messages([
                ChatCompletionRequestSystemMessage::from(system).into(),
                ChatCompletionRequestUserMessage::from(user).into(),
            ])
            .build()
            .map_err(|e| LlmError::Api(e.to_string()))?;
        let answer = tokio::time::timeout(self.timeout, self.client.chat().create(request))
            .await
            .map_err(|_| LlmError::Timeout(self.timeout.as_secs()))?
            .map_err(|e| LlmError::Api(describe(&e)))?;
        answer
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|t| !t.trim().is_empty())
            .ok_or(LlmError::Empty)
    }
}

/// async-openai's error in one line of at most 300 characters, without a request's body or
/// headers: `HTTP 500 Internal Server Error: …`, `cannot connect to http://…`.
fn describe(e: &async_openai::error::OpenAIError) -> String {
    use async_openai::error::OpenAIError;
    let text = match e {
        OpenAIError::Reqwest(e) if e.is_timeout() => "no answer in time".into(),
        OpenAIError::Reqwest(e) => match (e.status(), e.url()) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(u)) => format!("cannot connect to {}", u.origin().ascii_serialization()),
            (None, None) => "cannot connect".into(),
        },
        other => {
            let first = other
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let status = first
                .get(..3)
                .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit()));
            if status {
                format!("HTTP {first}")
            } else {
                first
            }
        }
    };
    text.chars().take(300).collect()
}
