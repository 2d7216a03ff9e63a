//! Conditions and triggers per series: PromQL's matching between label sets, set operators, a side of one
//! series with every series of the other, the errors PromQL raises, and one machine per series.

use super::{NO_SHAPES, V2, cmp, metric, num, s, trigger};
use crate::eval::{CompiledCondition, SeriesMachines, TriggerState, evaluate_triggers};
use crate::plan::{ArithOp, CmpOp, Condition, Hold, Labels, Matching, Metric, Shape, Shapes, Value};
use crate::source::{Series, SeriesSet};

/// `(metric, labels, [(seconds, value)])`.
type Spec<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(f64, f64)]);

fn labelled(series: &[Spec<'_>]) -> SeriesSet {
    let mut out = SeriesSet::default();
    for (name, labels, samples) in series {
        out.insert(
            *name,
            Series {
                labels: Labels::from_pairs(labels.iter().map(|(k, v)| (*k, *v))),
                t_ms: samples.iter().map(|(t, _)| (t * 1000.0).round() as i64).collect(),
                v: samples.iter().map(|(_, v)| *v).collect(),
            },
        );
    }
    out
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
}

/// The series (as labels) for which `c` holds at `t` seconds, sorted, with values.
fn holds(c: &Condition, shapes: &Shapes<'_>, set: &SeriesSet, t: i64) -> Result<Vec<(Labels, f64)>, String> {
    let compiled = CompiledCondition::compile(c, shapes, set, V2);
    let mut out: Vec<(Labels, f64)> =
        compiled.hits_at(s(t)).map_err(|e| e.0)?.iter().map(|h| (compiled.labels(h.series).clone(), h.value)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn on(labels: &[&str]) -> Option<Matching> {
    Some(Matching { on: true, labels: labels.iter().map(|s| s.to_string()).collect() })
}

fn and(lhs: Condition, rhs: Condition, matching: Option<Matching>) -> Condition {
    Condition::And { lhs: Box::new(lhs), rhs: Box::new(rhs), matching }
}

fn declared(name: &str, shape: Shape) -> Metric {
    Metric { name: name.to_string(), promql: Some(name.to_string()), shape }
}

#[test]
fn a_threshold_holds_for_each_series_on_its_own() {
    let set = labelled(&[
        ("usage", &[("instance", "a")], &[(0.0, 0.95)]),
        ("usage", &[("instance", "b")], &[(0.0, 0.5)]),
        ("usage", &[("instance", "c")], &[(0.0, 0.99)]),
    ]);
    let c = cmp(CmpOp::Gt, metric("usage"), num(0.9));
    let got = holds(&c, &NO_SHAPES, &set, 0).unwrap();
    assert_eq!(got, [(l(&[("instance", "a")]), 0.95), (l(&[("instance", "c")]), 0.99)]);
}

#[test]
fn two_per_series_operands_match_on_every_label_by_default() {
    // avail / size per (instance, mountpoint): each ratio from its own pair; a series without a partner drops.
    let set = labelled(&[
        ("avail", &[("instance", "a"), ("mountpoint", "/")], &[(0.0, 5.0)]),
        ("avail", &[("instance", "a"), ("mountpoint", "/var")], &[(0.0, 50.0)]),
        ("avail", &[("instance", "b"), ("mountpoint", "/")], &[(0.0, 1.0)]),
        ("size", &[("instance", "a"), ("mountpoint", "/")], &[(0.0, 100.0)]),
        ("size", &[("instance", "a"), ("mountpoint", "/var")], &[(0.0, 100.0)]),
    ]);
    let ratio = Value::Arith {
        op: ArithOp::Div,
        lhs: Box::new(metric("avail")),
        rhs: Box::new(metric("size")),
        matching: None,
    };
    let got = holds(&cmp(CmpOp::Lt, ratio, num(0.1)), &NO_SHAPES, &set, 0).unwrap();
    assert_eq!(got, [(l(&[("instance", "a"), ("mountpoint", "/")]), 0.05)]);
}

#[test]
fn and_on_a_label_guards_each_series_with_its_host() {
    // usage per (instance, mountpoint), readonly per instance: `usage > 0.9 and on(instance) readonly == 0`.
    let set = labelled(&[
        ("usage", &[("instance", "a"), ("mountpoint", "/")], &[(0.0, 0.95)]),
        ("usage", &[("instance", "a"), ("mountpoint", "/data")], &[(0.0, 0.97)]),
        ("usage", &[("instance", "b"), ("mountpoint", "/")], &[(0.0, 0.96)]),
        ("readonly", &[("instance", "a")], &[(0.0, 0.0)]),
        ("readonly", &[("instance", "b")], &[(0.0, 1.0)]),
    ]);
    let c =
        and(cmp(CmpOp::Gt, metric("usage"), num(0.9)), cmp(CmpOp::Eq, metric("readonly"), num(0.0)), on(&["instance"]));
    let got = holds(&c, &NO_SHAPES, &set, 0).unwrap();
    // `and` keeps the left side's series (and labels), many to one as PromQL allows for set operators.
    assert_eq!(
        got,
        [
            (l(&[("instance", "a"), ("mountpoint", "/")]), 0.95),
            (l(&[("instance", "a"), ("mountpoint", "/data")]), 0.97)
        ]
    );
    // `unless` keeps the others.
    let c = Condition::Unless {
        lhs: Box::new(cmp(CmpOp::Gt, metric("usage"), num(0.9))),
        rhs: Box::new(cmp(CmpOp::Eq, metric("readonly"), num(0.0))),
        matching: on(&["instance"]),
    };
    assert_eq!(holds(&c, &NO_SHAPES, &set, 0).unwrap(), [(l(&[("instance", "b"), ("mountpoint", "/")]), 0.96)]);
}

#[test]
fn or_adds_the_right_sides_series_that_the_left_lacks() {
    let set = labelled(&[
        ("x", &[("instance", "a")], &[(0.0, 10.0)]),
        ("y", &[("instance", "a")], &[(0.0, 20.0)]),
        ("y", &[("instance", "b")], &[(0.0, 30.0)]),
    ]);
    let c = Condition::Or {
        lhs: Box::new(cmp(CmpOp::Gt, metric("x"), num(5.0))),
        rhs: Box::new(cmp(CmpOp::Gt, metric("y"), num(5.0))),
        matching: None,
    };
    assert_eq!(
        holds(&c, &NO_SHAPES, &set, 0).unwrap(),
        [(l(&[("instance", "a")]), 10.0), (l(&[("instance", "b")]), 30.0)]
    );
}

#[test]
fn one_series_combines_with_every_series_of_the_other_side() {
    // `queue > 2 * avg_queue` where avg_queue is `avg(queue)`, one series: PromQL's `on() group_left`.
    let set = labelled(&[
        ("queue", &[("pod", "p1")], &[(0.0, 10.0)]),
        ("queue", &[("pod", "p2")], &[(0.0, 50.0)]),
        ("avg_queue", &[], &[(0.0, 20.0)]),
    ]);
    let metrics = [declared("queue", Shape::PerSeries), declared("avg_queue", Shape::Single)];
    let shapes = Shapes::new(&metrics);
    let double =
        Value::Arith { op: ArithOp::Mul, lhs: Box::new(num(2.0)), rhs: Box::new(metric("avg_queue")), matching: None };
    let c = cmp(CmpOp::Gt, metric("queue"), double);
    assert_eq!(holds(&c, &shapes, &set, 0).unwrap(), [(l(&[("pod", "p2")]), 50.0)]);
    // The other way round keeps the per-series side's labels and the left side's value.
    let c = cmp(CmpOp::Lt, metric("avg_queue"), metric("queue"));
    assert_eq!(holds(&c, &shapes, &set, 0).unwrap(), [(l(&[("pod", "p2")]), 20.0)]);
    // Without the declaration both sides are per series and match on every label: nothing matches.
    let c = cmp(CmpOp::Lt, metric("avg_queue"), metric("queue"));
    assert_eq!(holds(&c, &NO_SHAPES, &set, 0).unwrap(), []);
}

#[test]
fn what_promql_refuses_is_an_evaluation_error() {
    // Two series on the right in one match group (on(instance)) for a comparison: PromQL's many-to-many.
    let set = labelled(&[
        ("a", &[("instance", "x")], &[(0.0, 1.0)]),
        ("b", &[("instance", "x"), ("mountpoint", "/")], &[(0.0, 1.0)]),
        ("b", &[("instance", "x"), ("mountpoint", "/var")], &[(0.0, 1.0)]),
    ]);
    let c = Condition::Compare { op: CmpOp::Ge, lhs: metric("a"), rhs: metric("b"), matching: on(&["instance"]) };
    let err = holds(&c, &NO_SHAPES, &set, 0).unwrap_err();
    assert!(err.contains("right of a one-to-one match on(instance)"), "{err}");
    // A side declared one series that has two.
    let metrics = [declared("a", Shape::PerSeries), declared("b", Shape::Single)];
    let c = cmp(CmpOp::Ge, metric("a"), metric("b"));
    let err = holds(&c, &Shapes::new(&metrics), &set, 0).unwrap_err();
    assert!(err.contains("at most one series and has 2"), "{err}");
    // When a side is empty nothing matches, and nothing is refused (as PromQL short-cuts).
    let c = Condition::Compare { op: CmpOp::Ge, lhs: metric("nope"), rhs: metric("b"), matching: on(&["instance"]) };
    assert_eq!(holds(&c, &NO_SHAPES, &set, 0).unwrap(), []);
}

#[test]
fn results_of_on_keep_only_the_matching_labels() {
    let set = labelled(&[
        ("a", &[("instance", "x"), ("job", "j")], &[(0.0, 3.0)]),
        ("b", &[("instance", "x"), ("zone", "z")], &[(0.0, 1.0)]),
    ]);
    let c = Condition::Compare { op: CmpOp::Gt, lhs: metric("a"), rhs: metric("b"), matching: on(&["instance"]) };
    assert_eq!(holds(&c, &NO_SHAPES, &set, 0).unwrap(), [(l(&[("instance", "x")]), 3.0)]);
    let ignoring = Some(Matching { on: false, labels: vec!["job".into(), "zone".into()] });
    let c = Condition::Compare { op: CmpOp::Gt, lhs: metric("a"), rhs: metric("b"), matching: ignoring };
    assert_eq!(holds(&c, &NO_SHAPES, &set, 0).unwrap(), [(l(&[("instance", "x")]), 3.0)]);
}

#[test]
fn not_holds_without_labels_when_no_series_holds() {
    let set = labelled(&[("x", &[("i", "a")], &[(0.0, 1.0)]), ("x", &[("i", "b")], &[(0.0, 9.0)])]);
    let not = Condition::Not { operand: Box::new(cmp(CmpOp::Gt, metric("x"), num(5.0))) };
    assert_eq!(holds(&not, &NO_SHAPES, &set, 0).unwrap(), []);
    let not = Condition::Not { operand: Box::new(cmp(CmpOp::Gt, metric("x"), num(50.0))) };
    assert_eq!(holds(&not, &NO_SHAPES, &set, 0).unwrap(), [(Labels::empty(), 1.0)]);
}

#[test]
fn each_series_has_its_own_timers_and_a_series_that_goes_away_resolves() {
    let t = trigger("t", cmp(CmpOp::Gt, metric("x"), num(5.0)), Hold::For { ms: 30_000 }, 0);
    let mut machines: SeriesMachines<&str> = SeriesMachines::new(&t);
    let mut out = Vec::new();
    machines.observe(0, Some(&["a"]), &mut out);
    machines.observe(15_000, Some(&["a", "b"]), &mut out);
    machines.observe(30_000, Some(&["a", "b"]), &mut out);
    // b is gone at 45 s: pending -> inactive at once; a keeps firing.
    machines.observe(45_000, Some(&["a"]), &mut out);
    // A failed evaluation changes nothing.
    machines.observe(60_000, None, &mut out);
    let brief: Vec<(i64, &str, TriggerState)> = out.iter().map(|(k, tr)| (tr.t_ms / 1000, *k, tr.to)).collect();
    assert_eq!(
        brief,
        [
            (0, "a", TriggerState::Pending),
            (15, "b", TriggerState::Pending),
            (30, "a", TriggerState::Firing),
            (45, "b", TriggerState::Inactive),
        ]
    );
    assert_eq!(machines.len(), 1, "only the active series keep a machine");
}

#[test]
fn a_trigger_over_max_series_drops_its_series_as_a_rule_over_its_limit() {
    let set = labelled(&[
        ("x", &[("i", "a")], &[(0.0, 9.0), (15.0, 9.0), (30.0, 9.0)]),
        ("x", &[("i", "b")], &[(0.0, 1.0), (15.0, 9.0), (30.0, 1.0)]),
    ]);
    let t = trigger("t", cmp(CmpOp::Gt, metric("x"), num(5.0)), Hold::For { ms: 0 }, 0);
    let mut plan = super::timeline_plan(vec![t]);
    plan.max_series = 1;
    let (records, failures) = evaluate_triggers(&plan, &set, 0, s(30), 15_000, V2);
    let brief: Vec<(i64, String, TriggerState)> =
        records.iter().map(|r| (r.t_ms / 1000, r.labels.to_string(), r.state)).collect();
    assert_eq!(
        brief,
        [
            (0, r#"{i="a"}"#.to_string(), TriggerState::Firing),
            (15, r#"{i="a"}"#.to_string(), TriggerState::Inactive),
            (30, r#"{i="a"}"#.to_string(), TriggerState::Firing),
        ]
    );
    assert_eq!(failures.len(), 1);
    assert!(failures[0].message.contains("2 series hold, more than `max series 1`"), "{}", failures[0].message);
}
