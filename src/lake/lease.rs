//! Leases in the lake: at most one run of a pipeline at a time, across processes and machines, on
//! local disk and on Blob/ADLS alike. A lease is a series of generation objects
//! (`_leases/<name>/<generation>.json`, each saying who holds it until when); taking, renewing and
//! releasing a lease all create the next generation, and creating an object that already exists
//! fails on every store (local disk, Azure `If-None-Match: *`), so of two processes racing for
//! the same generation exactly one wins. A holder renews or releases only while the newest
//! generation is its own, so it never writes over a lease someone else took after its own expired.
//! A holder that dies stops renewing: its lease expires after its time to live and the next taker
//! goes on; one that stalls past it finds the lease lost and stops writing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Lake;
use crate::Result;

/// What one generation says.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Generation {
    holder: String,
    expires_at: DateTime<Utc>,
    released: bool,
}

/// Who holds a lease someone else wanted.
#[derive(Debug, Clone)]
pub struct Busy {
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "held by {} (renewed while it runs; expires {} if it stops)",
            self.holder,
            self.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

/// Whether a lease is still held: shared by the lease, its renewer and whoever writes under it.
#[derive(Debug, Clone)]
pub struct LeaseGuard(Arc<Standing>);

#[derive(Debug)]
struct Standing {
    name: String,
    /// Set when a renewal found the lease expired or taken by someone else.
    lost: AtomicBool,
    /// When the last generation this process wrote expires (milliseconds since the epoch).
    held_until_ms: AtomicI64,
}

impl LeaseGuard {
    fn new(name: &str, held_until: DateTime<Utc>) -> Self {
        LeaseGuard(Arc::new(Standing {
            name: name.to_string(),
            lost: AtomicBool::new(false),
            held_until_ms: AtomicI64::new(held_until.timestamp_millis()),
        }))
    }

    /// True while no one else can have taken the lease: no renewal found it taken, and the last
    /// generation written has not expired (a process suspended past it may wake up before its
    /// renewer does).
    pub fn held(&self) -> bool {
        !self.0.lost.load(Ordering::SeqCst)
            && Utc::now().timestamp_millis() < self.0.held_until_ms.load(Ordering::SeqCst)
    }

    /// [`Error::LeaseLost`](crate::Error::LeaseLost) unless the lease is [held](Self::held).
    pub fn check(&self) -> Result<()> {
        if self.held() {
            Ok(())
        } else {
            Err(crate::Error::LeaseLost {
                lease: self.0.name.clone(),
            })
        }
    }

    fn renewed(&self, until: DateTime<Utc>) {
        self.0
            .held_until_ms
            .store(until.timestamp_millis(), Ordering::SeqCst);
    }

    fn lose(&self) {
        self.0.lost.store(true, Ordering::SeqCst);
    }
}

/// A lease this process holds, renewed in the background until [`Lease::release`].
pub struct Lease {
    lake: Lake,
    folder: String,
    holder: String,
    guard: LeaseGuard,
    renewer: tokio::task::JoinHandle<()>,
    /// Set once released; a lease dropped unreleased (its run was cancelled) is released by a
    /// background task that [`settle_dropped`] waits for.
    released: bool,
}

/// Releases of leases dropped without [`Lease::release`], still being written.
static DROPPED: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>> =
    std::sync::Mutex::new(Vec::new());

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
        if self.released || !self.held() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (lake, folder, holder) = (self.lake.clone(), self.folder.clone(), self.holder.clone());
        let task = runtime.spawn(async move {
            if let Err(e) = write_release(&lake, &folder, &holder).await {
                tracing::warn!(lease = %folder, error = %e, "Could not release a dropped lease; it expires by itself.");
            }
        });
        DROPPED.lock().expect("not poisoned").push(task);
    }
}

/// Wait until the leases dropped unreleased have been released (before the process exits).
pub async fn settle_dropped() {
    let tasks: Vec<_> = std::mem::take(&mut *DROPPED.lock().expect("not poisoned"));
    for task in tasks {
        let _ = task.await;
    }
}

/// Write the generation that releases the lease in `folder`, if the newest one is `holder`'s (a
/// renewal cancelled just after it wrote counts as its own; someone else's is left alone).
async fn write_release(lake: &Lake, folder: &str, holder: &str) -> Result<()> {
    let Some(newest) = own_newest(lake, folder, holder).await? else {
        return Ok(());
    };
    let release = Generation {
        holder: holder.to_string(),
        expires_at: Utc::now(),
        released: true,
    };
    let bytes = serde_json::to_vec(&release).expect("serializes");
    lake.put_if_absent(&path(folder, newest + 1), bytes).await?;
    Ok(())
}

/// The newest generation in `folder` if `holder` wrote it and has not released it.
async fn own_newest(lake: &Lake, folder: &str, holder: &str) -> Result<Option<u64>> {
    Ok(match newest(lake, folder).await? {
        Some((generation, Some(state))) if state.holder == holder && !state.released => {
            Some(generation)
        }
        _ => None,
    })
}

/// Who holds the lease `name` now, if anyone (for `status`).
pub async fn holder(lake: &Lake, name: &str) -> Result<Option<Busy>> {
    Ok(match newest(lake, &format!("_leases/{name}/")).await? {
        Some((_, Some(state))) if !state.released && state.expires_at > Utc::now() => Some(Busy {
            holder: state.holder,
            expires_at: state.expires_at,
        }),
        _ => None,
    })
}

fn path(folder: &str, generation: u64) -> String {
    format!("{folder}{generation:020}.json")
}

/// The newest generation of the lease in `folder`, if any.
async fn newest(lake: &Lake, folder: &str) -> Result<Option<(u64, Option<Generation>)>> {
    let newest = lake
        .list_under(Some(folder))
        .await?
        .into_iter()
        .filter_map(|o| {
            let name = o
                .path
                .rsplit('/')
                .next()?
                .strip_suffix(".json")?
                .to_string();
            name.parse::<u64>().ok()
        })
        .max();
    let Some(generation) = newest else {
        return Ok(None);
    };
    // A generation deleted by its holder's cleanup between the listing and this read counts as
    // taken: the caller simply tries the next one.
    let state = match lake.get(&path(folder, generation)).await {
        Ok(bytes) => serde_json::from_slice(&bytes).ok(),
        Err(_) => None,
    };
    Ok(Some((generation, state)))
}

impl Lease {
    /// Take the lease `name` for `holder` unless someone else holds it; it lives `ttl` past each
    /// renewal (every third of `ttl`).
    pub async fn try_acquire(
        lake: &Lake,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<std::result::Result<Lease, Busy>> {
        let folder = format!("_leases/{name}/");
        let next = match newest(lake, &folder).await? {
            None => 0,
            Some((_, Some(state))) if !state.released && state.expires_at > Utc::now() => {
                return Ok(Err(Busy {
                    holder: state.holder,
                    expires_at: state.expires_at,
                }));
            }
            Some((generation, _)) => generation + 1,
        };
        let claim = Generation {
            holder: holder.to_string(),
            expires_at: Utc::now() + ttl,
            released: false,
        };
        if !lake
            .put_if_absent(
                &path(&folder, next),
                serde_json::to_vec(&claim).expect("serializes"),
            )
            .await?
        {
            // Another process took this generation first.
            let busy = match newest(lake, &folder).await? {
                Some((_, Some(state))) => Busy {
                    holder: state.holder,
                    expires_at: state.expires_at,
                },
                _ => Busy {
                    holder: "another process".into(),
                    expires_at: Utc::now() + ttl,
                },
            };
            return Ok(Err(busy));
        }
        let guard = LeaseGuard::new(name, claim.expires_at);
        let renewer = tokio::spawn(renew(
            lake.clone(),
            folder.clone(),
            holder.to_string(),
            ttl,
            guard.clone(),
        ));
        // Generations before the previous one are history.
        if next >= 2 {
            for old in lake.list_under(Some(&folder)).await? {
                if old.path < path(&folder, next - 1) {
                    let _ = lake.delete(&old.path).await;
                }
            }
        }
        Ok(Ok(Lease {
            lake: lake.clone(),
            folder,
            holder: holder.to_string(),
            guard,
            renewer,
            released: false,
        }))
    }

    /// Wait for the lease `name`, trying every `poll`, until `deadline` passes.
    pub async fn acquire_waiting(
        lake: &Lake,
        name: &str,
        holder: &str,
        ttl: Duration,
        poll: Duration,
        deadline: Option<std::time::Instant>,
    ) -> Result<std::result::Result<Lease, Busy>> {
        loop {
            match Self::try_acquire(lake, name, holder, ttl).await? {
                Ok(lease) => return Ok(Ok(lease)),
                Err(busy) if deadline.is_some_and(|d| std::time::Instant::now() + poll > d) => {
                    return Ok(Err(busy));
                }
                Err(busy) => {
                    tracing::info!(lease = name, %busy, "Waiting for the lease.");
                    tokio::time::sleep(poll).await;
                }
            }
        }
    }

    /// See [`LeaseGuard::held`].
    pub fn held(&self) -> bool {
        self.guard.held()
    }

    /// A handle that tells writers whether the lease is still held.
    pub fn guard(&self) -> LeaseGuard {
        self.guard.clone()
    }

    /// Give the lease up: the next taker need not wait for it to expire.
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        self.renewer.abort();
        if !self.held() {
            return Ok(());
        }
        write_release(&self.lake, &self.folder, &self.holder).await
    }
}

/// Renew the lease every third of `ttl` by creating the generation after its newest, while that
/// newest one is `holder`'s and has not expired. A lease found expired (the process stalled, or
/// the lake was unreachable, for its whole time to live) or taken is lost for good: someone else
/// may have run meanwhile, even if the lease is free again now.
async fn renew(lake: Lake, folder: String, holder: String, ttl: Duration, guard: LeaseGuard) {
    loop {
        tokio::time::sleep(ttl / 3).await;
        if !guard.held() {
            tracing::error!(lease = %folder, "Lease lost: it expired before it could be renewed.");
            guard.lose();
            return;
        }
        let current = match own_newest(&lake, &folder, &holder).await {
            Ok(Some(current)) => current,
            Ok(None) => {
                tracing::error!(lease = %folder, "Lease lost: another process took it after it expired.");
                guard.lose();
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %folder, error = %e, "Lease renewal failed; retrying.");
                continue;
            }
        };
        let claim = Generation {
            holder: holder.clone(),
            expires_at: Utc::now() + ttl,
            released: false,
        };
        let next = current + 1;
        match lake
            .put_if_absent(
                &path(&folder, next),
                serde_json::to_vec(&claim).expect("serializes"),
            )
            .await
        {
            Ok(true) => {
                guard.renewed(claim.expires_at);
                if next >= 2 {
                    let _ = lake.delete(&path(&folder, next - 2)).await;
                }
            }
            Ok(false) => {
                tracing::error!(lease = %folder, "Lease lost: another process took it after it expired.");
                guard.lose();
                return;
            }
            Err(e) => {
                tracing::warn!(lease = %folder, error = %e, "Lease renewal failed; retrying.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_release_hands_over() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&dir.path().to_string_lossy()).unwrap();
        let ttl = Duration::from_secs(30);
        let first = Lease::try_acquire(&lake, "p", "first", ttl).await.unwrap();
        let first = first.expect("a free lease is taken");
        let busy = Lease::try_acquire(&lake, "p", "second", ttl)
            .await
            .unwrap()
            .err()
            .expect("a held lease is refused");
        assert_eq!(busy.holder, "first");
        first.release().await.unwrap();
        let second = Lease::try_acquire(&lake, "p", "second", ttl).await.unwrap();
        assert!(second.is_ok(), "a released lease is free at once");
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_renewal_keeps_one_alive() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&dir.path().to_string_lossy()).unwrap();
        // A holder that died: its lease expires after its time to live.
        let dead = Lease::try_acquire(&lake, "p", "dead", Duration::from_millis(300))
            .await
            .unwrap()
            .unwrap();
        dead.renewer.abort();
        // Dying, it releases nothing.
        std::mem::forget(dead);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let live = Lease::try_acquire(&lake, "p", "live", Duration::from_millis(600))
            .await
            .unwrap()
            .expect("an expired lease is free");
        // Renewed every 200 ms, it outlives its time to live.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(live.held());
        let busy = Lease::try_acquire(&lake, "p", "late", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(busy.err().map(|b| b.holder).as_deref(), Some("live"));
    }

    #[tokio::test]
    async fn a_holder_that_stalled_past_its_lease_writes_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&dir.path().to_string_lossy()).unwrap();
        let ttl = Duration::from_millis(300);
        let stalled = Lease::try_acquire(&lake, "p", "stalled", ttl)
            .await
            .unwrap()
            .unwrap();
        let writer = lake.under_lease(stalled.guard());
        writer.put("under-lease/a", b"a".to_vec()).await.unwrap();
        // The process stalls (its renewer does not run) past the time to live: even before any
        // renewal could notice, the lease no longer counts as held.
        stalled.renewer.abort();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!stalled.held());
        let refused = writer.put("under-lease/b", b"b".to_vec()).await;
        assert!(
            matches!(&refused, Err(crate::Error::LeaseLost { lease }) if lease == "p"),
            "{refused:?}"
        );
        assert!(lake.get("under-lease/b").await.is_err(), "nothing written");
        // Another process takes it over; the stalled holder's renewer, running again, finds the
        // newest generation someone else's and marks the lease lost for good.
        let _taker = Lease::try_acquire(&lake, "p", "taker", Duration::from_secs(30))
            .await
            .unwrap()
            .expect("an expired lease is free");
        let guard = LeaseGuard::new("p", Utc::now() + chrono::Duration::seconds(30));
        renew(
            lake.clone(),
            "_leases/p/".into(),
            "stalled".into(),
            ttl,
            guard.clone(),
        )
        .await;
        assert!(
            !guard.held(),
            "a taken-over lease is lost even before it expires"
        );
        // Released after losing it, it writes no release over the taker's lease.
        stalled.release().await.unwrap();
        let busy = Lease::try_acquire(&lake, "p", "third", ttl).await.unwrap();
        assert_eq!(busy.err().map(|b| b.holder).as_deref(), Some("taker"));
    }
}
