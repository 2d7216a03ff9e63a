//! One evaluation of the runbooks that are due: their distinct queries asked concurrently (`queries`), each
//! trigger's condition evaluated by `eval` on what came back, per series, and fed to its
//! [`SeriesMachines`](crate::eval::SeriesMachines) (one machine per label set); then, per series that turned
//! firing, a notification-only trigger notifies its channel and any other trigger queues a run of its level
//! for the series' labels, and the queued series start as their levels have room (`start.rs`).
//!
//! INVARIANT: a trigger whose query failed, or whose condition could not be evaluated, observes "no
//! answer" (every machine keeps its state), never "false".

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::metrics::labels;
use super::queries::{self, QuerySpan};
use super::state::{LiveTrigger, WatchState, lock, log};
use crate::eval::{CompiledCondition, Evaluation, TriggerState};
use crate::plan::{Bindings, Labels, NoData, Plan, Target, Template};
use crate::prometheus::Limits;
use crate::source::{Series, SeriesSet};

/// Prometheus queries in flight at once during one evaluation.
const QUERY_CONCURRENCY: usize = 16;
/// How long a notification-only trigger's webhook may take before it is given up (and logged).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// What each distinct query gave: its series (each with its labels), or why there is none.
type QueryResults = BTreeMap<String, Result<Vec<Series>, String>>;

/// A series of a trigger that turned firing and starts a level.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct FiredLevel {
    pub(super) runbook: String,
    pub(super) level: u32,
    pub(super) trigger: String,
    /// The series (the trigger's machine key).
    pub(super) series: Labels,
    /// The labels its run carries: the series' with the trigger's `labels { }` (which win).
    pub(super) labels: Labels,
}

/// A series of a notification-only trigger that turned firing: its text and its channel's URL (`None` for
/// a `log` channel, whose notices go to the engine's log).
#[derive(Debug)]
struct Notice {
    runbook: String,
    trigger: String,
    url: Option<String>,
    text: String,
}

/// What one evaluation's trigger transitions call for, done once the runbooks' lock is released.
#[derive(Default, Debug)]
struct Consequences {
    fired: Vec<FiredLevel>,
    notices: Vec<Notice>,
}

impl WatchState {
    /// One evaluation of every runbook due at `t`: the distinct queries fetched concurrently, each trigger
    /// fed, its state saved (`persist`), then the notices sent and the levels started.
    pub async fn evaluate_due(self: &Arc<Self>, client: &reqwest::Client, t: i64, limits: &Limits) {
        let due = self.take_due(t);
        if due.is_empty() {
            return;
        }
        let began = Instant::now();
        let results = self.fetch_queries(client, &due, t, limits).await;
        let consequences = self.feed_triggers(&due, &results, t);
        self.metrics.evaluation_duration.observe(began.elapsed().as_secs_f64());
        let evaluated: Vec<String> = due.iter().map(|(_, plan)| plan.runbook.clone()).collect();
        let snapshots = self.snapshots(&evaluated, t);
        self.save_snapshots(snapshots).await;
        send_notices(client, consequences.notices).await;
        self.enqueue(consequences.fired, t);
        self.start_waiting();
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

    /// One trigger's evaluation: its machines observe the series for which the condition holds (or "no
    /// answer" when a metric it reads failed or the evaluation failed; every series dropped when they are
    /// more than `max series`), each transition is logged, and each series turning firing adds to `out`.
    fn feed_trigger(
        &self,
        plan: &Plan,
        lt: &mut LiveTrigger,
        set: &SeriesSet,
        failed: &HashSet<&str>,
        t: i64,
        out: &mut Consequences,
    ) {
        let clear_metrics = lt.trigger.clear_when.iter().flat_map(|w| w.metrics.iter());
        let answered = !lt.trigger.metrics.iter().chain(clear_metrics).any(|m| failed.contains(m.as_str()));
        let shapes = crate::plan::Shapes::new(&plan.metrics);
        let compiled = CompiledCondition::compile_trigger(&lt.trigger, &shapes, set, self.prom_version());
        let of_trigger = labels(&[("runbook", &plan.runbook), ("trigger", &lt.trigger.name)]);
        let hits = if answered {
            match compiled.hits_at(t).and_then(|hits| Ok((hits, compiled.clear_hits_at(t)?))) {
                Ok(hits) => Some(hits),
                Err(e) => {
                    self.metrics.evaluation_errors.get_or_create(&of_trigger).inc();
                    lt.errors += 1;
                    let e = e.to_string();
                    if lt.last_error.as_deref() != Some(e.as_str()) {
                        log(&format!("trigger `{}` of `{}` cannot be evaluated: {e}", lt.trigger.name, plan.runbook));
                    }
                    lt.last_error = Some(e);
                    None
                }
            }
        } else {
            None
        };
        let mut transitions = Vec::new();
        let mut ids_of: HashMap<Labels, u32> = HashMap::new();
        if let Some((hits, clear_hits)) = hits {
            lt.last_error = None;
            if hits.len() > plan.max_series as usize {
                if lt.over_limit.is_none() {
                    log(&format!(
                        "trigger `{}` of `{}` holds for {} series, more than `max series {}`: every series is dropped",
                        lt.trigger.name,
                        plan.runbook,
                        hits.len(),
                        plan.max_series
                    ));
                }
                lt.over_limit = Some(hits.len());
                self.metrics.series_limit_exceeded.get_or_create(&of_trigger).inc();
                lt.machines.clear(t, &mut transitions);
            } else {
                lt.over_limit = None;
                let keys: Vec<Labels> = hits.iter().map(|h| compiled.labels(h.series).clone()).collect();
                ids_of.extend(keys.iter().cloned().zip(hits.iter().map(|h| h.series)));
                let cleared: HashSet<&Labels> = clear_hits.iter().map(|h| compiled.labels(h.series)).collect();
                let empty = Labels::empty();
                let e = Evaluation {
                    holds: &keys,
                    no_data: lt.trigger.on_no_data != NoData::Clear && !compiled.has_data_at(t),
                    cleared: |k: &Labels| cleared.contains(k),
                    no_data_series: &empty,
                };
                lt.machines.observe_with(t, e, &mut transitions);
            }
        }
        // One order whatever the machines' map did: runs queue, and the log reads, by labels.
        transitions.sort_by(|a, b| a.0.cmp(&b.0));
        for (series, tr) in transitions {
            if tr.to == TriggerState::Inactive {
                lt.since.remove(&series);
            } else {
                lt.since.insert(series.clone(), t);
            }
            let shown = if series.is_empty() { String::new() } else { format!(" for {series}") };
            log(&format!("trigger `{}` of `{}`{shown}: {} -> {}", lt.trigger.name, plan.runbook, tr.from, tr.to));
            if tr.to != TriggerState::Firing {
                continue;
            }
            let run_labels = series.with(&lt.trigger.labels);
            match &lt.trigger.target {
                Target::Level { level } => out.fired.push(FiredLevel {
                    runbook: plan.runbook.clone(),
                    level: *level,
                    trigger: lt.trigger.name.clone(),
                    series,
                    labels: run_labels,
                }),
                Target::Notify { channel, message } => {
                    let value = ids_of.get(&series).and_then(|id| compiled.display_value_at(t, *id));
                    let (url, text) = render_notification(plan, &lt.trigger.name, channel, message, value, &run_labels);
                    out.notices.push(Notice {
                        runbook: plan.runbook.clone(),
                        trigger: lt.trigger.name.clone(),
                        url,
                        text,
                    });
                }
            }
        }
        let (pending, firing) = lt.counts();
        for (state, n) in [("pending", pending), ("firing", firing)] {
            let mut l = of_trigger.clone();
            l.push(("state".to_string(), state.to_string()));
            self.metrics.trigger_series.get_or_create(&l).set(i64::try_from(n).unwrap_or(i64::MAX));
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
/// `${value}` (the condition's value for the series at the evaluation), `${labels.NAME}` (the series' with
/// the trigger's) and `${env.NAME}` are. The one place `watch` binds template variables.
fn render_notification(
    plan: &Plan,
    trigger: &str,
    channel: &str,
    message: &Template,
    value: Option<f64>,
    labels: &Labels,
) -> (Option<String>, String) {
    let bindings = Bindings {
        runbook: Some(plan.runbook.clone()),
        trigger: Some(trigger.to_string()),
        value: value.map(crate::plan::format_number),
        labels: labels.clone(),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use crate::runs::StateDir;

    const BOOK: &str = "runbook disk {\n  metric usage = promql \"disk_usage\"\n  \
        trigger full: usage > 90 -> level 1\n  \
        channel ops webhook \"http://127.0.0.1:9/\"\n  trigger note: usage > 90 -> notify ops \"${labels.instance} at ${value}\"\n  \
        level 1 {\n    step shell \"echo ${labels.instance}\"\n  }\n}\n";

    fn state() -> WatchState {
        WatchState::new(
            Vec::new(),
            std::sync::Arc::new(StateDir::new("/nonexistent")),
            "http://127.0.0.1:9".into(),
            None,
        )
    }

    /// `disk_usage` for instances a, b and c, each one sample at 0 with the value given.
    fn usage(values: &[(&str, f64)]) -> SeriesSet {
        let mut set = SeriesSet::default();
        for (instance, v) in values {
            let labels = Labels::from_pairs([("instance", *instance)]);
            set.insert("usage", Series { labels, t_ms: vec![0], v: vec![*v] });
        }
        set
    }

    fn feed(s: &WatchState, plan: &Plan, lt: &mut LiveTrigger, set: &SeriesSet, t: i64) -> Consequences {
        let mut out = Consequences::default();
        s.feed_trigger(plan, lt, set, &HashSet::new(), t, &mut out);
        out
    }

    #[test]
    fn each_series_turning_firing_starts_its_own_run_with_its_labels() {
        let s = state();
        let plan = crate::compile(BOOK).plan.unwrap();
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        let out = feed(&s, &plan, &mut full, &usage(&[("a", 10.0), ("b", 95.0), ("c", 20.0)]), 1000);
        let b = Labels::from_pairs([("instance", "b")]);
        assert_eq!(
            out.fired,
            [FiredLevel {
                runbook: "disk".into(),
                level: 1,
                trigger: "full".into(),
                series: b.clone(),
                labels: b.clone()
            }]
        );
        assert!(full.fires_for(&b));
        // b keeps firing: no second run; a crosses too: its run alone.
        let out = feed(&s, &plan, &mut full, &usage(&[("a", 99.0), ("b", 95.0), ("c", 20.0)]), 2000);
        assert_eq!(out.fired.iter().map(|f| f.labels.to_string()).collect::<Vec<_>>(), [r#"{instance="a"}"#]);
        assert_eq!(full.counts(), (0, 2));
        let m = s.metrics.render();
        assert!(m.contains(r#"ripcord_trigger_series{runbook="disk",trigger="full",state="firing"} 2"#), "{m}");
        // The notification-only trigger notifies per series, with the series' labels and value.
        let mut note = LiveTrigger::new(&plan.triggers[1]);
        let out = feed(&s, &plan, &mut note, &usage(&[("a", 10.0), ("b", 95.0)]), 1000);
        assert_eq!(out.notices.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), ["b at 95"]);
    }

    #[test]
    fn over_max_series_every_series_is_dropped_and_counted() {
        let s = state();
        let mut plan = crate::compile(BOOK).plan.unwrap();
        plan.max_series = 2;
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        feed(&s, &plan, &mut full, &usage(&[("a", 95.0)]), 1000);
        assert_eq!(full.counts(), (0, 1));
        let out = feed(&s, &plan, &mut full, &usage(&[("a", 95.0), ("b", 95.0), ("c", 95.0)]), 2000);
        assert!(out.fired.is_empty());
        assert_eq!((full.counts(), full.over_limit), ((0, 0), Some(3)));
        let m = s.metrics.render();
        assert!(m.contains(r#"ripcord_trigger_series_limit_exceeded_total{runbook="disk",trigger="full"} 1"#), "{m}");
        // Back under the limit, the series start over.
        let out = feed(&s, &plan, &mut full, &usage(&[("a", 95.0)]), 3000);
        assert_eq!(out.fired.len(), 1);
        assert_eq!(full.over_limit, None);
    }

    #[test]
    fn a_failed_query_keeps_every_series_state() {
        let s = state();
        let plan = crate::compile(BOOK).plan.unwrap();
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        feed(&s, &plan, &mut full, &usage(&[("a", 95.0)]), 1000);
        let mut out = Consequences::default();
        let failed: HashSet<&str> = ["usage"].into_iter().collect();
        s.feed_trigger(&plan, &mut full, &SeriesSet::default(), &failed, 2000, &mut out);
        assert_eq!(full.counts(), (0, 1));
    }

    #[test]
    fn no_data_keeps_or_clears_as_the_trigger_says_and_clear_when_is_read_per_series() {
        let s = state();
        let mut plan = crate::compile(BOOK).plan.unwrap();
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        feed(&s, &plan, &mut full, &usage(&[("a", 95.0)]), 1000);
        // No series of `usage` at all: by default the series resolves.
        feed(&s, &plan, &mut full, &SeriesSet::default(), 2000);
        assert_eq!(full.counts(), (0, 0));
        plan.triggers[0].on_no_data = crate::plan::NoData::Keep;
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        feed(&s, &plan, &mut full, &usage(&[("a", 95.0)]), 1000);
        feed(&s, &plan, &mut full, &SeriesSet::default(), 2000);
        assert_eq!(full.counts(), (0, 1));
        // `clear when usage < 50`: a firing series below 90 stays firing until it is below 50.
        let condition =
            crate::compile("runbook r {\n  trigger t: usage < 50 -> level 1\n  level 1 { step shell \"x\" }\n}\n")
                .plan
                .unwrap()
                .triggers[0]
                .condition
                .clone();
        plan.triggers[0].on_no_data = crate::plan::NoData::Clear;
        plan.triggers[0].clear_when = Some(crate::plan::ClearWhen {
            condition_text: condition.to_string(),
            condition,
            metrics: vec!["usage".into()],
        });
        let mut full = LiveTrigger::new(&plan.triggers[0]);
        feed(&s, &plan, &mut full, &usage(&[("a", 95.0), ("b", 95.0)]), 1000);
        feed(&s, &plan, &mut full, &usage(&[("a", 70.0), ("b", 10.0)]), 2000);
        let a = Labels::from_pairs([("instance", "a")]);
        assert_eq!((full.fires_for(&a), full.counts()), (true, (0, 1)));
    }
}
