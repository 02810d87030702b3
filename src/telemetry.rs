//! Logging setup: `tracing` to stderr, filtered by `RUST_LOG` (default `warn`; `-v` and `-vv` raise
//! cloudoptima's own level, `-vvv` every library's), as text (coloured only on a terminal) or one
//! JSON object a line. Messages are capitalized sentences ending with a period; values go in
//! fields; errors as `error = %e`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The filter for `-v` given `verbose` times.
fn default_filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn",
        1 => "warn,cloudoptima=info",
        2 => "warn,cloudoptima=debug",
        _ => "debug",
    }
}

pub fn init(verbose: u8, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
