//! Alert channels (`[channels.NAME]` in the config): a short email, a Microsoft Teams Workflows
//! webhook (an Adaptive Card), a Slack incoming webhook, or a JSON webhook signed with HMAC-SHA256.
//! Each send is retried with backoff on a timeout, a connection error, 429 (after its
//! `Retry-After`) or a 5xx; other answers fail at once. URLs and keys come from the environment
//! and are never written to logs or errors.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Alert;
use crate::config::Secret;

/// `[channels.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub kind: ChannelKind,
    /// The webhook URL (teams, slack, webhook): a `${ENV_VAR}` reference.
    pub url: Option<Secret>,
    /// The key the `webhook` kind signs each body with: a `${ENV_VAR}` reference.
    pub signing_key: Option<Secret>,
    /// Recipients of the `email` kind (sent over `[smtp]`, or to the outbox without it).
    #[serde(default, deserialize_with = "crate::config::mailboxes")]
    pub to: Vec<lettre::message::Mailbox>,
    /// Seconds to wait for one attempt. Default 10.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts in all, the first included. Default 3.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

fn default_timeout() -> u64 {
    10
}

fn default_attempts() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Teams,
    Slack,
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Teams => "teams",
            ChannelKind::Slack => "slack",
            ChannelKind::Webhook => "webhook",
        }
    }
}

impl ChannelConfig {
    /// What this channel lacks, as `channels.NAME.key: problem`.
    pub fn problems(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let at = format!("channels.{name}");
        match self.kind {
            ChannelKind::Email => {
                if self.to.is_empty() {
                    out.push(format!(
                        "{at}.to: an email channel needs at least one address"
                    ));
                }
            }
            kind => {
                if self.url.is_none() {
                    out.push(format!(
                        "{at}.url: a {} channel needs `url = \"${{ENV_VAR}}\"`",
                        kind.as_str()
                    ));
                }
                if kind == ChannelKind::Webhook && self.signing_key.is_none() {
                    out.push(format!(
                        "{at}.signing_key: a webhook channel signs what it sends; set `signing_key = \"${{ENV_VAR}}\"`"
                    ));
                }
            }
        }
        if self.attempts == 0 || self.attempts > 10 {
            out.push(format!("{at}.attempts: must be 1 to 10"));
        }
        if self.timeout_secs == 0 {
            out.push(format!("{at}.timeout_secs: must be above 0"));
        }
        out
    }
}

/// The header carrying the webhook body's signature: `sha256=<hex HMAC-SHA256 of
/// "<timestamp>.<body>">` with the channel's `signing_key`.
pub const SIGNATURE_HEADER: &str = "X-Cloudoptima-Signature";
/// The header carrying the Unix time the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Cloudoptima-Timestamp";

/// Why a send failed, without the URL.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub attempts: u32,
    pub reason: String,
}

/// POST `alert` to an HTTP channel, retrying as the module docs say.
pub async fn post(channel: &ChannelConfig, alert: &Alert) -> Result<u32, SendError> {
    let url = channel
        .url
        .as_ref()
        .and_then(|u| u.expose())
        .ok_or_else(|| SendError {
            attempts: 0,
            reason: "no URL (its environment variable is not set)".into(),
        })?;
    let body = match channel.kind {
        ChannelKind::Teams => teams_card(alert),
        ChannelKind::Slack => slack_message(alert),
        _ => alert.to_json(),
    }
    .to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(channel.timeout_secs))
        .build()
        .map_err(|e| SendError {
            attempts: 0,
            reason: format!("HTTP client: {e}"),
        })?;
    let mut reason = String::new();
    for attempt in 1..=channel.attempts {
        let mut request = client
            .post(url)
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                concat!("cloudoptima/", env!("CARGO_PKG_VERSION")),
            );
        if channel.kind == ChannelKind::Webhook {
            let key = channel
                .signing_key
                .as_ref()
                .and_then(|k| k.expose())
                .unwrap_or("");
            let timestamp = chrono::Utc::now().timestamp().to_string();
            request = request
                .header(TIMESTAMP_HEADER, &timestamp)
                .header(SIGNATURE_HEADER, sign(key, &timestamp, &body));
        }
        let mut wait = Duration::from_millis(500 * (1 << (attempt - 1)));
        match request.body(body.clone()).send().await {
            Ok(r) if r.status().is_success() => return Ok(attempt),
            Ok(r) => {
                let status = r.status();
                if let Some(secs) = r
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                {
                    wait = Duration::from_secs(secs.min(60));
                }
                let text: String = r
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                reason = format!("HTTP {status}: {}", text.trim());
                if !(status.is_server_error() || status.as_u16() == 429) {
                    return Err(SendError {
                        attempts: attempt,
                        reason,
                    });
                }
            }
            Err(e) if e.is_timeout() => {
                reason = format!("no answer within {}s (timeout_secs)", channel.timeout_secs);
            }
            // reqwest's error text can carry the URL: say only what kind of failure it was.
            Err(e) if e.is_connect() => reason = "could not connect".into(),
            Err(_) => reason = "the request failed".into(),
        }
        if attempt < channel.attempts {
            tracing::warn!(attempt, %reason, "Alert channel failed; retrying.");
            tokio::time::sleep(wait).await;
        }
    }
    Err(SendError {
        attempts: channel.attempts,
        reason,
    })
}

/// `sha256=<hex>` of `<timestamp>.<body>` under `key`.
pub fn sign(key: &str, timestamp: &str, body: &str) -> String {
    format!(
        "sha256={}",
        hmac_sha256_hex(key, &format!("{timestamp}.{body}"))
    )
}

fn hmac_sha256_hex(key: &str, data: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let tag = ring::hmac::sign(&key, data.as_bytes());
    crate::lake::hex(tag.as_ref())
}

/// A Teams Workflows "post to a channel when a webhook request is received" body: a message with
/// one Adaptive Card attachment.
fn teams_card(alert: &Alert) -> Value {
    let facts: Vec<Value> = alert
        .facts
        .iter()
        .map(|(k, v)| json!({"title": k, "value": v}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
                     "text": alert.title,
                     "color": if alert.severity == crate::analyze::anomaly::Severity::High { "Attention" } else { "Default" }},
                    {"type": "TextBlock", "wrap": true, "text": alert.text},
                    {"type": "FactSet", "facts": facts}
                ]
            }
        }]
    })
}

/// A Slack incoming-webhook body: `text` (the notification) and Block Kit sections.
fn slack_message(alert: &Alert) -> Value {
    let facts: String = alert
        .facts
        .iter()
        .map(|(k, v)| format!("*{k}:* {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    json!({
        "text": alert.title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(&alert.title, 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(&alert.text, 3000)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(&facts, 3000)}}
        ]
    })
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign("k", "1700000000", "{}"),
            format!("sha256={}", hmac_sha256_hex("k", "1700000000.{}"))
        );
    }
}
