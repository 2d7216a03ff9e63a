//! Steps a killed process left running. A shell step's process group is journalled when it starts
//! (`step_process`); when `ripcord run` dies without ending it (SIGKILL, a crash), the group lives on. Before
//! `resume` or a new run of the same runbook and labels starts a step, it looks through the unfinished runs
//! of that runbook and label set (the series it is for) for such a group that still lives, and never runs beside it: it waits for it (bounded), ends it when told
//! to (`--kill-leftover`, journalled in the run that started it), or refuses, saying how to go on.
//!
//! INVARIANT: called with the lock of the runbook and labels held, so no live run of them owns the groups
//! it finds (runs for other label sets may be going beside it, and their groups are not looked at).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::actions::process::ProcessGroup;
use crate::plan::{Labels, format_duration};
use crate::runs::{Event, Record, RunStore};

/// What to do about a step an interrupted process left running.
#[derive(Clone, Debug)]
pub struct Leftovers {
    /// How long to wait for it to end by itself before refusing (or ending it).
    pub wait: Duration,
    /// End it (SIGTERM, then SIGKILL after [`KILL_GRACE`]) instead of refusing.
    pub kill: bool,
}

impl Default for Leftovers {
    fn default() -> Self {
        Leftovers { wait: Duration::from_secs(10), kill: false }
    }
}

/// How long a group has after SIGTERM before SIGKILL, and after SIGKILL before ripcord gives up.
pub const KILL_GRACE: Duration = Duration::from_secs(5);

/// A group left running by a step that never ended, in run `run_id`.
struct Leftover {
    run_id: String,
    step: String,
    group: ProcessGroup,
}

/// The groups of steps that started and never ended in `records` (any try's), whether they live or not.
fn unfinished(run_id: &str, records: &[Record]) -> Vec<Leftover> {
    let mut open: HashMap<String, Vec<ProcessGroup>> = HashMap::new();
    for r in records {
        match &r.event {
            Event::StepProcess { step, group, .. } => open.entry(step.clone()).or_default().push(group.clone()),
            Event::StepEnd { step, .. } => {
                open.remove(step);
            }
            Event::LeftoverEnded { step, pgid, .. } => {
                if let Some(groups) = open.get_mut(step) {
                    groups.retain(|g| g.pgid != *pgid);
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<Leftover> = open
        .into_iter()
        .flat_map(|(step, groups)| {
            groups.into_iter().map(move |group| Leftover { run_id: run_id.to_string(), step: step.clone(), group })
        })
        .collect();
    out.sort_by(|a, b| a.step.cmp(&b.step).then(a.group.pgid.cmp(&b.group.pgid)));
    out
}

/// The still-live groups of every unfinished run of `runbook` for `labels` in `store`.
fn live(store: &dyn RunStore, runbook: &str, labels: &Labels) -> Vec<Leftover> {
    store
        .list_runs()
        .into_iter()
        // An unreadable journal is reported by `runs`; it holds no process group anyone could wait for.
        .filter_map(Result::ok)
        .filter(|records| {
            matches!(records.first().map(|r| &r.event),
                Some(Event::Start { runbook: rb, labels: l, .. }) if rb == runbook && l == labels)
                && !records.iter().any(|r| matches!(r.event, Event::End { .. }))
        })
        .flat_map(|records| {
            let id = match records.first().map(|r| &r.event) {
                Some(Event::Start { run_id, .. }) => run_id.clone(),
                _ => String::new(),
            };
            unfinished(&id, &records)
        })
        .filter(|l| l.group.alive())
        .collect()
}

/// Makes sure no step an interrupted process of `runbook` for `labels` left running still lives before
/// `by_run` starts a step: waits, ends them, or refuses. `say` prints what it is doing.
pub(super) fn settle(
    store: &dyn RunStore,
    runbook: &str,
    labels: &Labels,
    by_run: &str,
    policy: &Leftovers,
    say: impl Fn(&str),
) -> Result<(), String> {
    let mut left = live(store, runbook, labels);
    if left.is_empty() {
        return Ok(());
    }
    if !policy.wait.is_zero() {
        say(&format!(
            "waiting up to {} for {} left running by an interrupted process of `{runbook}` to end",
            format_duration(policy.wait.as_millis() as u64),
            names(&left)
        ));
        let until = Instant::now() + policy.wait;
        while !left.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
            left.retain(|l| l.group.alive());
        }
        if left.is_empty() {
            return Ok(());
        }
    }
    if !policy.kill {
        let l = &left[0];
        return Err(format!(
            "step {} of run {} is still running from a process of ripcord that was killed (process group {}); \
             ripcord will not run a step beside it. Wait for it to end (`--wait-leftover DURATION`), end it \
             yourself (`kill -TERM -- -{}`), or pass `--kill-leftover` to end it (SIGTERM, then SIGKILL after {})",
            l.step,
            l.run_id,
            l.group.pgid,
            l.group.pgid,
            format_duration(KILL_GRACE.as_millis() as u64)
        ));
    }
    for l in &left {
        say(&format!("ending {} (process group {}) left running by run {}", l.step, l.group.pgid, l.run_id));
        let (gone, signal) = l.group.end(KILL_GRACE);
        if let Ok(mut journal) = store.reopen_run(&l.run_id) {
            let _ = journal.append(Event::LeftoverEnded {
                step: l.step.clone(),
                pgid: l.group.pgid,
                signal: signal.to_string(),
                by_run: by_run.to_string(),
            });
        }
        if !gone {
            return Err(format!(
                "step {} of run {} (process group {}) outlived SIGKILL; ripcord will not run beside it",
                l.step, l.run_id, l.group.pgid
            ));
        }
    }
    Ok(())
}

fn names(left: &[Leftover]) -> String {
    let all: Vec<String> =
        left.iter().map(|l| format!("step {} of run {} (process group {})", l.step, l.run_id, l.group.pgid)).collect();
    all.join(", ")
}
