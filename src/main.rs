//! The `cloudoptima` binary: install the TLS crypto provider, then hand over to `cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Two rustls providers are compiled in (through different dependencies); pick one for the process
    // before any TLS client is built, or rustls refuses to choose.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cloudoptima::cli::EXIT_FAILED);
        }
    };
    runtime.block_on(cloudoptima::cli::main())
}
