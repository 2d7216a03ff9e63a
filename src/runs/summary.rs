//! Runs as `ripcord runs` lists them: a [`RunSummary`] per run, worked out from its records and whether its
//! lock (its runbook and label set) is held; and, across runs, when a level last ended for a label set (for
//! cooldowns).

use serde::Serialize;

use super::RunStore;
use super::record::{Event, Record};
use crate::plan::Labels;

/// A run as `ripcord runs` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub runbook: String,
    /// The level the run was started at.
    pub level: u32,
    /// The level it is at (or ended at), after escalations.
    pub current_level: u32,
    /// The labels of the series the run is for (`{}` for none).
    pub labels: Labels,
    pub status: String,
    pub operator: String,
    pub reason: String,
    pub started_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<i64>,
}

/// Status from the records and the lock: an end record decides; otherwise the run is `running` (or
/// `waiting_approval`, or `waiting_decision` when a run taken over waits for a person about a step) while
/// its process holds the lock of its runbook and labels, and `interrupted` when it does not.
pub fn summarize(store: &dyn RunStore, records: &[Record]) -> Option<RunSummary> {
    let first = records.first()?;
    let Event::Start { run_id, runbook, level, labels, operator, reason, .. } = &first.event else {
        return None;
    };
    let mut current = *level;
    let mut end = None;
    let mut waiting = false;
    let mut deciding = false;
    let mut interrupted = false;
    for r in records {
        match &r.event {
            Event::LevelStart { level, .. } | Event::WaitingApproval { level } => current = *level,
            Event::Escalate { to, .. } => current = *to,
            Event::End { status, .. } => end = Some((status.clone(), r.t_ms)),
            _ => {}
        }
        waiting = matches!(r.event, Event::WaitingApproval { .. });
        deciding = matches!(r.event, Event::WaitingDecision { .. } | Event::Notify { .. })
            && (deciding || matches!(r.event, Event::WaitingDecision { .. }));
        interrupted = match r.event {
            Event::Interrupted { .. } => true,
            Event::Resume { .. } | Event::Takeover { .. } => false,
            _ => interrupted,
        };
    }
    let (status, ended_ms) = match end {
        Some((status, t)) => (status, Some(t)),
        None => {
            let live = !interrupted && store.lock_holder(runbook, labels).as_deref() == Some(run_id.as_str());
            let status = if !live {
                "interrupted"
            } else if deciding {
                "waiting_decision"
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
        labels: labels.clone(),
        status,
        operator: operator.clone(),
        reason: reason.clone(),
        started_ms: first.t_ms,
        ended_ms,
    })
}

/// A journal that cannot be read back as a run: its run id (the file's name) and why.
#[derive(Clone, Debug, Serialize)]
pub struct UnreadableRun {
    pub id: String,
    pub error: String,
}

/// Every run in the store: those read (with their records, oldest first) and the journals that could not be.
pub struct RunListing {
    pub runs: Vec<(RunSummary, Vec<Record>)>,
    /// Sorted by id.
    pub unreadable: Vec<UnreadableRun>,
}

/// Every run in the store, and every journal that cannot be read (a broken line, no start record).
pub fn list_all(store: &dyn RunStore) -> RunListing {
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for listed in store.list_runs() {
        match listed {
            // The store reports a journal without a start record as unreadable; none is left here.
            Ok(records) => runs.extend(summarize(store, &records).map(|summary| (summary, records))),
            Err(u) => unreadable.push(u),
        }
    }
    runs.sort_by(|a: &(RunSummary, Vec<Record>), b| (a.0.started_ms, &a.0.id).cmp(&(b.0.started_ms, &b.0.id)));
    unreadable.sort_by(|a, b| a.id.cmp(&b.id));
    RunListing { runs, unreadable }
}

/// Every run in the store with its records, oldest first. Journals that cannot be read are left out: see
/// [`list_all`] for them.
pub fn all_runs(store: &dyn RunStore) -> Vec<(RunSummary, Vec<Record>)> {
    list_all(store).runs
}

/// When `level` of `runbook` last ended in a run for `labels` (the same series), for cooldowns.
pub fn last_level_end(store: &dyn RunStore, runbook: &str, level: u32, labels: &Labels) -> Option<i64> {
    all_runs(store)
        .iter()
        .filter(|(s, _)| s.runbook == runbook && s.labels == *labels)
        .flat_map(|(_, records)| {
            records.iter().filter_map(move |r| match &r.event {
                Event::LevelEnd { level: l, .. } if *l == level => Some(r.t_ms),
                _ => None,
            })
        })
        .max()
}

/// The step a taken-over run waits on a person for (`waiting_decision`), if it does: its level and id.
pub fn waiting_step(records: &[Record]) -> Option<(u32, String)> {
    let mut waiting = None;
    for r in records {
        match &r.event {
            Event::WaitingDecision { level, step } => waiting = Some((*level, step.clone())),
            Event::StepDecided { step, .. } if waiting.as_ref().is_some_and(|(_, s)| s == step) => waiting = None,
            Event::End { .. } => waiting = None,
            _ => {}
        }
    }
    waiting
}
