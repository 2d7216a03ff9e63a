//! The start keys of a state dir (`start-keys/`): what names a start (a trigger's firing, an API request's
//! `Idempotency-Key`, an Alertmanager alert's fingerprint and `startsAt`) taken once, so that a duplicate
//! delivery, also after a restart of `watch`, starts no second run. The shared store keeps the same in a
//! table (`postgres/lease.rs`); this is the same rule on one machine.
//!
//! One file per key, `<first 32 hex digits of the key's SHA-256>.json`, holding the key, the run it
//! started, that run's runbook and labels, and when. It is put in place as decisions are
//! (`local::publish`: the first taker wins). A key is taken after the run's lock (`locks.rs`), so its taker's lock is held
//! while the run's journal is made.
//!
//! A key already taken is a duplicate, unless it is older than [`START_KEYS_KEPT`], or its run never
//! started (no journal) and the key was taken for the lock now held: then whoever took it gave up that lock
//! without starting (a cooldown, a crash between the two), and the key is taken again.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::{Claim, LockError, START_KEYS_KEPT, now_ms};
use crate::plan::Labels;

#[derive(Debug, Serialize, Deserialize)]
struct Taken {
    key: String,
    run_id: String,
    runbook: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    labels: Labels,
    at_ms: i64,
}

fn path_of(dir: &Path, key: &str) -> PathBuf {
    let hash = crate::actions::sha256_hex(key.as_bytes());
    dir.join(format!("{}.json", &hash[..32]))
}

/// Takes `key` for `claim`'s run; [`LockError::Duplicate`] with the run it started if it was taken.
/// `journalled` tells whether a run's journal exists.
pub(super) fn take(
    dir: &Path,
    key: &str,
    claim: &Claim<'_>,
    journalled: impl Fn(&str) -> bool,
) -> Result<(), LockError> {
    let store =
        |what: &str, path: &Path, e: io::Error| LockError::Store(format!("cannot {what} `{}`: {e}", path.display()));
    fs::create_dir_all(dir).map_err(|e| store("create", dir, e))?;
    sweep(dir);
    let path = path_of(dir, key);
    let taken = Taken {
        key: key.to_string(),
        run_id: claim.run_id.to_string(),
        runbook: claim.runbook.to_string(),
        labels: claim.labels.clone(),
        at_ms: now_ms(),
    };
    let body = serde_json::to_string(&taken).map_err(|e| LockError::Store(e.to_string()))?;
    // Twice at most: a stale key is removed once and the key put in place again.
    for _ in 0..2 {
        match super::local::publish(dir, &path, body.as_bytes()) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let before: Option<Taken> = fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
                let stale = match &before {
                    // Unreadable (cut short by a crash before its fsync): nobody can have started on it.
                    None => true,
                    Some(b) => {
                        now_ms().saturating_sub(b.at_ms) > START_KEYS_KEPT.as_millis() as i64
                            || (!journalled(&b.run_id) && b.runbook == claim.runbook && b.labels == *claim.labels)
                    }
                };
                match before {
                    Some(b) if !stale => return Err(LockError::Duplicate(b.run_id)),
                    _ => {
                        let _ = fs::remove_file(&path);
                    }
                }
            }
            Err(e) => return Err(store("write", &path, e)),
        }
    }
    Err(LockError::Store(format!("cannot take the start key `{}`", path.display())))
}

/// Removes the keys older than [`START_KEYS_KEPT`], at most once an hour per process.
fn sweep(dir: &Path) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(now_ms()).unwrap_or(0);
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) < 3_600_000
        || LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
    {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    let oldest = now_ms().saturating_sub(START_KEYS_KEPT.as_millis() as i64);
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let at = fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str::<Taken>(&t).ok()).map(|t| t.at_ms);
        if at.is_some_and(|at| at < oldest) {
            let _ = fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    fn claim<'a>(run_id: &'a str, runbook: &'a str, labels: &'a Labels) -> Claim<'a> {
        Claim { runbook, labels, run_id, level: None, start_key: None, start: None }
    }

    #[test]
    fn a_key_is_taken_once_and_names_the_run_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let none = Labels::empty();
        take(dir.path(), "alert:fp:t1", &claim("r1", "rb", &none), |_| true).unwrap();
        let again = take(dir.path(), "alert:fp:t1", &claim("r2", "rb", &none), |_| true);
        assert_eq!(again, Err(LockError::Duplicate("r1".into())));
        take(dir.path(), "alert:fp:t2", &claim("r3", "rb", &none), |_| true).unwrap();
        // Only the two keys are left: no temporary file.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_key_whose_run_never_started_is_taken_again_under_the_same_lock_only() {
        let dir = tempfile::tempdir().unwrap();
        let none = Labels::empty();
        take(dir.path(), "k", &claim("r1", "rb", &none), |_| false).unwrap();
        // No journal for r1, and the same runbook and labels: r1's taker gave the lock up without starting.
        take(dir.path(), "k", &claim("r2", "rb", &none), |_| false).unwrap();
        // No journal for r2, but another lock: r2 may be starting right now under it.
        let other = take(dir.path(), "k", &claim("r3", "other", &none), |_| false);
        assert_eq!(other, Err(LockError::Duplicate("r2".into())));
    }

    #[test]
    fn a_key_older_than_a_week_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        let none = Labels::empty();
        let old = Taken {
            key: "k".into(),
            run_id: "r0".into(),
            runbook: "rb".into(),
            labels: Labels::empty(),
            at_ms: now_ms() - START_KEYS_KEPT.as_millis() as i64 - 1,
        };
        fs::write(path_of(dir.path(), "k"), serde_json::to_string(&old).unwrap()).unwrap();
        take(dir.path(), "k", &claim("r1", "rb", &none), |_| true).unwrap();
        let again = take(dir.path(), "k", &claim("r2", "rb", &none), |_| true);
        assert_eq!(again, Err(LockError::Duplicate("r1".into())));
    }
}
