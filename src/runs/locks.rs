//! The run locks of a state dir (`locks/`): one lock file per runbook and label set, so that the same series
//! never has two runs at once while different series of one runbook run side by side, and the count of a
//! level's runs across label sets (`max parallel`). Used by `local.rs` only.
//!
//! A run without labels locks `<runbook>.lock`, the file a runbook's one lock has always been; a label set
//! locks `<runbook>@<hash>.lock`, the hash the first 16 hex digits of the SHA-256 of the labels' JSON. The
//! file holds who holds it (run id, runbook, labels, level) as JSON; an older version wrote the bare run id,
//! which is still read. A lock is an flock (std `File::try_lock`): the process's death releases it.
//!
//! INVARIANT: every lock is taken under the store-wide `.store.lock`, with its level's runs counted under
//! the same guard, so two processes never both take the last slot of a level; under that guard, a label
//! set's file that nobody holds may be removed (no other taker can be between opening and locking it).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Claim, LockError, RunbookLock};
use crate::plan::Labels;

/// Who holds a lock, as its file says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Holder {
    pub(super) run_id: String,
    #[serde(default)]
    pub(super) runbook: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub(super) labels: Labels,
    /// The level the run started at (`None`: an undo, or a file written by an older version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) level: Option<u32>,
}

impl Holder {
    fn read(text: &str) -> Holder {
        let text = text.trim();
        serde_json::from_str(text).unwrap_or_else(|_| Holder {
            run_id: text.to_string(),
            runbook: String::new(),
            labels: Labels::empty(),
            level: None,
        })
    }

    /// `run ID` or `run ID for {a="b"}`.
    fn describe(&self) -> String {
        if self.labels.is_empty() {
            format!("run {}", self.run_id)
        } else {
            format!("run {} for {}", self.run_id, self.labels)
        }
    }
}

/// The lock file of `runbook` and `labels` in `dir`.
pub(super) fn file_name(runbook: &str, labels: &Labels) -> String {
    if labels.is_empty() {
        return format!("{runbook}.lock");
    }
    let json = serde_json::to_string(labels).unwrap_or_default();
    let hash = crate::actions::sha256_hex(json.as_bytes());
    format!("{runbook}@{}.lock", &hash[..16])
}

/// Whether `name` is one of `runbook`'s lock files, and whether it is a label set's.
fn lock_of(name: &str, runbook: &str) -> Option<bool> {
    if name == format!("{runbook}.lock") {
        return Some(false);
    }
    let rest = name.strip_prefix(runbook)?.strip_prefix('@')?;
    rest.ends_with(".lock").then_some(true)
}

fn open_rw(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| LockError::Store(format!("cannot open the lock `{}`: {e}", path.display())))
}

/// Takes `claim`'s lock in `dir` (see the module's INVARIANT).
pub(super) fn take(dir: &Path, claim: &Claim<'_>) -> Result<RunbookLock, LockError> {
    // A state dir from an older version, or one tidied by hand, may lack `locks/`.
    fs::create_dir_all(dir).map_err(|e| LockError::Store(format!("cannot create `{}`: {e}", dir.display())))?;
    let guard_path = dir.join(".store.lock");
    let guard = open_rw(&guard_path)?;
    guard.lock().map_err(|e| LockError::Store(format!("cannot lock `{}`: {e}", guard_path.display())))?;
    let (runbook, labels) = (claim.runbook, claim.labels);
    let path = dir.join(file_name(runbook, labels));
    let mut file = open_rw(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = Holder::read(&text);
            let by = if holder.run_id.is_empty() { String::new() } else { format!(" (run {})", holder.run_id) };
            return Err(LockError::Held(if labels.is_empty() {
                format!(
                    "runbook `{runbook}` is already running{by}; one run per runbook at a time (see `ripcord runs`)"
                )
            } else {
                format!(
                    "runbook `{runbook}` is already running for {labels}{by}; one run per label set at a time \
                     (see `ripcord runs`)"
                )
            }));
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(LockError::Store(format!("cannot lock `{}`: {e}", path.display())));
        }
    }
    if let Some(slot) = claim.level {
        let others: Vec<Holder> =
            live_holders(dir, runbook, Some(&path)).into_iter().filter(|h| h.level == Some(slot.level)).collect();
        if others.len() >= slot.max_parallel as usize {
            let names: Vec<String> = others.iter().map(Holder::describe).collect();
            return Err(LockError::LevelFull(format!(
                "level {} of `{runbook}` already has {} run{} going (`max parallel {}`): {}",
                slot.level,
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                slot.max_parallel,
                names.join(", ")
            )));
        }
    }
    let holder = Holder {
        run_id: claim.run_id.to_string(),
        runbook: runbook.to_string(),
        labels: labels.clone(),
        level: claim.level.map(|s| s.level),
    };
    let text = serde_json::to_string(&holder).map_err(|e| LockError::Store(e.to_string()))?;
    let write = file.set_len(0).and_then(|()| file.write_all(text.as_bytes()));
    write.map_err(|e| LockError::Store(format!("cannot write the lock `{}`: {e}", path.display())))?;
    drop(guard);
    Ok(RunbookLock::new(file))
}

/// Who holds each of `runbook`'s locks in `dir` now (but `skip`); removes the label sets' files nobody
/// holds. Called under the store-wide guard only.
fn live_holders(dir: &Path, runbook: &str, skip: Option<&Path>) -> Vec<Holder> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(labelled) = lock_of(&name, runbook) else { continue };
        let path: PathBuf = entry.path();
        if skip == Some(path.as_path()) {
            continue;
        }
        match held_by(&path) {
            Some(h) => out.push(h),
            None if labelled => {
                let _ = fs::remove_file(&path);
            }
            None => {}
        }
    }
    out
}

/// Who holds the lock file at `path`, if anyone.
fn held_by(path: &Path) -> Option<Holder> {
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut text = String::new();
            file.read_to_string(&mut text).ok()?;
            Some(Holder::read(&text))
        }
    }
}

/// Who holds the lock of `runbook` and `labels` in `dir`, if anyone.
pub(super) fn holder(dir: &Path, runbook: &str, labels: &Labels) -> Option<Holder> {
    held_by(&dir.join(file_name(runbook, labels)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::super::LevelSlot;
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    fn claim<'a>(labels: &'a Labels, run_id: &'a str, max_parallel: u32) -> Claim<'a> {
        Claim {
            runbook: "disk",
            labels,
            run_id,
            level: Some(LevelSlot { level: 1, max_parallel }),
            start_key: None,
            start: None,
        }
    }

    #[test]
    fn one_lock_per_label_set_and_max_parallel_across_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (a, b, c) = (labels(&[("instance", "a")]), labels(&[("instance", "b")]), labels(&[("instance", "c")]));
        let la = take(d, &claim(&a, "r1", 2)).unwrap();
        match take(d, &claim(&a, "r2", 2)) {
            Err(LockError::Held(m)) => assert!(m.contains("run r1") && m.contains("instance=\"a\""), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        let lb = take(d, &claim(&b, "r3", 2)).unwrap();
        match take(d, &claim(&c, "r4", 2)) {
            Err(LockError::LevelFull(m)) => assert!(m.contains("max parallel 2") && m.contains("run r3"), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        // Another level of the runbook is not counted with level 1.
        let other_level = Claim { level: Some(LevelSlot { level: 2, max_parallel: 1 }), ..claim(&c, "r5", 1) };
        let l2 = take(d, &other_level).unwrap();
        drop(l2);
        assert_eq!(holder(d, "disk", &a).map(|h| (h.run_id, h.level)), Some(("r1".into(), Some(1))));
        drop(la);
        assert_eq!(holder(d, "disk", &a), None);
        let _lc = take(d, &claim(&c, "r6", 2)).unwrap();
        // The free label sets' files were tidied away when the level was counted.
        assert!(!d.join(file_name("disk", &a)).exists());
        drop(lb);
    }

    #[test]
    fn a_run_without_labels_keeps_the_runbooks_lock_file_and_reads_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let none = Labels::empty();
        let _l = take(d, &claim(&none, "r1", 1)).unwrap();
        assert!(d.join("disk.lock").exists());
        match take(d, &claim(&none, "r2", 5)) {
            Err(LockError::Held(m)) => assert!(m.contains("one run per runbook at a time"), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(Holder::read("old-run-id\n").run_id, "old-run-id");
        // Another runbook is not counted.
        let other = Claim { runbook: "diskx", ..claim(&none, "r3", 1) };
        assert!(take(d, &other).is_ok());
        assert_eq!(lock_of("disk@0123.lock", "disk"), Some(true));
        assert_eq!(lock_of("diskx.lock", "disk"), None);
    }

    #[test]
    fn an_undo_is_not_counted_against_the_level() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (a, b) = (labels(&[("instance", "a")]), labels(&[("instance", "b")]));
        let _undo = take(d, &Claim { level: None, ..claim(&a, "r1", 1) }).unwrap();
        assert!(take(d, &claim(&b, "r2", 1)).is_ok());
    }

    #[test]
    fn the_count_is_atomic_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let d = d.clone();
                std::thread::spawn(move || {
                    let l = labels(&[("instance", &i.to_string())]);
                    let id = format!("r{i}");
                    let got = take(&d, &claim(&l, &id, 3)).ok();
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    got.is_some()
                })
            })
            .collect();
        let taken = handles.into_iter().map(|h| h.join()).filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(taken, 3);
    }
}
