use crate::lint::{Context, Violation};
use crate::plan::Action;

rule! {
    /// ## What it does
    /// Checks for levels without a `verify` step (a condition on metrics, `verify shell` or `verify http`).
    ///
    /// ## Why is this bad?
    /// Without a verify step a level succeeds when its commands exit 0, whether or not the service recovered.
    /// The run then ends "successfully" with the incident still going on, and nothing escalates, because
    /// nothing failed. A verify step makes "did it work?" part of the level, so `on failure escalate` and
    /// `max attempts` can act on the answer.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "level-without-verify",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        let verifies = level.steps.iter().any(|s| {
            matches!(
                s.plan.action,
                Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. }
            )
        });
        if verifies {
            continue;
        }
        out.push(
            Violation::new(level.header_span(), format!("level {} never checks that it worked", level.plan.number))
                .label("no `verify` step")
                .help("end the level with `step verify CONDITION within D` (or `verify shell`, `verify http`) that holds only once the service has recovered"),
        );
    }
}
