//! `cloudoptima serve`: the lake over the PostgreSQL wire protocol, for Power BI, Excel, Grafana,
//! Metabase, psql and any PostgreSQL driver. Read-only: every statement but a query (and the
//! `SET`/`SHOW`, transaction and cursor statements clients send on their own) is refused before
//! it is planned, with SQLSTATE 25006. Clients sign in with SCRAM-SHA-256 (the password never
//! crosses the wire); TLS when a certificate is configured. The catalog (`pg_catalog`,
//! `information_schema`) answers the queries clients send to list tables and columns. Tables are
//! re-read from the lake every `refresh_seconds`, so new runs show without a restart.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire;
use datafusion_postgres::{DfSessionService, QueryHook, ServerOptions};
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{AuthSource, DefaultServerParameterProvider, LoginInfo, Password};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::results::Response;
use pgwire::api::{ClientInfo, ConnectionManager, PgWireServerHandlers};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use serde::Deserialize;

use crate::config::Secret;
use crate::lake::Lake;
use crate::{Error, Result};

/// `[serve]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address to listen on. Default `127.0.0.1:5432`; `0.0.0.0:5432` in a container.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The one user name clients sign in with. Default `cloudoptima`.
    #[serde(default = "default_user")]
    pub user: String,
    /// `${ENV_VAR}` holding the password (default: `CLOUDOPTIMA_SERVE_PASSWORD`).
    #[serde(default)]
    pub password: Option<Secret>,
    /// PEM certificate (chain) and PKCS#8 key: with both, clients can (and should) use TLS.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// How often tables are re-read from the lake. Default 60 seconds.
    #[serde(default = "default_refresh")]
    pub refresh_seconds: u64,
    /// Connections served at once; more are turned away. Default 64.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: default_listen(),
            user: default_user(),
            password: None,
            tls_cert: None,
            tls_key: None,
            refresh_seconds: default_refresh(),
            max_connections: default_connections(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:5432".into()
}
fn default_user() -> String {
    "cloudoptima".into()
}
fn default_refresh() -> u64 {
    60
}
fn default_connections() -> usize {
    64
}

/// The environment variable read when `[serve] password` is not set.
pub const PASSWORD_ENV: &str = "CLOUDOPTIMA_SERVE_PASSWORD";

/// SQLSTATE `read_only_sql_transaction`.
const READ_ONLY: &str = "25006";

/// Why `statement` may not run here, if it may not.
fn refusal(statement: &Statement) -> Option<String> {
    match statement {
        Statement::Query(_)
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Deallocate { .. }
        | Statement::Discard { .. }
        | Statement::ExplainTable { .. } => None,
        Statement::Explain { statement, .. } => refusal(statement),
        // Session settings clients send (`SET extra_float_digits = 3`), but not the engine's own
        // (`SET datafusion.execution…` would lift the memory limit).
        Statement::Set(_) => {
            let text = statement.to_string().to_lowercase();
            text.contains("datafusion.")
                .then(|| "the query engine's settings cannot be changed here".to_string())
        }
        other => {
            let text = other.to_string();
            let verb: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            Some(format!("`{verb} …` is not a query"))
        }
    }
}

fn refused(why: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        READ_ONLY.into(),
        format!(
            "refused: cloudoptima serve is read-only ({why}); only queries run (no DDL, INSERT, COPY or engine settings)"
        ),
    )))
}

/// Refuses every statement that is not a query, in both the simple and the extended protocol.
struct ReadOnly;

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _: &SessionContext,
        _: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refusal(statement).map(|why| Err(refused(why)))
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _: &SessionContext,
        _: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        refusal(statement).map(|why| Err(refused(why)))
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _: &LogicalPlan,
        _: &ParamValues,
        _: &SessionContext,
        _: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        refusal(statement).map(|why| Err(refused(why)))
    }
}

/// The one user and its password, salted as SCRAM needs it.
#[derive(Debug)]
struct Credentials {
    user: String,
    salt: Vec<u8>,
    salted: Vec<u8>,
}

#[async_trait]
impl AuthSource for Credentials {
    // The trait spells `LoginInfo` without its lifetime; the impl must match it.
    #[allow(elided_lifetimes_in_paths)]
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        if login.user() == Some(self.user.as_str()) {
            Ok(Password::new(Some(self.salt.clone()), self.salted.clone()))
        } else {
            // An unknown user gets a password nobody knows: the exchange fails like a wrong one,
            // without saying which users exist.
            let salted = gen_salted_password(
                &crate::lake::sha256_hex(&self.salted),
                &self.salt,
                SCRAM_ITERATIONS,
            );
            Ok(Password::new(Some(self.salt.clone()), salted))
        }
    }
}

const SCRAM_ITERATIONS: usize = 4096;

/// pgwire's handlers: DataFusion's query handling with the read-only hook first, and SCRAM
/// sign-in.
struct Handlers {
    service: Arc<DfSessionService>,
    credentials: Arc<Credentials>,
    parameters: Arc<DefaultServerParameterProvider>,
    connections: Arc<ConnectionManager>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.service.clone()
    }

    // One handler per connection: it holds that connection's SASL exchange.
    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        let mut scram = ScramAuth::new(self.credentials.clone());
        scram.set_iterations(SCRAM_ITERATIONS);
        Arc::new(
            SASLAuthStartupHandler::new(self.parameters.clone())
                .with_scram(scram)
                .with_connection_manager(self.connections.clone()),
        )
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}

/// Check the certificate and key load before serving: the server library would fall back to
/// plain text on a bad file, and a user who configured TLS must not get that silently.
fn check_tls(cert: &std::path::Path, key: &std::path::Path) -> Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<_> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::Config {
            file: "[serve] tls_cert".into(),
            message: format!("{}: {e}", cert.display()),
        })?;
    if certs.is_empty() {
        return Err(Error::Config {
            file: "[serve] tls_cert".into(),
            message: format!("{}: no PEM certificate in it", cert.display()),
        });
    }
    PrivateKeyDer::from_pem_file(key).map_err(|e| Error::Config {
        file: "[serve] tls_key".into(),
        message: format!("{}: not a PEM private key: {e}", key.display()),
    })?;
    Ok(())
}

/// Serve the lake at `lake` until SIGTERM or SIGINT.
pub async fn serve(
    lake: Lake,
    config: &ServeConfig,
    limits: &crate::lake::query::QueryLimits,
) -> Result<()> {
    let password = match &config.password {
        Some(secret) => secret.expose().map(str::to_string),
        None => std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()),
    }
    .ok_or_else(|| Error::Config {
        file: "[serve] password".into(),
        message: format!(
            "no password: set {PASSWORD_ENV} (or `[serve] password = \"${{VAR}}\"`); clients sign in as `{}` with it",
            config.user
        ),
    })?;
    let (host, port) = config
        .listen
        .rsplit_once(':')
        .and_then(|(h, p)| {
            Some((
                h.trim_matches(['[', ']']).to_string(),
                p.parse::<u16>().ok()?,
            ))
        })
        .ok_or_else(|| Error::Config {
            file: "[serve] listen".into(),
            message: format!("`{}` is not HOST:PORT", config.listen),
        })?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            check_tls(cert, key)?;
            Some((cert.display().to_string(), key.display().to_string()))
        }
        (None, None) => None,
        _ => {
            return Err(Error::Config {
                file: "[serve]".into(),
                message: "TLS needs both `tls_cert` and `tls_key`".into(),
            });
        }
    };

    // The library streams results itself: the time limit rides on every plan.
    let ctx = Arc::new(crate::lake::time_limit::session(limits));
    let mut registered = lake.register_all(&ctx).await?;
    datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog(
        &ctx,
        "datafusion",
        datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider,
    )
    .map_err(|e| Error::Internal(format!("pg_catalog: {e}")))?;
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(ReadOnly),
        Arc::new(CursorStatementHook),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    let salt: Vec<u8> = {
        let mut salt = vec![0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .map_err(|_| Error::Internal("no random salt".into()))?;
        salt
    };
    let credentials = Arc::new(Credentials {
        user: config.user.clone(),
        salted: gen_salted_password(&password, &salt, SCRAM_ITERATIONS),
        salt,
    });
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.is_superuser = false;
    parameters.default_transaction_read_only = true;
    let connections = Arc::new(ConnectionManager::new());
    let handlers = Arc::new(Handlers {
        service: Arc::new(DfSessionService::new_with_hooks(ctx.clone(), hooks)),
        credentials,
        parameters: Arc::new(parameters),
        cancel: Arc::new(DefaultCancelHandler::new(connections.clone())),
        connections,
    });
    let mut options = ServerOptions::new()
        .with_host(host)
        .with_port(port)
        .with_max_connections(config.max_connections);
    if let Some((cert, key)) = tls {
        options = options
            .with_tls_cert_path(Some(cert))
            .with_tls_key_path(Some(key));
    } else if !is_loopback(&config.listen) {
        tracing::warn!(listen = %config.listen, "Serving without TLS on a non-loopback address: configure [serve] tls_cert and tls_key.");
    }

    // New table versions (each run commits some) are picked up every `refresh_seconds`.
    let refresh = {
        let (ctx, lake) = (ctx.clone(), lake.clone());
        let every = std::time::Duration::from_secs(config.refresh_seconds.max(1));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match lake.refresh(&ctx, &mut registered).await {
                    Ok(tables) if !tables.is_empty() => {
                        tracing::info!(?tables, "Serving new table versions.");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "Could not re-read the lake's tables; serving the previous versions.");
                    }
                }
            }
        })
    };
    tracing::info!(listen = %config.listen, user = %config.user, tls = options.tls_cert_path().is_some(), lake = %lake.url(), "Serving the lake over the PostgreSQL protocol (read-only).");
    println!(
        "Serving {} on {} (PostgreSQL protocol, read-only; user `{}`). Ctrl-C stops.",
        lake.url(),
        config.listen,
        config.user
    );
    let result = tokio::select! {
        r = datafusion_postgres::serve_with_handlers(handlers, &options) => r.map_err(|e| Error::Config {
            file: "[serve] listen".into(),
            message: format!("cannot serve on `{}`: {e}", config.listen),
        }),
        _ = crate::daemon::shutdown_signal() => Ok(()),
    };
    refresh.abort();
    result
}

fn is_loopback(listen: &str) -> bool {
    listen.starts_with("127.") || listen.starts_with("localhost") || listen.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn verdict(sql: &str) -> Option<String> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        refusal(&statements[0])
    }

    #[test]
    fn only_queries_and_client_chatter_pass() {
        for ok in [
            "SELECT 1",
            "WITH t AS (SELECT 1) SELECT * FROM t",
            "EXPLAIN SELECT 1",
            "SET extra_float_digits = 3",
            "SHOW search_path",
            "BEGIN",
            "COMMIT",
        ] {
            assert_eq!(verdict(ok), None, "{ok}");
        }
        for bad in [
            "CREATE TABLE t (a INT)",
            "DROP TABLE costs",
            "INSERT INTO costs VALUES (1)",
            "DELETE FROM costs",
            "COPY costs TO '/tmp/x.csv'",
            "SET datafusion.execution.target_partitions = 1",
            "EXPLAIN ANALYZE DELETE FROM costs",
            "CREATE VIEW v AS SELECT 1",
        ] {
            assert!(verdict(bad).is_some(), "{bad}");
        }
    }
}
