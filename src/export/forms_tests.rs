//! The rules of `for N of M`, `clear when` and `on no data`: plans built from a compiled runbook with the
//! new forms set on its trigger, so they do not depend on how the forms are written.

#![allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

use super::*;
use crate::plan::{ClearWhen, Hold, NoData, Shape};

/// A runbook whose first trigger `t` (`a > 0.9`, `a` per series, evaluated every 15s) is the caller's to
/// change (with the label `team`), and a `clear when` condition `a < 0.6` (or, with `other`, `b == 0`).
fn plan(other: bool) -> (Plan, ClearWhen) {
    let text = "runbook r {\n metric a = promql \"a\"\n metric b = promql \"b\"\n metric s = promql \"sum(a)\"\n \
                trigger t: a > 0.9 -> level 1\n trigger c1: a < 0.6 -> level 1\n \
                trigger c2: b == 0 -> level 1\n trigger c3: s > 5 -> level 1\n level 1 { step shell \"true\" }\n}\n";
    let compiled = crate::compile(text);
    let mut plan = compiled.plan.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let c = plan.triggers.remove(if other { 2 } else { 1 });
    plan.triggers.truncate(1);
    plan.triggers[0].labels = vec![("team".to_string(), "db".to_string())];
    (plan, ClearWhen { condition_text: c.condition_text, condition: c.condition, metrics: c.metrics })
}

fn only_rule(plan: &Plan) -> Rule {
    let out = prometheus_rules(plan, crate::eval::PromVersion::V3);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert!(serde_saphyr::from_str::<serde_yaml_check::File>(&out.yaml).is_ok(), "{}", out.yaml);
    out.rules.into_iter().next().unwrap()
}

/// Enough of the rule file's shape to see it reads back.
mod serde_yaml_check {
    #[derive(serde::Deserialize)]
    pub struct File {
        #[allow(dead_code, reason = "read to check the shape")]
        pub groups: Vec<serde::de::IgnoredAny>,
    }
}

fn skipped(plan: &Plan) -> String {
    let out = prometheus_rules(plan, crate::eval::PromVersion::V2);
    assert!(out.rules.is_empty());
    out.skipped[0].reason.to_string()
}

#[test]
fn n_of_m_counts_the_last_m_evaluations_in_a_subquery_without_for() {
    let (mut plan, _) = plan(false);
    plan.triggers[0].hold = Hold::OfLast { n: 3, m: 20 };
    plan.triggers[0].keep_firing_for_ms = 30_000;
    let r = only_rule(&plan);
    assert_eq!(r.expr, "count_over_time((a > 0.9)[299999ms:15s]) >= 3");
    assert_eq!(r.for_, None);
    assert_eq!(r.keep_firing_for.as_deref(), Some("30s"));
}

#[test]
fn one_of_one_is_the_condition_at_this_evaluation() {
    let (mut plan, _) = plan(false);
    plan.evaluation_interval_ms = 60_000;
    plan.triggers[0].hold = Hold::OfLast { n: 1, m: 1 };
    assert_eq!(only_rule(&plan).expr, "count_over_time((a > 0.9)[59999ms:1m]) >= 1");
}

#[test]
fn clear_when_keeps_firing_series_through_their_alerts_series() {
    let (mut plan, clear) = plan(false);
    plan.triggers[0].clear_when = Some(clear);
    plan.triggers[0].hold = Hold::For { ms: 60_000 };
    plan.triggers[0].keep_firing_for_ms = 15_000;
    let r = only_rule(&plan);
    assert_eq!(
        r.expr,
        "(a > 0.9) or ignoring(alertname, alertstate, ripcord_level, ripcord_runbook, team) \
         ((max without(alertname, alertstate, ripcord_level, ripcord_runbook, team) \
         (ALERTS{alertname=\"t\", alertstate=\"firing\"})) unless a < 0.6)"
    );
    assert_eq!(r.for_.as_deref(), Some("1m"));
    assert_eq!(r.keep_firing_for.as_deref(), Some("15s"));
}

#[test]
fn clear_when_with_consecutive_is_a_for_of_n_minus_one_intervals() {
    let (mut plan, clear) = plan(true);
    plan.triggers[0].clear_when = Some(clear);
    plan.triggers[0].hold = Hold::Consecutive { evaluations: 3 };
    plan.triggers[0].alert = Some("Disk \"full\"".to_string());
    let r = only_rule(&plan);
    assert!(
        r.expr.ends_with("(ALERTS{alertname=\"Disk \\\"full\\\"\", alertstate=\"firing\"})) unless b == 0)"),
        "{}",
        r.expr
    );
    assert_eq!(r.for_.as_deref(), Some("30s"));
}

#[test]
fn clear_when_one_series_clears_every_series_on_no_label() {
    let (mut plan, _) = plan(false);
    let compiled = crate::compile(
        "runbook r {\n metric s = promql \"sum(a)\"\n trigger c: s > 5 -> level 1\n level 1 { step shell \"true\" }\n}\n",
    );
    let c = compiled.plan.unwrap().triggers.remove(0);
    plan.metrics.iter_mut().for_each(|m| {
        if m.name == "s" {
            m.shape = Shape::Single;
        }
    });
    plan.triggers[0].clear_when =
        Some(ClearWhen { condition_text: c.condition_text, condition: c.condition, metrics: c.metrics });
    let r = only_rule(&plan);
    assert!(r.expr.ends_with(") unless on() (sum(a)) > 5)"), "{}", r.expr);
}

#[test]
fn n_of_m_with_clear_when_counts_the_inputs_of_the_state_entering_each_step() {
    let (mut plan, clear) = plan(false);
    plan.triggers[0].clear_when = Some(clear);
    plan.triggers[0].hold = Hold::OfLast { n: 2, m: 4 };
    let r = only_rule(&plan);
    assert_eq!(
        r.expr,
        "count_over_time((max without() ((a > 0.9) or ignoring(alertname, alertstate, ripcord_level, ripcord_runbook, team) \
         ((max without(alertname, alertstate, ripcord_level, ripcord_runbook, team) \
         (ALERTS{alertname=\"t\", alertstate=\"firing\"} offset 15s)) unless a < 0.6)))[59999ms:15s]) >= 2"
    );
    assert_eq!(r.for_, None);
}

#[test]
fn on_no_data_keep_and_fire_are_refused_and_clear_is_today() {
    let (mut plan, _) = plan(false);
    plan.triggers[0].on_no_data = NoData::Keep;
    let why = skipped(&plan);
    assert!(why.starts_with("`on no data keep` has no exact PromQL form"), "{why}");
    plan.triggers[0].on_no_data = NoData::Fire;
    let why = skipped(&plan);
    assert!(why.starts_with("`on no data fire` has no exact PromQL form"), "{why}");
    plan.triggers[0].on_no_data = NoData::Clear;
    assert_eq!(only_rule(&plan).expr, "a > 0.9");
}
