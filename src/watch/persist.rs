//! Trigger state that survives a restart: after each evaluation, every runbook's timers (each series of
//! each trigger) go to the store (`runs::SavedTriggers`); when a runbook first goes live, the state the
//! store kept is restored under Prometheus's rules (`eval::Outage`; docs/watch.md, "Restarts"): none at
//! all after more than `--outage-tolerance`, and no clock running while nobody evaluated.
//!
//! INVARIANT: a restored series that was firing stays firing without a transition, so a restart never starts
//! a second run for a firing that already started one.

use std::collections::HashMap;
use std::sync::Arc;

use super::reload::live_triggers;
use super::state::{LiveTrigger, WatchState, lock, log};
use crate::eval::Outage;
use crate::plan::Plan;
use crate::runs::{SavedSeries, SavedTrigger, SavedTriggers, TRIGGER_STATE_VERSION};

impl WatchState {
    /// The triggers of `plan` going live at `now`, with the timers the store kept for them restored.
    pub(super) fn restored_triggers(&self, plan: &Plan, now: i64) -> Vec<LiveTrigger> {
        let mut triggers = live_triggers(plan, &[]);
        let saved = match self.store().load_triggers(&plan.runbook) {
            Ok(Some(saved)) => saved,
            Ok(None) => return triggers,
            Err(e) => {
                log(&format!("the trigger state of `{}` is not restored: {e}", plan.runbook));
                return triggers;
            }
        };
        let outage = Outage { down_at_ms: saved.evaluated_at_ms, resumed_at_ms: now, grace_ms: self.restore.grace_ms };
        if saved.is_empty() {
            return triggers;
        }
        if !outage.within(self.restore.outage_tolerance_ms) {
            log(&format!(
                "the trigger state of `{}` is from {} ago, longer than the outage tolerance ({}): not restored",
                plan.runbook,
                seconds(outage.length_ms()),
                seconds(i64::try_from(self.restore.outage_tolerance_ms).unwrap_or(i64::MAX)),
            ));
            return triggers;
        }
        let by_identity: HashMap<&str, &SavedTrigger> =
            saved.triggers.iter().map(|t| (t.identity.as_str(), t)).collect();
        let mut restored = 0;
        for live in &mut triggers {
            let Some(kept) = by_identity.get(live.identity.as_str()) else { continue };
            for s in &kept.series {
                live.machines.carry_over(s.labels.clone(), s.timers.after_outage(live.trigger.hold, &outage));
                if let Some(since) = s.since_ms {
                    live.since.insert(s.labels.clone(), since);
                }
                restored += 1;
            }
        }
        log(&format!(
            "restored the trigger state of `{}`: {restored} series, as of {} ago (no clock ran meanwhile)",
            plan.runbook,
            seconds(outage.length_ms())
        ));
        triggers
    }

    /// The trigger state of each runbook evaluated at `t`, to save (a runbook whose triggers have no series
    /// left is saved once, empty, then no more until one has).
    pub(super) fn snapshots(&self, runbooks: &[String], t: i64) -> Vec<SavedTriggers> {
        let mut books = lock(&self.runbooks);
        let mut out = Vec::new();
        for l in books.values_mut() {
            let Some(plan) = &l.plan else { continue };
            if !runbooks.contains(&plan.runbook) {
                continue;
            }
            let saved = snapshot(&plan.runbook, &l.triggers, t);
            if saved.is_empty() && !l.saved {
                continue;
            }
            l.saved = !saved.is_empty();
            out.push(saved);
        }
        out
    }

    /// Saves `snapshots` to the store off the runtime's threads (a store may block on the network), logging
    /// a failure once until a save succeeds again.
    pub(super) async fn save_snapshots(self: &Arc<Self>, snapshots: Vec<SavedTriggers>) {
        if snapshots.is_empty() {
            return;
        }
        let me = Arc::clone(self);
        let saved = tokio::task::spawn_blocking(move || {
            snapshots.iter().map(|s| me.store().save_triggers(s)).find_map(Result::err)
        })
        .await;
        let error = match saved {
            Ok(e) => e,
            Err(e) => Some(format!("the save did not finish: {e}")),
        };
        let mut last = lock(&self.save_error);
        match error {
            Some(e) if last.as_deref() != Some(e.as_str()) => {
                log(&format!("{e}; a restart now would not continue the triggers' timers"));
                *last = Some(e);
            }
            Some(_) => {}
            None => {
                if last.take().is_some() {
                    log("the trigger state is saved again");
                }
            }
        }
    }
}

/// One runbook's triggers as saved.
fn snapshot(runbook: &str, triggers: &[LiveTrigger], t: i64) -> SavedTriggers {
    let triggers = triggers
        .iter()
        .map(|lt| {
            let mut series: Vec<SavedSeries> = lt
                .machines
                .tracked()
                .map(|(labels, m)| SavedSeries {
                    labels: labels.clone(),
                    timers: m.timers(),
                    since_ms: lt.since.get(labels).copied(),
                })
                .collect();
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
            SavedTrigger { name: lt.trigger.name.clone(), identity: lt.identity.clone(), series }
        })
        .filter(|t| !t.series.is_empty())
        .collect();
    SavedTriggers { version: TRIGGER_STATE_VERSION, runbook: runbook.to_string(), evaluated_at_ms: t, triggers }
}

/// A length of time in words for the log (`90s`, `1h 2m`).
fn seconds(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(u64::try_from(ms / 1000).unwrap_or(0))).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use crate::eval::TriggerState;
    use crate::plan::Labels;
    use crate::runs::StateDir;

    const BOOK: &str = "runbook disk {\n  metric usage = promql \"disk_usage\"\n  \
        trigger full: usage > 90 for 10m -> level 1\n  trigger other: usage > 95 for 1m -> level 1\n  \
        level 1 {\n    step shell \"true\"\n  }\n}\n";

    fn watching(dir: &std::path::Path) -> WatchState {
        WatchState::new(
            Vec::new(),
            std::sync::Arc::new(StateDir::new(dir.join("state"))),
            "http://127.0.0.1:9".into(),
            None,
        )
    }

    /// `full` pending for `a` since 0 and firing for `b`, saved at 9 minutes.
    fn saved_state(dir: &std::path::Path, plan: &Plan) -> SavedTriggers {
        let mut triggers = live_triggers(plan, &[]);
        let (a, b) = (Labels::from_pairs([("mount", "/a")]), Labels::from_pairs([("mount", "/b")]));
        let full = &mut triggers[0];
        full.machines.observe(-600_000, Some(std::slice::from_ref(&b)), &mut Vec::new());
        full.machines.observe(0, Some(&[a.clone(), b.clone()]), &mut Vec::new());
        full.machines.observe(540_000, Some(&[a, b]), &mut Vec::new());
        let saved = snapshot(&plan.runbook, &triggers, 540_000);
        watching(dir).store().save_triggers(&saved).unwrap();
        saved
    }

    #[test]
    fn a_restart_continues_the_timers_with_no_clock_running_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let plan = crate::compile(BOOK).plan.unwrap();
        let saved = saved_state(dir.path(), &plan);
        assert_eq!(saved.triggers.len(), 1, "only triggers with series are saved");
        let triggers = watching(dir.path()).restored_triggers(&plan, 600_000);
        let full = &triggers[0];
        let series = full.series();
        assert_eq!(series.len(), 2, "{series:?}");
        assert_eq!((series[0].0.to_string(), series[0].1), ("{mount=\"/b\"}".to_string(), TriggerState::Firing));
        assert_eq!(series[1].1, TriggerState::Pending);
        let a = full.machines.active().find(|(_, m)| m.state() == TriggerState::Pending).unwrap().1;
        assert_eq!(a.active_since(), Some(60_000), "the minute nobody evaluated does not count");
        assert!(triggers[1].machines.is_empty());
    }

    #[test]
    fn state_older_than_the_tolerance_or_of_a_changed_trigger_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let plan = crate::compile(BOOK).plan.unwrap();
        saved_state(dir.path(), &plan);
        let mut w = watching(dir.path());
        w.restore.outage_tolerance_ms = 59_999;
        assert!(w.restored_triggers(&plan, 600_000)[0].machines.is_empty());
        let changed = crate::compile(&BOOK.replace("for 10m", "for 11m")).plan.unwrap();
        assert!(watching(dir.path()).restored_triggers(&changed, 600_000)[0].machines.is_empty());
    }

    #[test]
    fn an_unreadable_or_newer_state_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let plan = crate::compile(BOOK).plan.unwrap();
        let w = watching(dir.path());
        let path = StateDir::new(dir.path().join("state")).triggers("disk");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"version\": 99}").unwrap();
        assert!(w.store().load_triggers("disk").unwrap_err().contains("newer ripcord"));
        assert!(w.restored_triggers(&plan, 0)[0].machines.is_empty());
        std::fs::write(&path, "not json").unwrap();
        assert!(w.restored_triggers(&plan, 0)[0].machines.is_empty());
    }
}
