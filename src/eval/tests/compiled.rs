//! Conditions over series: lookback, staleness, NaN, missing values, offsets, and forward evaluation
//! agreeing with random access.

use super::{V2, cmp, metric, num, s, set, window};
use crate::eval::{CompiledCondition, value_at};
use crate::plan::{ArithOp, CmpOp, Condition, Value, WindowFunc};
use crate::source::{STALE_NAN, SeriesSet};

/// The condition's truth at each of `times` (seconds), evaluated forward.
fn truths(c: &Condition, series: &SeriesSet, times: &[i64]) -> Vec<bool> {
    let mut compiled = CompiledCondition::compile(c, &super::NO_SHAPES, series, V2);
    times.iter().map(|&t| compiled.holds_forward(s(t)).unwrap()).collect()
}

fn gt(lhs: Value, rhs: f64) -> Condition {
    cmp(CmpOp::Gt, lhs, num(rhs))
}

#[test]
fn the_lookback_is_five_minutes_inclusive() {
    let series = set(&[("x", &[(0.0, 10.0), (400.0, 10.0)])]);
    let c = gt(metric("x"), 5.0);
    // The sample at 0 answers up to and including 300 s; nothing answers at 300.001 s..399 s.
    assert_eq!(truths(&c, &series, &[0, 285, 300, 315, 399, 400]), [true, true, true, false, false, true]);
    let mut compiled = CompiledCondition::compile(&c, &super::NO_SHAPES, &series, V2);
    assert!(compiled.holds_forward(300_000).unwrap());
    assert!(!compiled.holds_forward(300_001).unwrap());
    assert!(!compiled.holds_forward(-1).unwrap());
}

#[test]
fn a_stale_marker_ends_the_series_at_once() {
    let series = set(&[("x", &[(0.0, 10.0), (15.0, STALE_NAN), (60.0, 10.0)])]);
    let c = gt(metric("x"), 5.0);
    assert_eq!(truths(&c, &series, &[0, 15, 30, 45, 60]), [true, false, false, false, true]);
}

#[test]
fn nan_compares_as_ieee_754() {
    let series = set(&[("x", &[(0.0, f64::NAN)])]);
    let check = |op, rhs: Value| truths(&cmp(op, metric("x"), rhs), &series, &[0])[0];
    assert!(!check(CmpOp::Gt, num(5.0)));
    assert!(!check(CmpOp::Le, num(5.0)));
    assert!(!check(CmpOp::Eq, metric("x")));
    assert!(check(CmpOp::Ne, num(5.0)));
    assert!(check(CmpOp::Ne, metric("x")));
}

#[test]
fn exact_thresholds() {
    let series = set(&[("x", &[(0.0, 5.0)])]);
    assert_eq!(truths(&gt(metric("x"), 5.0), &series, &[0]), [false]);
    assert_eq!(truths(&cmp(CmpOp::Ge, metric("x"), num(5.0)), &series, &[0]), [true]);
    assert_eq!(truths(&cmp(CmpOp::Eq, metric("x"), num(5.0)), &series, &[0]), [true]);
}

#[test]
fn a_missing_value_makes_comparisons_false_and_arithmetic_missing() {
    let series = set(&[("x", &[(0.0, 10.0)])]);
    let sum = Value::Arith { op: ArithOp::Add, lhs: Box::new(metric("x")), rhs: Box::new(metric("y")), matching: None };
    let c = Condition::Or {
        lhs: Box::new(gt(sum.clone(), 0.0)),
        rhs: Box::new(cmp(CmpOp::Ne, metric("y"), num(0.0))),
        matching: None,
    };
    let compiled = CompiledCondition::compile(&c, &super::NO_SHAPES, &series, V2);
    assert_eq!(compiled.missing_metrics(), ["y"]);
    assert!(!compiled.eval_at(0).unwrap());
    assert_eq!(value_at(&sum, &series, 0, V2), None);
    // `not` is two-valued over comparisons: a false comparison on a missing value negates to true.
    let not = Condition::Not { operand: Box::new(gt(metric("y"), 0.0)) };
    assert_eq!(truths(&not, &series, &[0]), [true]);
    let and = Condition::And { lhs: Box::new(gt(metric("x"), 5.0)), rhs: Box::new(not), matching: None };
    assert_eq!(truths(&and, &series, &[0, 400]), [true, false]);
}

#[test]
fn arithmetic_abs_and_negation() {
    let series = set(&[("x", &[(0.0, -6.0)]), ("y", &[(0.0, 4.0)])]);
    let neg = Value::Neg { operand: Box::new(metric("x")) };
    assert_eq!(value_at(&neg, &series, 0, V2), Some(6.0));
    let abs = Value::Abs { operand: Box::new(metric("x")) };
    assert_eq!(value_at(&abs, &series, 0, V2), Some(6.0));
    let arith = |op, l: Value, r: Value| Value::Arith { op, lhs: Box::new(l), rhs: Box::new(r), matching: None };
    assert_eq!(value_at(&arith(ArithOp::Mul, metric("x"), metric("y")), &series, 0, V2), Some(-24.0));
    assert_eq!(value_at(&arith(ArithOp::Div, metric("y"), num(0.0)), &series, 0, V2), Some(f64::INFINITY));
    assert_eq!(value_at(&arith(ArithOp::Sub, metric("y"), metric("x")), &series, 0, V2), Some(10.0));
    assert_eq!(value_at(&arith(ArithOp::Div, metric("y"), metric("x")), &series, 0, V2), Some(-4.0 / 6.0));
}

#[test]
fn offsets_look_back_in_time() {
    let series = set(&[("x", &[(0.0, 1.0), (60.0, 2.0), (120.0, 3.0)])]);
    let off = Value::Metric { name: "x".into(), offset_ms: 60_000 };
    assert_eq!(value_at(&off, &series, s(120), V2), Some(2.0));
    assert_eq!(value_at(&off, &series, s(59), V2), None);
    // avg over [0, 60] at 120 with offset 1m: (1 + 2) / 2.
    assert_eq!(value_at(&window(WindowFunc::AvgOver, "x", 60, 60), &series, s(120), V2), Some(1.5));
    assert_eq!(value_at(&window(WindowFunc::AvgOver, "x", 60, 0), &series, s(120), V2), Some(2.5));
    assert_eq!(value_at(&window(WindowFunc::QuantileOver, "x", 120, 0), &series, s(120), V2), Some(2.0));
}

#[test]
fn the_display_value_is_the_first_comparisons_left_side() {
    let series = set(&[("x", &[(0.0, 7.0)]), ("y", &[(0.0, 1.0)])]);
    let c = Condition::And {
        lhs: Box::new(Condition::Not { operand: Box::new(gt(metric("y"), 3.0)) }),
        rhs: Box::new(gt(metric("x"), 3.0)),
        matching: None,
    };
    assert_eq!(CompiledCondition::compile(&c, &super::NO_SHAPES, &series, V2).display_value_at(0, 0), Some(1.0));
}

/// A small deterministic generator, so that failures reproduce.
fn lcg(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn forward_evaluation_agrees_with_random_access() {
    let mut seed = 7;
    let mut samples = Vec::new();
    let mut t = 0.0;
    for _ in 0..400 {
        t += [1.0, 15.0, 15.0, 15.0, 30.0, 400.0][(lcg(&mut seed) % 6) as usize];
        let v = match lcg(&mut seed) % 20 {
            0 => STALE_NAN,
            1 => f64::NAN,
            2 => 0.0,
            n => (n * 3) as f64 + (lcg(&mut seed) % 100) as f64,
        };
        samples.push((t, v));
    }
    let series = set(&[("x", &samples)]);
    for &func in WindowFunc::ALL {
        for (w, off) in [(60, 0), (300, 120), (1, 0)] {
            let c = Condition::Or {
                lhs: Box::new(gt(window(func, "x", w, off), 20.0)),
                rhs: Box::new(gt(Value::Metric { name: "x".into(), offset_ms: off * 1000 }, 40.0)),
                matching: None,
            };
            let mut compiled = CompiledCondition::compile(&c, &super::NO_SHAPES, &series, V2);
            let mut times: Vec<i64> = (-10..(t as i64 + 400)).step_by(7).map(s).collect();
            times.extend((0..200).map(|i| s(i * 37 % 5000)));
            for &at in &times {
                assert_eq!(compiled.holds_forward(at), compiled.eval_at(at).ok(), "{func:?} w={w} off={off} at {at}");
            }
        }
    }
}

#[test]
fn prometheus_3_ranges_and_lookback_leave_the_left_edge_out() {
    use crate::eval::PromVersion::V3;
    // Samples every 15 s: `count_over(x, 1m)` at 60 s holds 0..60 (5) in 2.42 and 15..60 (4) in 3.
    let samples: Vec<(f64, f64)> = (0..=4).map(|i| (f64::from(i) * 15.0, 1.0)).collect();
    let series = set(&[("x", &samples)]);
    let count = window(WindowFunc::CountOver, "x", 60, 0);
    assert_eq!(value_at(&count, &series, s(60), V2), Some(5.0));
    assert_eq!(value_at(&count, &series, s(60), V3), Some(4.0));
    // The last sample at 60 s is seen at 360 s (exactly 5m later) by 2.42, not by 3.
    assert_eq!(value_at(&metric("x"), &series, s(360), V2), Some(1.0));
    assert_eq!(value_at(&metric("x"), &series, s(360), V3), None);
    assert_eq!(value_at(&metric("x"), &series, s(360) - 1, V3), Some(1.0));
}
