use crate::lint::{Context, Violation};
use crate::plan::{Action, format_duration};

rule! {
    /// ## What it does
    /// Checks for `verify` steps that check only once, because their `every` is longer than their `within`.
    ///
    /// The defaults (`every 5s`, `within 1m`) count: `within 3s` alone checks once.
    ///
    /// ## Why is this bad?
    /// A verify step waits for a recovery to show: it checks at its start, then every `every`, and passes
    /// at the first check that passes. When `every` exceeds `within` the only check is the first one, made
    /// the moment the step before it finished, before a restart has completed or a rate window has moved.
    /// The step then fails a recovery that was about to succeed, or, for a condition that is already true,
    /// proves nothing.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify shell "./healthy" within 30s every 1m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify shell "./healthy" within 2m every 10s
    ///   }
    /// }
    /// ```
    name: "verify-checks-only-once",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            let every = match step.plan.action {
                Action::VerifyCondition { every_ms, .. }
                | Action::VerifyShell { every_ms, .. }
                | Action::VerifyHttp { every_ms, .. } => every_ms,
                _ => continue,
            };
            let within = step.plan.timeout_ms;
            if every <= within {
                continue;
            }
            let span = step.modifier("every").or(step.modifier("within")).map_or(step.span(), |m| m.span);
            out.push(
                Violation::new(
                    span,
                    format!(
                        "step {} checks only once: `every {}` is longer than `within {}`",
                        step.plan.id,
                        format_duration(every),
                        format_duration(within)
                    ),
                )
                .label("one check, when the step starts")
                .help(
                    "check several times within the limit: a shorter `every` (such as `every 5s`) or a longer `within`",
                ),
            );
        }
    }
}
