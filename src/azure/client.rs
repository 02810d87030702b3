//! The one HTTP client every Azure source shares: a token per audience, polite pacing per API,
//! bounded retries with jittered exponential backoff that honour `Retry-After` and the Cost
//! Management `x-ms-ratelimit-*-retry-after` headers, and errors that carry status and Azure's code.
//!
//! Tokens come from azure_identity, which caches them and fetches a new one five minutes before
//! expiry; when Azure still answers 401 (a revoked or clock-skewed token), the credentials are
//! built afresh once and the request repeated.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore, SemaphorePermit};

use super::cloud::{AuthMethod, AzureConfig, Endpoints};
use super::credential::{self, Candidate};

/// The APIs cloudoptima calls, each with its own pace (Azure throttles them separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Resource Manager reads (subscriptions, Advisor, exports, single-resource metrics).
    ResourceManager,
    /// Cost Management query: throttled by query units per 10 s, minute and hour.
    CostManagement,
    /// Resource Graph: about 15 queries per 5 s per user.
    ResourceGraph,
    /// Monitor metrics data plane (`metrics:getBatch`).
    Metrics,
    /// Retail Prices (anonymous).
    RetailPrices,
}

impl Api {
    const ALL: [Api; 5] = [
        Api::ResourceManager,
        Api::CostManagement,
        Api::ResourceGraph,
        Api::Metrics,
        Api::RetailPrices,
    ];

    /// (requests in flight, least time between request starts), sized to Azure's published limits.
    fn pace(self) -> (usize, Duration) {
        match self {
            Api::ResourceManager => (4, Duration::from_millis(50)),
            Api::CostManagement => (2, Duration::from_millis(1000)),
            Api::ResourceGraph => (3, Duration::from_millis(350)),
            Api::Metrics => (4, Duration::ZERO),
            Api::RetailPrices => (2, Duration::from_millis(100)),
        }
    }
}

/// A request that failed for good: the last status and Azure's error code and message.
#[derive(Debug, Clone)]
pub struct CallError {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, "HTTP {s} {c}: {}", self.message),
            (Some(s), None) => write!(f, "HTTP {s}: {}", self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

impl CallError {
    pub fn new(message: impl Into<String>) -> Self {
        CallError {
            status: None,
            code: None,
            message: message.into(),
        }
    }
}

/// A successful JSON response.
#[derive(Debug)]
pub struct Reply {
    /// The body exactly as received (what lands).
    pub bytes: Vec<u8>,
    pub json: Value,
    pub headers: HeaderMap,
}

struct Pacer {
    permits: Semaphore,
    gap: Duration,
    next_start: Mutex<Instant>,
}

impl Pacer {
    async fn enter(&self) -> SemaphorePermit<'_> {
        let permit = self.permits.acquire().await.expect("never closed");
        let mut next = self.next_start.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep(*next - now).await;
        }
        *next = Instant::now() + self.gap;
        permit
    }

    async fn hold_until(&self, until: Instant) {
        let mut next = self.next_start.lock().await;
        *next = (*next).max(until);
    }
}

struct Auth {
    candidates: Vec<Candidate>,
    /// Index of the credential that worked, once one has.
    chosen: Option<usize>,
}

/// Shared by every Azure source in a process.
pub struct AzureClient {
    http: reqwest::Client,
    config: AzureConfig,
    endpoints: Endpoints,
    auth: Mutex<Auth>,
    pacers: Vec<Pacer>,
}

/// What the retry loop does after one attempt.
enum Next {
    Done(Reply),
    Fail(CallError),
    Retry { error: CallError, wait: Duration },
    NewToken(CallError),
}

impl AzureClient {
    pub fn new(config: &AzureConfig) -> Result<Self, super::SetupError> {
        let candidates = credential::candidates(config)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.retry.timeout_secs))
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("cloudoptima/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(super::SetupError::Http)?;
        let pacers = Api::ALL
            .iter()
            .map(|api| {
                let (n, gap) = api.pace();
                Pacer {
                    permits: Semaphore::new(n),
                    gap,
                    next_start: Mutex::new(Instant::now()),
                }
            })
            .collect();
        Ok(AzureClient {
            http,
            config: config.clone(),
            endpoints: config.endpoints(),
            auth: Mutex::new(Auth {
                candidates,
                chosen: None,
            }),
            pacers,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn pacer(&self, api: Api) -> &Pacer {
        &self.pacers[Api::ALL.iter().position(|a| *a == api).expect("listed")]
    }

    /// The credential in use (after the first token), for `check` and logs.
    pub async fn signed_in_with(&self) -> Option<AuthMethod> {
        let auth = self.auth.lock().await;
        auth.chosen.map(|i| auth.candidates[i].method)
    }

    /// A token for `scope`: from the credential that worked before, or the first in the chain
    /// that gives one. The error lists what each credential said.
    pub async fn token(&self, scope: &str) -> Result<String, CallError> {
        let mut auth = self.auth.lock().await;
        if let Some(i) = auth.chosen {
            return credential::try_token(&auth.candidates[i], scope, false)
                .await
                .map(|t| t.token.secret().to_string())
                .map_err(|e| CallError::new(format!("cannot get a token for {scope}: {e}")));
        }
        let probing = auth.candidates.len() > 1;
        let mut tried = Vec::new();
        for (i, c) in auth.candidates.iter().enumerate() {
            match credential::try_token(c, scope, probing).await {
                Ok(t) => {
                    tracing::info!(credential = c.method.label(), "signed in to Azure");
                    auth.chosen = Some(i);
                    return Ok(t.token.secret().to_string());
                }
                Err(e) => tried.push(format!("{}: {e}", c.method.label())),
            }
        }
        Err(CallError::new(format!(
            "no credential gave a token for {scope} ({})",
            tried.join("; ")
        )))
    }

    /// Start over with fresh credentials (empty token caches), keeping the method that worked.
    async fn renew_credentials(&self) -> Result<(), CallError> {
        let fresh =
            credential::candidates(&self.config).map_err(|e| CallError::new(e.to_string()))?;
        let mut auth = self.auth.lock().await;
        let method = auth.chosen.map(|i| auth.candidates[i].method);
        auth.chosen = method.and_then(|m| fresh.iter().position(|c| c.method == m));
        auth.candidates = fresh;
        Ok(())
    }

    /// GET `url` and parse the JSON reply, retrying as described in the module docs.
    pub async fn get(&self, api: Api, url: &str) -> Result<Reply, CallError> {
        self.send(api, Method::GET, url, None).await
    }

    /// POST a JSON `body` to `url` and parse the JSON reply.
    pub async fn post(&self, api: Api, url: &str, body: &Value) -> Result<Reply, CallError> {
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        self.send(api, Method::POST, url, Some(bytes)).await
    }

    /// Every page of a list: `url` (POSTing `body` when given, else GET), then the link at the
    /// JSON pointer `next` of each reply (`/nextLink`, `/NextPageLink`, `/properties/nextLink`)
    /// until there is none. Each reply must hold an array at `items`, or the list counts as broken.
    pub async fn pages(
        &self,
        api: Api,
        url: &str,
        body: Option<&Value>,
        next: &str,
        items: &str,
    ) -> Result<Vec<Reply>, CallError> {
        let mut url = url.to_string();
        let mut replies = Vec::new();
        loop {
            let reply = match body {
                Some(b) => self.post(api, &url, b).await?,
                None => self.get(api, &url).await?,
            };
            require_array(&reply, items)?;
            let link = reply
                .json
                .pointer(next)
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .map(str::to_string);
            replies.push(reply);
            match link {
                Some(l) => url = l,
                None => return Ok(replies),
            }
        }
    }

    /// PUT a JSON `body` to `url` (creating an export).
    pub async fn put(&self, api: Api, url: &str, body: &Value) -> Result<Reply, CallError> {
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        self.send(api, Method::PUT, url, Some(bytes)).await
    }

    async fn send(
        &self,
        api: Api,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, CallError> {
        let scope = match api {
            Api::RetailPrices => None,
            Api::Metrics => Some(self.endpoints.metrics_scope.clone()),
            _ => Some(self.endpoints.resource_manager_scope.clone()),
        };
        let retry = &self.config.retry;
        let attempts = retry.max_attempts.max(1);
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let pacer = self.pacer(api);
            let permit = pacer.enter().await;
            let mut request = self.http.request(method.clone(), url);
            if let Some(scope) = &scope {
                request = request.bearer_auth(self.token(scope).await?);
            }
            if let Some(b) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let next = self.attempt(request).await;
            if let Next::Retry { error, wait } = &next
                && error.status == Some(429)
            {
                // Throttled: the whole API pauses, not just this request. The pause is set before
                // this request's permit is given back, so no waiting request slips in first.
                let pause = (*wait).max(backoff(retry.base_delay_ms, attempt));
                pacer.hold_until(Instant::now() + pause).await;
            }
            drop(permit);
            let (error, wait) = match next {
                Next::Done(reply) => {
                    if let Some(until) = quota_exhausted(&reply.headers) {
                        pacer.hold_until(until).await;
                    }
                    return Ok(reply);
                }
                Next::Fail(e) => return Err(e),
                Next::NewToken(e) if !renewed => {
                    tracing::warn!(%url, error = %e, "token refused; signing in again");
                    renewed = true;
                    self.renew_credentials().await?;
                    attempt -= 1;
                    continue;
                }
                Next::NewToken(e) => return Err(e),
                Next::Retry { error, wait } => (error, wait),
            };
            if attempt >= attempts {
                return Err(CallError {
                    message: format!("{} (gave up after {attempt} attempts)", error.message),
                    ..error
                });
            }
            let max = Duration::from_secs(retry.max_delay_secs);
            if wait > max {
                return Err(CallError {
                    message: format!(
                        "{} (the server asked to wait {}s, more than retry.max_delay_secs = {})",
                        error.message,
                        wait.as_secs(),
                        retry.max_delay_secs
                    ),
                    ..error
                });
            }
            let wait = wait.max(backoff(retry.base_delay_ms, attempt)).min(max);
            tracing::warn!(%url, error = %error, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            if error.status != Some(429) {
                tokio::time::sleep(wait).await;
            }
            // (After a 429 the retry waits in the API's pace, with every other request.)
        }
    }

    /// Download a pre-signed link (a Cost Details report blob, signed with a SAS) into `dest`,
    /// streamed chunk by chunk: no token is sent (the link carries its own signature), and errors
    /// name the link without its query, which holds the signature. Failed attempts are retried
    /// as calls are.
    pub async fn download(&self, url: &str, dest: &std::path::Path) -> Result<u64, CallError> {
        use std::io::Write;
        let shown = url.split('?').next().unwrap_or_default().to_string();
        let retry = &self.config.retry;
        let attempts = retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failed = |message: String, status: Option<u16>| CallError {
                status,
                code: None,
                message: format!("downloading {shown}: {message}"),
            };
            let outcome: Result<u64, CallError> = async {
                let mut response = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| failed(error_chain(&e), None))?;
                let status = response.status().as_u16();
                if !(200..300).contains(&status) {
                    return Err(failed(format!("HTTP {status}"), Some(status)));
                }
                let mut file = std::fs::File::create(dest)
                    .map_err(|e| failed(format!("cannot write {}: {e}", dest.display()), None))?;
                let mut written = 0u64;
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| failed(format!("cut short: {}", error_chain(&e)), None))?
                {
                    file.write_all(&chunk).map_err(|e| {
                        failed(format!("cannot write {}: {e}", dest.display()), None)
                    })?;
                    written += chunk.len() as u64;
                }
                Ok(written)
            }
            .await;
            match outcome {
                Ok(n) => return Ok(n),
                Err(e)
                    if attempt >= attempts || matches!(e.status, Some(400..=428 | 430..=499)) =>
                {
                    return Err(e);
                }
                Err(e) => {
                    let wait = backoff(retry.base_delay_ms, attempt);
                    tracing::warn!(link = %shown, error = %e, attempt, "retrying the download");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, request: reqwest::RequestBuilder) -> Next {
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_timeout() {
                    format!("no response within {}s", self.config.retry.timeout_secs)
                } else {
                    format!("request failed: {}", error_chain(&e))
                };
                return Next::Retry {
                    error: CallError::new(what),
                    wait: Duration::ZERO,
                };
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Next::Retry {
                    error: CallError {
                        status: Some(status),
                        code: None,
                        message: format!("response cut short: {}", error_chain(&e)),
                    },
                    wait: Duration::ZERO,
                };
            }
        };
        if (200..300).contains(&status) {
            let json = if bytes.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(e) => {
                        return Next::Retry {
                            error: CallError {
                                status: Some(status),
                                code: None,
                                message: format!(
                                    "response is not complete JSON ({} bytes): {e}",
                                    bytes.len()
                                ),
                            },
                            wait: Duration::ZERO,
                        };
                    }
                }
            };
            return Next::Done(Reply {
                bytes,
                json,
                headers,
            });
        }
        let (code, message) = azure_error(&bytes);
        let error = CallError {
            status: Some(status),
            code,
            message,
        };
        match status {
            401 => Next::NewToken(error),
            408 | 429 | 500 | 502 | 503 | 504 => Next::Retry {
                error,
                wait: retry_after(&headers).unwrap_or(Duration::ZERO),
            },
            _ => Next::Fail(error),
        }
    }
}

/// A successful reply that lacks the array at JSON pointer `items` is a broken response.
pub fn require_array(reply: &Reply, items: &str) -> Result<(), CallError> {
    if reply.json.pointer(items).is_some_and(Value::is_array) {
        return Ok(());
    }
    Err(CallError {
        status: Some(200),
        code: None,
        message: format!(
            "the response has no `{}` array",
            items.trim_start_matches('/')
        ),
    })
}

/// Full-jitter exponential backoff: a random wait between half and all of `base × 2^(attempt-1)`.
fn backoff(base_ms: u64, attempt: u32) -> Duration {
    let ceiling = base_ms.saturating_mul(1u64 << (attempt - 1).min(16));
    let random = RandomState::new().hash_one((attempt, Instant::now())) % 1000;
    Duration::from_millis(ceiling / 2 + ceiling / 2 * random / 1000)
}

/// The longest wait any throttling header asks for: `Retry-After` (seconds or an HTTP date) and
/// Cost Management's `x-ms-ratelimit-microsoft.costmanagement-{qpu,entity,tenant,client}-retry-after`.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let mut longest: Option<Duration> = None;
    for (name, value) in headers {
        let name = name.as_str();
        let is_retry = name == "retry-after"
            || (name.starts_with("x-ms-ratelimit-") && name.ends_with("-retry-after"));
        let Some(text) = is_retry.then(|| value.to_str().ok()).flatten() else {
            continue;
        };
        let wait = if let Ok(secs) = text.trim().parse::<f64>() {
            Duration::from_secs_f64(secs.max(0.0))
        } else if let Ok(at) = chrono::DateTime::parse_from_rfc2822(text.trim()) {
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        } else {
            continue;
        };
        longest = Some(longest.map_or(wait, |l| l.max(wait)));
    }
    longest
}

/// Resource Graph says when a user's quota is spent: `x-ms-user-quota-remaining: 0` with
/// `x-ms-user-quota-resets-after: hh:mm:ss`.
fn quota_exhausted(headers: &HeaderMap) -> Option<Instant> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if header("x-ms-user-quota-remaining")?.trim() != "0" {
        return None;
    }
    let parts: Vec<u64> = header("x-ms-user-quota-resets-after")?
        .split(':')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let secs = parts.iter().fold(0, |acc, p| acc * 60 + p);
    Some(Instant::now() + Duration::from_secs(secs))
}

/// Azure's error body: `{"error": {"code", "message"}}` (Resource Manager), or `{"code", "message"}`
/// at the top level (Azure Monitor, whose message lists the valid metric names, so it is kept
/// whole); the body's start when it is neither.
fn azure_error(bytes: &[u8]) -> (Option<String>, String) {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let error = parsed
        .as_ref()
        .and_then(|v| v.get("error").or_else(|| v.get("message").map(|_| v)));
    let text = |k: &str| {
        error
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match text("message") {
        Some(m) => (text("code"), m),
        None => {
            let raw = String::from_utf8_lossy(bytes);
            let raw: String = raw.chars().take(200).collect();
            (
                None,
                if raw.is_empty() {
                    "(empty body)".into()
                } else {
                    raw
                },
            )
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn waits_as_long_as_the_longest_header_says() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        h.insert(
            HeaderName::from_static("x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after"),
            HeaderValue::from_static("7"),
        );
        h.insert(
            HeaderName::from_static("x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after"),
            HeaderValue::from_static("3"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let mut date = HeaderMap::new();
        let later = chrono::Utc::now() + chrono::Duration::seconds(30);
        date.insert(
            "retry-after",
            HeaderValue::from_str(&later.to_rfc2822()).unwrap(),
        );
        let wait = retry_after(&date).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        for attempt in 1..6 {
            let ceiling = 100 * (1 << (attempt - 1));
            let b = backoff(100, attempt).as_millis() as u64;
            assert!(b >= ceiling / 2 && b <= ceiling, "attempt {attempt}: {b}");
        }
    }

    #[test]
    fn azure_errors_keep_code_and_message() {
        let (code, message) = azure_error(
            br#"{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization"}}"#,
        );
        assert_eq!(code.as_deref(), Some("AuthorizationFailed"));
        assert!(message.starts_with("The client"));
        assert_eq!(azure_error(b"").1, "(empty body)");
        // Azure Monitor answers with the code and message at the top level, the message longer
        // than 200 characters (it lists every valid metric name).
        let names = (0..40)
            .map(|i| format!("Metric {i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let body = serde_json::json!({
            "code": "BadRequest",
            "message": format!("Failed to find metric configuration for provider: Microsoft.Compute, resource Type: virtualMachines, metric: Percentage CPUX, Valid metrics: {names}"),
        });
        let (code, message) = azure_error(body.to_string().as_bytes());
        assert_eq!(code.as_deref(), Some("BadRequest"));
        assert!(message.ends_with("Metric 39"), "{message}");
        assert!(!message.contains("\"code\""), "{message}");
    }
}
