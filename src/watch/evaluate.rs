//! One evaluation of the runbooks that are due: their distinct queries asked concurrently (`queries`), each
//! trigger's condition evaluated by `eval` on what came back and fed to its
//! [`TriggerMachine`](crate::eval::TriggerMachine); then the notification-only triggers that turned firing
//! notify their channel and the other firing triggers start their level (through `interpret::start`, the
//! same journal, locks, approvals and cooldowns as `ripcord run`).
//!
//! INVARIANT: a trigger whose query failed observes "no answer" (the machine keeps its state), never
//! "false".

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::metrics::labels;
use super::queries::{self, QuerySpan};
use super::state::{LiveTrigger, StartResult, WatchState, lock, log};
use crate::eval::{CompiledCondition, TriggerState};
use crate::interpret::{self, Context};
use crate::plan::{Bindings, Plan, Target, Template};
use crate::prometheus::Limits;
use crate::runs::{self, RunStore, now_ms};
use crate::source::{Series, SeriesSet};

/// Prometheus queries in flight at once during one evaluation.
const QUERY_CONCURRENCY: usize = 16;
/// How long a notification-only trigger's webhook may take before it is given up (and logged).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// What each distinct query gave: its series (each with its labels), or why there is none.
type QueryResults = BTreeMap<String, Result<Vec<Series>, String>>;

/// A trigger that turned firing and starts a level.
struct FiredLevel {
    runbook: String,
    level: u32,
    trigger: String,
}

/// A notification-only trigger that turned firing: its text and its channel's URL (`None` for a `log`
/// channel, whose notices go to the engine's log).
struct Notice {
    runbook: String,
    trigger: String,
    url: Option<String>,
    text: String,
}

/// What one evaluation's trigger transitions call for, done once the runbooks' lock is released.
#[derive(Default)]
struct Consequences {
    fired: Vec<FiredLevel>,
    notices: Vec<Notice>,
}

impl WatchState {
    /// One evaluation of every runbook due at `t`: the distinct queries fetched concurrently, each trigger
    /// fed, then the notices sent and the levels started.
    pub async fn evaluate_due(self: &Arc<Self>, client: &reqwest::Client, t: i64, limits: &Limits) {
        let due = self.take_due(t);
        if due.is_empty() {
            return;
        }
        let began = Instant::now();
        let results = self.fetch_queries(client, &due, t, limits).await;
        let consequences = self.feed_triggers(&due, &results, t);
        self.metrics.evaluation_duration.observe(began.elapsed().as_secs_f64());
        send_notices(client, consequences.notices).await;
        for FiredLevel { runbook, level, trigger } in consequences.fired {
            let result = self.start_level(&runbook, level, "ripcord-watch", &format!("trigger {trigger} fired"));
            if !matches!(result, StartResult::Started(_)) {
                log(&format!("trigger `{trigger}` fired but level {level} of `{runbook}` did not start: {result:?}"));
            }
        }
    }

    /// The compiled runbooks due at `t`, each moved on to its next evaluation time.
    fn take_due(&self, t: i64) -> Vec<(PathBuf, Arc<Plan>)> {
        let mut books = lock(&self.runbooks);
        books
            .values_mut()
            .filter(|l| l.next_due_ms <= t)
            .filter_map(|l| {
                let plan = l.plan.clone()?;
                let step = i64::try_from(plan.evaluation_interval_ms.max(100)).unwrap_or(1000);
                l.next_due_ms = if l.next_due_ms + step > t { l.next_due_ms + step } else { t + step };
                Some((l.path.clone(), plan))
            })
            .collect()
    }

    /// Every distinct query of the due runbooks, asked concurrently (at most [`QUERY_CONCURRENCY`] at a
    /// time, so that many runbooks do not flood Prometheus). Failures are counted and logged.
    async fn fetch_queries(
        &self,
        client: &reqwest::Client,
        due: &[(PathBuf, Arc<Plan>)],
        t: i64,
        limits: &Limits,
    ) -> QueryResults {
        let mut spans: BTreeMap<String, QuerySpan> = BTreeMap::new();
        for (_, plan) in due {
            queries::collect(plan, &mut spans);
        }
        let fetches = spans.into_iter().map(|(q, span)| {
            let (client, base) = (client.clone(), self.prometheus.clone());
            async move {
                let r = queries::fetch(&client, &base, &q, &span, t, limits).await;
                (q, r)
            }
        });
        let answers: Vec<(String, Result<Vec<Series>, queries::Failure>)> =
            futures_util::stream::iter(fetches).buffer_unordered(QUERY_CONCURRENCY).collect().await;
        let mut results = QueryResults::new();
        for (q, r) in answers {
            let r = r.map_err(|failure| {
                self.metrics.query_errors.inc();
                log(&format!("query `{q}` failed: {}", failure.text));
                if failure.unreachable {
                    // Ask which version answers once it is back: it may have been upgraded meanwhile.
                    lock(&self.version).recheck = true;
                }
                failure.text
            });
            results.insert(q, r);
        }
        results
    }

    /// Feeds every trigger of the due runbooks its condition's answer at `t`.
    fn feed_triggers(&self, due: &[(PathBuf, Arc<Plan>)], results: &QueryResults, t: i64) -> Consequences {
        let mut out = Consequences::default();
        let mut books = lock(&self.runbooks);
        for (path, plan) in due {
            let Some(l) = books.get_mut(path) else { continue };
            let (set, failed) = fetched_series(plan, results);
            for lt in &mut l.triggers {
                self.feed_trigger(plan, lt, &set, &failed, t, &mut out);
            }
            self.metrics.evaluations.get_or_create(&labels(&[("runbook", &plan.runbook)])).inc();
        }
        out
    }

    /// One trigger's evaluation: its machine observes the condition (or "no answer" when a metric it reads
    /// failed), a transition is logged, and turning firing adds to `out`.
    fn feed_trigger(
        &self,
        plan: &Plan,
        lt: &mut LiveTrigger,
        set: &SeriesSet,
        failed: &HashSet<&str>,
        t: i64,
        out: &mut Consequences,
    ) {
        let answered = !lt.trigger.metrics.iter().any(|m| failed.contains(m.as_str()));
        let shapes = crate::plan::Shapes::new(&plan.metrics);
        let compiled = CompiledCondition::compile(&lt.trigger.condition, &shapes, set, self.prom_version());
        let answer = if answered { compiled.eval_at(t).ok() } else { None };
        if let Some(tr) = lt.machine.observe(t, answer) {
            lt.since_ms = (tr.to != TriggerState::Inactive).then_some(t);
            log(&format!("trigger `{}` of `{}`: {} -> {}", lt.trigger.name, plan.runbook, tr.from, tr.to));
            if tr.to == TriggerState::Firing {
                match &lt.trigger.target {
                    Target::Level { level } => out.fired.push(FiredLevel {
                        runbook: plan.runbook.clone(),
                        level: *level,
                        trigger: lt.trigger.name.clone(),
                    }),
                    Target::Notify { channel, message } => {
                        let value = compiled.display_value_at(t, 0);
                        let (url, text) = render_notification(plan, &lt.trigger.name, channel, message, value);
                        out.notices.push(Notice {
                            runbook: plan.runbook.clone(),
                            trigger: lt.trigger.name.clone(),
                            url,
                            text,
                        });
                    }
                }
            }
        }
        let state = match lt.machine.state() {
            TriggerState::Inactive => 0,
            TriggerState::Pending => 1,
            TriggerState::Firing => 2,
        };
        self.metrics
            .trigger_state
            .get_or_create(&labels(&[("runbook", &plan.runbook), ("trigger", &lt.trigger.name)]))
            .set(state);
    }

    /// Starts `level` of the runbook named `runbook` in its own thread, through `interpret::start`.
    pub fn start_level(self: &Arc<Self>, runbook: &str, level: u32, operator: &str, reason: &str) -> StartResult {
        let found = {
            let books = lock(&self.runbooks);
            books
                .values()
                .find_map(|l| l.plan.as_ref().filter(|p| p.runbook == runbook).map(|p| (Arc::clone(p), l.path.clone())))
        };
        let Some((plan, path)) = found else {
            return StartResult::Unknown(format!("no runbook `{runbook}` is watched"));
        };
        let Some(lvl) = plan.level(level) else {
            return StartResult::Unknown(format!("runbook `{runbook}` has no level {level}"));
        };
        if self.stopping.load(Ordering::SeqCst) {
            return StartResult::Busy("watch is shutting down".into());
        }
        // Checked and claimed under one guard, so that a trigger and an API call cannot both start a run.
        let mut running = lock(&self.running);
        if running.contains(runbook) {
            return StartResult::Busy(format!("runbook `{runbook}` is already running"));
        }
        if let Some(holder) = self.state_dir.lock_holder(runbook) {
            return StartResult::Busy(format!("runbook `{runbook}` is already running (run {holder})"));
        }
        if lvl.cooldown_ms > 0
            && let Some(end) = runs::last_level_end(&self.state_dir, runbook, level)
            && now_ms() < end.saturating_add(i64::try_from(lvl.cooldown_ms).unwrap_or(i64::MAX / 2))
        {
            return StartResult::Cooldown(format!("level {level} of `{runbook}` is cooling down"));
        }
        running.insert(runbook.to_string());
        drop(running);
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
            workdir,
            state: self.state_dir.clone(),
            prometheus: Some(self.prometheus.clone()),
            prometheus_version: self.prom_version(),
            max_answer_bytes: self.max_answer_bytes,
            yes: false,
        };
        let me = Arc::clone(self);
        let (name, id) = (runbook.to_string(), run_id.clone());
        let plan = (*plan).clone();
        let step_kinds: BTreeMap<String, &'static str> =
            plan.all_steps().into_iter().map(|s| (s.id.clone(), s.action.kind())).collect();
        let interrupter = self.interrupter.clone();
        let handle = std::thread::spawn(move || {
            let outcome = match interpret::start_with(plan, ctx, level, false, Some(interrupter)) {
                Ok(o) => o.status.word().to_string(),
                Err(e) => {
                    log(&format!("run {id} of `{name}` level {level} could not start: {e}"));
                    "not_started".to_string()
                }
            };
            log(&format!("run {id} of `{name}` level {level}: {outcome}"));
            let lv = level.to_string();
            me.metrics.runs.get_or_create(&labels(&[("runbook", &name), ("level", &lv), ("outcome", &outcome)])).inc();
            me.observe_step_durations(&name, &id, &step_kinds);
            lock(&me.running).remove(&name);
        });
        lock(&self.run_threads).push(handle);
        log(&format!("started run {run_id} of `{runbook}` level {level} ({reason})"));
        StartResult::Started(run_id)
    }

    /// Feeds the step durations of a finished run (from its journal) into `ripcord_step_duration_seconds`.
    fn observe_step_durations(&self, runbook: &str, run_id: &str, kinds: &BTreeMap<String, &'static str>) {
        let Ok(records) = runs::load_run(&self.state_dir, run_id) else { return };
        for r in records {
            if let runs::Event::StepEnd { step, outcome, duration_ms, .. } = r.event {
                let kind = kinds.get(&step).copied().unwrap_or("step");
                let outcome = serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_string));
                let outcome = outcome.unwrap_or_default();
                self.metrics
                    .step_duration
                    .get_or_create(&labels(&[("runbook", runbook), ("kind", kind), ("outcome", &outcome)]))
                    .observe(duration_ms as f64 / 1000.0);
            }
        }
    }
}

/// The series of `plan`'s metrics that were fetched, and the names of those whose query failed (absent
/// from the set).
fn fetched_series<'p>(plan: &'p Plan, results: &QueryResults) -> (SeriesSet, HashSet<&'p str>) {
    let mut set = SeriesSet::default();
    let mut failed: HashSet<&str> = HashSet::new();
    for m in &plan.metrics {
        match m.promql.as_ref().map(|q| results.get(q)) {
            Some(Some(Ok(series))) => {
                for s in series {
                    set.insert(m.name.clone(), s.clone());
                }
            }
            _ => {
                failed.insert(m.name.as_str());
            }
        }
    }
    (set, failed)
}

/// The variable binding of a notification-only trigger: its channel's URL (`None` for a channel without
/// one), where only `${env.NAME}` is bound, and its message's text, where `${trigger}`, `${runbook}`,
/// `${value}` (the condition's value at the evaluation) and `${env.NAME}` are. The one place `watch` binds
/// template variables.
fn render_notification(
    plan: &Plan,
    trigger: &str,
    channel: &str,
    message: &Template,
    value: Option<f64>,
) -> (Option<String>, String) {
    let bindings = Bindings {
        runbook: Some(plan.runbook.clone()),
        trigger: Some(trigger.to_string()),
        value: value.map(crate::plan::format_number),
        ..Bindings::default()
    };
    let text = bindings.render(message);
    // A channel's URL may name only `${env.NAME}`.
    let url = plan
        .channels
        .iter()
        .find(|c| c.name == channel)
        .and_then(|c| c.url.as_ref().map(|u| Bindings::default().render(u)));
    (url, text)
}

/// Sends each notice to its channel's webhook (or the log), logging how it went.
async fn send_notices(client: &reqwest::Client, notices: Vec<Notice>) {
    for Notice { runbook, trigger, url, text } in notices {
        match url {
            None => log(&format!("notify from `{runbook}` trigger `{trigger}`: {text}")),
            Some(url) => match crate::actions::http::post_webhook(client, &url, &text, NOTIFY_TIMEOUT).await {
                Ok(status) if (200..300).contains(&status) => {
                    log(&format!("trigger `{trigger}` of `{runbook}` notified its channel ({status})"))
                }
                Ok(status) => log(&format!("trigger `{trigger}` of `{runbook}`: the webhook answered {status}")),
                Err(e) => log(&format!("trigger `{trigger}` of `{runbook}`: the webhook failed: {e}")),
            },
        }
    }
}
