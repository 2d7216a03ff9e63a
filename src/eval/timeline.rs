//! Running every trigger of a plan over recorded series: evaluations at `start + k * interval` up to
//! `end`, each series of each trigger through its own [`TriggerMachine`](super::TriggerMachine) (one
//! [`SeriesMachines`] per trigger), giving the transitions in time order, and the evaluations that
//! failed (a match PromQL refuses, more series than `max series`).

use serde::Serialize;

use super::compiled::{CompiledCondition, EvalError};
use super::trigger::{Evaluation, SeriesMachines, Transition, TriggerState};
use super::version::PromVersion;
use crate::plan::{Labels, NoData, Plan, Shapes, Trigger};
use crate::source::SeriesSet;

/// A trigger's series changing state at an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransitionRecord {
    pub t_ms: i64,
    pub trigger: String,
    /// The series' labels (empty for a trigger of one series).
    pub labels: Labels,
    /// The state before.
    pub from: TriggerState,
    /// The state after.
    pub state: TriggerState,
    /// The left-hand side of the trigger's first comparison at `t_ms` for this series, for display.
    pub value: Option<f64>,
}

/// A trigger whose evaluations failed from `t_ms` (for `count` evaluations in a row, with one message).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureRecord {
    pub t_ms: i64,
    pub last_ms: i64,
    pub count: u64,
    pub trigger: String,
    pub message: String,
}

/// The evaluation times `start, start + interval, ...` that are `<= end` (none if `interval` is 0).
pub fn evaluation_times(start_ms: i64, end_ms: i64, interval_ms: u64) -> impl Iterator<Item = i64> {
    let step = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let first = (step > 0 && start_ms <= end_ms).then_some(start_ms);
    std::iter::successors(first, move |t| t.checked_add(step).filter(|n| *n <= end_ms))
}

/// What one evaluation of a trigger gave.
pub enum Observed<'a> {
    Transitions(&'a [(u32, Transition)]),
    Failed(String),
}

/// Runs one trigger over the series as Prometheus `version` would, calling `on_event` with the compiled
/// condition (for labels and values to display) after each evaluation that changed something or failed.
pub fn run_trigger<'s>(
    trigger: &Trigger,
    shapes: &Shapes<'_>,
    max_series: u32,
    series: &'s SeriesSet,
    times: impl Iterator<Item = i64>,
    version: PromVersion,
    mut on_event: impl FnMut(&CompiledCondition<'s>, i64, Observed<'_>),
) {
    let mut condition = CompiledCondition::compile_trigger(trigger, shapes, series, version);
    let mut machines: SeriesMachines<u32> = SeriesMachines::new(trigger);
    let mut keys: Vec<u32> = Vec::new();
    let mut out: Vec<(u32, Transition)> = Vec::new();
    let mut cleared: Vec<u32> = Vec::new();
    let no_data_series = condition.no_data_series();
    for t in times {
        out.clear();
        let failure = match condition.eval_forward(t) {
            Ok(hits) if hits.len() > max_series as usize => {
                let n = hits.len();
                machines.clear(t, &mut out);
                Some(format!(
                    "{n} series hold, more than `max series {max_series}`; the trigger's series are dropped until fewer hold"
                ))
            }
            Ok(hits) => {
                keys.clear();
                keys.extend(hits.iter().map(|h| h.series));
                let no_data = trigger.on_no_data != NoData::Clear && !condition.has_data_at(t);
                match condition.clear_forward(t) {
                    Ok(clear) => {
                        cleared.clear();
                        cleared.extend(clear.iter().map(|h| h.series));
                        cleared.sort_unstable();
                        let e = Evaluation {
                            holds: &keys,
                            no_data,
                            cleared: |id: &u32| cleared.binary_search(id).is_ok(),
                            no_data_series: &no_data_series,
                        };
                        machines.observe_with(t, e, &mut out);
                        None
                    }
                    Err(EvalError(message)) => Some(message),
                }
            }
            Err(EvalError(message)) => Some(message),
        };
        if !out.is_empty() {
            out.sort_by_key(|(id, _)| condition.labels(*id).clone());
            on_event(&condition, t, Observed::Transitions(&out));
        }
        if let Some(message) = failure {
            on_event(&condition, t, Observed::Failed(message));
        }
    }
}

/// Every transition of every trigger of `plan` over `series` as Prometheus `version` would evaluate them,
/// ordered by time, then by the triggers' order in the plan, then by labels; and the failed evaluations,
/// each run of one message reported once.
pub fn evaluate_triggers(
    plan: &Plan,
    series: &SeriesSet,
    start_ms: i64,
    end_ms: i64,
    interval_ms: u64,
    version: PromVersion,
) -> (Vec<TransitionRecord>, Vec<FailureRecord>) {
    let shapes = Shapes::new(&plan.metrics);
    let mut out = Vec::new();
    let mut failures: Vec<FailureRecord> = Vec::new();
    for (index, trigger) in plan.triggers.iter().enumerate() {
        let times = evaluation_times(start_ms, end_ms, interval_ms);
        let mut open: Option<FailureRecord> = None;
        run_trigger(
            trigger,
            &shapes,
            plan.max_series,
            series,
            times,
            version,
            |condition, t, observed| match observed {
                Observed::Transitions(list) => {
                    for (id, tr) in list {
                        let record = TransitionRecord {
                            t_ms: tr.t_ms,
                            trigger: trigger.name.clone(),
                            labels: condition.labels(*id).clone(),
                            from: tr.from,
                            state: tr.to,
                            value: condition.display_value_at(tr.t_ms, *id),
                        };
                        out.push((index, record));
                    }
                }
                Observed::Failed(message) => match open.as_mut() {
                    Some(f) if f.message == message && t - f.last_ms <= interval_ms as i64 => {
                        f.last_ms = t;
                        f.count += 1;
                    }
                    _ => {
                        failures.extend(open.take());
                        open = Some(FailureRecord {
                            t_ms: t,
                            last_ms: t,
                            count: 1,
                            trigger: trigger.name.clone(),
                            message,
                        });
                    }
                },
            },
        );
        failures.extend(open);
    }
    out.sort_by_key(|(i, r)| (r.t_ms, *i));
    failures.sort_by_key(|f| f.t_ms);
    (out.into_iter().map(|(_, r)| r).collect(), failures)
}
