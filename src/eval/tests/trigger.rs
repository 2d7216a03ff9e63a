//! The trigger state machine against Prometheus 2.42's alerting rules.

use super::s;
use crate::eval::{Transition, TriggerMachine, TriggerState, TriggerTimers};
use crate::plan::Hold;

use TriggerState::{Firing, Inactive, Pending};

fn machine(hold: Hold, keep_s: u64) -> TriggerMachine {
    TriggerMachine::with_hold(hold, keep_s * 1000)
}

fn hold_for(secs: u64) -> Hold {
    Hold::For { ms: secs * 1000 }
}

/// Feeds `(seconds, condition)` pairs; returns `(seconds, from, to)` for each transition.
fn run(m: &mut TriggerMachine, steps: &[(i64, Option<bool>)]) -> Vec<(i64, TriggerState, TriggerState)> {
    steps
        .iter()
        .filter_map(|&(t, c)| m.observe(s(t), c))
        .map(|Transition { t_ms, from, to }| (t_ms / 1000, from, to))
        .collect()
}

fn every_15s(from: i64, values: &[bool]) -> Vec<(i64, Option<bool>)> {
    values.iter().enumerate().map(|(i, v)| (from + 15 * i as i64, Some(*v))).collect()
}

#[test]
fn for_fires_when_the_hold_is_reached_exactly() {
    let mut m = machine(hold_for(60), 0);
    // activeAt = 0; 60 - 0 >= 60 at t = 60.
    let got = run(&mut m, &every_15s(0, &[true, true, true, true, true, true]));
    assert_eq!(got, [(0, Inactive, Pending), (60, Pending, Firing)]);
    assert_eq!(m.active_since(), Some(0));
}

#[test]
fn for_not_a_multiple_of_the_interval_fires_at_the_next_evaluation() {
    let mut m = machine(hold_for(50), 0);
    // 45 - 0 < 50, 60 - 0 >= 50.
    let got = run(&mut m, &every_15s(0, &[true, true, true, true, true]));
    assert_eq!(got, [(0, Inactive, Pending), (60, Pending, Firing)]);
}

#[test]
fn no_hold_fires_at_the_first_true_evaluation_in_one_transition() {
    let mut m = machine(hold_for(0), 0);
    let got = run(&mut m, &every_15s(0, &[false, true, true, false]));
    assert_eq!(got, [(15, Inactive, Firing), (45, Firing, Inactive)]);
}

#[test]
fn a_false_evaluation_resets_active_since() {
    let mut m = machine(hold_for(60), 0);
    let got = run(&mut m, &every_15s(0, &[true, true, false, true, true, true, true, true]));
    assert_eq!(got, [(0, Inactive, Pending), (30, Pending, Inactive), (45, Inactive, Pending), (105, Pending, Firing)]);
    assert_eq!(m.active_since(), Some(s(45)));
}

#[test]
fn a_failed_evaluation_changes_nothing() {
    let mut m = machine(hold_for(60), 0);
    let got = run(&mut m, &[(0, Some(true)), (15, None), (30, None), (45, None), (60, Some(true))]);
    // activeAt stays 0 through the failures, so 60 fires.
    assert_eq!(got, [(0, Inactive, Pending), (60, Pending, Firing)]);
    let before = m.timers();
    assert_eq!(m.observe(s(75), None), None);
    assert_eq!(m.timers(), before);
}

#[test]
fn consecutive_fires_at_the_nth_true_evaluation() {
    let mut m = machine(Hold::Consecutive { evaluations: 3 }, 0);
    let got = run(&mut m, &every_15s(0, &[true, true, false, true, true, true, true]));
    assert_eq!(got, [(0, Inactive, Pending), (30, Pending, Inactive), (45, Inactive, Pending), (75, Pending, Firing)]);
    for n in [0, 1] {
        let mut m = machine(Hold::Consecutive { evaluations: n }, 0);
        assert_eq!(run(&mut m, &every_15s(0, &[true])), [(0, Inactive, Firing)]);
    }
}

#[test]
fn keep_firing_holds_until_false_for_the_duration() {
    let mut m = machine(hold_for(0), 30);
    // keepFiringSince = 15: 15-15 < 30, 30-15 < 30, 45-15 >= 30 resolves.
    let got = run(&mut m, &every_15s(0, &[true, false, false, false]));
    assert_eq!(got, [(0, Inactive, Firing), (45, Firing, Inactive)]);
    assert_eq!(m.keep_firing_since(), None);
}

#[test]
fn keep_firing_restarts_when_the_condition_is_true_again() {
    let mut m = machine(hold_for(0), 30);
    let got = run(&mut m, &every_15s(0, &[true, false, true, false, false, false]));
    // False at 15 starts the clock, true at 30 clears it, false at 45 starts it again: 75 - 45 >= 30.
    assert_eq!(got, [(0, Inactive, Firing), (75, Firing, Inactive)]);
    let mut m = machine(hold_for(0), 30);
    run(&mut m, &every_15s(0, &[true, false]));
    assert_eq!((m.state(), m.keep_firing_since()), (Firing, Some(s(15))));
    run(&mut m, &[(20, None)]);
    assert_eq!(m.keep_firing_since(), Some(s(15)));
}

#[test]
fn keep_firing_does_not_hold_a_pending_trigger() {
    let mut m = machine(hold_for(60), 300);
    let got = run(&mut m, &every_15s(0, &[true, false]));
    assert_eq!(got, [(0, Inactive, Pending), (15, Pending, Inactive)]);
}

#[test]
fn keep_firing_with_for_keeps_the_original_active_since() {
    let mut m = machine(hold_for(30), 60);
    let got = run(&mut m, &every_15s(0, &[true, true, true, false, true, false, false, false, false, false]));
    // Firing at 30; false at 45 (kept), true at 60 (still firing, clock cleared), false from 75: 135 - 75 >= 60.
    assert_eq!(got, [(0, Inactive, Pending), (30, Pending, Firing), (135, Firing, Inactive)]);
}

#[test]
fn timers_carry_over_a_reload() {
    let mut old = machine(hold_for(60), 0);
    run(&mut old, &every_15s(0, &[true, true]));
    let mut new = machine(hold_for(60), 0);
    new.carry_over(old.timers());
    assert_eq!(new.state(), Pending);
    assert_eq!(run(&mut new, &[(60, Some(true))]), [(60, Pending, Firing)]);
    // A firing trigger stays firing under a longer `for`, as Prometheus keeps a reloaded alert's state.
    let mut longer = machine(hold_for(600), 0);
    longer.carry_over(new.timers());
    assert_eq!(run(&mut longer, &[(75, Some(true))]), []);
    assert_eq!(longer.state(), Firing);
    // Inconsistent timers (inactive with a start) are repaired by the next true evaluation.
    let mut odd = machine(hold_for(60), 0);
    odd.carry_over(TriggerTimers {
        state: Inactive,
        active_since_ms: Some(0),
        consecutive: 9,
        keep_firing_since_ms: None,
        ..TriggerTimers::default()
    });
    assert_eq!(run(&mut odd, &[(100, Some(true))]), [(100, Inactive, Pending)]);
    assert_eq!(odd.active_since(), Some(s(100)));
}

#[test]
fn states_serialise_in_lower_case() {
    assert_eq!(serde_json::to_string(&Firing).unwrap(), "\"firing\"");
    let timers = TriggerTimers { state: Pending, active_since_ms: Some(5), consecutive: 1, ..TriggerTimers::default() };
    let back: TriggerTimers = serde_json::from_str(&serde_json::to_string(&timers).unwrap()).unwrap();
    assert_eq!(back, timers);
    assert_eq!(Inactive.to_string(), "inactive");
    // An `N of M` window of 128 evaluations and the previous evaluation's time survive a round trip; an
    // older copy without them reads as empty.
    let wide = TriggerTimers { window: u128::MAX - 1, window_count: 127, last_eval_ms: Some(9), ..timers };
    let back: TriggerTimers = serde_json::from_str(&serde_json::to_string(&wide).unwrap()).unwrap();
    assert_eq!(back, wide);
    let old: TriggerTimers =
        serde_json::from_str(r#"{"state":"firing","active_since_ms":5,"consecutive":1,"keep_firing_since_ms":null}"#)
            .unwrap();
    assert_eq!((old.window, old.last_eval_ms, old.state), (0, None, Firing));
}
