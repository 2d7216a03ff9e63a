//! The live state `watch` shares between its parts: the watched runbooks with their triggers' machines (one
//! per series), the series waiting for a slot of their level (`max parallel`), the runs it started, the
//! counters of `/metrics`. Reload (`reload`), evaluation (`evaluate`) and the HTTP API
//! (`api`) all work on one [`WatchState`] behind an `Arc`; this module holds the data and nothing else.
//!
//! INVARIANT: no lock is held across an `.await` or while a run is started; every lock is taken through
//! [`lock`], which survives a poisoned mutex (a panicking run thread must not stop the engine).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use super::metrics::Metrics;
use super::webhook::Deliveries;
use crate::eval::{PromVersion, SeriesMachines, TriggerState};
use crate::interpret;
use crate::plan::{Labels, Plan, Trigger};
use crate::runs::RunStore;

/// Locks `m`, taking the data even if a thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes one line of the engine's log (stderr), control characters escaped (an alert's value or an API
/// caller's reason never sends the terminal an escape sequence).
pub(super) fn log(msg: &str) {
    eprintln!("watch: {}", crate::text::for_terminal(msg));
}

/// How the last (re)load of a runbook file went, as `/api/status` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadStatus {
    pub ok: bool,
    pub at: i64,
    pub error: Option<String>,
}

/// A trigger of a watched runbook with its state machines: one per series (label set) that is pending or
/// firing, as Prometheus keeps one alert per label set.
pub struct LiveTrigger {
    pub trigger: Trigger,
    /// What its timers belong to ([`timer_identity`]).
    pub identity: String,
    pub machines: SeriesMachines<Labels>,
    /// When each active series entered its current state.
    pub since: HashMap<Labels, i64>,
    /// How many series the last evaluation found when they were more than the runbook's `max series`
    /// (every series was then dropped, as Prometheus drops a rule's alerts over its `limit`).
    pub over_limit: Option<usize>,
    /// Why the last evaluation of the condition failed (`None` once one succeeds).
    pub last_error: Option<String>,
    /// Evaluations of the condition that failed since the trigger went live.
    pub errors: u64,
}

impl LiveTrigger {
    /// The trigger with no active series.
    pub fn new(trigger: &Trigger) -> LiveTrigger {
        LiveTrigger {
            trigger: trigger.clone(),
            identity: timer_identity(trigger),
            machines: SeriesMachines::new(trigger),
            since: HashMap::new(),
            over_limit: None,
            last_error: None,
            errors: 0,
        }
    }

    /// The trigger as a whole: firing while a series fires, else pending while one is pending.
    pub fn state(&self) -> TriggerState {
        self.machines.active().map(|(_, m)| m.state()).max_by_key(|s| rank(*s)).unwrap_or(TriggerState::Inactive)
    }

    /// When the trigger as a whole entered [`state`](Self::state): the earliest series to enter it.
    pub fn since_ms(&self) -> Option<i64> {
        let state = self.state();
        self.machines.active().filter(|(_, m)| m.state() == state).filter_map(|(k, _)| self.since.get(k)).min().copied()
    }

    /// The active series, firing ones first, each group sorted by labels: labels, state, since.
    pub fn series(&self) -> Vec<(&Labels, TriggerState, Option<i64>)> {
        let mut out: Vec<(&Labels, TriggerState, Option<i64>)> =
            self.machines.active().map(|(k, m)| (k, m.state(), self.since.get(k).copied())).collect();
        out.sort_by(|a, b| rank(b.1).cmp(&rank(a.1)).then_with(|| a.0.cmp(b.0)));
        out
    }

    /// Whether the series `labels` fires now.
    pub fn fires_for(&self, labels: &Labels) -> bool {
        self.machines.active().any(|(k, m)| k == labels && m.state() == TriggerState::Firing)
    }

    /// How many series are pending and how many firing.
    pub fn counts(&self) -> (usize, usize) {
        self.machines.active().fold((0, 0), |(p, f), (_, m)| match m.state() {
            TriggerState::Pending => (p + 1, f),
            TriggerState::Firing => (p, f + 1),
            TriggerState::Inactive => (p, f),
        })
    }
}

/// What a trigger's timers belong to: its name, condition, hold and `keep firing for`, digested. A reload
/// carries the timers of a trigger whose identity is unchanged, and a restart restores them (`persist`).
pub fn timer_identity(t: &Trigger) -> String {
    let key = serde_json::json!([t.name, t.condition, t.hold, t.keep_firing_for_ms]);
    crate::actions::sha256_hex(key.to_string().as_bytes())
}

fn rank(s: TriggerState) -> u8 {
    match s {
        TriggerState::Inactive => 0,
        TriggerState::Pending => 1,
        TriggerState::Firing => 2,
    }
}

/// A series whose trigger fired while its level had `max parallel` runs going: it starts when a slot frees,
/// if its trigger still fires for it then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub trigger: String,
    /// The series (its trigger's machine key).
    pub series: Labels,
    /// The labels its run carries: the series' with the trigger's `labels { }`.
    pub labels: Labels,
    /// When it began to wait.
    pub since_ms: i64,
    /// Whether the log has said it waits (once).
    pub noted: bool,
}

/// The series waiting for a slot, first come first served, per runbook and level.
pub type WaitingQueues = BTreeMap<(String, u32), VecDeque<Waiting>>;

/// One runbook file under watch: the version live (if any has compiled) and how its last reload went.
pub struct WatchedRunbook {
    pub path: PathBuf,
    /// The text last read; `None` when the file could not be read.
    pub text: Option<String>,
    /// The plan live; `None` until a version of the file compiles.
    pub plan: Option<Arc<Plan>>,
    pub triggers: Vec<LiveTrigger>,
    pub last_reload: ReloadStatus,
    /// When the runbook's triggers are next evaluated.
    pub next_due_ms: i64,
    /// Whether the store may keep a trigger state for it that is not empty (`persist`): true until an empty
    /// one has been saved, so that the state of series that all went inactive is not restored later.
    pub saved: bool,
}

impl WatchedRunbook {
    /// The runbook's name, or the file's stem while no version has compiled.
    pub fn name(&self) -> String {
        match &self.plan {
            Some(p) => p.runbook.clone(),
            None => self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

/// What happened to a request to start a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartResult {
    Started(String),
    Cooldown(String),
    /// A run of the same runbook and labels is going (or watch is stopping).
    Busy(String),
    /// The level has its `max parallel` runs going.
    LevelFull(String),
    Unknown(String),
    /// The store refused (the sentence says why).
    Failed(String),
    /// This firing, request or alert already started a run (its id), on this replica or another.
    Duplicate(String),
}

impl StartResult {
    pub fn word(&self) -> &'static str {
        match self {
            StartResult::Started(_) => "started",
            StartResult::Cooldown(_) => "cooldown",
            StartResult::Busy(_) => "busy",
            StartResult::LevelFull(_) => "level full",
            StartResult::Unknown(_) => "unknown runbook",
            StartResult::Failed(_) => "failed",
            StartResult::Duplicate(_) => "duplicate",
        }
    }
}

/// Whose semantics evaluations follow, and what the server says it runs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VersionState {
    /// `--prometheus-version`, when given.
    pub asked: Option<PromVersion>,
    /// The server's version (`/api/v1/status/buildinfo`), once it has answered.
    pub server: Option<String>,
    /// What evaluations follow: the flag, else the server's major version, else 3.
    pub evaluating_as: PromVersion,
    /// The flag asks for another version than the server runs, or the server runs a version ripcord does
    /// not model.
    pub warning: Option<String>,
    /// Ask the server before the next evaluation: at start, and after it could not be reached.
    #[serde(skip)]
    pub recheck: bool,
    /// Why the last question failed (logged once, not at every evaluation).
    #[serde(skip)]
    pub last_error: Option<String>,
}

impl VersionState {
    /// The state before the server has been asked.
    pub fn new(asked: Option<PromVersion>) -> VersionState {
        VersionState { asked, evaluating_as: asked.unwrap_or_default(), recheck: true, ..VersionState::default() }
    }

    /// Takes the server's answer: the version to evaluate with, and the warning if any. Returns the lines
    /// to log (nothing when nothing changed).
    pub fn answered(&mut self, server: &str, major: Option<u64>) -> Vec<String> {
        let known = major.and_then(PromVersion::from_major);
        let evaluating_as = self.asked.or(known).unwrap_or_default();
        let warning = match (self.asked, known) {
            (Some(asked), Some(runs)) if asked != runs => Some(format!(
                "--prometheus-version {asked} asks for Prometheus {asked}'s semantics, but the server runs {server}:                  triggers may fire an evaluation earlier or later than the server's own alerts"
            )),
            (_, None) => Some(format!(
                "the server runs Prometheus {server}, which ripcord does not model; evaluating as Prometheus {evaluating_as}"
            )),
            _ => None,
        };
        let changed = self.server.as_deref() != Some(server) || self.evaluating_as != evaluating_as;
        self.recheck = false;
        self.last_error = None;
        self.server = Some(server.to_string());
        self.evaluating_as = evaluating_as;
        let mut lines = Vec::new();
        if changed {
            let source = if self.asked.is_some() { "--prometheus-version" } else { "the server's major version" };
            lines.push(format!(
                "Prometheus runs {server}; evaluating as Prometheus {evaluating_as} ({}, from {source})",
                evaluating_as.reference_release()
            ));
            if let Some(w) = &warning {
                lines.push(format!("warning: {w}"));
            }
        }
        self.warning = warning;
        lines
    }
}

/// Everything the engine's parts share.
pub struct WatchState {
    /// The watched runbook files, by path.
    pub runbooks: Mutex<BTreeMap<PathBuf, WatchedRunbook>>,
    pub metrics: Metrics,
    /// Journals, locks, approvals: the state dir (the same as `ripcord run`'s) or a store shared by
    /// replicas.
    pub store: Arc<dyn RunStore>,
    /// This process's name in a shared store's leases (empty with the state dir).
    pub replica: String,
    /// The Prometheus base URL.
    pub prometheus: String,
    /// Which Prometheus semantics evaluations follow.
    pub version: Mutex<VersionState>,
    /// The largest Prometheus answer read (evaluations and the runs' verify steps), in bytes.
    pub max_answer_bytes: u64,
    /// The bearer token every POST must carry (`None`: POSTs are refused).
    pub token: Option<String>,
    /// The Alertmanager firings that already started a run (bounded: see `webhook`).
    pub alert_deliveries: Mutex<Deliveries>,
    /// The runs this process started that have not ended yet: run id by runbook and labels.
    pub running: Mutex<HashMap<(String, Labels), String>>,
    /// Series waiting for a slot of their level.
    pub waiting: Mutex<WaitingQueues>,
    /// The threads of the runs this process started.
    pub run_threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub stopping: AtomicBool,
    /// The paths given on the command line (files and directories).
    pub roots: Vec<PathBuf>,
    /// Stops the runs this process started (SIGTERM drains them, the grace's end interrupts them).
    pub interrupter: interpret::Interrupter,
    /// How trigger state saved before a restart is restored (`persist`).
    pub restore: RestoreRules,
    /// Why the trigger state could not be saved last time (logged once until it is saved again).
    pub save_error: Mutex<Option<String>>,
}

/// `--outage-tolerance` and `--for-grace-period`: Prometheus's rules for restoring alert state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestoreRules {
    pub outage_tolerance_ms: u64,
    pub grace_ms: u64,
}

impl Default for RestoreRules {
    /// An hour of tolerance (Prometheus's `--rules.alert.for-outage-tolerance`), no grace (docs/watch.md,
    /// "Restarts").
    fn default() -> Self {
        RestoreRules { outage_tolerance_ms: 3_600_000, grace_ms: 0 }
    }
}

impl WatchState {
    /// A state with no runbook loaded yet.
    pub fn new(roots: Vec<PathBuf>, store: Arc<dyn RunStore>, prometheus: String, token: Option<String>) -> WatchState {
        WatchState {
            runbooks: Mutex::new(BTreeMap::new()),
            metrics: Metrics::new(),
            store,
            replica: String::new(),
            prometheus,
            version: Mutex::new(VersionState::new(None)),
            max_answer_bytes: crate::prometheus::DEFAULT_MAX_ANSWER_BYTES,
            token,
            alert_deliveries: Mutex::new(Deliveries::default()),
            running: Mutex::new(HashMap::new()),
            waiting: Mutex::new(BTreeMap::new()),
            run_threads: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            roots,
            interrupter: interpret::Interrupter::new(),
            restore: RestoreRules::default(),
            save_error: Mutex::new(None),
        }
    }

    /// Where runs and trigger state are kept.
    pub fn store(&self) -> &dyn crate::runs::RunStore {
        &*self.store
    }

    /// The semantics evaluations follow now.
    pub fn prom_version(&self) -> PromVersion {
        lock(&self.version).evaluating_as
    }

    /// The earliest time a compiled runbook is due for evaluation.
    pub fn next_due(&self) -> Option<i64> {
        lock(&self.runbooks).values().filter(|l| l.plan.is_some()).map(|l| l.next_due_ms).min()
    }
}
