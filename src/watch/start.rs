//! Starting runs: a level for one label set (a series' run, the API's, an alert's) through the interpreter
//! (`interpret::claim`, then `interpret::start_claimed` on a thread of its own: the same journal, locks,
//! approvals and cooldowns as `ripcord run`), and the series waiting for their level to have room.
//!
//! A series whose trigger turned firing queues a run of its level; the queues are worked through after each
//! evaluation, first come first served per runbook and level: a series whose trigger no longer fires for it
//! is dropped, one whose level has its `max parallel` runs going stops its queue until the next evaluation,
//! any other refusal (the same labels already running, a cooldown) is logged and dropped.
//!
//! INVARIANT: the same runbook and label set never has two runs at once: the store's lock decides
//! (`interpret::claim`), before any thread starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::evaluate::FiredLevel;
use super::metrics::labels as metric_labels;
use super::state::{StartResult, Waiting, WatchState, lock, log};
use crate::interpret::{self, Context, Leftovers, Refusal};
use crate::plan::Labels;
use crate::runs;

impl WatchState {
    /// Queues a run for each series that turned firing (a series already waiting keeps its place).
    pub(super) fn enqueue(&self, fired: Vec<FiredLevel>, t: i64) {
        let mut queues = lock(&self.waiting);
        for FiredLevel { runbook, level, trigger, series, labels } in fired {
            let queue = queues.entry((runbook, level)).or_default();
            if !queue.iter().any(|w| w.labels == labels) {
                queue.push_back(Waiting { trigger, series, labels, since_ms: t, noted: false });
            }
        }
    }

    /// Works through the waiting series (see the module's comment).
    pub(super) fn start_waiting(self: &Arc<Self>) {
        let keys: Vec<(String, u32)> = lock(&self.waiting).keys().cloned().collect();
        for (runbook, level) in keys {
            loop {
                let head = lock(&self.waiting).get(&(runbook.clone(), level)).and_then(|q| q.front().cloned());
                let Some(w) = head else { break };
                let shown = if w.labels.is_empty() { String::new() } else { format!(" for {}", w.labels) };
                if !self.still_fires(&runbook, &w) {
                    log(&format!(
                        "trigger `{}` no longer fires{shown}: its run of level {level} of `{runbook}`, which was \
                         waiting for room, is not started",
                        w.trigger
                    ));
                    self.unqueue(&runbook, level, &w);
                    continue;
                }
                let reason = format!("trigger {} fired{shown}", w.trigger);
                // On a shared store, replicas evaluate at the same instants: the series' firing (its runbook,
                // level, trigger, labels and the time it turned firing) starts one run among them.
                let key = self
                    .store
                    .shared()
                    .then(|| format!("trigger:{runbook}:{level}:{}:{}:{}", w.trigger, w.labels, w.since_ms));
                match self.start_level(&runbook, level, &w.labels, ("ripcord-watch", &reason), key.as_deref()) {
                    StartResult::Started(_) => self.unqueue(&runbook, level, &w),
                    StartResult::Duplicate(id) => {
                        log(&format!(
                            "trigger `{}` fired{shown}: this firing already started run {id} (on another replica)",
                            w.trigger
                        ));
                        self.metrics.duplicate_starts.inc();
                        self.unqueue(&runbook, level, &w);
                    }
                    StartResult::Failed(m) if self.store.health().is_err() => {
                        if !self.noted_full(&runbook, level, &w) {
                            log(&format!(
                                "trigger `{}` fired{shown}; its run waits for the store to be reachable: {m}",
                                w.trigger
                            ));
                        }
                        break;
                    }
                    StartResult::LevelFull(m) => {
                        if !self.noted_full(&runbook, level, &w) {
                            log(&format!("trigger `{}` fired{shown}; waiting for room: {m}", w.trigger));
                        }
                        break;
                    }
                    other => {
                        log(&format!(
                            "trigger `{}` fired{shown} but level {level} of `{runbook}` did not start: {other:?}",
                            w.trigger
                        ));
                        self.unqueue(&runbook, level, &w);
                    }
                }
            }
        }
        lock(&self.waiting).retain(|_, q| !q.is_empty());
    }

    /// Whether the waiting series' trigger still fires for it.
    fn still_fires(&self, runbook: &str, w: &Waiting) -> bool {
        let books = lock(&self.runbooks);
        books
            .values()
            .filter(|l| l.plan.as_ref().is_some_and(|p| p.runbook == runbook))
            .flat_map(|l| l.triggers.iter())
            .any(|t| t.trigger.name == w.trigger && t.fires_for(&w.series))
    }

    /// Whether the log already said that `w` waits (said once, at its first refusal).
    fn noted_full(&self, runbook: &str, level: u32, w: &Waiting) -> bool {
        let mut queues = lock(&self.waiting);
        match queues.get_mut(&(runbook.to_string(), level)).and_then(|q| q.iter_mut().find(|x| x.labels == w.labels)) {
            Some(x) => std::mem::replace(&mut x.noted, true),
            None => true,
        }
    }

    fn unqueue(&self, runbook: &str, level: u32, w: &Waiting) {
        if let Some(q) = lock(&self.waiting).get_mut(&(runbook.to_string(), level)) {
            q.retain(|x| x.labels != w.labels);
        }
    }

    /// Starts `level` of the runbook named `runbook` for `labels` in its own thread, once its claim is taken
    /// (`interpret::claim`): the same labels never twice at once, within the level's `max parallel`, past
    /// its cooldown for these labels.
    /// `start_key` names the start across replicas (see `interpret::claim_once`).
    pub fn start_level(
        self: &Arc<Self>,
        runbook: &str,
        level: u32,
        labels: &Labels,
        (operator, reason): (&str, &str),
        start_key: Option<&str>,
    ) -> StartResult {
        let found = {
            let books = lock(&self.runbooks);
            books
                .values()
                .find_map(|l| l.plan.as_ref().filter(|p| p.runbook == runbook).map(|p| (Arc::clone(p), l.path.clone())))
        };
        let Some((plan, path)) = found else {
            return StartResult::Unknown(format!("no runbook `{runbook}` is watched"));
        };
        if plan.level(level).is_none() {
            return StartResult::Unknown(format!("runbook `{runbook}` has no level {level}"));
        }
        if self.stopping.load(Ordering::SeqCst) {
            return StartResult::Busy("watch is shutting down".into());
        }
        let run_id = runs::new_run_id(runbook);
        let workdir = std::path::absolute(&path)
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let ctx = Context {
            run_id: run_id.clone(),
            runbook_path: path.display().to_string(),
            operator: operator.to_string(),
            reason: reason.to_string(),
            labels: labels.clone(),
            workdir,
            state: Arc::clone(&self.store),
            prometheus: Some(self.prometheus.clone()),
            prometheus_version: self.prom_version(),
            max_answer_bytes: self.max_answer_bytes,
            yes: false,
        };
        let claimed = match interpret::claim_once(&plan, &ctx, level, start_key) {
            Ok(c) => c,
            Err(Refusal::Running(m)) => return StartResult::Busy(m),
            Err(Refusal::LevelFull(m)) => return StartResult::LevelFull(m),
            Err(Refusal::Cooldown(m)) => return StartResult::Cooldown(m),
            Err(Refusal::Failed(m)) => return StartResult::Failed(m),
            Err(Refusal::Duplicate(id)) => return StartResult::Duplicate(id),
        };
        let key = (runbook.to_string(), labels.clone());
        lock(&self.running).insert(key.clone(), run_id.clone());
        let me = Arc::clone(self);
        let (name, id) = (runbook.to_string(), run_id.clone());
        let plan = (*plan).clone();
        let step_kinds: BTreeMap<String, &'static str> =
            plan.all_steps().into_iter().map(|s| (s.id.clone(), s.action.kind())).collect();
        let interrupter = self.interrupter.clone();
        let handle = std::thread::spawn(move || {
            let started = interpret::start_claimed(plan, ctx, claimed, false, Some(interrupter), &Leftovers::default());
            let outcome = match started {
                Ok(o) => o.status.word().to_string(),
                Err(e) => {
                    log(&format!("run {id} of `{name}` level {level} could not start: {e}"));
                    "not_started".to_string()
                }
            };
            log(&format!("run {id} of `{name}` level {level}: {outcome}"));
            let lv = level.to_string();
            me.metrics
                .runs
                .get_or_create(&metric_labels(&[("runbook", &name), ("level", &lv), ("outcome", &outcome)]))
                .inc();
            me.observe_step_durations(&name, &id, &step_kinds);
            let mut running = lock(&me.running);
            if running.get(&key) == Some(&id) {
                running.remove(&key);
            }
        });
        lock(&self.run_threads).push(handle);
        let shown = if labels.is_empty() { String::new() } else { format!(" for {labels}") };
        log(&format!("started run {run_id} of `{runbook}` level {level}{shown} ({reason})"));
        StartResult::Started(run_id)
    }

    /// Takes over the runs of the shared store whose replica was lost, each continued on a thread of its
    /// own (`interpret::continue_taken`); nothing is taken while stopping.
    pub fn take_over_lost_runs(self: &Arc<Self>) {
        if self.stopping.load(Ordering::SeqCst) || !self.store.shared() {
            return;
        }
        for taken in self.store.take_over() {
            let id = taken.run_id.clone();
            log(&format!(
                "taking over run {id} from {} (its lease expired); finished steps are not run again",
                taken.from
            ));
            self.metrics.takeovers.inc();
            let me = Arc::clone(self);
            let interrupter = self.interrupter.clone();
            let prometheus = (Some(self.prometheus.clone()), self.prom_version());
            let handle = std::thread::spawn(move || {
                let store = Arc::clone(&me.store);
                let outcome = match interpret::continue_taken(store, taken, &me.replica, prometheus, Some(interrupter))
                {
                    Ok(o) => o.status.word().to_string(),
                    Err(e) => format!("could not continue: {e}"),
                };
                log(&format!("run {id} (taken over): {outcome}"));
            });
            lock(&self.run_threads).push(handle);
        }
    }

    /// Feeds the step durations of a finished run (from its journal) into `ripcord_step_duration_seconds`.
    fn observe_step_durations(&self, runbook: &str, run_id: &str, kinds: &BTreeMap<String, &'static str>) {
        let Ok(records) = runs::load_run(&self.store, run_id) else { return };
        for r in records {
            if let runs::Event::StepEnd { step, outcome, duration_ms, .. } = r.event {
                let kind = kinds.get(&step).copied().unwrap_or("step");
                let outcome = serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_string));
                let outcome = outcome.unwrap_or_default();
                self.metrics
                    .step_duration
                    .get_or_create(&metric_labels(&[("runbook", runbook), ("kind", kind), ("outcome", &outcome)]))
                    .observe(duration_ms as f64 / 1000.0);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::eval::TriggerState;
    use crate::runs::StateDir;
    use crate::watch::state::{LiveTrigger, ReloadStatus, WatchedRunbook};

    const BOOK: &str = "runbook disk {\n  metric usage = promql \"disk_usage\"\n  \
        trigger full: usage > 90 -> level 1\n  \
        level 1 {\n    step shell \"while [ ! -f go-${labels.instance} ]; do sleep 0.05; done\"\n  }\n}\n";

    fn series(i: &str) -> Labels {
        Labels::from_pairs([("instance", i)])
    }

    fn fired(i: &str) -> FiredLevel {
        FiredLevel { runbook: "disk".into(), level: 1, trigger: "full".into(), series: series(i), labels: series(i) }
    }

    /// A watch state with `disk` loaded from `dir` (level 1 at `max parallel 1`), its trigger firing for
    /// `firing`.
    fn watching(dir: &std::path::Path, firing: &[&str]) -> Arc<WatchState> {
        let store = Arc::new(StateDir::new(dir.join("state")));
        let s = Arc::new(WatchState::new(Vec::new(), store, "http://127.0.0.1:9".into(), None));
        let plan = crate::compile(BOOK).plan.unwrap();
        assert_eq!(plan.levels[0].max_parallel, 1);
        let mut lt = LiveTrigger::new(&plan.triggers[0]);
        let keys: Vec<Labels> = firing.iter().map(|i| series(i)).collect();
        lt.machines.observe(0, Some(&keys), &mut Vec::new());
        assert_eq!(lt.state(), TriggerState::Firing);
        let path = dir.join("disk.runbook");
        let book = WatchedRunbook {
            path: path.clone(),
            text: Some(BOOK.into()),
            plan: Some(Arc::new(plan)),
            triggers: vec![lt],
            last_reload: ReloadStatus { ok: true, at: 0, error: None },
            next_due_ms: i64::MAX,
            saved: false,
        };
        lock(&s.runbooks).insert(path, book);
        s
    }

    fn waiting(s: &WatchState) -> Vec<String> {
        lock(&s.waiting).values().flatten().map(|w| w.labels.to_string()).collect()
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn a_series_waits_for_room_in_its_level_first_come_first_served() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let s = watching(d, &["a", "b"]);
        s.enqueue(vec![fired("a"), fired("b")], 0);
        s.enqueue(vec![fired("b")], 1);
        s.start_waiting();
        assert_eq!(waiting(&s), [r#"{instance="b"}"#], "a started, b waits (once)");
        assert_eq!(lock(&s.running).len(), 1);
        // Still full: b keeps its place.
        s.start_waiting();
        assert_eq!(waiting(&s), [r#"{instance="b"}"#]);
        std::fs::write(d.join("go-a"), "").unwrap();
        wait_for("a's run to end", || lock(&s.running).is_empty());
        s.start_waiting();
        assert!(waiting(&s).is_empty());
        let running: Vec<Labels> = lock(&s.running).keys().map(|(_, l)| l.clone()).collect();
        assert_eq!(running, [series("b")]);
        std::fs::write(d.join("go-b"), "").unwrap();
        wait_for("b's run to end", || lock(&s.running).is_empty());
        for h in lock(&s.run_threads).drain(..) {
            let _ = h.join();
        }
    }

    #[test]
    fn a_waiting_series_whose_trigger_stopped_firing_for_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let s = watching(d, &["a"]);
        s.enqueue(vec![fired("b")], 0);
        s.start_waiting();
        assert!(waiting(&s).is_empty());
        assert!(lock(&s.running).is_empty(), "nothing started");
    }
}
