//! The `cloudoptima` binary: install the TLS crypto provider, then hand over to `cli`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Output piped into `head` or a closed pager ends the process quietly, as for any Unix tool,
    // instead of a panic on the broken pipe (commands that write to network peers ignore the
    // signal again: `cli::talks_to_servers`).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
    let code = runtime.block_on(cloudoptima::cli::main());
    // Everything the command started has finished or been cancelled. Dropping the runtime would
    // also cancel the background work of libraries a cancelled run left in flight (the Delta
    // log reader panics when its runtime goes away mid-step) and wait for blocking threads that
    // may never end; the process ends here instead, as it would after a signal.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code.into())
}
