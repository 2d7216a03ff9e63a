use std::collections::BTreeSet;

use crate::lint::{Context, Violation};
use crate::plan::Action;

rule! {
    /// ## What it does
    /// Checks for metrics declared with `metric NAME = promql ...` that no trigger and no `verify` step reads.
    ///
    /// ## Why is this bad?
    /// An unused metric is usually a trigger or a verify step that was meant to be written and was not, or
    /// one that reads a misspelled name instead (an undeclared metric has no live source). At best it is
    /// a query that reviewers read and maintain for nothing.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   metric error_rate = promql `sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))`
    ///   metric p95_latency = promql `histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))`
    ///   trigger errors: error_rate > 5% for 1m -> level 1
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
    ///   metric error_rate = promql `sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))`
    ///   metric p95_latency = promql `histogram_quantile(0.95, sum by (le) (rate(latency_bucket[5m])))`
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% and p95_latency < 500ms within 2m
    ///   }
    /// }
    /// ```
    name: "unused-metric",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let mut used: BTreeSet<String> = cx.triggers.iter().flat_map(|t| t.plan.metrics.iter().cloned()).collect();
    for step in cx.plan.all_steps() {
        if let Action::VerifyCondition { condition, .. } = &step.action {
            let mut names = Vec::new();
            condition.metrics(&mut names);
            used.extend(names);
        }
    }
    for m in &cx.metrics {
        if !used.contains(&m.name.name) {
            out.push(
                Violation::new(m.name.span, format!("metric `{}` is never read", m.name.name))
                    .label("declared, not used by any trigger or verify step")
                    .help("use it in a trigger or a `step verify`, or remove the declaration"),
            );
        }
    }
}
