use crate::lint::{Context, Violation};
use crate::plan::timing::one_try_ms;
use crate::plan::{Action, format_duration};

rule! {
    /// ## What it does
    /// Checks for steps whose own limit is longer than their level's `deadline`.
    ///
    /// The limit is a `timeout`, a verify's `within` (the default 1m included) or a `wait`.
    ///
    /// ## Why is this bad?
    /// The deadline ends the running step when it passes, so a verify with `within 10m` in a level with
    /// `deadline 5m` never gets its ten minutes: the level fails while the step is still waiting, which
    /// reads in the log as a timeout of the level rather than a verify that did not pass. One of the two
    /// numbers is wrong, and the reviewer cannot tell which.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 3m
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 6m
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    name: "step-longer-than-deadline",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        let Some(deadline) = level.plan.deadline_ms else { continue };
        for step in &level.steps {
            let limit = one_try_ms(step.plan);
            let (what, span) = match &step.plan.action {
                Action::Parallel { .. } => continue,
                Action::Wait { .. } => ("waits", step.span()),
                Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. } => {
                    ("may wait", step.modifier_or_head("within"))
                }
                _ => ("may run", step.modifier_or_head("timeout")),
            };
            if limit <= deadline {
                continue;
            }
            let mut v = Violation::new(
                span,
                format!(
                    "step {} {what} {}, longer than level {}'s {} deadline",
                    step.plan.id,
                    format_duration(limit),
                    level.plan.number,
                    format_duration(deadline)
                ),
            )
            .label("the deadline ends this step first")
            .help("make the deadline longer than every step, or shorten the step (`within` for a verify, `timeout` otherwise)");
            if let Some(d) = level.option_span(crate::lint::context::LevelOption::Deadline) {
                v = v.related(d, "the level's deadline");
            }
            out.push(v);
        }
    }
}
