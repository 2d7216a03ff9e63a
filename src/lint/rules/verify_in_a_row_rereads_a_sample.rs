use crate::lint::{Context, Violation};
use crate::plan::{Action, format_duration};

rule! {
    /// ## What it does
    /// Checks for `verify CONDITION ... for N consecutive` steps that check more often than the runbook's
    /// `evaluate every` (the default `every 5s` counts).
    ///
    /// ## Why is this bad?
    /// Checks in a row are there so that one lucky sample cannot pass the verify. A condition reads
    /// Prometheus, whose samples change once per scrape; the runbook's evaluation interval is the pace its
    /// triggers assume for them. Checks closer together than that can read one sample several times, so
    /// `for 3 consecutive` at `every 5s` over a 15s scrape may be one good sample read three times.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   evaluate every 15s
    ///   metric error_rate = promql `sum(rate(errors_total[1m]))`
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m for 3 consecutive
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   evaluate every 15s
    ///   metric error_rate = promql `sum(rate(errors_total[1m]))`
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m every 15s for 3 consecutive
    ///   }
    /// }
    /// ```
    name: "verify-in-a-row-rereads-a-sample",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let interval = cx.plan.evaluation_interval_ms;
    for level in &cx.levels {
        for step in &level.steps {
            let Action::VerifyCondition { every_ms, consecutive, .. } = step.plan.action else { continue };
            if consecutive <= 1 || every_ms >= interval {
                continue;
            }
            let span = step.modifier("every").or(step.modifier("for N consecutive")).map_or(step.span(), |m| m.span);
            out.push(
                Violation::new(
                    span,
                    format!(
                        "step {} checks {consecutive} times in a row every {}, faster than the runbook evaluates ({})",
                        step.plan.id,
                        format_duration(every_ms),
                        format_duration(interval)
                    ),
                )
                .label("the checks can read one sample more than once")
                .help(format!(
                    "check at the pace the metrics change: `every {}` (the runbook's `evaluate every`) or slower",
                    format_duration(interval)
                )),
            );
        }
    }
}
