//! The library's error type. Each variant says whose fault it is and carries the names a user needs
//! (file, key, table, rule) to act on it. The binary maps these to exit codes in `cli`.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration or pipeline file is wrong: the user's to fix.
    #[error("{file}: {message}")]
    Config { file: String, message: String },

    /// Several problems found at once (used by `validate` and config loading).
    #[error("{} problem(s) found:\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),

    /// Another run of the pipeline holds its lease.
    #[error("pipeline `{pipeline}` is already running: {holder}")]
    Busy { pipeline: String, holder: String },

    /// This run's lease expired before it could renew it (the process stalled longer than the
    /// lease's time to live, or the lake was unreachable that long): another run may hold it now,
    /// so this one stops writing.
    #[error(
        "lost the lease `{lease}`: it was not renewed within its time to live (this process \
         stalled, or the lake was unreachable) and another run may hold it now; this run stopped \
         before writing more"
    )]
    LeaseLost { lease: String },

    /// The user's SQL was refused or failed to plan.
    #[error("{0}")]
    Query(String),

    /// A query went over its memory or time limit and was stopped (exit 1: the query may be
    /// right, the limits are the machine's).
    #[error("{0}")]
    QueryLimit(String),

    /// A rule file is malformed or failed to run.
    #[error("rule {rule} ({file}): {message}")]
    Rule {
        rule: String,
        file: String,
        message: String,
    },

    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Input data could not be read.
    #[error("{file}: {message}")]
    Data { file: String, message: String },

    /// The lake (Delta log or object store) failed.
    #[error("lake table {table}: {source}")]
    Lake {
        table: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),

    /// The Azure client could not be built (`[azure]` settings, or the machine's HTTP setup).
    #[error("[azure]: {0}")]
    Azure(#[from] crate::azure::SetupError),

    #[error("delivery failed: {0}")]
    Delivery(#[from] crate::report::delivery::DeliveryError),

    #[error("forecast failed: {0}")]
    Forecast(#[from] crate::analyze::forecast::ForecastError),

    #[error("report failed: {0}")]
    Report(String),

    /// The language model in `[llm]` gave no usable answer.
    #[error("{0}")]
    Llm(#[from] crate::llm::LlmError),

    /// A bug in cloudoptima, not in the user's input.
    #[error("internal error (likely a bug in cloudoptima, please report it): {0}")]
    Internal(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn lake(
        table: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Lake {
            table: table.into(),
            source: Box::new(source),
        }
    }

    /// True when the error is the user's input or configuration (exit code 2); anything else is a
    /// runtime failure (exit code 1), wherever it surfaces.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Config { .. } | Error::Invalid(_) | Error::Query(_) | Error::Rule { .. } => true,
            Error::Azure(e) => e.is_settings(),
            _ => false,
        }
    }
}
