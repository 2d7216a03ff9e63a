use crate::ast::{StepKind, VerifyProbe};
use crate::lint::condition::never_true;
use crate::lint::{Context, Violation};
use crate::plan::{Action, format_duration};

rule! {
    /// ## What it does
    /// Checks for `verify` conditions that can provably never hold.
    ///
    /// The proof comes from the constants in the condition: contradictory bounds on one metric (`x < 0 and x > 1`, `x * 100 > 50 and x < 0.1`), a comparison of
    /// constants that is false (`1 > 2`), a metric compared with itself (`x > x`), or a bound the language
    /// rules out (`abs(x) < 0`, `count_over(x, 5m) < 1`).
    ///
    /// The rule is sound: it never guesses a metric's range from its name, and `not` and `!=` (which are true
    /// when a metric has no value) count as possibly true.
    ///
    /// ## Why is this bad?
    /// A verify step that can never pass fails the level after its `within`, every time, however well the
    /// recovery went, and escalates to the next, more invasive level. It is almost always a reversed
    /// comparison or an `and` that should be an `or`.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% and error_rate > 5% within 2m
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
    name: "verify-never-true",
    severity: Error,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            let Action::VerifyCondition { condition, .. } = &step.plan.action else { continue };
            let Some(reason) = never_true(condition) else { continue };
            let span = match step.ast_step().map(|s| &s.kind) {
                Some(StepKind::Verify(VerifyProbe::Condition(expr))) => expr.span,
                _ => step.span(),
            };
            out.push(
                Violation::new(span, format!("step {} can never pass: {reason}", step.plan.id))
                    .label("never true")
                    .help(format!(
                        "the step fails after `within {}` however the recovery went; check the comparisons' directions and whether `and` should be `or`",
                        format_duration(step.plan.timeout_ms)
                    )),
            );
        }
    }
}
