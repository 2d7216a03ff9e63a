//! The run journal: one JSON Lines file per run, `<state-dir>/runs/<run-id>.jsonl`, appended and fsynced
//! record by record (before each step starts and after it ends). The first record holds the plan, so that a
//! resume runs the plan version the run started with. A line cut off by a crash (no newline) is ignored
//! when reading and cut away before a resume appends.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::actions::files::FileRecord;
use crate::plan::Plan;

/// One line of the journal: when (ms since the Unix epoch) and what.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub t_ms: i64,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Ok,
    Failed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Start {
        run_id: String,
        /// The runbook's declared name.
        runbook: String,
        runbook_path: String,
        /// Where shell steps run: the runbook's directory.
        workdir: String,
        level: u32,
        operator: String,
        reason: String,
        yes: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prometheus: Option<String>,
        /// SHA-256 of the plan's JSON (`ripcord plan --format json`).
        plan_hash: String,
        plan: Box<Plan>,
        pid: u32,
        version: String,
    },
    Resume {
        pid: u32,
        yes: bool,
    },
    LevelStart {
        level: u32,
        attempt: u32,
    },
    WaitingApproval {
        level: u32,
    },
    Approval {
        level: u32,
        approved: bool,
        operator: String,
        /// `--yes`, `approve` or `deny`.
        via: String,
    },
    StepStart {
        level: u32,
        attempt: u32,
        step: String,
        kind: String,
        /// The command, request or file operation, after interpolation, secrets masked.
        detail: String,
        idempotent: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rerun: bool,
    },
    StepRetry {
        level: u32,
        attempt: u32,
        step: String,
        /// The try that failed (1-based).
        #[serde(rename = "try")]
        try_: u32,
        error: String,
        backoff_ms: u64,
    },
    StepEnd {
        level: u32,
        attempt: u32,
        step: String,
        outcome: StepOutcome,
        duration_ms: u64,
        tries: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        detail: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stdout_tail: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stderr_tail: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<FileRecord>,
    },
    Notify {
        level: u32,
        step: String,
        channel: String,
        message: String,
    },
    LevelEnd {
        level: u32,
        attempt: u32,
        /// `succeeded`, `failed` or `denied`.
        outcome: String,
        reason: String,
    },
    Escalate {
        from: u32,
        to: u32,
        reason: String,
    },
    Interrupted {
        signal: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        steps: Vec<String>,
    },
    End {
        /// `succeeded` or `failed`.
        status: String,
        reason: String,
    },
    Undo {
        path: String,
        result: String,
        operator: String,
    },
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Whether journal writes are fsynced. `RIPCORD_JOURNAL_FSYNC=0` turns it off, for measuring what the
/// fsyncs cost (benches/run_overhead.sh) and nothing else: without them a crash can lose records.
fn fsync_enabled() -> bool {
    std::env::var_os("RIPCORD_JOURNAL_FSYNC").is_none_or(|v| v != "0")
}

pub struct Journal {
    file: File,
    pub path: PathBuf,
    fsync: bool,
}

impl Journal {
    /// Creates a new journal (refusing to overwrite one) and fsyncs its directory so the file survives.
    pub fn create(path: &Path) -> io::Result<Journal> {
        let file = OpenOptions::new().append(true).create_new(true).open(path)?;
        let fsync = fsync_enabled();
        if fsync && let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(Journal { file, path: path.to_path_buf(), fsync })
    }

    /// Opens an existing journal to append, cutting away a last line a crash left without its newline.
    pub fn reopen(path: &Path) -> io::Result<Journal> {
        let mut file = OpenOptions::new().read(true).write(true).open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < bytes.len() {
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(Journal { file, path: path.to_path_buf(), fsync: fsync_enabled() })
    }

    pub fn append(&mut self, event: Event) -> io::Result<()> {
        let record = Record { t_ms: now_ms(), event };
        let mut line = serde_json::to_string(&record).map_err(io::Error::other)?;
        line.push('\n');
        // One write per record: a crash leaves whole lines and at most one cut-off last line.
        self.file.write_all(line.as_bytes())?;
        if self.fsync {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// Reads a journal. Lines that do not parse are skipped only if last and unterminated (a crash mid-write);
/// anywhere else they are an error.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() && !complete => {}
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        }
    }
    Ok(out)
}
