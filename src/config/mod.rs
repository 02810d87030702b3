//! `config/cloudoptima.toml`: where the lake lives, how mail goes out, where files are written.
//!
//! Every key is optional; with no file at all cloudoptima uses a local lake (`./lake`), the demo
//! tenant and a file outbox (`out/outbox/`). Unknown keys are errors that name the file and the
//! closest valid key. Secrets are never read from the file itself: a secret field must be a
//! `${ENV_VAR}` reference, resolved at load time and redacted from `Debug` and errors.

mod secret;
mod toml_error;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use secret::Secret;
pub(crate) use toml_error::describe as describe_toml_error;

use crate::{Error, Result};

/// Where `load` looks when no path is given.
pub const DEFAULT_PATH: &str = "config/cloudoptima.toml";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where tables and landing files live.
    #[serde(default)]
    pub lake: LakeConfig,
    /// Outgoing mail. Without it, reports are written as `.eml` files into `output.outbox_dir`.
    pub smtp: Option<SmtpConfig>,
    /// Local folders for reports and the file outbox.
    #[serde(default)]
    pub output: OutputConfig,
    /// Azure cloud, endpoints, credentials and retries, for the Azure sources and `check`.
    #[serde(default)]
    pub azure: crate::azure::AzureConfig,
    /// Memory and time limits of every query: `cloudoptima sql`, rules and report queries.
    #[serde(default)]
    pub query: crate::lake::query::QueryLimits,
    /// How tag keys are read.
    #[serde(default)]
    pub tags: TagsConfig,
    /// Where alerts can go, by name (`[channels.finops-teams] kind = "teams"`); pipelines route
    /// alerts to them with `[[alerts]]`.
    #[serde(default)]
    pub channels: std::collections::BTreeMap<String, crate::alert::ChannelConfig>,
    /// The language model for the report's summary, `ask` and `mcp`'s callers: off without it.
    pub llm: Option<crate::llm::LlmConfig>,
    /// `cloudoptima daemon`: health and metrics endpoint, shutdown, missed runs.
    #[serde(default)]
    pub daemon: crate::daemon::DaemonConfig,
    /// `cloudoptima serve`: the PostgreSQL-protocol endpoint.
    #[serde(default)]
    pub serve: crate::serve::ServeConfig,
}

/// `[tags]`: tag keys are trimmed and lowercased; these aliases then read other keys as one
/// (`environment = "env"`, `"cost center" = "costcenter"`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsConfig {
    #[serde(default)]
    pub aliases: std::collections::BTreeMap<String, String>,
}

impl TagsConfig {
    /// The aliases as the transform applies them: both sides trimmed and lowercased.
    pub fn aliases(&self) -> std::collections::BTreeMap<String, String> {
        self.aliases
            .iter()
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_lowercase()))
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// A local path, a `file://` URL, or an Azure Blob / ADLS Gen2 URL (`az://`, `abfss://`). Default `./lake`.
    #[serde(default = "default_lake_url")]
    pub url: String,
    /// Data files a table no longer uses (replaced by a later write) are deleted once they are
    /// this many hours old: after each run, and by `cloudoptima vacuum`. Readers of an older table
    /// version need its files for this long. Default 168 (7 days).
    #[serde(default = "default_retention_hours")]
    pub retention_hours: u64,
    /// What `landing/` keeps of earlier runs (the raw files `run --replay` transforms again): the
    /// files of runs younger than this many days, and of each pipeline's last
    /// `landing_retention_runs` runs, whichever is more. Default 30.
    #[serde(default = "default_landing_days")]
    pub landing_retention_days: u64,
    /// A run holds its pipeline's lease in the lake (`_leases/`) and renews it while it runs; if
    /// its process dies, another run may start this many seconds later. Default 60.
    #[serde(default = "default_lease_ttl")]
    pub lease_ttl_seconds: u64,
    /// See `landing_retention_days`. Default 3.
    #[serde(default = "default_landing_runs")]
    pub landing_retention_runs: usize,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            url: default_lake_url(),
            retention_hours: default_retention_hours(),
            landing_retention_days: default_landing_days(),
            landing_retention_runs: default_landing_runs(),
            lease_ttl_seconds: default_lease_ttl(),
        }
    }
}

fn default_landing_days() -> u64 {
    30
}

fn default_lease_ttl() -> u64 {
    60
}

fn default_landing_runs() -> usize {
    3
}

fn default_retention_hours() -> u64 {
    168
}

fn default_lake_url() -> String {
    "./lake".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Folder for rendered reports (PDF). Default `out/reports`.
    #[serde(default = "default_reports_dir")]
    pub reports_dir: PathBuf,
    /// Folder where messages are written as `.eml` when no SMTP server is configured. Default `out/outbox`.
    #[serde(default = "default_outbox_dir")]
    pub outbox_dir: PathBuf,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            reports_dir: default_reports_dir(),
            outbox_dir: default_outbox_dir(),
        }
    }
}

fn default_reports_dir() -> PathBuf {
    "out/reports".into()
}

fn default_outbox_dir() -> PathBuf {
    "out/outbox".into()
}

/// How TLS is used towards the SMTP server.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587). The default.
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all: only for a relay on localhost or a test server.
    None,
}

/// How cloudoptima signs in to the SMTP server.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpAuth {
    /// `username` and `password` (LOGIN or PLAIN), or no login without them. The default.
    #[default]
    Password,
    /// SASL XOAUTH2 with an OAuth token for `oauth_scope` from the Azure credential chain
    /// (`[azure]`): Microsoft 365 is retiring basic authentication for SMTP.
    Xoauth2,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Port; default 587 for `starttls`, 465 for `implicit`, 25 for `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `implicit` or `none`.
    #[serde(default = "default_tls")]
    pub tls: SmtpTls,
    /// User name, if the server wants authentication. May be a `${ENV_VAR}` reference.
    pub username: Option<Secret>,
    /// Password; must be a `${ENV_VAR}` reference.
    pub password: Option<Secret>,
    /// Sender, e.g. `FinOps <finops@contoso.com>`; checked when the config is read.
    #[serde(deserialize_with = "mailbox")]
    pub from: lettre::message::Mailbox,
    /// PEM file with an extra certificate authority to trust, for a relay with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for the server. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// `password` (default) or `xoauth2`.
    #[serde(default)]
    pub auth: SmtpAuth,
    /// The token's scope for `xoauth2`. Default Exchange Online's.
    #[serde(default = "default_oauth_scope")]
    pub oauth_scope: String,
}

fn default_oauth_scope() -> String {
    "https://outlook.office365.com/.default".into()
}

impl SmtpConfig {
    /// What is wrong with the section, each problem naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.auth == SmtpAuth::Xoauth2 {
            if self.username.is_none() {
                p.push("smtp.username: `xoauth2` signs in as this mailbox; set it".into());
            }
            if self.password.is_some() {
                p.push(
                    "smtp.password: not used with `auth = \"xoauth2\"` (the token comes from [azure]); remove it"
                        .into(),
                );
            }
        }
        p
    }
}

fn default_tls() -> SmtpTls {
    SmtpTls::Starttls
}

fn default_timeout() -> u64 {
    30
}

/// An email address (`a@b.c` or `Name <a@b.c>`), refused when the file is read if it is not one.
fn mailbox<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<lettre::message::Mailbox, D::Error> {
    use serde::de::Error as _;
    let text = String::deserialize(d)?;
    text.parse()
        .map_err(|e| D::Error::custom(format!("smtp.from: `{text}` is not an email address: {e}")))
}

/// `report.recipients`: email addresses, each checked as `smtp.from` is.
pub fn mailboxes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<lettre::message::Mailbox>, D::Error> {
    use serde::de::Error as _;
    Vec::<String>::deserialize(d)?
        .into_iter()
        .map(|text| {
            text.parse().map_err(|e| {
                D::Error::custom(format!(
                    "report.recipients: `{text}` is not an email address: {e}"
                ))
            })
        })
        .collect()
}

impl Config {
    /// Load from `path`, or from [`DEFAULT_PATH`] when it exists, or defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = match path {
            Some(p) if !p.is_file() => {
                return Err(Error::Config {
                    file: p.display().to_string(),
                    message: "no such config file (without --config, config/cloudoptima.toml or the defaults are used)".into(),
                });
            }
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_PATH).exists() => PathBuf::from(DEFAULT_PATH),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config {
            file: file.into(),
            message: describe_toml_error(&e, text),
        })?;
        secret::resolve_all(&config, file)?;
        let problems: Vec<String> = config
            .channels
            .iter()
            .flat_map(|(name, c)| c.problems(name))
            .chain(config.llm.iter().flat_map(crate::llm::LlmConfig::problems))
            .chain(config.smtp.iter().flat_map(SmtpConfig::problems))
            .map(|p| format!("{file}: {p}"))
            .collect();
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_key_names_file_key_and_suggestion() {
        let err = Config::parse("[smtp]\nhots = \"x\"\nfrom = \"a@b.c\"\n", "my.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("my.toml:"), "{err}");
        assert!(
            err.contains("hots") && err.contains("did you mean `host`"),
            "{err}"
        );
    }

    #[test]
    fn literal_user_name_is_used_and_env_password_is_resolved() {
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("CLOUDOPTIMA_TEST_SECRET_5501", "pw") };
        let c = Config::parse(
            "[smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\nusername = \"reporter\"\npassword = \"${CLOUDOPTIMA_TEST_SECRET_5501}\"\n",
            "c.toml",
        )
        .unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!(smtp.username.unwrap().expose(), Some("reporter"));
        let password = smtp.password.unwrap();
        assert_eq!(password.expose(), Some("pw"));
        assert!(
            !format!("{password:?}").contains("pw\""),
            "Debug must redact"
        );
    }

    #[test]
    fn a_secret_of_another_type_is_refused_without_echoing_it() {
        for value in [
            "98765432101",
            "98765.432101",
            "[\"98765432101\"]",
            "{ v = \"98765432101\" }",
        ] {
            let err = Config::parse(
                &format!("[smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\npassword = {value}\n"),
                "c.toml",
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains("${ENV_VAR}"), "{err}");
            assert!(!err.contains("98765"), "secret leaked: {err}");
        }
    }

    #[test]
    fn a_sender_that_is_not_an_address_is_refused_at_load() {
        let err = Config::parse(
            "[smtp]\nhost = \"h\"\nfrom = \"finops at contoso\"\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.toml: line 3") && err.contains("not an email address"),
            "{err}"
        );
    }

    #[test]
    fn literal_password_is_refused_without_echoing_it() {
        let err = Config::parse(
            "[smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\npassword = \"hunter2\"\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("password") && err.contains("${"), "{err}");
        assert!(!err.contains("hunter2"), "secret leaked: {err}");
    }
}
