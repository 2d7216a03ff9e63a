//! The run store: where runs are kept once they start. Each run is a journal of [`Record`]s (`record.rs`);
//! beside the journals, the store keeps one lock per runbook and label set (the same series never has two
//! runs at once; a level's `max parallel` bounds its runs across label sets), the approval
//! decisions `ripcord approve|deny` leave for a waiting run, and the file copies that `snapshot` steps take and
//! `ripcord undo` puts back, and the trigger state `watch` continues from after a restart (`triggers.rs`).
//!
//! [`RunStore`] is what a store must do; [`StateDir`] (`local.rs`) keeps everything in a directory on disk.
//! What does not depend on where runs are kept sits beside the trait: run ids, run lookup ([`load_run`],
//! [`open_run`]), the summary `ripcord runs` lists (`summary.rs`), and runs in words and as a Markdown report
//! (`report.rs`). The interpreter, the `runs`, `report`, `resume`, `approve`, `deny` and `undo` commands and
//! `watch` reach runs only through this module; it knows nothing of them.

mod local;
mod locks;
pub mod record;
pub mod report;
mod summary;
mod triggers;

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::plan::{Labels, Plan};
pub use local::StateDir;
pub use record::{Event, Record, StepOutcome, now_ms};
pub use summary::{RunListing, RunSummary, UnreadableRun, all_runs, last_level_end, list_all, summarize};
pub use triggers::{SavedSeries, SavedTrigger, SavedTriggers, TRIGGER_STATE_VERSION};

/// Where runs are kept. Every method that fails says why in a sentence (it names the store's files or rows).
///
/// INVARIANT: [`RunJournal::append`] returns only once the record is durable (unless the store was told
/// otherwise for measurement): the interpreter relies on it to never run a finished step again.
pub trait RunStore: std::fmt::Debug + Send + Sync {
    /// Where the store is, for messages (`no run ... in LOCATION`).
    fn location(&self) -> String;
    /// Makes the store ready to take runs.
    fn prepare(&self) -> Result<(), String>;
    /// Where the journal of `run_id` is, for people to find it.
    fn journal_location(&self, run_id: &str) -> String;
    /// A new, empty journal for `run_id`; refuses a run id that is already taken.
    fn create_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String>;
    /// The journal of an existing run, to append to; a last record a crash cut off is dropped first.
    fn reopen_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String>;
    /// The records of `run_id` (a valid id: see [`load_run`]); an error if there is no such run.
    fn read_run(&self, run_id: &str) -> Result<Vec<Record>, String>;
    /// The records of every run, or why its journal cannot be read, in no particular order.
    fn list_runs(&self) -> Vec<Result<Vec<Record>, UnreadableRun>>;
    /// Takes the lock of `claim`'s runbook and label set for its run; refuses while another holds it, and,
    /// for a run of a level, while the level already has `max parallel` runs (any label set).
    ///
    /// INVARIANT: the check of the level's runs and the taking of the lock are one atomic step across
    /// every process sharing the store.
    fn lock_run(&self, claim: &Claim<'_>) -> Result<RunbookLock, LockError>;
    /// The run holding the lock of `runbook` and `labels` right now, if any.
    fn lock_holder(&self, runbook: &str, labels: &Labels) -> Option<String>;
    /// Leaves an approval or denial for the run waiting on `decision.level`, durably.
    ///
    /// INVARIANT: the first decision for a level wins atomically; every later one (concurrent or not) gets
    /// [`DecideError::AlreadyDecided`] with the decision that won, and nothing is changed.
    fn write_decision(&self, run_id: &str, decision: &Decision) -> Result<(), DecideError>;
    /// The decision left for `level` of `run_id`, if any.
    fn read_decision(&self, run_id: &str, level: u32) -> Option<Decision>;
    /// The directory `snapshot` steps copy files into (and `restore ... from snapshot` reads).
    fn snapshots(&self) -> PathBuf;
    /// The directory where `restore` steps of `run_id` keep what they replaced, for `ripcord undo`.
    fn kept(&self, run_id: &str) -> PathBuf;
    /// Keeps `saved` as its runbook's trigger state, replacing the one kept before (`triggers.rs`).
    fn save_triggers(&self, saved: &SavedTriggers) -> Result<(), String>;
    /// The trigger state last kept for `runbook`, if any; an error when it cannot be read (or a newer
    /// version wrote it).
    fn load_triggers(&self, runbook: &str) -> Result<Option<SavedTriggers>, String>;
}

/// One run's journal, open for appending.
pub trait RunJournal: Send {
    /// Appends one record, stamped now, durably (see [`RunStore`]).
    fn append(&mut self, event: Event) -> io::Result<()>;
}

/// What a lock is taken for: a run (or an undo) of one runbook for one label set.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub runbook: &'a str,
    /// The run's labels (none for a run started by hand without `--label`).
    pub labels: &'a Labels,
    pub run_id: &'a str,
    /// The level the run starts at and its `max parallel`; `None` for what is not a run of a level (`undo`),
    /// which is not counted and not bounded.
    pub level: Option<LevelSlot>,
}

/// A run's level and how many runs of it may go at once across label sets (`max parallel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelSlot {
    pub level: u32,
    pub max_parallel: u32,
}

/// Why a lock was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockError {
    /// A run of the same runbook and labels holds it (the sentence names the run).
    Held(String),
    /// The level already has its `max parallel` runs (the sentence names them).
    LevelFull(String),
    /// The store could not take it (the sentence says why).
    Store(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held(s) | LockError::LevelFull(s) | LockError::Store(s) => f.write_str(s),
        }
    }
}

impl From<LockError> for String {
    fn from(e: LockError) -> String {
        e.to_string()
    }
}

/// A run's lock (its runbook and label set), held until dropped (or until the process dies).
pub struct RunbookLock {
    _held: Box<dyn Send>,
}

impl RunbookLock {
    /// A lock that `held` keeps for as long as it lives.
    pub fn new(held: impl Send + 'static) -> RunbookLock {
        RunbookLock { _held: Box::new(held) }
    }
}

/// What `ripcord approve` / `deny` leaves for the waiting run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Decision {
    pub approved: bool,
    pub operator: String,
    pub level: u32,
    /// When it was decided (ms since the epoch; 0 in decisions written before this was kept).
    #[serde(default)]
    pub at_ms: i64,
}

impl Decision {
    /// A decision taken now.
    pub fn now(approved: bool, operator: impl Into<String>, level: u32) -> Decision {
        Decision { approved, operator: operator.into(), level, at_ms: now_ms() }
    }

    /// `approved` or `denied`.
    pub fn word(&self) -> &'static str {
        if self.approved { "approved" } else { "denied" }
    }
}

/// Why a decision was not recorded.
#[derive(Debug)]
pub enum DecideError {
    /// Another decision for the level came first (the one that won); this one came too late.
    AlreadyDecided(Box<Decision>),
    /// The store could not record it (the sentence says why).
    Store(String),
}

impl std::fmt::Display for DecideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecideError::AlreadyDecided(d) => {
                let when =
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(d.at_ms).unwrap_or(0));
                // humantime cannot write a time past the year 9999 (a hand-edited file): it is left out.
                let when = match d.at_ms {
                    1..=253_402_300_799_999 => format!(" at {}", humantime::format_rfc3339_seconds(when)),
                    _ => String::new(),
                };
                write!(
                    f,
                    "too late: level {} was already {} by {}{when}; this decision was not recorded",
                    d.level,
                    d.word(),
                    d.operator
                )
            }
            DecideError::Store(e) => f.write_str(e),
        }
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

/// The records of the run `run_id`, after checking that it is a run id at all.
pub fn load_run(store: &dyn RunStore, run_id: &str) -> Result<Vec<Record>, String> {
    if !valid_run_id(run_id) {
        return Err(format!("`{run_id}` is not a run id (see `ripcord runs`)"));
    }
    let records = store.read_run(run_id)?;
    if records.is_empty() {
        return Err(format!(
            "the journal of `{run_id}` (`{}`) is empty: the run never recorded its start",
            store.journal_location(run_id)
        ));
    }
    Ok(records)
}

/// A run read back whole: its records, its summary and the plan it started with.
pub struct StoredRun {
    pub records: Vec<Record>,
    pub summary: RunSummary,
    pub plan: Plan,
}

/// Looks `run_id` up: [`load_run`], then its start record. Every command that acts on one run starts here.
pub fn open_run(store: &dyn RunStore, run_id: &str) -> Result<StoredRun, String> {
    let records = load_run(store, run_id)?;
    let no_start = || format!("the journal of `{run_id}` has no start record");
    let summary = summarize(store, &records).ok_or_else(no_start)?;
    let Some(Event::Start { plan, .. }) = records.first().map(|r| &r.event) else {
        return Err(no_start());
    };
    let plan = (**plan).clone();
    Ok(StoredRun { records, summary, plan })
}
