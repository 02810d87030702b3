//! Logging setup: `tracing` to stderr, filtered by `RUST_LOG` (default `warn`, or `info` with `-v`).
//! Messages are capitalized sentences ending with a period; values go in fields; errors as `error = %e`.

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,cloudoptima=info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
