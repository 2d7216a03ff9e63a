//! Runs as `ripcord runs` lists them: a [`RunSummary`] per run, worked out from its records and whether its
//! runbook's lock is held; and, across runs, when a level last ended (for cooldowns).

use serde::Serialize;

use super::RunStore;
use super::record::{Event, Record};

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
pub fn summarize(store: &dyn RunStore, records: &[Record]) -> Option<RunSummary> {
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
            let live = !interrupted && store.lock_holder(runbook).as_deref() == Some(run_id.as_str());
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

/// Every run in the store with its records, oldest first. Unreadable journals are skipped.
pub fn all_runs(store: &dyn RunStore) -> Vec<(RunSummary, Vec<Record>)> {
    let mut out: Vec<(RunSummary, Vec<Record>)> =
        store.list_runs().into_iter().filter_map(|records| Some((summarize(store, &records)?, records))).collect();
    out.sort_by(|a, b| (a.0.started_ms, &a.0.id).cmp(&(b.0.started_ms, &b.0.id)));
    out
}

/// When `level` of `runbook` last ended (any run), for cooldowns.
pub fn last_level_end(store: &dyn RunStore, runbook: &str, level: u32) -> Option<i64> {
    all_runs(store)
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
