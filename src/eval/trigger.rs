//! THE trigger state machine, shared by `simulate`, `ripcord test` and the live `watch`: Prometheus's
//! alerting-rule semantics (rules/alerting.go) for one trigger, which Prometheus 2.42 and 3.5 share (every
//! `for` and `keep_firing_for` fixture in tests/promtool/ is confirmed by both promtools with this one
//! machine), and the trigger kinds that go beyond one alerting rule.
//!
//! The machine is fed one *input* per evaluation (true or false); what the input is, is decided by the
//! trigger's condition, its `clear when` and its `on no data` (below).
//!
//! - `for D`: the first true input makes the trigger *pending* (active since then); an input that is still
//!   true with `t - active_since >= D` makes it *firing*; a false one makes it *inactive*. With no `for` (or
//!   `for 0s`) the first true input fires at once (one transition, inactive -> firing).
//! - `for N consecutive`: firing at the Nth true input in a row (pending before); reset by a false one.
//! - `for N of M` (1 <= N <= M <= 128): the last M inputs (this one included) are kept as a bit mask with
//!   the count of true ones kept as it slides; firing while the count >= N, pending while the input is true
//!   and the count < N, inactive otherwise (so a series can go firing -> pending, and a false input does not
//!   end a firing one while N of the last M were true).
//! - `keep firing for D`: a firing trigger that its hold would end (a false input; under `N of M` a count
//!   below N) stays firing while `t - keep_firing_since < D`, where `keep_firing_since` is the first such
//!   evaluation; an evaluation that would keep it firing clears `keep_firing_since`. With D = 0 it resolves
//!   at the first such evaluation.
//! - `clear when C`: while a series is firing its input is `COND or not C`, where C is true only when C
//!   yields that very series (label set) at the evaluation (C with no value for it is not true, so it stays
//!   firing); while inactive or pending the input is COND. `keep firing for` then works on that input.
//! - `on no data`: an evaluation where every metric the condition reads has no value in any series.
//!   `keep`: nothing changes and the clocks do not advance (`active_since` and `keep_firing_since` move on by
//!   the time since the previous evaluation, which the timers remember; `N consecutive` neither counts nor
//!   resets; an `N of M` window does not record the evaluation). `fire`: every pending or firing series
//!   observes true; when none is, the trigger's no-data series (the empty label set) does. `clear` (the
//!   default, Prometheus's behaviour): an ordinary evaluation, every series observes false. A series that
//!   disappears while others still have data is not "no data": it observes false, as Prometheus's alert.
//! - A failed evaluation (no answer, `None`) changes nothing, as when Prometheus's rule query fails; the
//!   "previous evaluation" of `on no data keep` is the previous one that had an answer.

use serde::{Deserialize, Serialize};

use crate::plan::{Hold, NoData, Trigger};

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

/// The timers of a trigger, which outlive a reload of the runbook (and may be persisted). Fields added
/// after the first version default when read from an older copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerTimers {
    pub state: TriggerState,
    /// When the current run of true evaluations began (Prometheus's `activeAt`); `None` when inactive.
    pub active_since_ms: Option<i64>,
    /// True evaluations in a row.
    pub consecutive: u32,
    /// The first false evaluation while firing under `keep firing for`.
    pub keep_firing_since_ms: Option<i64>,
    /// The previous evaluation that had an answer (`on no data keep` shifts the clocks by the time since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_eval_ms: Option<i64>,
    /// `for N of M`: the last M inputs, the newest in bit 0 (1 = true).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub window: u128,
    /// `for N of M`: the number of ones in `window`.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub window_count: u32,
}

fn is_zero(w: &u128) -> bool {
    *w == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// The bits of an `N of M` window of `m` evaluations.
#[inline]
fn window_mask(m: u32) -> u128 {
    u128::MAX >> (128 - m.clamp(1, 128))
}

/// One trigger's state, fed one evaluation at a time, in increasing time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerMachine {
    hold: Hold,
    keep_firing_for_ms: u64,
    on_no_data: NoData,
    timers: TriggerTimers,
}

impl TriggerMachine {
    /// A machine for a plan trigger, inactive.
    pub fn new(trigger: &Trigger) -> Self {
        Self::with_hold(trigger.hold, trigger.keep_firing_for_ms).on_no_data(trigger.on_no_data)
    }

    pub fn with_hold(hold: Hold, keep_firing_for_ms: u64) -> Self {
        TriggerMachine { hold, keep_firing_for_ms, on_no_data: NoData::Clear, timers: TriggerTimers::default() }
    }

    /// The same machine with `on no data` set.
    pub fn on_no_data(mut self, on_no_data: NoData) -> Self {
        self.on_no_data = on_no_data;
        self
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

    /// Inactive with nothing to remember (under `N of M`, no true evaluation left in the window): a
    /// machine that can be dropped and made again without changing anything.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.timers.state == TriggerState::Inactive && self.timers.window == 0
    }

    /// Takes over the timers of the same trigger from before a reload (or from storage), as Prometheus
    /// copies alert state to a reloaded rule: the state is kept as it was, and the new hold applies from
    /// the next evaluation (a trigger that is already firing stays firing). An `N of M` window is cut to
    /// this machine's M and its count recomputed.
    pub fn carry_over(&mut self, timers: TriggerTimers) {
        self.timers = timers;
        self.timers.window &= match self.hold {
            Hold::OfLast { m, .. } => window_mask(m),
            _ => 0,
        };
        self.timers.window_count = self.timers.window.count_ones();
    }

    /// Whether `t_ms` satisfies the hold for a trigger that is active.
    #[inline]
    fn held(&self, t_ms: i64, active_since: i64) -> bool {
        match self.hold {
            Hold::For { ms } => i128::from(t_ms) - i128::from(active_since) >= i128::from(ms),
            Hold::Consecutive { evaluations } => self.timers.consecutive >= evaluations.max(1),
            Hold::OfLast { n, .. } => self.timers.window_count >= n.max(1),
        }
    }

    /// Whether a firing trigger that its hold would end stays firing under `keep firing for` at `t_ms`
    /// (starting the keep-firing clock at the first such evaluation).
    #[inline]
    fn kept_firing(&mut self, t_ms: i64) -> bool {
        if self.timers.state != TriggerState::Firing || self.keep_firing_for_ms == 0 {
            return false;
        }
        let since = *self.timers.keep_firing_since_ms.get_or_insert(t_ms);
        i128::from(t_ms) - i128::from(since) < i128::from(self.keep_firing_for_ms)
    }

    /// Feeds one evaluation: `Some(true)` the input is true, `Some(false)` it is not (a metric with no
    /// value counts as not holding), `None` the evaluation failed. Returns the transition, if any.
    #[inline]
    pub fn observe(&mut self, t_ms: i64, condition: Option<bool>) -> Option<Transition> {
        let input = condition?;
        let from = self.timers.state;
        self.timers.last_eval_ms = Some(t_ms);
        if let Hold::OfLast { m, .. } = self.hold {
            self.slide(t_ms, input, m);
        } else if input {
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
        } else {
            self.timers.consecutive = 0;
            if self.kept_firing(t_ms) {
                return None;
            }
            self.timers = TriggerTimers { last_eval_ms: Some(t_ms), ..TriggerTimers::default() };
        }
        let to = self.timers.state;
        (from != to).then_some(Transition { t_ms, from, to })
    }

    /// `for N of M`: records the input in the window, then decides the state from the count.
    #[inline]
    fn slide(&mut self, t_ms: i64, input: bool, m: u32) {
        let m = m.clamp(1, 128);
        let w = self.timers.window;
        let leaving = ((w >> (m - 1)) & 1) as u32;
        self.timers.window = ((w << 1) | u128::from(input)) & window_mask(m);
        self.timers.window_count = (self.timers.window_count + u32::from(input)).saturating_sub(leaving);
        let active_since = self.timers.active_since_ms.unwrap_or(t_ms);
        if self.held(t_ms, active_since) {
            self.timers.keep_firing_since_ms = None;
            self.timers.active_since_ms = Some(active_since);
            self.timers.state = TriggerState::Firing;
        } else if !self.kept_firing(t_ms) {
            self.timers.keep_firing_since_ms = None;
            self.timers.active_since_ms = input.then_some(active_since);
            self.timers.state = if input { TriggerState::Pending } else { TriggerState::Inactive };
        }
    }

    /// Feeds one evaluation of a trigger with `clear when`: `condition` is COND for this series, `cleared`
    /// whether C yields this series; while firing the input is `condition or not cleared`.
    #[inline]
    pub fn observe_clear_when(&mut self, t_ms: i64, condition: bool, cleared: bool) -> Option<Transition> {
        let input = condition || (self.timers.state == TriggerState::Firing && !cleared);
        self.observe(t_ms, Some(input))
    }

    /// Feeds an evaluation with no data at all, as the machine's `on no data` says (for one series on its
    /// own; [`SeriesMachines`] decides which series observe what).
    #[inline]
    pub fn observe_no_data(&mut self, t_ms: i64) -> Option<Transition> {
        match self.on_no_data {
            NoData::Keep => {
                self.hold_still(t_ms);
                None
            }
            NoData::Fire => self.observe(t_ms, Some(true)),
            NoData::Clear => self.observe(t_ms, Some(false)),
        }
    }

    /// `on no data keep`: the state stays, and the clocks are moved on by the time since the previous
    /// evaluation so that they do not advance; the window and the count of true evaluations in a row stay.
    #[inline]
    pub fn hold_still(&mut self, t_ms: i64) {
        let elapsed = self.timers.last_eval_ms.map_or(0, |p| t_ms.saturating_sub(p));
        if let Some(a) = self.timers.active_since_ms.as_mut() {
            *a = a.saturating_add(elapsed);
        }
        if let Some(k) = self.timers.keep_firing_since_ms.as_mut() {
            *k = k.saturating_add(elapsed);
        }
        self.timers.last_eval_ms = Some(t_ms);
    }
}

/// What one evaluation gave a trigger with several series (see [`SeriesMachines::observe_with`]).
pub struct Evaluation<'a, K, C> {
    /// The series for which the condition holds.
    pub holds: &'a [K],
    /// Whether the evaluation had no data at all (every metric the condition reads had no value in any
    /// series); the caller need only find out when the trigger's `on no data` is not `clear`.
    pub no_data: bool,
    /// Whether the `clear when` condition yields a series (asked only of firing series the condition does
    /// not hold for, and only when the trigger has `clear when`).
    pub cleared: C,
    /// The trigger's no-data series, the empty label set (`on no data fire` with no active series).
    pub no_data_series: &'a K,
}

/// One trigger's machines, one per series, as Prometheus keeps one alert per label set: a series that
/// appears in an evaluation's result is fed "true", every other series with a machine is fed "false" (or,
/// with `clear when`, a firing one "not cleared"), so a series that disappears goes pending -> inactive at
/// once, or firing -> resolved after `keep firing for`; a machine that is idle again is dropped, so memory
/// follows the active series (and, under `N of M`, the series with a true evaluation in their window).
#[derive(Clone, Debug)]
pub struct SeriesMachines<K> {
    template: TriggerMachine,
    clear_when: bool,
    active: std::collections::HashMap<K, (TriggerMachine, i64)>,
}

impl<K: std::hash::Hash + Eq + Clone> SeriesMachines<K> {
    pub fn new(trigger: &Trigger) -> Self {
        SeriesMachines {
            template: TriggerMachine::new(trigger),
            clear_when: trigger.clear_when.is_some(),
            active: std::collections::HashMap::new(),
        }
    }

    /// Feeds one evaluation of a trigger without `clear when` that had data: `Some(keys)` the series for
    /// which the condition held, `None` the evaluation failed (every machine keeps its state).
    /// Transitions are appended to `out` in no particular order.
    pub fn observe(&mut self, t_ms: i64, present: Option<&[K]>, out: &mut Vec<(K, Transition)>) {
        let Some(present) = present else { return };
        self.feed(t_ms, present, |_| false, out);
    }

    /// Feeds one evaluation that had an answer: the series the condition holds for, whether it had no
    /// data at all, and which series `clear when` yields (see the module's definitions). Transitions are
    /// appended to `out` in no particular order.
    pub fn observe_with<C: Fn(&K) -> bool>(
        &mut self,
        t_ms: i64,
        e: Evaluation<'_, K, C>,
        out: &mut Vec<(K, Transition)>,
    ) {
        if !e.no_data {
            return self.feed(t_ms, e.holds, e.cleared, out);
        }
        match self.template.on_no_data {
            NoData::Keep => {
                for (machine, seen) in self.active.values_mut() {
                    machine.hold_still(t_ms);
                    *seen = t_ms;
                }
            }
            NoData::Fire => {
                let mut active: Vec<K> = self
                    .active
                    .iter()
                    .filter(|(_, (m, _))| m.state() != TriggerState::Inactive)
                    .map(|(k, _)| k.clone())
                    .collect();
                if active.is_empty() {
                    active.push(e.no_data_series.clone());
                }
                self.feed(t_ms, &active, |_| false, out);
            }
            NoData::Clear => self.feed(t_ms, e.holds, e.cleared, out),
        }
    }

    /// The series in `present` observe true; every other series observes false, or, firing under `clear
    /// when`, whether `cleared` does not yield it.
    fn feed(&mut self, t_ms: i64, present: &[K], cleared: impl Fn(&K) -> bool, out: &mut Vec<(K, Transition)>) {
        for key in present {
            let (machine, seen) = self.active.entry(key.clone()).or_insert_with(|| (self.template.clone(), i64::MIN));
            *seen = t_ms;
            if let Some(tr) = machine.observe(t_ms, Some(true)) {
                out.push((key.clone(), tr));
            }
        }
        let clear_when = self.clear_when;
        self.active.retain(|key, (machine, seen)| {
            if *seen != t_ms {
                let input = clear_when && machine.state() == TriggerState::Firing && !cleared(key);
                if let Some(tr) = machine.observe(t_ms, Some(input)) {
                    out.push((key.clone(), tr));
                }
            }
            !machine.is_idle()
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
        self.tracked().filter(|(_, m)| m.state() != TriggerState::Inactive)
    }

    /// Every series with a machine: the active ones, and under `N of M` the inactive ones with a true
    /// evaluation in their window (what a reload carries over).
    pub fn tracked(&self) -> impl Iterator<Item = (&K, &TriggerMachine)> {
        self.active.iter().map(|(k, (m, _))| (k, m))
    }

    /// Takes over a series' timers (a reload, or a restart from storage).
    pub fn carry_over(&mut self, key: K, timers: TriggerTimers) {
        let mut machine = self.template.clone();
        machine.carry_over(timers);
        if !machine.is_idle() {
            self.active.insert(key, (machine, i64::MIN));
        }
    }

    /// How many series have a machine (see [`tracked`](Self::tracked)).
    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}
