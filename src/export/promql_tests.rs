//! The translation per join kind, set operator, `not`, folding and precedence; alert names, labels,
//! annotations and their escaping; the group's `limit`. Metric shapes are set here by hand, so the tests
//! say what each shape exports to whatever analysis infers from the queries.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

use super::*;
use crate::plan::{ArithOp, CmpOp, Condition, Matching, Shape, Value};

/// A plan with metrics `a` (per (instance, mountpoint)), `b` (per instance), `x` (per series, labels
/// unknown), `c` (`c{job="a"}`), `s` (`sum(a)`, single), `t` (`sum(b)`, single) and one trigger `t1`
/// whose condition is replaced by the caller.
fn plan() -> Plan {
    let text = "runbook r {\n metric a = promql `disk_used{kind=\"fs\"}`\n metric b = promql \"up\"\n \
                metric x = promql \"x\"\n metric c = promql `c{job=\"a\"}`\n metric s = promql `sum(disk_used)`\n \
                metric t = promql `sum(up)`\n trigger t1: x > 1 -> level 1\n level 1 \"Fix {{it}}\" { step shell \"true\" }\n}\n";
    let compiled = crate::compile(text);
    let mut plan = compiled.plan.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    for m in &mut plan.metrics {
        m.shape = match m.name.as_str() {
            "a" => Shape::Labels(vec!["instance".into(), "mountpoint".into()]),
            "b" => Shape::Labels(vec!["instance".into()]),
            "s" | "t" => Shape::Single,
            _ => Shape::PerSeries,
        };
    }
    plan
}

fn m(name: &str) -> Value {
    Value::Metric { name: name.to_string(), offset_ms: 0 }
}

fn n(v: f64) -> Value {
    Value::Number { value: v }
}

fn on(labels: &[&str]) -> Option<Matching> {
    Some(Matching { on: true, labels: labels.iter().map(|l| l.to_string()).collect() })
}

fn ignoring(labels: &[&str]) -> Option<Matching> {
    Some(Matching { on: false, labels: labels.iter().map(|l| l.to_string()).collect() })
}

fn cmp(op: CmpOp, lhs: Value, rhs: Value) -> Condition {
    Condition::Compare { op, lhs, rhs, matching: None }
}

fn cmp_m(op: CmpOp, lhs: Value, rhs: Value, matching: Option<Matching>) -> Condition {
    Condition::Compare { op, lhs, rhs, matching }
}

fn arith(op: ArithOp, lhs: Value, rhs: Value, matching: Option<Matching>) -> Value {
    Value::Arith { op, lhs: Box::new(lhs), rhs: Box::new(rhs), matching }
}

fn and(l: Condition, r: Condition, matching: Option<Matching>) -> Condition {
    Condition::And { lhs: Box::new(l), rhs: Box::new(r), matching }
}

fn or(l: Condition, r: Condition, matching: Option<Matching>) -> Condition {
    Condition::Or { lhs: Box::new(l), rhs: Box::new(r), matching }
}

fn unless(l: Condition, r: Condition, matching: Option<Matching>) -> Condition {
    Condition::Unless { lhs: Box::new(l), rhs: Box::new(r), matching }
}

fn not(c: Condition) -> Condition {
    Condition::Not { operand: Box::new(c) }
}

/// `1 > 0` / `1 < 0`: conditions that fold to always true / false.
fn yes() -> Condition {
    cmp(CmpOp::Gt, n(1.0), n(0.0))
}

fn no() -> Condition {
    cmp(CmpOp::Lt, n(1.0), n(0.0))
}

fn gt(name: &str, v: f64) -> Condition {
    cmp(CmpOp::Gt, m(name), n(v))
}

fn promql(c: &Condition) -> String {
    let plan = plan();
    Translator::new(&plan).condition(c).unwrap()
}

const A: &str = "disk_used{kind=\"fs\"}";

#[test]
fn per_series_with_per_series_matches_on_every_label() {
    assert_eq!(promql(&cmp(CmpOp::Gt, m("a"), m("b"))), format!("{A} > up"));
    assert_eq!(promql(&cmp(CmpOp::Lt, arith(ArithOp::Div, m("a"), m("x"), None), n(0.5))), format!("{A} / x < 0.5"));
    assert_eq!(promql(&cmp(CmpOp::Gt, m("x"), m("c"))), r#"x > c{job="a"}"#);
}

#[test]
fn written_matching_is_one_to_one_on_those_labels() {
    assert_eq!(promql(&cmp_m(CmpOp::Gt, m("a"), m("b"), on(&["instance"]))), format!("{A} > on(instance) up"));
    assert_eq!(
        promql(&cmp_m(CmpOp::Gt, m("a"), m("x"), ignoring(&["mountpoint", "kind"]))),
        format!("{A} > ignoring(mountpoint, kind) x")
    );
    assert_eq!(
        promql(&cmp(CmpOp::Gt, arith(ArithOp::Sub, m("a"), m("b"), on(&["instance"])), n(1.0))),
        format!("{A} - on(instance) up > 1")
    );
    // Written `on()` between per-series operands stays `on()`.
    assert_eq!(promql(&cmp_m(CmpOp::Eq, m("x"), m("c"), on(&[]))), r#"x == on() c{job="a"}"#);
}

#[test]
fn two_single_series_match_on_nothing() {
    assert_eq!(promql(&cmp(CmpOp::Gt, m("s"), m("t"))), "(sum(disk_used)) > on() (sum(up))");
    assert_eq!(
        promql(&cmp(CmpOp::Gt, arith(ArithOp::Div, m("s"), m("t"), None), n(0.5))),
        "(sum(disk_used)) / on() (sum(up)) > 0.5"
    );
}

#[test]
fn per_series_with_a_single_series_groups_the_single_side() {
    // A single series on the right: `group_left`, with its empty label list before a parenthesis.
    assert_eq!(
        promql(&cmp(CmpOp::Gt, m("a"), arith(ArithOp::Mul, n(2.0), m("s"), None))),
        format!("{A} > on() group_left 2 * (sum(disk_used))")
    );
    assert_eq!(promql(&cmp(CmpOp::Gt, m("a"), m("s"))), format!("{A} > on() group_left() (sum(disk_used))"));
    assert_eq!(
        promql(&cmp(CmpOp::Gt, arith(ArithOp::Div, m("x"), m("t"), None), n(0.5))),
        "x / on() group_left() (sum(up)) > 0.5"
    );
    // A single series on the left: `group_right`.
    assert_eq!(promql(&cmp(CmpOp::Lt, m("s"), m("b"))), "(sum(disk_used)) < on() group_right up");
    assert_eq!(
        promql(&cmp(CmpOp::Lt, m("t"), arith(ArithOp::Sub, n(0.0), m("b"), None))),
        "(sum(up)) < on() group_right 0 - up"
    );
    assert_eq!(
        promql(&cmp(CmpOp::Lt, m("t"), Value::Neg { operand: Box::new(m("b")) })),
        "(sum(up)) < on() group_right() (-up)"
    );
}

#[test]
fn numbers_broadcast_without_a_modifier() {
    assert_eq!(promql(&gt("a", 0.9)), format!("{A} > 0.9"));
    assert_eq!(promql(&cmp(CmpOp::Lt, n(3.0), m("s"))), "3 < (sum(disk_used))");
    assert_eq!(promql(&cmp(CmpOp::Gt, arith(ArithOp::Add, m("x"), n(1.0), None), n(2.0))), "x + 1 > 2");
    // Two numbers are computed here: PromQL would want `bool`.
    assert_eq!(promql(&cmp(CmpOp::Gt, arith(ArithOp::Mul, n(2.0), n(3.0), None), n(5.0))), "vector(1)");
}

#[test]
fn set_operators_take_the_modifier_of_their_join() {
    let b0 = cmp(CmpOp::Eq, m("b"), n(0.0));
    assert_eq!(promql(&and(gt("a", 0.9), b0.clone(), None)), format!("{A} > 0.9 and up == 0"));
    assert_eq!(
        promql(&and(gt("a", 0.9), b0.clone(), on(&["instance"]))),
        format!("{A} > 0.9 and on(instance) up == 0")
    );
    assert_eq!(promql(&and(gt("a", 0.9), gt("s", 1.0), None)), format!("{A} > 0.9 and on() (sum(disk_used)) > 1"));
    assert_eq!(promql(&and(gt("s", 1.0), gt("t", 1.0), None)), "(sum(disk_used)) > 1 and on() (sum(up)) > 1");
    assert_eq!(promql(&or(gt("a", 0.9), gt("b", 1.0), None)), format!("{A} > 0.9 or up > 1"));
    // `or` with one single side still matches every label: the per-series side keeps its series.
    assert_eq!(promql(&or(gt("a", 0.9), gt("s", 1.0), None)), format!("{A} > 0.9 or (sum(disk_used)) > 1"));
    assert_eq!(promql(&or(gt("s", 1.0), gt("t", 1.0), None)), "(sum(disk_used)) > 1 or on() (sum(up)) > 1");
    assert_eq!(
        promql(&or(gt("a", 0.9), gt("b", 1.0), ignoring(&["mountpoint"]))),
        format!("{A} > 0.9 or ignoring(mountpoint) up > 1")
    );
}

#[test]
fn unless_is_new_and_binds_like_and() {
    assert_eq!(
        promql(&unless(gt("a", 0.9), gt("b", 0.0), on(&["instance"]))),
        format!("{A} > 0.9 unless on(instance) up > 0")
    );
    assert_eq!(promql(&unless(gt("a", 0.9), gt("x", 0.0), None)), format!("{A} > 0.9 unless x > 0"));
    assert_eq!(promql(&unless(gt("x", 0.9), gt("t", 0.0), None)), "x > 0.9 unless on() (sum(up)) > 0");
    // Left-associative with `and`, looser than comparisons, tighter than `or`.
    assert_eq!(
        promql(&unless(and(gt("x", 1.0), gt("c", 1.0), None), gt("b", 1.0), None)),
        r#"x > 1 and c{job="a"} > 1 unless up > 1"#
    );
    assert_eq!(
        promql(&and(gt("x", 1.0), unless(gt("c", 1.0), gt("b", 1.0), None), None)),
        r#"x > 1 and (c{job="a"} > 1 unless up > 1)"#
    );
    assert_eq!(
        promql(&unless(or(gt("x", 1.0), gt("c", 1.0), None), gt("b", 1.0), None)),
        r#"(x > 1 or c{job="a"} > 1) unless up > 1"#
    );
    assert_eq!(
        promql(&or(gt("x", 1.0), unless(gt("c", 1.0), gt("b", 1.0), None), None)),
        r#"x > 1 or c{job="a"} > 1 unless up > 1"#
    );
}

#[test]
fn not_holds_without_labels_when_no_series_holds() {
    assert_eq!(promql(&not(gt("a", 0.9))), format!("vector(1) unless on() ({A} > 0.9)"));
    // `not` is one series: `and` with it matches on nothing.
    assert_eq!(promql(&and(gt("x", 0.0), not(gt("b", 1.0)), None)), "x > 0 and on() (vector(1) unless on() (up > 1))");
    assert_eq!(promql(&not(not(gt("x", 1.0)))), "vector(1) unless on() (vector(1) unless on() (x > 1))");
}

#[test]
fn always_true_or_false_sides_fold_only_where_the_series_are_the_same() {
    let ax = || gt("x", 1.0);
    assert_eq!(promql(&and(ax(), yes(), None)), "x > 1");
    assert_eq!(promql(&and(ax(), no(), None)), "vector(1) < 0");
    assert_eq!(promql(&or(no(), ax(), None)), "x > 1");
    assert_eq!(promql(&unless(ax(), no(), None)), "x > 1");
    assert_eq!(promql(&unless(ax(), yes(), None)), "vector(1) < 0");
    assert_eq!(promql(&unless(no(), ax(), None)), "vector(1) < 0");
    // An always-true side is one series without labels: with per-series `x`, `or` keeps both.
    assert_eq!(promql(&or(ax(), yes(), None)), "x > 1 or vector(1)");
    assert_eq!(promql(&or(yes(), ax(), None)), "vector(1) or x > 1");
    // ... and `and` with it on the left is that one series, not `x`'s.
    assert_eq!(promql(&and(yes(), ax(), None)), "vector(1) and on() x > 1");
    assert_eq!(promql(&unless(yes(), ax(), None)), "vector(1) unless on() x > 1");
    // With single series on both sides, the old folds hold.
    assert_eq!(promql(&or(gt("s", 1.0), yes(), None)), "vector(1)");
    assert_eq!(promql(&and(yes(), gt("s", 1.0), None)), "(sum(disk_used)) > 1");
    // Written matching on a label: the always-true series (no labels) matches only series without it.
    assert_eq!(promql(&and(ax(), yes(), on(&["instance"]))), "x > 1 and on(instance) vector(1)");
    assert_eq!(promql(&not(yes())), "vector(1) < 0");
}

#[test]
fn offsets_windows_and_subqueries_keep_their_forms() {
    let w = |metric: &str| Value::Window {
        func: crate::plan::WindowFunc::AvgOver,
        metric: metric.to_string(),
        window_ms: 300_000,
        offset_ms: 0,
        quantile: None,
    };
    assert_eq!(
        promql(&cmp(CmpOp::Gt, m("a"), arith(ArithOp::Mul, n(2.0), w("s"), None))),
        format!("{A} > on() group_left 2 * avg_over_time((sum(disk_used))[5m:15s])")
    );
    let off = Value::Metric { name: "s".into(), offset_ms: 3_600_000 };
    assert_eq!(
        promql(&cmp(CmpOp::Gt, m("x"), off)),
        "x > on() group_left last_over_time((sum(disk_used))[1ms:1ms] offset 1h)"
    );
    let off = Value::Metric { name: "x".into(), offset_ms: 60_000 };
    assert_eq!(promql(&cmp(CmpOp::Gt, m("c"), off)), r#"c{job="a"} > (x offset 1m)"#);
}

// ---------------------------------------------------------------------------------------------------------
// The rule around the expression.

fn rules_of(edit: impl FnOnce(&mut Plan)) -> RulesExport {
    let mut plan = plan();
    edit(&mut plan);
    prometheus_rules(&plan, PromVersion::V3)
}

fn tpl(parts: Vec<TemplatePart>) -> Template {
    Template { parts }
}

fn text(t: &str) -> TemplatePart {
    TemplatePart::Text(t.to_string())
}

#[test]
fn alert_name_labels_and_annotations_of_a_trigger() {
    let out = rules_of(|p| {
        let t = &mut p.triggers[0];
        t.alert = Some("DiskAlmostFull".into());
        t.labels = vec![("severity".into(), "critical".into()), ("team".into(), "st{{o}}rage".into())];
        t.annotations = vec![
            (
                "description".into(),
                tpl(vec![
                    text("Disk "),
                    TemplatePart::Var(Variable::Label("mountpoint".into())),
                    text(" on {"),
                    TemplatePart::Var(Variable::Label("instance".into())),
                    text("} is at "),
                    TemplatePart::Var(Variable::Value),
                    text(" ({{ not a template }}) per "),
                    TemplatePart::Var(Variable::Trigger),
                    text(" of "),
                    TemplatePart::Var(Variable::Runbook),
                    text(", level "),
                    TemplatePart::Var(Variable::Level),
                    TemplatePart::Var(Variable::Env("HOME".into())),
                    TemplatePart::Var(Variable::RunId),
                ]),
            ),
            ("summary".into(), tpl(vec![text("full")])),
        ];
    });
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    let rule = &out.rules[0];
    assert_eq!(rule.alert, "DiskAlmostFull");
    assert_eq!(
        rule.labels,
        BTreeMap::from([
            ("ripcord_level".to_string(), "1".to_string()),
            ("ripcord_runbook".to_string(), "r".to_string()),
            ("severity".to_string(), "critical".to_string()),
            ("team".to_string(), "st{{ \"{{\" }}o}}rage".to_string()),
        ])
    );
    assert_eq!(
        rule.annotations["description"],
        "Disk {{ $labels.mountpoint }} on {{ \"{\" }}{{ $labels.instance }}} is at {{ $value }} \
         ({{ \"{{\" }} not a template }}) per t1 of r, level 1"
    );
    assert_eq!(rule.annotations["summary"], "full", "the trigger's summary replaces export's");
    assert_eq!(rule.annotations["ripcord_condition"], "x > 1");
    assert!(out.yaml.contains("- alert: DiskAlmostFull\n"), "{}", out.yaml);
}

#[test]
fn without_alert_name_the_trigger_name_and_export_labels_stay() {
    let out = rules_of(|_| {});
    let rule = &out.rules[0];
    assert_eq!(rule.alert, "t1");
    assert_eq!(rule.labels.len(), 2);
    assert_eq!(rule.annotations["summary"], "runbook r: t1 starts level 1 \"Fix {{ \"{{\" }}it}}\"");
}

#[test]
fn a_trigger_label_or_annotation_over_exports_own_is_refused() {
    for name in ["ripcord_level", "ripcord_runbook", "ripcord_notify", "alertname"] {
        let out = rules_of(|p| p.triggers[0].labels = vec![(name.to_string(), "x".to_string())]);
        assert!(out.rules.is_empty(), "{name}");
        assert_eq!(out.skipped[0].reason, Unexpressible::LabelClash(name.to_string()));
        let message = out.skipped[0].reason.to_string();
        assert!(message.contains(&format!("sets label `{name}`")) && message.contains("rename"), "{message}");
    }
    let out = rules_of(|p| p.triggers[0].annotations = vec![("ripcord_condition".into(), tpl(vec![text("x")]))]);
    assert_eq!(out.skipped[0].reason, Unexpressible::AnnotationClash("ripcord_condition".into()));
    assert!(out.skipped[0].reason.to_string().contains("which export writes itself"));
}

#[test]
fn the_group_limit_is_max_series() {
    let out = rules_of(|p| p.max_series = 25);
    assert!(out.yaml.contains("  interval: 15s\n  limit: 25\n  rules:\n"), "{}", out.yaml);
    let out = rules_of(|_| {});
    assert!(out.yaml.contains("  limit: 1000\n"), "the default is written too: {}", out.yaml);
}

#[test]
fn escaping_before_an_action() {
    assert_eq!(escape_literal("a{", true), "a{{ \"{\" }}");
    assert_eq!(escape_literal("a{", false), "a{");
    assert_eq!(escape_literal("{{{", true), "{{ \"{{\" }}{{ \"{\" }}");
    assert_eq!(escape_template("}}{{"), "}}{{ \"{{\" }}");
}
