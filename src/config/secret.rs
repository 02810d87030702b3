//! Secret values: given in config as `${ENV_VAR}`, resolved from the environment, never printed.

use std::fmt;

use serde::{Deserialize, Deserializer};

use super::Config;
use crate::{Error, Result};

/// A secret taken from the environment. `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The `${NAME}` it came from, for error messages.
    reference: Option<String>,
    value: Option<String>,
    literal: bool,
}

impl Secret {
    /// The secret's value; `None` when its variable is unset.
    pub fn expose(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference {
            Some(r) => write!(f, "Secret(${{{r}}} = ***)"),
            None => f.write_str("Secret(***)"),
        }
    }
}

/// Reads a secret's text. Anything but a string is refused without showing the value: serde's own
/// message for a wrong type quotes it (`invalid type: integer `98765432101``).
struct SecretText;

impl<'de> serde::de::Visitor<'de> for SecretText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> std::result::Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<String, E> {
        Err(not_text())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<String, E> {
        Err(not_text())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> std::result::Result<String, E> {
        Err(not_text())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> std::result::Result<String, E> {
        Err(not_text())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        _: A,
    ) -> std::result::Result<String, A::Error> {
        Err(not_text())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        _: A,
    ) -> std::result::Result<String, A::Error> {
        Err(not_text())
    }
}

fn not_text<E: serde::de::Error>() -> E {
    E::custom("a secret must be a `${ENV_VAR}` reference in quotes (the value given is not shown)")
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = d.deserialize_any(SecretText)?;
        match raw
            .trim()
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
        {
            Some(name) if !name.is_empty() => Ok(Secret {
                reference: Some(name.to_string()),
                value: std::env::var(name).ok(),
                literal: false,
            }),
            // A literal value: allowed where the key is not a secret (a user name), refused for
            // passwords by `resolve_all`.
            _ => Ok(Secret {
                reference: None,
                value: Some(raw),
                literal: true,
            }),
        }
    }
}

/// Refuse literal secrets and report unset variables, naming the key but never the value.
pub(super) fn resolve_all(config: &Config, file: &str) -> Result<()> {
    let mut problems = Vec::new();
    let mut secrets = vec![(
        "azure.client_secret".to_string(),
        &config.azure.client_secret,
    )];
    if let Some(smtp) = &config.smtp {
        secrets.push(("smtp.username".into(), &smtp.username));
        secrets.push(("smtp.password".into(), &smtp.password));
    }
    // A webhook URL is a credential: whoever has it can post to the channel.
    for (name, channel) in &config.channels {
        secrets.push((format!("channels.{name}.url"), &channel.url));
        secrets.push((format!("channels.{name}.signing_key"), &channel.signing_key));
    }
    secrets.push(("serve.password".into(), &config.serve.password));
    if let Some(llm) = &config.llm {
        secrets.push(("llm.api_key".into(), &llm.api_key));
    }
    for (key, secret) in secrets {
        let key = key.as_str();
        let Some(secret) = secret else { continue };
        let must_be_secret = ["password", "secret", ".url", "signing_key", "api_key"];
        if secret.literal && must_be_secret.iter().any(|s| key.ends_with(s)) {
            let short = key.rsplit('.').next().unwrap_or(key);
            problems.push(format!(
                "{key}: secrets are not read from files; write `{short} = \"${{{}}}\"` and set that environment variable",
                key.replace('.', "_").to_uppercase()
            ));
        } else if let (Some(r), None) = (&secret.reference, &secret.value) {
            problems.push(format!("{key}: environment variable `{r}` is not set"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Config {
            file: file.into(),
            message: problems.join("; "),
        })
    }
}
