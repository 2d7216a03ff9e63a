//! The state directory (`--state-dir`, `RIPCORD_STATE_DIR`, default `.ripcord/`):
//!
//! ```text
//! runs/<run-id>.jsonl          the journal of each run
//! locks/<runbook>.lock         one lock per runbook (flock via std File::try_lock); holds the run id
//! approvals/<run-id>-L<n>.json an approval or denial written by `ripcord approve|deny`
//! snapshots/<digest>/...       `snapshot` copies, newest last by name
//! kept/<run-id>/<step-id>      what each `restore` replaced, byte for byte, for `ripcord undo`
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::journal::{self, Event, Record};

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
    pub fn approval(&self, run_id: &str, level: u32) -> PathBuf {
        self.approvals().join(format!("{run_id}-L{level}.json"))
    }
    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }
    pub fn kept(&self, run_id: &str) -> PathBuf {
        self.root.join("kept").join(run_id)
    }

    pub fn create_dirs(&self) -> std::io::Result<()> {
        for d in [self.runs(), self.locks(), self.approvals()] {
            fs::create_dir_all(d)?;
        }
        Ok(())
    }
}

/// A run id names files: letters, digits, `-`, `_` and `.` only, not starting with `.`.
pub fn valid_run_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 200
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `<runbook>-<UTC time>-<4 hex digits>`, e.g. `db_failover-20250301T120000Z-3fa2`.
pub fn new_run_id(runbook: &str) -> String {
    let now = std::time::SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(now).to_string().replace(['-', ':'], "");
    let nanos = now.duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let salt = (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) & 0xffff;
    format!("{runbook}-{stamp}-{salt:04x}")
}

/// The lock that keeps a runbook to one run at a time. Released when dropped (or when the process dies).
pub struct RunbookLock {
    _file: File,
}

impl RunbookLock {
    pub fn acquire(state: &StateDir, runbook: &str, run_id: &str) -> Result<RunbookLock, String> {
        let path = state.locks().join(format!("{runbook}.lock"));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open the lock `{}`: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(format!(
                    "runbook `{runbook}` is already running{}; one run per runbook at a time (see `ripcord runs`)",
                    if holder.is_empty() { String::new() } else { format!(" (run {holder})") }
                ));
            }
            Err(fs::TryLockError::Error(e)) => return Err(format!("cannot lock `{}`: {e}", path.display())),
        }
        file.set_len(0).map_err(|e| format!("cannot write the lock: {e}"))?;
        file.write_all(run_id.as_bytes()).map_err(|e| format!("cannot write the lock: {e}"))?;
        Ok(RunbookLock { _file: file })
    }
}

/// The run holding `runbook`'s lock right now, if any.
pub fn lock_holder(state: &StateDir, runbook: &str) -> Option<String> {
    let path = state.locks().join(format!("{runbook}.lock"));
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut s = String::new();
            file.read_to_string(&mut s).ok()?;
            Some(s.trim().to_string())
        }
    }
}

/// What `ripcord approve` / `deny` writes, atomically, for the waiting process to read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Decision {
    pub approved: bool,
    pub operator: String,
    pub level: u32,
}

pub fn write_decision(state: &StateDir, run_id: &str, decision: &Decision) -> Result<(), String> {
    let dir = state.approvals();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let path = state.approval(run_id, decision.level);
    let tmp = dir.join(format!(".{run_id}-L{}.{}.tmp", decision.level, std::process::id()));
    let body = serde_json::to_string(decision).map_err(|e| e.to_string())?;
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(body.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write `{}`: {e}", path.display())
    })
}

pub fn read_decision(state: &StateDir, run_id: &str, level: u32) -> Option<Decision> {
    let text = fs::read_to_string(state.approval(run_id, level)).ok()?;
    serde_json::from_str(&text).ok()
}

/// A run as `ripcord runs` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub runbook: String,
    /// The level the run was started at.
    pub level: u32,
    /// The level it is at (or ended at), after escalations.
    pub current_level: u32,
    pub status: String,
    pub operator: String,
    pub reason: String,
    pub started_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<i64>,
}

/// Status from the records and the lock: an end record decides; otherwise the run is `running` (or
/// `waiting_approval`) while its process holds the runbook's lock, and `interrupted` when it does not.
pub fn summarize(state: &StateDir, records: &[Record]) -> Option<RunSummary> {
    let first = records.first()?;
    let Event::Start { run_id, runbook, level, operator, reason, .. } = &first.event else {
        return None;
    };
    let mut current = *level;
    let mut end = None;
    let mut waiting = false;
    let mut interrupted = false;
    for r in records {
        match &r.event {
            Event::LevelStart { level, .. } | Event::WaitingApproval { level } => current = *level,
            Event::Escalate { to, .. } => current = *to,
            Event::End { status, .. } => end = Some((status.clone(), r.t_ms)),
            _ => {}
        }
        waiting = matches!(r.event, Event::WaitingApproval { .. });
        interrupted = match r.event {
            Event::Interrupted { .. } => true,
            Event::Resume { .. } => false,
            _ => interrupted,
        };
    }
    let (status, ended_ms) = match end {
        Some((status, t)) => (status, Some(t)),
        None => {
            let live = !interrupted && lock_holder(state, runbook).as_deref() == Some(run_id.as_str());
            let status = if !live {
                "interrupted"
            } else if waiting {
                "waiting_approval"
            } else {
                "running"
            };
            (status.to_string(), None)
        }
    };
    Some(RunSummary {
        id: run_id.clone(),
        runbook: runbook.clone(),
        level: *level,
        current_level: current,
        status,
        operator: operator.clone(),
        reason: reason.clone(),
        started_ms: first.t_ms,
        ended_ms,
    })
}

/// Every run in the state dir with its records, oldest first. Unreadable journals are skipped.
pub fn all_runs(state: &StateDir) -> Vec<(RunSummary, Vec<Record>)> {
    let Ok(entries) = fs::read_dir(state.runs()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let Ok(records) = journal::read(&path) else { continue };
        if let Some(s) = summarize(state, &records) {
            out.push((s, records));
        }
    }
    out.sort_by(|a, b| (a.0.started_ms, &a.0.id).cmp(&(b.0.started_ms, &b.0.id)));
    out
}

/// When `level` of `runbook` last ended (any run), for cooldowns.
pub fn last_level_end(state: &StateDir, runbook: &str, level: u32) -> Option<i64> {
    all_runs(state)
        .iter()
        .filter(|(s, _)| s.runbook == runbook)
        .flat_map(|(_, records)| {
            records.iter().filter_map(move |r| match &r.event {
                Event::LevelEnd { level: l, .. } if *l == level => Some(r.t_ms),
                _ => None,
            })
        })
        .max()
}

pub fn load_run(state: &StateDir, run_id: &str) -> Result<Vec<Record>, String> {
    if !valid_run_id(run_id) {
        return Err(format!("`{run_id}` is not a run id (see `ripcord runs`)"));
    }
    let path = state.journal(run_id);
    if !path.exists() {
        return Err(format!("no run `{run_id}` in `{}` (see `ripcord runs`)", state.root.display()));
    }
    journal::read(&path)
}
