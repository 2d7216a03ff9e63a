//! Running every trigger of a plan over recorded series: evaluations at `start + k * interval` up to
//! `end`, each series of each trigger through its own [`TriggerMachine`](super::TriggerMachine) (one
//! [`SeriesMachines`] per trigger), giving the transitions in time order, and the evaluations that
//! failed (a match PromQL refuses, more series than `max series`).

use std::collections::HashMap;

use serde::Serialize;

use super::compiled::{CompiledCondition, EvalError};
use super::trigger::{Evaluation, SeriesMachines, Transition, TriggerState};
use super::version::PromVersion;
use crate::plan::{Labels, NoData, Plan, Shapes};
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
pub fn evaluation_times(start_ms: i64, end_ms: i64, interval_ms: u64) -> impl Iterator<Item = i64> + Clone {
    let step = i64::try_from(interval_ms).unwrap_or(i64::MAX);
    let first = (step > 0 && start_ms <= end_ms).then_some(start_ms);
    std::iter::successors(first, move |t| t.checked_add(step).filter(|n| *n <= end_ms))
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
    let mut triggers = Triggers::new(plan, interval_ms, version);
    triggers.advance(series, evaluation_times(start_ms, end_ms, interval_ms));
    triggers.finish()
}

/// Every trigger of a plan evaluated over series that arrive in pieces in time order (the streaming window
/// of `simulate`, or one whole series set): each [`advance`](Self::advance) evaluates some more times over
/// the samples at hand, and each trigger's machines carry over from one piece to the next. A series is known
/// by its labels across pieces (its id in one compiled condition is that piece's), so the result does not
/// depend on how the samples were cut, as long as each piece holds every sample its times can reach.
pub struct Triggers<'p> {
    plan: &'p Plan,
    shapes: Shapes<'p>,
    interval_ms: u64,
    version: PromVersion,
    each: Vec<TriggerRun>,
    out: Vec<(usize, TransitionRecord)>,
    failures: Vec<(usize, FailureRecord)>,
}

/// One trigger's state between pieces.
struct TriggerRun {
    machines: SeriesMachines<u32>,
    /// Stable series ids: by labels, and back.
    ids: HashMap<Labels, u32>,
    labels: Vec<Labels>,
    open: Option<FailureRecord>,
}

impl TriggerRun {
    fn stable(&mut self, labels: &Labels) -> u32 {
        if let Some(&id) = self.ids.get(labels) {
            return id;
        }
        let id = u32::try_from(self.labels.len()).unwrap_or(u32::MAX);
        self.ids.insert(labels.clone(), id);
        self.labels.push(labels.clone());
        id
    }
}

impl<'p> Triggers<'p> {
    pub fn new(plan: &'p Plan, interval_ms: u64, version: PromVersion) -> Self {
        let each = plan
            .triggers
            .iter()
            .map(|t| TriggerRun {
                machines: SeriesMachines::new(t),
                ids: HashMap::new(),
                labels: Vec::new(),
                open: None,
            })
            .collect();
        Triggers {
            plan,
            shapes: Shapes::new(&plan.metrics),
            interval_ms,
            version,
            each,
            out: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Evaluates every trigger at `times` (increasing, each later than the last piece's) over `series`.
    pub fn advance(&mut self, series: &SeriesSet, times: impl Iterator<Item = i64> + Clone) {
        let interval_ms = self.interval_ms;
        for (index, trigger) in self.plan.triggers.iter().enumerate() {
            let Some(run) = self.each.get_mut(index) else { continue };
            let mut condition = CompiledCondition::compile_trigger(trigger, &self.shapes, series, self.version);
            let local: Vec<u32> = (0..condition.label_sets())
                .map(|id| run.stable(condition.labels(u32::try_from(id).unwrap_or(u32::MAX))))
                .collect();
            let to_stable = |id: u32| local.get(id as usize).copied().unwrap_or(u32::MAX);
            let mut to_local = vec![u32::MAX; run.labels.len()];
            for (l, &s) in local.iter().enumerate() {
                if let Some(slot) = to_local.get_mut(s as usize) {
                    *slot = u32::try_from(l).unwrap_or(u32::MAX);
                }
            }
            let no_data_series = to_stable(condition.no_data_series());
            let mut keys: Vec<u32> = Vec::new();
            let mut cleared: Vec<u32> = Vec::new();
            let mut changes: Vec<(u32, Transition)> = Vec::new();
            for t in times.clone() {
                changes.clear();
                let failure = match condition.eval_forward(t) {
                    Ok(hits) if hits.len() > self.plan.max_series as usize => {
                        let n = hits.len();
                        run.machines.clear(t, &mut changes);
                        Some(format!(
                            "{n} series hold, more than `max series {}`; the trigger's series are dropped until fewer hold",
                            self.plan.max_series
                        ))
                    }
                    Ok(hits) => {
                        keys.clear();
                        keys.extend(hits.iter().map(|h| to_stable(h.series)));
                        let no_data = trigger.on_no_data != NoData::Clear && !condition.has_data_at(t);
                        match condition.clear_forward(t) {
                            Ok(clear) => {
                                cleared.clear();
                                cleared.extend(clear.iter().map(|h| to_stable(h.series)));
                                cleared.sort_unstable();
                                let e = Evaluation {
                                    holds: &keys,
                                    no_data,
                                    cleared: |id: &u32| cleared.binary_search(id).is_ok(),
                                    no_data_series: &no_data_series,
                                };
                                run.machines.observe_with(t, e, &mut changes);
                                None
                            }
                            Err(EvalError(message)) => Some(message),
                        }
                    }
                    Err(EvalError(message)) => Some(message),
                };
                if !changes.is_empty() {
                    let labels = &run.labels;
                    changes.sort_by(|(a, _), (b, _)| labels.get(*a as usize).cmp(&labels.get(*b as usize)));
                    for (id, tr) in &changes {
                        let local_id = to_local.get(*id as usize).copied().unwrap_or(u32::MAX);
                        let value = condition.display_value_at(tr.t_ms, local_id);
                        let record = TransitionRecord {
                            t_ms: tr.t_ms,
                            trigger: trigger.name.clone(),
                            labels: run.labels.get(*id as usize).cloned().unwrap_or_default(),
                            from: tr.from,
                            state: tr.to,
                            value,
                        };
                        self.out.push((index, record));
                    }
                }
                if let Some(message) = failure {
                    match run.open.as_mut() {
                        Some(f) if f.message == message && t - f.last_ms <= interval_ms as i64 => {
                            f.last_ms = t;
                            f.count += 1;
                        }
                        _ => {
                            if let Some(done) = run.open.take() {
                                self.failures.push((index, done));
                            }
                            run.open = Some(FailureRecord {
                                t_ms: t,
                                last_ms: t,
                                count: 1,
                                trigger: trigger.name.clone(),
                                message,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The transitions and failures, in order (see [`evaluate_triggers`]).
    pub fn finish(mut self) -> (Vec<TransitionRecord>, Vec<FailureRecord>) {
        for (index, run) in self.each.iter_mut().enumerate() {
            if let Some(open) = run.open.take() {
                self.failures.push((index, open));
            }
        }
        self.out.sort_by_key(|(i, r)| (r.t_ms, *i));
        self.failures.sort_by_key(|(i, f)| (f.t_ms, *i));
        (self.out.into_iter().map(|(_, r)| r).collect(), self.failures.into_iter().map(|(_, f)| f).collect())
    }
}
