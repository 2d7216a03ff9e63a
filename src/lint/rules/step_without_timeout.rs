use crate::lint::{Context, Violation};
use crate::plan::{Action, defaults, format_duration};

rule! {
    /// ## What it does
    /// Checks for `shell` and `http` steps without an explicit `timeout`.
    ///
    /// ## Why is this bad?
    /// Without `timeout` a shell step may run for the default 5m and an http step for 30s. A command that
    /// hangs (a lock, a prompt, a dead host) then holds the whole rollback for that long, usually longer than
    /// the step should ever take, and the level's time budget is written nowhere a reviewer can see it. An
    /// explicit timeout says how long the step is allowed to take and makes it fail, and retry or escalate,
    /// when it takes longer.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "kubectl rollout undo deployment/api"
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "kubectl rollout undo deployment/api" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "step-without-timeout",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            let default = match step.plan.action {
                Action::Shell { .. } => defaults::SHELL_TIMEOUT_MS,
                Action::Http { .. } => defaults::HTTP_TIMEOUT_MS,
                _ => continue,
            };
            if !step.plan.defaulted.iter().any(|d| d == "timeout") {
                continue;
            }
            let kind = step.plan.action.kind();
            out.push(
                Violation::new(step.span(), format!("`{kind}` step {} has no `timeout`", step.plan.id))
                    .label(format!("may run for the default {}", format_duration(default)))
                    .help("add `timeout D` with the longest this step should take, such as `timeout 30s`"),
            );
        }
    }
}
