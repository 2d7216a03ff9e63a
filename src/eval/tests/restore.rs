//! A trigger's timers after an outage (Prometheus's restore rules, docs/watch.md, "Restarts"), fed on to
//! the machine.

use crate::eval::{Outage, TriggerMachine, TriggerState, TriggerTimers};
use crate::plan::Hold;

use TriggerState::{Firing, Pending};

const S: i64 = 1000;

/// A `for 10m` pending since 0, saved at 9m, resumed after `gap_s` seconds with `grace_s`.
fn pending_for_10m(gap_s: i64, grace_s: u64) -> (TriggerTimers, Outage) {
    let timers = TriggerTimers {
        state: Pending,
        active_since_ms: Some(0),
        consecutive: 37,
        last_eval_ms: Some(540 * S),
        ..Default::default()
    };
    (timers, Outage { down_at_ms: 540 * S, resumed_at_ms: (540 + gap_s) * S, grace_ms: grace_s * 1000 })
}

/// The first evaluation (every 15s from the resumption) at which a machine with `timers` fires, the
/// condition holding throughout.
fn fires_at(hold: Hold, timers: TriggerTimers, from_ms: i64) -> Option<i64> {
    let mut m = TriggerMachine::with_hold(hold, 0);
    m.carry_over(timers);
    (0..200).map(|i| from_ms + i * 15 * S).find(|&t| m.observe(t, Some(true)).is_some_and(|tr| tr.to == Firing))
}

#[test]
fn the_pending_clock_does_not_run_during_the_outage() {
    let hold = Hold::For { ms: 600 * S as u64 };
    let (timers, outage) = pending_for_10m(120, 0);
    let after = timers.after_outage(hold, &outage);
    assert_eq!(after.active_since_ms, Some(120 * S), "moved on by the 2 minutes nobody evaluated");
    assert_eq!(after.state, Pending);
    assert_eq!(after.consecutive, 37, "counts are kept: no evaluation happened");
    // 9 of 10 minutes were spent: it fires one minute after the resumption, not ten.
    assert_eq!(fires_at(hold, after, outage.resumed_at_ms), Some((660 + 60) * S));
}

#[test]
fn the_grace_period_delays_a_nearly_due_alert_as_prometheus_does() {
    let hold = Hold::For { ms: 600 * S as u64 };
    // One minute left, grace 5 minutes: fires no sooner than 5 minutes after the resumption.
    let (timers, outage) = pending_for_10m(120, 300);
    let after = timers.after_outage(hold, &outage);
    assert_eq!(after.active_since_ms, Some(outage.resumed_at_ms + 300 * S - 600 * S));
    assert_eq!(fires_at(hold, after, outage.resumed_at_ms), Some(outage.resumed_at_ms + 300 * S));
    // A hold shorter than the grace starts again from the resumption.
    let short = Hold::For { ms: 60 * S as u64 };
    let timers = TriggerTimers { active_since_ms: Some(500 * S), ..timers };
    assert_eq!(timers.after_outage(short, &outage).active_since_ms, Some(outage.resumed_at_ms));
}

#[test]
fn a_series_that_had_held_long_enough_fires_at_the_next_evaluation() {
    let hold = Hold::For { ms: 300 * S as u64 };
    let (timers, outage) = pending_for_10m(60, 600);
    let after = timers.after_outage(hold, &outage);
    assert_eq!(after.active_since_ms, Some(0));
    assert_eq!(fires_at(hold, after, outage.resumed_at_ms), Some(outage.resumed_at_ms));
}

#[test]
fn firing_stays_firing_and_keep_firing_waits_for_the_outage() {
    let hold = Hold::For { ms: 60 * S as u64 };
    let timers = TriggerTimers {
        state: Firing,
        active_since_ms: Some(0),
        keep_firing_since_ms: Some(100 * S),
        last_eval_ms: Some(120 * S),
        ..Default::default()
    };
    let outage = Outage { down_at_ms: 120 * S, resumed_at_ms: 420 * S, grace_ms: 0 };
    let after = timers.after_outage(hold, &outage);
    assert_eq!((after.state, after.active_since_ms), (Firing, Some(0)));
    assert_eq!(after.keep_firing_since_ms, Some(400 * S));
    // `keep firing for 1m` had 20s spent; 40s remain after the resumption.
    let mut m = TriggerMachine::with_hold(hold, 60 * S as u64);
    m.carry_over(after);
    assert_eq!(m.observe(450 * S, Some(false)), None, "still kept firing 30s after the resumption");
    assert!(m.observe(465 * S, Some(false)).is_some_and(|t| t.to == TriggerState::Inactive));
}

#[test]
fn windows_and_counts_are_kept_and_the_tolerance_is_the_callers() {
    let hold = Hold::OfLast { n: 3, m: 5 };
    let timers = TriggerTimers {
        state: Pending,
        active_since_ms: Some(0),
        window: 0b00110,
        window_count: 2,
        last_eval_ms: Some(60 * S),
        ..Default::default()
    };
    let outage = Outage { down_at_ms: 60 * S, resumed_at_ms: 3_660 * S, grace_ms: 0 };
    let after = timers.after_outage(hold, &outage);
    assert_eq!((after.window, after.window_count), (0b00110, 2));
    assert!(outage.within(3_600 * S as u64));
    assert!(!outage.within(3_599 * S as u64));
    let backwards = Outage { down_at_ms: 60 * S, resumed_at_ms: 0, grace_ms: 0 };
    assert_eq!(backwards.length_ms(), 0, "a clock that went back is no outage");
}
