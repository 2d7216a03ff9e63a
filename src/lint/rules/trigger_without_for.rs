use crate::ast;
use crate::lint::{Context, Violation};
use crate::plan::{CmpOp, Condition, Hold, Value, format_duration};

rule! {
    /// ## What it does
    /// Checks for triggers that start a level on a single true evaluation: no `for`, `for 0s`,
    /// `for 1 consecutive` or `for 1 of M`.
    ///
    /// A condition that only asks whether something happened at all is exempt: `> 0`, `!= 0` or `>= 1`
    /// (`corrupt_rows > 0`, `increase(oom_kills_total, 5m) >= 1`), alone or joined with `or`. There the first
    /// occurrence is the signal, and waiting for a second one only delays the response. Triggers that only
    /// notify are exempt too: they change nothing.
    ///
    /// ## Why is this bad?
    /// Metrics are noisy. One scrape during a deploy, a garbage-collection pause or a half-empty rate window
    /// is enough to cross a threshold for one evaluation, and without a hold that one evaluation starts a
    /// rollback. Alerting practice (and Prometheus's `for:`) is to require the condition to hold for a few
    /// evaluations before acting.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "trigger-without-for",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let interval = cx.plan.evaluation_interval_ms;
    for t in &cx.triggers {
        let Some(level) = t.level() else { continue };
        let immediate = match t.plan.hold {
            Hold::For { ms } => ms == 0,
            Hold::Consecutive { evaluations } => evaluations <= 1,
            Hold::OfLast { n, .. } => n <= 1,
        };
        if !immediate || any_occurrence(&t.plan.condition) {
            continue;
        }
        let (span, message) = match &t.ast.hold {
            Some(ast::Hold::For(q)) => (
                q.span,
                format!("trigger `{}` holds `for {}`: it fires on one evaluation", t.plan.name, cx.snippet(q.span)),
            ),
            Some(ast::Hold::Consecutive(q)) => (
                q.span,
                format!(
                    "trigger `{}` holds `for {} consecutive`: it fires on one evaluation",
                    t.plan.name,
                    cx.snippet(q.span)
                ),
            ),
            Some(ast::Hold::OfLast { span, .. }) => (
                *span,
                format!("trigger `{}` holds `for {}`: it fires on one true evaluation", t.plan.name, cx.snippet(*span)),
            ),
            None => {
                (t.ast.condition.span, format!("trigger `{}` has no `for`: it fires on one evaluation", t.plan.name))
            }
        };
        out.push(
            Violation::new(span, message)
                .label(format!("one true evaluation starts level {level}"))
                .help(format!(
                    "add a hold before `->`, such as `for {}` or `for 3 consecutive`, so that one noisy sample does not start level {level}",
                    format_duration(interval.saturating_mul(4))
                )),
        );
    }
}

/// `x > 0`, `x != 0`, `x >= 1` (either way round), or an `or` of them: the condition asks whether anything
/// happened at all.
fn any_occurrence(c: &Condition) -> bool {
    let is = |v: &Value, n: f64| matches!(v, Value::Number { value } if *value == n);
    let number = |v: &Value| matches!(v, Value::Number { .. });
    match c {
        Condition::Compare { op, lhs, rhs, .. } => match op {
            CmpOp::Gt | CmpOp::Ne if is(rhs, 0.0) && !number(lhs) => true,
            CmpOp::Lt | CmpOp::Ne if is(lhs, 0.0) && !number(rhs) => true,
            CmpOp::Ge => is(rhs, 1.0) && !number(lhs),
            CmpOp::Le => is(lhs, 1.0) && !number(rhs),
            _ => false,
        },
        Condition::Or { lhs, rhs, .. } => any_occurrence(lhs) && any_occurrence(rhs),
        _ => false,
    }
}
