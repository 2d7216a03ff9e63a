//! The trigger forms that are more than a condition and a `for`: `for N of M`, `clear when` and
//! `on no data`, as one alerting rule's expression, `for` and `keep_firing_for`, or the reason they have no
//! exact PromQL form.
//!
//! - `for N of M` counts true evaluations in a subquery whose steps are the last M evaluation times:
//!   `count_over_time((COND)[W:I]) >= N` with `W = M*I - 1ms`. A subquery's steps are the multiples of its
//!   step I in `[t - W, t]` (Prometheus 2) or `(t - W, t]` (Prometheus 3); with `W` one millisecond short of
//!   M intervals, both are `t, t - I, ..., t - (M-1)I` at an evaluation time `t` that is a multiple of I. The
//!   rule has no `for`: the count decides.
//! - `clear when C` keeps a firing alert's series in the expression through its own `ALERTS` series: the
//!   rule's expression at `t` is `COND or (FIRING unless C)`, where FIRING is the rule's `ALERTS{alertstate=
//!   "firing"}` with the labels the rule adds taken off. Evaluation `t` writes its `ALERTS` samples at `t`
//!   after its query ran, and a stale marker for an alert that stopped firing; so the query at `t` sees the
//!   state after the evaluation before it: exactly ripcord's input while firing, `COND or not C`.
//!   With `for N of M` the window holds those inputs: the subquery reads `ALERTS offset I`, the state
//!   entering each of its steps (at a step before `t`, `ALERTS` without the offset would read the state
//!   after it, which differs where a `keep_firing_for` ran out at that step).
//! - `on no data keep | fire` is refused: an alerting rule's timers run on the clock and its alerts follow
//!   the series its expression returns, and no expression returns a series for "every metric is absent"
//!   that keeps a `for` clock still (`keep`) or sets the state of series that have no data (`fire`).

use std::collections::BTreeMap;

use crate::plan::{Hold, NoData, Plan, Trigger, format_duration};

use super::promql::{Translator, Unexpressible};

/// A rule's expression and hold, before labels and annotations.
pub(super) struct Firing {
    pub expr: String,
    pub for_ms: u64,
    pub keep_firing_for_ms: u64,
}

/// The expression and hold of `trigger`'s rule, whose static labels (export's and the trigger's) are
/// `labels` and whose alert is named `alert`.
pub(super) fn firing(
    plan: &Plan,
    translator: &Translator<'_>,
    trigger: &Trigger,
    alert: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Firing, Unexpressible> {
    match trigger.on_no_data {
        NoData::Clear => {}
        NoData::Keep => {
            return Err(Unexpressible::Form(
                "`on no data keep` has no exact PromQL form: a Prometheus alert's `for` and `keep_firing_for` run \
                 on the clock and cannot stand still while the metrics are absent, and an expression that returns \
                 nothing resolves the alert; drop `on no data keep` to export this trigger"
                    .to_string(),
            ));
        }
        NoData::Fire => {
            return Err(Unexpressible::Form(
                "`on no data fire` has no exact PromQL form: a rule's expression cannot tell which of its alerts \
                 were pending when every metric went absent, nor raise the alert without labels only when none \
                 was; drop `on no data fire` (or alert on `absent(...)` in a trigger of its own) to export this \
                 trigger"
                    .to_string(),
            ));
        }
    }
    let interval_ms = plan.evaluation_interval_ms.max(1);
    let cond = translator.condition(&trigger.condition)?;
    // What keeps a firing series firing, as `FIRING unless C`, at the evaluation (`offset` 0) or at each
    // step of a subquery (`offset I`).
    let held = |offset_ms: u64| -> Result<Option<String>, Unexpressible> {
        let Some(clear) = &trigger.clear_when else { return Ok(None) };
        let firing = firing_series(alert, labels, offset_ms);
        translator.unless_condition(&firing, &trigger.shape, &clear.condition)
    };
    let with_held = |cond: &str, offset_ms: u64| -> Result<String, Unexpressible> {
        Ok(match held(offset_ms)? {
            Some(kept) => format!("({cond}) or ignoring({}) ({kept})", own_labels(labels).join(", ")),
            None => cond.to_string(),
        })
    };
    let (expr, for_ms) = match trigger.hold {
        Hold::For { ms } => (with_held(&cond, 0)?, ms),
        // `for N consecutive` fires at the Nth true evaluation in a row: N - 1 intervals after the first.
        Hold::Consecutive { evaluations } => {
            (with_held(&cond, 0)?, u64::from(evaluations.max(1) - 1).saturating_mul(interval_ms))
        }
        Hold::OfLast { n, m } => {
            // Inside the subquery one series may come from COND at one step (with its metric name) and
            // from FIRING at another (without): `max without()` drops the name, so that they are one
            // series to count, not two with one label set.
            let input = match &trigger.clear_when {
                Some(_) => format!("max without() ({})", with_held(&cond, interval_ms)?),
                None => cond,
            };
            let window_ms = u64::from(m.max(1)).saturating_mul(interval_ms) - 1;
            let step = format_duration(interval_ms);
            (format!("count_over_time(({input})[{window_ms}ms:{step}]) >= {n}"), 0)
        }
    };
    Ok(Firing { expr, for_ms, keep_firing_for_ms: trigger.keep_firing_for_ms })
}

/// The labels an alert takes from its rule rather than from its expression's series: `alertname`,
/// `alertstate` (on `ALERTS`) and the rule's static labels, sorted.
fn own_labels(labels: &BTreeMap<String, String>) -> Vec<&str> {
    let mut own: Vec<&str> = ["alertname", "alertstate"].into_iter().chain(labels.keys().map(String::as_str)).collect();
    own.sort_unstable();
    own.dedup();
    own
}

/// The series `alert` is firing for, with the labels of the expression's series: its `ALERTS` samples
/// without the labels the rule adds (at `offset_ms` before the query's time when not 0).
fn firing_series(alert: &str, labels: &BTreeMap<String, String>, offset_ms: u64) -> String {
    let offset = if offset_ms > 0 { format!(" offset {}", format_duration(offset_ms)) } else { String::new() };
    format!(
        "max without({}) (ALERTS{{alertname={}, alertstate=\"firing\"}}{offset})",
        own_labels(labels).join(", "),
        promql_string(alert)
    )
}

/// A PromQL double-quoted string literal.
fn promql_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
