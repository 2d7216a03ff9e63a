//! The records of a run's journal and their text: one JSON object per line (JSON Lines), appended durably
//! record by record (before each step starts and after it ends). The first record holds the plan, so that a
//! resume runs the plan version the run started with. A line cut off by a crash (no newline) is ignored
//! when reading and cut away before a resume appends. Every [`RunStore`](super::RunStore) keeps this text.

use std::io;

use serde::{Deserialize, Serialize};

use crate::actions::file_steps::FileRecord;
use crate::actions::process::ProcessGroup;
use crate::plan::{Labels, Plan};

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
        /// The labels of the series the run is for (`${labels.NAME}`); none for a run started by hand
        /// without `--label`, and in journals written before runs carried labels.
        #[serde(default, skip_serializing_if = "Labels::is_empty")]
        labels: Labels,
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
    /// A shell step's process group, journalled as soon as it exists (each try, each check of a verify).
    StepProcess {
        level: u32,
        step: String,
        group: ProcessGroup,
    },
    /// A process group an interrupted process of the run left behind, ended by a later `resume` or `run`
    /// (`--kill-leftover`).
    LeftoverEnded {
        step: String,
        pgid: u32,
        /// The last signal sent: `SIGTERM`, or `SIGKILL` when it outlived the grace.
        signal: String,
        /// The run that ended it.
        by_run: String,
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
    /// Another process took the run over after its holder's lease expired (a shared store).
    Takeover {
        /// The replica that holds the run from here on.
        replica: String,
        /// The replica whose lease expired.
        from: String,
        /// The lease's new epoch: records of an older one are refused.
        epoch: i64,
        reason: String,
        pid: u32,
    },
    /// A step that was running when the run's replica was lost, not marked `idempotent`: the run waits
    /// for a person (`ripcord resume RUN --rerun|--skip|--abort`).
    WaitingDecision {
        level: u32,
        step: String,
    },
    /// What a person decided about it.
    StepDecided {
        level: u32,
        step: String,
        choice: super::StepChoice,
        operator: String,
        /// `resume` (decided where the run continued), `store` (left through the store) or `journal`.
        via: String,
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
        /// The restore step undone (absent in journals from before undo recorded it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        /// `done`, `refused` (the file changed since the run) or `failed`; absent in older journals, where a
        /// `result` starting `FAILED` means failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        /// Where `undo --force` kept the newer content it replaced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kept_newer: Option<String>,
    },
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// One journal line for `event`, stamped now: the record's JSON and a newline. Every store writes this
/// text, so journals read the same whichever store kept them.
pub fn encode(event: Event) -> io::Result<String> {
    let record = Record { t_ms: now_ms(), event };
    let mut line = serde_json::to_string(&record).map_err(io::Error::other)?;
    line.push('\n');
    Ok(line)
}

/// Reads a journal's text. Lines that do not parse are skipped only if last and unterminated (a crash
/// mid-write); anywhere else they are an error.
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
