//! THE trigger state machine, shared by `simulate` and the live `watch`: Prometheus's alerting-rule
//! semantics (rules/alerting.go) for one trigger, which Prometheus 2.42 and 3.5 share (every `for` and
//! `keep_firing_for` fixture in tests/promtool/ is confirmed by both promtools with this one machine).
//!
//! - `for D`: the first true evaluation makes the trigger *pending* (active since then); an evaluation that
//!   is still true with `t - active_since >= D` makes it *firing*; a false one makes it *inactive*. With no
//!   `for` (or `for 0s`) the first true evaluation fires at once (one transition, inactive -> firing).
//! - `for N consecutive`: firing at the Nth true evaluation in a row (pending before); reset by a false one.
//! - `keep firing for D`: a firing trigger whose condition turns false stays firing while
//!   `t - keep_firing_since < D`, where `keep_firing_since` is the first false evaluation; a true evaluation
//!   clears `keep_firing_since` (it stays firing). With D = 0 it resolves at the first false evaluation.
//! - A failed evaluation (no answer, `None`) changes nothing, as when Prometheus's rule query fails.

use serde::{Deserialize, Serialize};

use crate::plan::{Hold, Trigger};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerState {
    #[default]
    Inactive,
    Pending,
    Firing,
}

impl TriggerState {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerState::Inactive => "inactive",
            TriggerState::Pending => "pending",
            TriggerState::Firing => "firing",
        }
    }
}

impl std::fmt::Display for TriggerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of state at an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub t_ms: i64,
    pub from: TriggerState,
    pub to: TriggerState,
}

/// The timers of a trigger, which outlive a reload of the runbook (and may be persisted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerTimers {
    pub state: TriggerState,
    /// When the current run of true evaluations began (Prometheus's `activeAt`); `None` when inactive.
    pub active_since_ms: Option<i64>,
    /// True evaluations in a row.
    pub consecutive: u32,
    /// The first false evaluation while firing under `keep firing for`.
    pub keep_firing_since_ms: Option<i64>,
}

/// One trigger's state, fed one evaluation at a time, in increasing time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerMachine {
    hold: Hold,
    keep_firing_for_ms: u64,
    timers: TriggerTimers,
}

impl TriggerMachine {
    /// A machine for a plan trigger, inactive.
    pub fn new(trigger: &Trigger) -> Self {
        Self::with_hold(trigger.hold, trigger.keep_firing_for_ms)
    }

    pub fn with_hold(hold: Hold, keep_firing_for_ms: u64) -> Self {
        TriggerMachine { hold, keep_firing_for_ms, timers: TriggerTimers::default() }
    }

    pub fn state(&self) -> TriggerState {
        self.timers.state
    }

    /// When the trigger became active (pending), if it is pending or firing.
    pub fn active_since(&self) -> Option<i64> {
        self.timers.active_since_ms
    }

    /// When the condition turned false while firing under `keep firing for`, if it has.
    pub fn keep_firing_since(&self) -> Option<i64> {
        self.timers.keep_firing_since_ms
    }

    pub fn timers(&self) -> TriggerTimers {
        self.timers
    }

    /// Takes over the timers of the same trigger from before a reload (or from storage), as Prometheus
    /// copies alert state to a reloaded rule: the state is kept as it was, and the new hold applies from
    /// the next evaluation (a trigger that is already firing stays firing).
    pub fn carry_over(&mut self, timers: TriggerTimers) {
        self.timers = timers;
    }

    /// Whether `t_ms` satisfies the hold for a trigger that is active.
    #[inline]
    fn held(&self, t_ms: i64, active_since: i64) -> bool {
        match self.hold {
            Hold::For { ms } => i128::from(t_ms) - i128::from(active_since) >= i128::from(ms),
            Hold::Consecutive { evaluations } => self.timers.consecutive >= evaluations.max(1),
            Hold::OfLast { .. } => false,
        }
    }

    /// Feeds one evaluation: `Some(true)` the condition held, `Some(false)` it did not (a metric with no
    /// value counts as not holding), `None` the evaluation failed. Returns the transition, if any.
    #[inline]
    pub fn observe(&mut self, t_ms: i64, condition: Option<bool>) -> Option<Transition> {
        let from = self.timers.state;
        match condition? {
            true => {
                self.timers.keep_firing_since_ms = None;
                self.timers.consecutive = self.timers.consecutive.saturating_add(1);
                if from == TriggerState::Inactive {
                    self.timers.state = TriggerState::Pending;
                    self.timers.active_since_ms = Some(t_ms);
                }
                let active_since = *self.timers.active_since_ms.get_or_insert(t_ms);
                if self.timers.state == TriggerState::Pending && self.held(t_ms, active_since) {
                    self.timers.state = TriggerState::Firing;
                }
            }
            false => {
                self.timers.consecutive = 0;
                if from == TriggerState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *self.timers.keep_firing_since_ms.get_or_insert(t_ms);
                    if i128::from(t_ms) - i128::from(since) < i128::from(self.keep_firing_for_ms) {
                        return None;
                    }
                }
                self.timers = TriggerTimers::default();
            }
        }
        let to = self.timers.state;
        (from != to).then_some(Transition { t_ms, from, to })
    }
}

/// One trigger's machines, one per series, as Prometheus keeps one alert per label set: a series that
/// appears in an evaluation's result is fed "true", every other series with a machine is fed "false" (so a
/// series that disappears goes pending -> inactive at once, or firing -> resolved after `keep firing
/// for`), and a machine that is back to inactive is dropped, so memory follows the active series.
#[derive(Clone, Debug)]
pub struct SeriesMachines<K> {
    template: TriggerMachine,
    active: std::collections::HashMap<K, (TriggerMachine, i64)>,
}

impl<K: std::hash::Hash + Eq + Clone> SeriesMachines<K> {
    pub fn new(trigger: &Trigger) -> Self {
        SeriesMachines { template: TriggerMachine::new(trigger), active: std::collections::HashMap::new() }
    }

    /// Feeds one evaluation: `Some(keys)` the series for which the condition held, `None` the evaluation
    /// failed (every machine keeps its state). Transitions are appended to `out` in no particular order.
    pub fn observe(&mut self, t_ms: i64, present: Option<&[K]>, out: &mut Vec<(K, Transition)>) {
        let Some(present) = present else { return };
        for key in present {
            let (machine, seen) = self.active.entry(key.clone()).or_insert_with(|| (self.template.clone(), i64::MIN));
            *seen = t_ms;
            if let Some(tr) = machine.observe(t_ms, Some(true)) {
                out.push((key.clone(), tr));
            }
        }
        self.active.retain(|key, (machine, seen)| {
            if *seen != t_ms
                && let Some(tr) = machine.observe(t_ms, Some(false))
            {
                out.push((key.clone(), tr));
            }
            machine.state() != TriggerState::Inactive
        });
    }

    /// Every active series goes inactive at once (Prometheus drops a rule's alerts when its `limit` is
    /// exceeded).
    pub fn clear(&mut self, t_ms: i64, out: &mut Vec<(K, Transition)>) {
        for (key, (machine, _)) in self.active.drain() {
            let from = machine.state();
            if from != TriggerState::Inactive {
                out.push((key, Transition { t_ms, from, to: TriggerState::Inactive }));
            }
        }
    }

    /// The series that are pending or firing, with their machines.
    pub fn active(&self) -> impl Iterator<Item = (&K, &TriggerMachine)> {
        self.active.iter().map(|(k, (m, _))| (k, m))
    }

    /// Takes over a series' timers (a reload, or a restart from storage).
    pub fn carry_over(&mut self, key: K, timers: TriggerTimers) {
        if timers.state == TriggerState::Inactive {
            return;
        }
        let mut machine = self.template.clone();
        machine.carry_over(timers);
        self.active.insert(key, (machine, i64::MIN));
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}
