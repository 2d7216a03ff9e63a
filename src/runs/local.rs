//! The run store in a directory on disk: the state dir (`--state-dir`, `RIPCORD_STATE_DIR`, default
//! `.ripcord/`):
//!
//! ```text
//! runs/<run-id>.jsonl          the journal of each run
//! locks/<runbook>.lock         the lock of the runbook's runs without labels (flock via std File::try_lock)
//! locks/<runbook>@<hash>.lock  the lock of one label set of the runbook (`locks.rs`)
//! locks/.store.lock            held while a lock is checked against its level's `max parallel` and taken
//! approvals/<run-id>-L<n>.json an approval or denial written by `ripcord approve|deny`
//! snapshots/<digest>/...       `snapshot` copies, newest last by name
//! kept/<run-id>/<step-id>      what each `restore` replaced, byte for byte, for `ripcord undo`
//! triggers/<runbook>.json      the trigger state `watch` saves after each evaluation
//! start-keys/<hash>.json       each start key taken (a firing, an `Idempotency-Key`, an alert), kept a week
//! ```
//!
//! Journals are appended one whole line per write and fsynced after each; a new journal is written under a
//! hidden name and linked into place with its first record (its directory fsynced then), so none is ever
//! seen empty. A decision is written to a temporary file and hard-linked into place, which fails when the
//! level is already decided: the first decision wins. Trigger state is written to a temporary file and
//! renamed over the last (not fsynced: after a machine crash it may be one evaluation older, which the
//! restore rules handle like a longer outage).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::record::{self, Event, Record};
use super::{Claim, DecideError, Decision, LockError, RunJournal, RunStore, RunbookLock, SavedTriggers, UnreadableRun};
use super::{locks, start_keys};
use crate::plan::Labels;

#[derive(Clone, Debug)]
pub struct StateDir {
    pub root: PathBuf,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }
    pub fn journal(&self, run_id: &str) -> PathBuf {
        self.runs().join(format!("{run_id}.jsonl"))
    }
    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }
    pub fn approvals(&self) -> PathBuf {
        self.root.join("approvals")
    }
    pub fn start_keys(&self) -> PathBuf {
        self.root.join("start-keys")
    }
    pub fn triggers(&self, runbook: &str) -> PathBuf {
        self.root.join("triggers").join(format!("{runbook}.json"))
    }
    pub fn approval(&self, run_id: &str, level: u32) -> PathBuf {
        self.approvals().join(format!("{run_id}-L{level}.json"))
    }

    pub fn create_dirs(&self) -> io::Result<()> {
        for d in [self.runs(), self.locks(), self.approvals()] {
            fs::create_dir_all(d)?;
        }
        Ok(())
    }
}

/// Puts `body` at `path` in `dir` once: written whole and fsynced under a name no other writer uses, then
/// hard-linked into place and the directory fsynced. The link fails (`AlreadyExists`) when `path` exists, so
/// the first writer wins and a reader never sees half a file. Decisions and start keys are written so.
pub(super) fn publish(dir: &Path, path: &Path, body: &[u8]) -> io::Result<()> {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), SERIAL.fetch_add(1, Ordering::Relaxed)));
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(body)?;
        f.sync_all()
    };
    let linked = write().and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    linked?;
    File::open(dir).and_then(|d| d.sync_all())
}

impl RunStore for StateDir {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn prepare(&self) -> Result<(), String> {
        self.create_dirs().map_err(|e| format!("cannot create the state dir `{}`: {e}", self.root.display()))
    }

    fn journal_location(&self, run_id: &str) -> String {
        self.journal(run_id).display().to_string()
    }

    fn create_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        let path = self.journal(run_id);
        let journal =
            JournalFile::create(&path).map_err(|e| format!("cannot create the journal `{}`: {e}", path.display()))?;
        Ok(Box::new(journal))
    }

    fn reopen_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        let path = self.journal(run_id);
        let journal =
            JournalFile::reopen(&path).map_err(|e| format!("cannot open the journal `{}`: {e}", path.display()))?;
        Ok(Box::new(journal))
    }

    fn read_run(&self, run_id: &str) -> Result<Vec<Record>, String> {
        let path = self.journal(run_id);
        if !path.exists() {
            return Err(format!("no run `{run_id}` in `{}` (see `ripcord runs`)", self.root.display()));
        }
        read_journal(&path)
    }

    fn list_runs(&self) -> Vec<Result<Vec<Record>, UnreadableRun>> {
        let Ok(entries) = fs::read_dir(self.runs()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|path| path.extension().is_some_and(|x| x == "jsonl"))
            .map(|path| {
                read_journal(&path)
                    .and_then(|records| match records.first().map(|r| &r.event) {
                        Some(Event::Start { .. }) => Ok(records),
                        Some(_) => Err(format!("`{}` has no start record", path.display())),
                        None => Err(format!("`{}` is empty", path.display())),
                    })
                    .map_err(|error| UnreadableRun {
                        id: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
                        error,
                    })
            })
            .collect()
    }

    fn lock_run(&self, claim: &Claim<'_>) -> Result<RunbookLock, LockError> {
        let lock = locks::take(&self.locks(), claim)?;
        if let Some(key) = claim.start_key {
            // Taken under the run's lock (dropped with it on a duplicate): see `start_keys.rs`.
            start_keys::take(&self.start_keys(), key, claim, |id| self.journal(id).exists())?;
        }
        Ok(lock)
    }

    fn lock_holder(&self, runbook: &str, labels: &Labels) -> Option<String> {
        locks::holder(&self.locks(), runbook, labels).map(|h| h.run_id)
    }

    fn write_decision(&self, run_id: &str, decision: &Decision) -> Result<(), DecideError> {
        let dir = self.approvals();
        let store = |what: &str, path: &Path, e: io::Error| {
            DecideError::Store(format!("cannot {what} `{}`: {e}", path.display()))
        };
        fs::create_dir_all(&dir).map_err(|e| store("create", &dir, e))?;
        let path = self.approval(run_id, decision.level);
        let already = || match self.read_decision(run_id, decision.level) {
            Some(d) => DecideError::AlreadyDecided(Box::new(d)),
            None => DecideError::Store(format!(
                "level {} of run `{run_id}` is already decided, but `{}` cannot be read",
                decision.level,
                path.display()
            )),
        };
        if path.exists() {
            return Err(already());
        }
        let body = serde_json::to_string(decision).map_err(|e| DecideError::Store(e.to_string()))?;
        match publish(&dir, &path, body.as_bytes()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(already()),
            Err(e) => Err(store("write", &path, e)),
        }
    }

    fn read_decision(&self, run_id: &str, level: u32) -> Option<Decision> {
        let text = fs::read_to_string(self.approval(run_id, level)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    fn kept(&self, run_id: &str) -> PathBuf {
        self.root.join("kept").join(run_id)
    }

    fn save_triggers(&self, saved: &SavedTriggers) -> Result<(), String> {
        let path = self.triggers(&saved.runbook);
        let failed = |e: &dyn std::fmt::Display| format!("cannot save the trigger state `{}`: {e}", path.display());
        let body = serde_json::to_vec(saved).map_err(|e| failed(&e))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| failed(&e))?;
        }
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        let written = fs::write(&tmp, body).and_then(|()| fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written.map_err(|e| failed(&e))
    }

    fn load_triggers(&self, runbook: &str) -> Result<Option<SavedTriggers>, String> {
        let path = self.triggers(runbook);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the trigger state `{}`: {e}", path.display())),
        };
        super::triggers::decode(&text).map(Some).map_err(|e| format!("`{}`: {e}", path.display()))
    }
}

/// Whether journal writes are fsynced. `RIPCORD_JOURNAL_FSYNC=0` turns it off, for measuring what the
/// fsyncs cost (benches/run_overhead.sh) and nothing else: without them a crash can lose records.
fn fsync_enabled() -> bool {
    std::env::var_os("RIPCORD_JOURNAL_FSYNC").is_none_or(|v| v != "0")
}

/// `runs/<run-id>.jsonl`, open for appending.
///
/// INVARIANT: a journal is visible under its name only once it holds its first record: a new journal is
/// written under a hidden name and hard-linked into place after its first append, so that `ripcord runs`
/// never meets a run's journal empty (it would be listed as unreadable).
struct JournalFile {
    file: File,
    fsync: bool,
    /// For a new journal before its first record: its hidden name and the name it takes.
    unpublished: Option<(PathBuf, PathBuf)>,
}

impl JournalFile {
    /// Creates a new journal (refusing a run id already taken); it appears once its first record is written.
    fn create(path: &Path) -> io::Result<JournalFile> {
        if path.exists() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the run id is taken"));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let hidden = path.with_file_name(format!(".{name}.new"));
        let file = OpenOptions::new().append(true).create_new(true).open(&hidden)?;
        Ok(JournalFile { file, fsync: fsync_enabled(), unpublished: Some((hidden, path.to_path_buf())) })
    }

    /// Opens an existing journal to append, cutting away a last line a crash left without its newline.
    fn reopen(path: &Path) -> io::Result<JournalFile> {
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < bytes.len() {
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(JournalFile { file, fsync: fsync_enabled(), unpublished: None })
    }

    /// Gives a new journal its name (the link fails if another run took the id meanwhile), and fsyncs the
    /// directory so that the name survives a crash.
    fn publish(&mut self) -> io::Result<()> {
        let Some((hidden, path)) = self.unpublished.take() else {
            return Ok(());
        };
        let linked = fs::hard_link(&hidden, &path);
        let _ = fs::remove_file(&hidden);
        linked?;
        if self.fsync
            && let Some(dir) = path.parent()
        {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl RunJournal for JournalFile {
    fn append(&mut self, event: Event) -> io::Result<()> {
        let line = record::encode(event)?;
        // One write per record: a crash leaves whole lines and at most one cut-off last line.
        self.file.write_all(line.as_bytes())?;
        if self.fsync || self.unpublished.is_some() {
            self.file.sync_data()?;
        }
        self.publish()
    }
}

impl Drop for JournalFile {
    /// A new journal dropped before its first record leaves nothing behind.
    fn drop(&mut self) {
        if let Some((hidden, _)) = &self.unpublished {
            let _ = fs::remove_file(hidden);
        }
    }
}

fn read_journal(path: &Path) -> Result<Vec<Record>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    record::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}
