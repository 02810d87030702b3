//! Delivery: the report PDF as an email attachment, over SMTP when configured, otherwise written as
//! an `.eml` file into the outbox folder (so a fresh machine needs no mail server).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Written;
use crate::azure::AzureConfig;
use crate::config::{SmtpAuth, SmtpConfig, SmtpTls};
use crate::lake::RunKey;
use crate::{Error, Result};

/// Why a report could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no recipients")]
    NoRecipients,
    #[error("the message cannot be built: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP {host}:{port}: {source}")]
    Smtp {
        host: String,
        port: u16,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("SMTP {host}:{port}: no answer within {secs}s (smtp.timeout_secs)")]
    Timeout { host: String, port: u16, secs: u64 },
    #[error("{}: not a PEM certificate: {reason}", path.display())]
    Certificate { path: PathBuf, reason: String },
    #[error("SMTP {host}: no OAuth token for XOAUTH2: {reason}")]
    Token { host: String, reason: String },
    #[error("{}: {source}", outbox.display())]
    Outbox {
        outbox: PathBuf,
        #[source]
        source: lettre::transport::file::Error,
    },
}

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Smtp {
        host: String,
        port: u16,
        recipients: usize,
    },
    File(PathBuf),
}

impl std::fmt::Display for Delivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivered::Smtp {
                host,
                port,
                recipients,
            } => write!(f, "sent to {recipients} recipient(s) via {host}:{port}"),
            Delivered::File(p) => write!(f, "written to {}", p.display()),
        }
    }
}

/// Send `report` to `recipients` (over `smtp`, or into `outbox` without it): an HTML body with the
/// charts inline, the same as plain text, and the PDF attached. `None` when there is no one to
/// send it to.
/// What the lake keeps of a report once it was sent (`_deliveries/<pipeline>/<date>.json`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SentRecord {
    pub run_id: String,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    /// Where it went (`smtp host:port, N recipient(s)` or the outbox file).
    pub to: String,
}

impl SentRecord {
    /// Where the record of `run`'s pipeline and date lives in the lake.
    pub fn path(run: &RunKey) -> String {
        format!(
            "_deliveries/{}/{}.json",
            run.pipeline,
            run.as_of.format("%Y-%m-%d")
        )
    }
}

pub async fn send_report(
    smtp: Option<&SmtpConfig>,
    azure: &AzureConfig,
    outbox: &Path,
    recipients: &[Mailbox],
    title: &str,
    run: &RunKey,
    report: Written,
) -> Result<Option<Delivered>> {
    if recipients.is_empty() {
        return Ok(None);
    }
    let from = sender(smtp);
    let subject = format!("{title} - {}", run.as_of.format("%Y-%m-%d"));
    let name = report
        .path
        .file_name()
        .map_or("report.pdf".into(), |n| n.to_string_lossy().into_owned());
    let message = message(from, recipients, &subject, &report, &name)?;
    send(smtp, azure, outbox, message).await.map(Some)
}

/// Send `message` over `smtp` (signing in with a token from `azure`'s credentials for XOAUTH2),
/// or write it into `outbox` without it.
pub async fn send(
    smtp: Option<&SmtpConfig>,
    azure: &AzureConfig,
    outbox: &Path,
    message: Message,
) -> Result<Delivered> {
    match smtp {
        Some(smtp) => send_smtp(smtp, azure, message).await,
        None => write_eml(outbox, message).await,
    }
}

/// The sender: `smtp.from`, or `cloudoptima@localhost` for the outbox.
fn sender(smtp: Option<&SmtpConfig>) -> Mailbox {
    smtp.map_or_else(
        || {
            Mailbox::new(
                Some("cloudoptima".into()),
                "cloudoptima@localhost".parse().expect("valid"),
            )
        },
        |s| s.from.clone(),
    )
}

/// A plain-text message from the configured sender (alert emails).
pub fn plain_message(
    config: &crate::config::Config,
    to: &[Mailbox],
    subject: &str,
    body: &str,
) -> Result<Message> {
    addressed(sender(config.smtp.as_ref()), to, subject)?
        .body(body.to_string())
        .map_err(|e| DeliveryError::Message(e).into())
}

/// A message from `from` to `to` (at least one) with `subject`, for a body to be added.
fn addressed(
    from: Mailbox,
    to: &[Mailbox],
    subject: &str,
) -> Result<lettre::message::MessageBuilder> {
    if to.is_empty() {
        return Err(DeliveryError::NoRecipients.into());
    }
    Ok(to
        .iter()
        .fold(Message::builder().from(from).subject(subject), |b, addr| {
            b.to(addr.clone())
        }))
}

/// Build the message: `multipart/alternative` of the plain text and the HTML (with its charts
/// as `multipart/related` parts, `cid:chart-N`), and the PDF attached.
pub fn message(
    from: Mailbox,
    to: &[Mailbox],
    subject: &str,
    report: &Written,
    pdf_name: &str,
) -> Result<Message> {
    let pdf_type = ContentType::parse("application/pdf").expect("valid content type");
    let png_type = ContentType::parse("image/png").expect("valid content type");
    let related = report.charts.iter().enumerate().fold(
        MultiPart::related().singlepart(SinglePart::html(report.email_html.clone())),
        |related, (i, png)| {
            related.singlepart(
                Attachment::new_inline(format!("chart-{i}")).body(png.clone(), png_type.clone()),
            )
        },
    );
    addressed(from, to, subject)?
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(report.text.clone()))
                        .multipart(related),
                )
                .singlepart(
                    Attachment::new(pdf_name.to_string()).body(report.pdf.clone(), pdf_type),
                ),
        )
        .map_err(|e| DeliveryError::Message(e).into())
}

/// Send over SMTP with the configured TLS mode and credentials.
pub async fn send_smtp(
    smtp: &SmtpConfig,
    azure: &AzureConfig,
    message: Message,
) -> Result<Delivered> {
    let port = smtp.port.unwrap_or(match smtp.tls {
        SmtpTls::Starttls => 587,
        SmtpTls::Implicit => 465,
        SmtpTls::None => 25,
    });
    let map = |source: lettre::transport::smtp::Error| DeliveryError::Smtp {
        host: smtp.host.clone(),
        port,
        source,
    };
    let mut builder = match smtp.tls {
        SmtpTls::Starttls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(map)?
        }
        SmtpTls::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(map)?
        }
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
    }
    .port(port)
    .timeout(Some(Duration::from_secs(smtp.timeout_secs)));
    if let (Some(ca), true) = (&smtp.ca_file, smtp.tls != SmtpTls::None) {
        let pem = std::fs::read(ca).map_err(|e| Error::io(ca, e))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| DeliveryError::Certificate {
            path: ca.clone(),
            reason: e.to_string(),
        })?;
        let params = TlsParameters::builder(smtp.host.clone())
            .add_root_certificate(cert)
            .build_rustls()
            .map_err(map)?;
        builder = builder.tls(if smtp.tls == SmtpTls::Starttls {
            Tls::Required(params)
        } else {
            Tls::Wrapper(params)
        });
    }
    let user = smtp.username.as_ref().and_then(|u| u.expose());
    match smtp.auth {
        SmtpAuth::Password => {
            if let (Some(u), Some(p)) = (user, smtp.password.as_ref().and_then(|p| p.expose())) {
                builder = builder.credentials(Credentials::new(u.to_string(), p.to_string()));
            }
        }
        SmtpAuth::Xoauth2 => {
            let token_error = |reason: String| DeliveryError::Token {
                host: smtp.host.clone(),
                reason,
            };
            let token = crate::azure::AzureClient::new(azure)
                .map_err(|e| token_error(e.to_string()))?
                .token(&smtp.oauth_scope)
                .await
                .map_err(|e| token_error(e.to_string()))?;
            builder = builder
                .credentials(Credentials::new(
                    user.unwrap_or_default().to_string(),
                    token,
                ))
                .authentication(vec![Mechanism::Xoauth2]);
        }
    }
    let recipients = message.envelope().to().len();
    // lettre's timeout covers each socket operation, not a server that stalls mid-dialogue (seen
    // after a failed login); the whole exchange gets one deadline.
    let deadline = Duration::from_secs(smtp.timeout_secs);
    tokio::time::timeout(deadline, builder.build().send(message))
        .await
        .map_err(|_| DeliveryError::Timeout {
            host: smtp.host.clone(),
            port,
            secs: smtp.timeout_secs,
        })?
        .map_err(map)?;
    Ok(Delivered::Smtp {
        host: smtp.host.clone(),
        port,
        recipients,
    })
}

/// Write the message as `<id>.eml` into `outbox`.
pub async fn write_eml(outbox: &Path, message: Message) -> Result<Delivered> {
    std::fs::create_dir_all(outbox).map_err(|e| Error::io(outbox, e))?;
    let id = AsyncFileTransport::<Tokio1Executor>::new(outbox)
        .send(message)
        .await
        .map_err(|source| DeliveryError::Outbox {
            outbox: outbox.to_path_buf(),
            source,
        })?;
    Ok(Delivered::File(outbox.join(format!("{id}.eml"))))
}
