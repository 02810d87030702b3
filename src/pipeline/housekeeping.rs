//! What keeps runs of one pipeline apart and tidy: the pipeline's lease in the lake (one run at a
//! time, across processes and machines), and, under it, clearing what runs killed part-way left.

use crate::Result;
use crate::config::Config;
use crate::lake::landing::LandedBefore;
use crate::lake::{Lake, RunKey};

/// The lease of pipeline `name` for run `run_id`: at once, or after waiting up to `wait`.
pub(super) async fn take_lease(
    config: &Config,
    lake: &Lake,
    name: &str,
    run_id: &str,
    wait: Option<std::time::Duration>,
) -> Result<crate::lake::lease::Lease> {
    use crate::lake::lease::Lease;
    let holder = format!(
        "run {run_id} (process {} on {})",
        std::process::id(),
        hostname()
    );
    let ttl = std::time::Duration::from_secs(config.lake.lease_ttl_seconds);
    let lease_name = format!("pipeline-{name}");
    let taken = match wait {
        None => Lease::try_acquire(lake, &lease_name, &holder, ttl).await?,
        Some(wait) => {
            let deadline = std::time::Instant::now() + wait;
            let poll = std::time::Duration::from_secs(1)
                .min(wait.max(std::time::Duration::from_millis(100)));
            Lease::acquire_waiting(lake, &lease_name, &holder, ttl, poll, Some(deadline)).await?
        }
    };
    taken.map_err(|busy| crate::Error::Busy {
        pipeline: name.to_string(),
        holder: busy.to_string(),
    })
}

/// This machine's name, for lease holders.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or truncates.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown host".into()
    }
}

/// What runs of `pipeline` killed part-way left behind: their staging folders and the landing
/// files they never recorded; and landing past its retention. Only called under the pipeline's
/// lease, so none of them is running. Returns what earlier runs landed and is kept, for reuse
/// (nothing when landing could not be read: the run then lands its files afresh).
pub(super) async fn clean_dead_runs(config: &Config, lake: &Lake, key: &RunKey) -> LandedBefore {
    let staging = lake.scratch_dir(&key.run_id);
    if let Some(parent) = staging.parent()
        && let Ok(entries) = std::fs::read_dir(parent)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != key.run_id && crate::lake::landing::run_of(&key.pipeline, &name) {
                match std::fs::remove_dir_all(entry.path()) {
                    Ok(()) => {
                        tracing::info!(run = %name, "Removed the staging folder of a run that did not finish.")
                    }
                    Err(e) => {
                        tracing::warn!(run = %name, error = %e, "Could not remove a dead run's staging folder.")
                    }
                }
            }
        }
    }
    let swept = crate::lake::landing::sweep(
        lake,
        config.lake.landing_retention_days,
        config.lake.landing_retention_runs,
        Some(&key.pipeline),
    )
    .await;
    match swept {
        Ok((s, before)) => {
            if s.files + s.records > 0 {
                tracing::info!(
                    files = s.files,
                    bytes = s.bytes,
                    records = s.records,
                    "Landing swept: files of unfinished runs and past the retention."
                );
            }
            before
        }
        Err(e) => {
            tracing::warn!(error = %e, "Landing sweep failed; the next run tries again.");
            LandedBefore::default()
        }
    }
}
