//! Resume: an interrupted run continues, in a new process, with the plan it started with. Its journal says
//! what was done: a step with an end record is not run again (its outcome is reused); a step that started
//! but has no end record runs again; approvals, level starts and ends and escalations already journalled are
//! not journalled twice; and the time the level's steps took is charged to its deadline.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::leftover::{self, Leftovers};
use super::takeover::Unfinished;
use super::{Context, Outcome, drive};
use crate::runs::{self, Claim, Event, LevelSlot, Record, RunStore, StepChoice, StepOutcome};

/// A step in one attempt of one level: `(level, attempt, step id)`.
pub(super) type StepKey = (u32, u32, String);

/// What earlier processes of the same run already did, read from its journal (empty for a new run).
#[derive(Default)]
pub(super) struct EarlierProgress {
    /// Steps that ended: whether they passed, and what failed if not.
    pub(super) done: HashMap<StepKey, (bool, String)>,
    /// Steps that started, ended or not.
    pub(super) started: HashSet<StepKey>,
    /// Each decided level: approved or not, and by whom.
    pub(super) approvals: HashMap<u32, (bool, String)>,
    /// Levels journalled as waiting for approval.
    pub(super) waiting: HashSet<u32>,
    /// `(level, attempt)`s journalled as started.
    pub(super) level_starts: HashSet<(u32, u32)>,
    /// `(level, attempt)`s journalled as ended.
    pub(super) level_ends: HashSet<(u32, u32)>,
    /// `(from, to)` escalations journalled.
    pub(super) escalations: HashSet<(u32, u32)>,
    /// Time the top-level steps of each level took before the interruption, charged to its deadline.
    pub(super) consumed_ms: HashMap<u32, u64>,
    /// What to do about a step that started and did not end, not marked `idempotent`.
    pub(super) unfinished: Unfinished,
    /// Steps a person decided about (`step_decided`): the choice and who made it.
    pub(super) decided: HashMap<String, (StepChoice, String)>,
    /// Steps journalled as waiting for a person.
    pub(super) waiting_decision: HashSet<String>,
}

impl EarlierProgress {
    pub(super) fn from_records(records: &[Record]) -> EarlierProgress {
        let mut p = EarlierProgress::default();
        let mut top: HashMap<u32, HashSet<String>> = HashMap::new();
        for r in records {
            match &r.event {
                Event::StepStart { level, attempt, step, .. } => {
                    p.started.insert((*level, *attempt, step.clone()));
                }
                Event::StepEnd { level, attempt, step, outcome, detail, duration_ms, .. } => {
                    p.done.insert((*level, *attempt, step.clone()), (*outcome == StepOutcome::Ok, detail.clone()));
                    // Top-level steps only (`L1.S2`, not `L1.S2.1`), so parallel time is not counted twice.
                    if step.matches('.').count() == 1 && top.entry(*level).or_default().insert(step.clone()) {
                        *p.consumed_ms.entry(*level).or_default() += duration_ms;
                    }
                }
                Event::Approval { level, approved, operator, .. } => {
                    p.approvals.insert(*level, (*approved, operator.clone()));
                }
                Event::WaitingApproval { level } => {
                    p.waiting.insert(*level);
                }
                Event::LevelStart { level, attempt } => {
                    p.level_starts.insert((*level, *attempt));
                }
                Event::LevelEnd { level, attempt, .. } => {
                    p.level_ends.insert((*level, *attempt));
                }
                Event::Escalate { from, to, .. } => {
                    p.escalations.insert((*from, *to));
                }
                Event::WaitingDecision { step, .. } => {
                    p.waiting_decision.insert(step.clone());
                }
                Event::StepDecided { step, choice, operator, .. } => {
                    p.decided.insert(step.clone(), (*choice, operator.clone()));
                }
                _ => {}
            }
        }
        p
    }
}

/// What a run's start record says, for continuing the run (resume, takeover).
pub(super) struct Started {
    pub plan: Box<crate::plan::Plan>,
    pub level: u32,
    pub labels: crate::plan::Labels,
    pub operator: String,
    pub reason: String,
    pub workdir: String,
    pub runbook_path: String,
    pub yes: bool,
    pub prometheus: Option<String>,
}

impl Started {
    /// The start record of `run_id`'s journal `records` (its first).
    pub fn of(records: &[Record], run_id: &str) -> Result<Started, String> {
        match records.first().map(|r| &r.event) {
            Some(Event::Start {
                plan,
                level,
                labels,
                operator,
                reason,
                workdir,
                runbook_path,
                yes,
                prometheus,
                ..
            }) => Ok(Started {
                plan: plan.clone(),
                level: *level,
                labels: labels.clone(),
                operator: operator.clone(),
                reason: reason.clone(),
                workdir: workdir.clone(),
                runbook_path: runbook_path.clone(),
                yes: *yes,
                prometheus: prometheus.clone(),
            }),
            _ => Err(format!("the journal of `{run_id}` has no start record")),
        }
    }
}

/// Continues an interrupted run with the plan it started with; `verify CONDITION` steps follow Prometheus
/// `prometheus_version`.
pub fn resume<S: RunStore + Clone + 'static>(
    store: &S,
    run_id: &str,
    yes: bool,
    prometheus: (Option<String>, crate::eval::PromVersion),
    log_to_stdout: bool,
    leftovers: &Leftovers,
) -> Result<Outcome, String> {
    resume_deciding(store, run_id, yes, prometheus, log_to_stdout, leftovers, Unfinished::Rerun)
}

/// [`resume`], with what to do about a step that started and did not end (not marked `idempotent`).
pub fn resume_deciding<S: RunStore + Clone + 'static>(
    store: &S,
    run_id: &str,
    yes: bool,
    (prometheus, prometheus_version): (Option<String>, crate::eval::PromVersion),
    log_to_stdout: bool,
    leftovers: &Leftovers,
    unfinished: Unfinished,
) -> Result<Outcome, String> {
    let runs::StoredRun { records, summary, .. } = runs::open_run(store, run_id)?;
    if summary.status != "interrupted" {
        return Err(format!("run `{run_id}` is {}; only an interrupted run can be resumed", summary.status));
    }
    let Started { plan, level, labels, operator, reason, workdir, runbook_path, yes: was_yes, prometheus: was_prom } =
        Started::of(&records, run_id)?;
    // The same lock as the run's start: its runbook and labels, within its first level's `max parallel`.
    let max_parallel = plan.level(level).map_or(1, |l| l.max_parallel.max(1));
    let slot = LevelSlot { level, max_parallel };
    let claim =
        Claim { runbook: &plan.runbook, labels: &labels, run_id, level: Some(slot), start_key: None, start: None };
    let _lock = store.lock_run(&claim)?;
    // Re-read under the lock: the run may have been resumed by someone else meanwhile.
    let records = runs::load_run(store, run_id)?;
    if records.iter().any(|r| matches!(r.event, Event::End { .. })) {
        return Err(format!("run `{run_id}` has already ended"));
    }
    // Never beside a step an earlier process of this run (or another interrupted run) left running.
    leftover::settle(store, &plan.runbook, &labels, run_id, leftovers, |line| eprintln!("{line}"))?;
    let records = runs::load_run(store, run_id)?;
    let location = store.journal_location(run_id);
    let mut journal = store.reopen_run(run_id)?;
    journal
        .append(Event::Resume { pid: std::process::id(), yes })
        .map_err(|e| format!("cannot write the journal `{location}`: {e}"))?;
    let earlier = EarlierProgress { unfinished, ..EarlierProgress::from_records(&records) };
    let ctx = Context {
        run_id: run_id.to_string(),
        runbook_path,
        operator,
        reason,
        labels,
        workdir: PathBuf::from(workdir),
        state: store.clone(),
        prometheus: prometheus.or(was_prom),
        prometheus_version,
        max_answer_bytes: crate::prometheus::DEFAULT_MAX_ANSWER_BYTES,
        yes: yes || was_yes,
    };
    let runbook = plan.runbook.clone();
    let status = drive(*plan, ctx.boxed(), journal, earlier, level, log_to_stdout, None)?;
    Ok(Outcome { run_id: run_id.to_string(), runbook, level, status, journal: location })
}
