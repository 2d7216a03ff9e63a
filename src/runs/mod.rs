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
mod postgres;
pub mod record;
pub mod report;
mod start_keys;
mod store;
mod summary;
mod triggers;

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::plan::{Labels, Plan};
pub use local::StateDir;
pub use postgres::{PgStore, SCHEMA_VERSION};
pub use record::{Event, Record, StepOutcome, now_ms};
pub use store::{Lease, LeaseSettings, StoreOptions, default_replica_id, open_store};
pub use summary::{RunListing, RunSummary, UnreadableRun, all_runs, last_level_end, list_all, summarize, waiting_step};
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

    /// Whether replicas share this store (PostgreSQL): runs are held under leases, taken over when their
    /// holder is lost, and started once per start key across replicas. The state dir is not shared.
    fn shared(&self) -> bool {
        false
    }
    /// Whether the store answers now; `Err` says why not (`/api/status`, `/metrics`).
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
    /// Takes over the runs whose holder's lease expired (a shared store only): each with its lock, now
    /// held by this process under a new epoch, and who held it before. Runs whose journal has ended only
    /// lose their stale lock.
    fn take_over(&self) -> Vec<TakenRun> {
        Vec::new()
    }
    /// Leaves a person's decision about a step a lost run left unfinished (a shared store only; with the
    /// state dir, `ripcord resume --rerun|--skip|--abort` decides in the process that resumes).
    ///
    /// INVARIANT: the first decision for a step wins, as for approvals.
    fn write_step_decision(&self, run_id: &str, decision: &StepDecision) -> Result<(), DecideError> {
        let _ = (run_id, decision);
        Err(DecideError::Store("only a shared store (--store postgres://...) keeps step decisions".into()))
    }
    /// The decision left for `step` of `run_id`, if any.
    fn read_step_decision(&self, run_id: &str, step: &str) -> Option<StepDecision> {
        let _ = (run_id, step);
        None
    }
    /// Which process holds `run_id` right now and until when (ms), if a live lease does (shared stores).
    fn lease_of(&self, run_id: &str) -> Option<Lease> {
        let _ = run_id;
        None
    }
}

impl<T: RunStore + ?Sized> RunStore for std::sync::Arc<T> {
    fn location(&self) -> String {
        (**self).location()
    }
    fn prepare(&self) -> Result<(), String> {
        (**self).prepare()
    }
    fn journal_location(&self, run_id: &str) -> String {
        (**self).journal_location(run_id)
    }
    fn create_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        (**self).create_run(run_id)
    }
    fn reopen_run(&self, run_id: &str) -> Result<Box<dyn RunJournal>, String> {
        (**self).reopen_run(run_id)
    }
    fn read_run(&self, run_id: &str) -> Result<Vec<Record>, String> {
        (**self).read_run(run_id)
    }
    fn list_runs(&self) -> Vec<Result<Vec<Record>, UnreadableRun>> {
        (**self).list_runs()
    }
    fn lock_run(&self, claim: &Claim<'_>) -> Result<RunbookLock, LockError> {
        (**self).lock_run(claim)
    }
    fn lock_holder(&self, runbook: &str, labels: &Labels) -> Option<String> {
        (**self).lock_holder(runbook, labels)
    }
    fn write_decision(&self, run_id: &str, decision: &Decision) -> Result<(), DecideError> {
        (**self).write_decision(run_id, decision)
    }
    fn read_decision(&self, run_id: &str, level: u32) -> Option<Decision> {
        (**self).read_decision(run_id, level)
    }
    fn snapshots(&self) -> PathBuf {
        (**self).snapshots()
    }
    fn kept(&self, run_id: &str) -> PathBuf {
        (**self).kept(run_id)
    }
    fn save_triggers(&self, saved: &SavedTriggers) -> Result<(), String> {
        (**self).save_triggers(saved)
    }
    fn load_triggers(&self, runbook: &str) -> Result<Option<SavedTriggers>, String> {
        (**self).load_triggers(runbook)
    }
    fn shared(&self) -> bool {
        (**self).shared()
    }
    fn health(&self) -> Result<(), String> {
        (**self).health()
    }
    fn take_over(&self) -> Vec<TakenRun> {
        (**self).take_over()
    }
    fn write_step_decision(&self, run_id: &str, decision: &StepDecision) -> Result<(), DecideError> {
        (**self).write_step_decision(run_id, decision)
    }
    fn read_step_decision(&self, run_id: &str, step: &str) -> Option<StepDecision> {
        (**self).read_step_decision(run_id, step)
    }
    fn lease_of(&self, run_id: &str) -> Option<Lease> {
        (**self).lease_of(run_id)
    }
}

/// A run taken over from a lost holder: its lock (held by this process now) and what the journal should
/// say about it.
pub struct TakenRun {
    pub run_id: String,
    pub lock: RunbookLock,
    /// The replica that held it.
    pub from: String,
    /// The new epoch.
    pub epoch: i64,
    /// When the old holder's lease expired (ms since the epoch).
    pub expired_ms: i64,
}

/// What a person decided about a step a lost run left unfinished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepChoice {
    /// Run it again.
    Rerun,
    /// Count it as done (a person checked what its cut-off run did).
    Skip,
    /// End the run, failed.
    Abort,
}

impl StepChoice {
    pub fn word(self) -> &'static str {
        match self {
            StepChoice::Rerun => "rerun",
            StepChoice::Skip => "skip",
            StepChoice::Abort => "abort",
        }
    }
}

/// A person's decision about one step of a run (see [`RunStore::write_step_decision`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDecision {
    pub step: String,
    pub choice: StepChoice,
    pub operator: String,
    pub at_ms: i64,
}

/// One run's journal, open for appending.
pub trait RunJournal: Send {
    /// Appends one record, stamped now, durably (see [`RunStore`]). On a shared store, a holder that lost
    /// its lease is refused with [`io::ErrorKind::PermissionDenied`] (see [`is_fenced`]).
    fn append(&mut self, event: Event) -> io::Result<()>;
    /// Turns to `Some(why)` when this process lost the run's lease (a shared store): the run must stop at
    /// once. `None` for a store without leases.
    fn lease_lost(&self) -> Option<tokio::sync::watch::Receiver<Option<String>>> {
        None
    }
    /// Whether this process surely still holds the run's lease by its own clock (a shared store), checked
    /// right before a step's side effect starts: a process paused past its lease starts nothing more. `Err`
    /// (as [`is_fenced`]) when not; the run is told as for a lost lease.
    fn check_lease(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether an append was refused because the run's lease is held by another process now.
pub fn is_fenced(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}

/// How long a start key is kept, in every store: a firing or an alert delivered again within it is a
/// duplicate. A week is far beyond Alertmanager's `repeat_interval` (4h by default).
pub const START_KEYS_KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

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
    /// What names this start across replicas and restarts (a trigger's firing, an API request's idempotency
    /// key, an alert's firing): the store takes it with the lock, once ([`LockError::Duplicate`] after that,
    /// for [`START_KEYS_KEPT`]).
    pub start_key: Option<&'a str>,
    /// The new run's start record: a shared store writes it as the journal's first record in the same
    /// transaction as the lock and the start key, so that a start is never half made (the run is started,
    /// or nothing is). The state dir ignores it (the interpreter writes it).
    pub start: Option<&'a Event>,
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
    /// The start key was taken already: this firing or request started its run (the id) before.
    Duplicate(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held(s) | LockError::LevelFull(s) | LockError::Store(s) => f.write_str(s),
            LockError::Duplicate(id) => write!(f, "already started: run {id}"),
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
