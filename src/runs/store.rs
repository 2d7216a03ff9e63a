//! Which store a command uses, built in one place from its flags: `--store postgres://...` (env
//! `RIPCORD_STORE`) selects PostgreSQL ([`PgStore`]), shared by any number of replicas; without it, the
//! state dir (`--state-dir`, [`StateDir`]) as always. Leases (how long a replica holds a run without
//! renewing it) are set here too.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{PgStore, RunStore, StateDir};

/// How a replica holds a run on a shared store: it renews its lease every `heartbeat`; a lease not renewed
/// for `expiry` may be taken over by another replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseSettings {
    pub heartbeat: Duration,
    pub expiry: Duration,
}

impl Default for LeaseSettings {
    /// 5 s and 30 s: six renewals may be missed (a GC pause, a slow disk, a PostgreSQL failover of a few
    /// seconds) before a run is taken away from a live replica, and a lost replica's runs continue within
    /// about half a minute.
    fn default() -> Self {
        LeaseSettings { heartbeat: Duration::from_secs(5), expiry: Duration::from_secs(30) }
    }
}

impl LeaseSettings {
    /// Refuses an expiry that is not longer than two heartbeats: one late renewal would lose the run.
    pub fn check(&self) -> Result<(), String> {
        if self.heartbeat.is_zero() || self.expiry < self.heartbeat * 2 {
            return Err(format!(
                "--lease-expiry ({}) must be at least twice --heartbeat ({}), and the heartbeat more than 0: \
                 one late renewal must not lose a run",
                humantime::format_duration(self.expiry),
                humantime::format_duration(self.heartbeat)
            ));
        }
        Ok(())
    }
}

/// What a command was told about its store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `--store URL`; `None` keeps runs in the state dir.
    pub store: Option<String>,
    /// `--state-dir`: the runs when no `--store` is given; with one, the files snapshots and restores keep
    /// (they are files of this machine).
    pub state_dir: PathBuf,
    /// `--replica-id`; by default `HOSTNAME-PID`.
    pub replica_id: Option<String>,
    pub lease: LeaseSettings,
    /// Whether runs this process starts are taken over by other replicas when it is lost (`watch`), or
    /// left for `ripcord resume` (`run`).
    pub takeover: bool,
}

impl StoreOptions {
    /// The state dir only, as every command had before `--store`.
    pub fn state_dir(dir: impl Into<PathBuf>) -> StoreOptions {
        StoreOptions {
            store: None,
            state_dir: dir.into(),
            replica_id: None,
            lease: LeaseSettings::default(),
            takeover: false,
        }
    }
}

/// Who holds a run on a shared store (see [`RunStore::lease_of`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    pub run_id: String,
    pub holder: String,
    pub epoch: i64,
    /// When it expires unless renewed (ms since the epoch).
    pub expires_ms: i64,
}

/// `HOSTNAME-PID`: unique among the processes sharing a store, and readable in the journal.
pub fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host}-{}", std::process::id())
}

/// The store `opts` name: PostgreSQL for a `postgres://` or `postgresql://` URL (its schema created or
/// upgraded on first use), else the state dir (an absolute path, so that a run's journal does not move
/// when a step changes directory).
pub fn open_store(opts: &StoreOptions) -> Result<Arc<dyn RunStore>, String> {
    let dir = std::path::absolute(&opts.state_dir).unwrap_or_else(|_| opts.state_dir.clone());
    match opts.store.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Arc::new(StateDir::new(dir))),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            opts.lease.check()?;
            let replica = opts.replica_id.clone().unwrap_or_else(default_replica_id);
            Ok(Arc::new(PgStore::open(url, StateDir::new(dir), replica, opts.lease, opts.takeover)?))
        }
        Some(other) => Err(format!(
            "--store `{}` is not a store ripcord knows: give a PostgreSQL URL (`postgres://USER@HOST/DB`), or \
             leave --store out to keep runs in the state dir",
            crate::text::escape_control(other.split('@').next_back().unwrap_or_default())
        )),
    }
}
