//! Running every trigger of a plan over recorded series: evaluations at `start + k * interval` up to
//! `end`, each trigger through its own [`TriggerMachine`], giving the transitions in time order.

use serde::Serialize;

use super::compiled::CompiledCondition;
use super::trigger::{Transition, TriggerMachine, TriggerState};
use super::version::PromVersion;
use crate::plan::{Plan, Trigger};
use crate::source::SeriesSet;

/// A trigger changing state at an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransitionRecord {
    pub t_ms: i64,
    pub trigger: String,
    /// The state before.
    pub from: TriggerState,
    /// The state after.
    pub state: TriggerState,
    /// The left-hand side of the trigger's first comparison at `t_ms`, for display.
    pub value: Option<f64>,
}

/// The evaluation times `start, start + interval, ...` that are `<= end` (none if `interval` is 0).
pub fn evaluation_times(start_ms: i64, end_ms: i64, interval_ms: u64) -> impl Iterator<Item = i64> {
    let step = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let first = (step > 0 && start_ms <= end_ms).then_some(start_ms);
    std::iter::successors(first, move |t| t.checked_add(step).filter(|n| *n <= end_ms))
}

/// Runs one trigger over the series as Prometheus `version` would, calling `on_transition` for each change
/// with the compiled condition (for values to display).
pub fn run_trigger<'s>(
    trigger: &Trigger,
    series: &'s SeriesSet,
    times: impl Iterator<Item = i64>,
    version: PromVersion,
    mut on_transition: impl FnMut(&CompiledCondition<'s>, Transition),
) {
    let mut condition = CompiledCondition::compile(&trigger.condition, series, version);
    let mut machine = TriggerMachine::new(trigger);
    for t in times {
        let holds = condition.eval_forward(t);
        if let Some(transition) = machine.observe(t, Some(holds)) {
            on_transition(&condition, transition);
        }
    }
}

/// Every transition of every trigger of `plan` over `series` as Prometheus `version` would evaluate them,
/// ordered by time, then by the triggers' order in the plan.
pub fn evaluate_triggers(
    plan: &Plan,
    series: &SeriesSet,
    start_ms: i64,
    end_ms: i64,
    interval_ms: u64,
    version: PromVersion,
) -> Vec<TransitionRecord> {
    let mut out = Vec::new();
    for (index, trigger) in plan.triggers.iter().enumerate() {
        let times = evaluation_times(start_ms, end_ms, interval_ms);
        run_trigger(trigger, series, times, version, |condition, tr| {
            let record = TransitionRecord {
                t_ms: tr.t_ms,
                trigger: trigger.name.clone(),
                from: tr.from,
                state: tr.to,
                value: condition.display_value_at(tr.t_ms),
            };
            out.push((index, record));
        });
    }
    out.sort_by_key(|(index, r)| (r.t_ms, *index));
    out.into_iter().map(|(_, r)| r).collect()
}
