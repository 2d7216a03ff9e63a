//! Every trigger of a plan over a series set.

use super::{V2, cmp, metric, num, s, set, trigger, window};
use crate::eval::{TransitionRecord, TriggerState, evaluate_triggers, evaluation_times};
use crate::plan::{CmpOp, Hold, PLAN_FORMAT, Plan, Trigger, WindowFunc};

use TriggerState::{Firing, Inactive, Pending};

pub(super) fn plan(triggers: Vec<Trigger>) -> Plan {
    Plan {
        format: PLAN_FORMAT,
        runbook: "test".into(),
        description: None,
        owner: None,
        evaluation_interval_ms: 15_000,
        evaluation_interval_default: true,
        files_under: Vec::new(),
        channels: Vec::new(),
        metrics: Vec::new(),
        triggers,
        levels: Vec::new(),
        escalations: Vec::new(),
        max_series: crate::plan::defaults::MAX_SERIES,
        max_series_default: true,
    }
}

fn brief(records: &[TransitionRecord]) -> Vec<(i64, &str, TriggerState, Option<f64>)> {
    records.iter().map(|r| (r.t_ms / 1000, r.trigger.as_str(), r.state, r.value)).collect()
}

#[test]
fn evaluation_times_are_start_plus_multiples_of_the_interval() {
    assert_eq!(evaluation_times(0, 45_000, 15_000).collect::<Vec<_>>(), [0, 15_000, 30_000, 45_000]);
    assert_eq!(evaluation_times(0, 44_999, 15_000).count(), 3);
    assert_eq!(evaluation_times(10, 0, 15_000).count(), 0);
    assert_eq!(evaluation_times(0, 100, 0).count(), 0);
    assert_eq!(evaluation_times(i64::MAX - 5, i64::MAX, 10).count(), 1);
}

#[test]
fn transitions_are_ordered_by_time_then_trigger_order() {
    // x: 2 until 30 s, then 10.
    let series =
        set(&[("x", &[(0.0, 2.0), (15.0, 2.0), (30.0, 10.0), (45.0, 10.0), (60.0, 10.0), (75.0, 10.0), (90.0, 1.0)])]);
    let slow = trigger("slow", cmp(CmpOp::Gt, metric("x"), num(5.0)), Hold::For { ms: 40_000 }, 0);
    let fast = trigger("fast", cmp(CmpOp::Gt, metric("x"), num(5.0)), Hold::For { ms: 0 }, 0);
    let records = evaluate_triggers(&plan(vec![slow, fast]), &series, 0, s(120), 15_000, V2).0;
    assert_eq!(
        brief(&records),
        [
            (30, "slow", Pending, Some(10.0)),
            (30, "fast", Firing, Some(10.0)),
            // 75 - 30 = 45 >= 40: the first evaluation past a `for` that is not a multiple of 15 s.
            (75, "slow", Firing, Some(10.0)),
            (90, "slow", Inactive, Some(1.0)),
            (90, "fast", Inactive, Some(1.0)),
        ]
    );
    assert_eq!(records[1].from, Inactive);
}

#[test]
fn a_metric_the_series_lack_never_fires() {
    let series = set(&[("x", &[(0.0, 1.0)])]);
    let t = trigger("t", cmp(CmpOp::Lt, metric("nope"), num(5.0)), Hold::For { ms: 0 }, 0);
    assert!(evaluate_triggers(&plan(vec![t]), &series, 0, s(600), 15_000, V2).0.is_empty());
}

#[test]
fn rate_triggers_see_counter_resets() {
    // A counter rising 1/s, reset to 0 at 120 s, then rising 1/s again.
    let samples: Vec<(f64, f64)> =
        (0..=20).map(|i| (i as f64 * 15.0, if i < 8 { i as f64 * 15.0 } else { (i - 8) as f64 * 15.0 })).collect();
    let series = set(&[("c", &samples)]);
    // Across the reset the drop is added back, and a 1m window holding it sees 45 in 60 s (the 15 s after
    // 105 are lost to the restart): rate 0.75/s, never below 0.5.
    let t = trigger("drop", cmp(CmpOp::Lt, window(WindowFunc::Rate, "c", 60, 0), num(0.5)), Hold::For { ms: 0 }, 0);
    let records = evaluate_triggers(&plan(vec![t]), &series, s(60), s(300), 15_000, V2).0;
    assert!(records.is_empty(), "{records:?}");
    // At 180 s the range [120, 180] holds 0 15 30 45 60 at 120..180: increase 60, rate 1.
    let rate = crate::eval::value_at(&window(WindowFunc::Rate, "c", 60, 0), &series, s(180), V2).unwrap();
    assert!((rate - 1.0).abs() < 1e-12, "{rate}");
}

#[test]
fn keep_firing_in_a_timeline() {
    let series = set(&[("x", &[(0.0, 9.0), (15.0, 1.0), (30.0, 1.0), (45.0, 1.0)])]);
    let t = trigger("k", cmp(CmpOp::Gt, metric("x"), num(5.0)), Hold::For { ms: 0 }, 30_000);
    let records = evaluate_triggers(&plan(vec![t]), &series, 0, s(60), 15_000, V2).0;
    assert_eq!(brief(&records), [(0, "k", Firing, Some(9.0)), (45, "k", Inactive, Some(1.0))]);
}
