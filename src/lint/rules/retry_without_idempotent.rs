use crate::lint::{Context, Violation};
use crate::plan::Action;

rule! {
    /// ## What it does
    /// Checks for `shell` steps, and `http` steps with a `POST` or `PATCH`, that `retry` without being marked
    /// `idempotent`. (`GET`, `HEAD`, `OPTIONS`, `PUT` and `DELETE` are idempotent by HTTP's definition, and a
    /// repeated notification is only noise.)
    ///
    /// ## Why is this bad?
    /// A step is retried after it failed or timed out, and a step that timed out may well have done its
    /// work: the command ran, only its exit was late. The retry then does it again: scales twice, rolls a
    /// deployment back two releases (`kubectl rollout undo` run twice returns to the bad one), sends a
    /// second payment reversal. `idempotent` is the author's statement that running the step twice is
    /// safe; writing it makes someone check.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "kubectl rollout undo deployment/api" timeout 30s retry 2
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "/opt/deploy/bin/deploy --service api --release last-stable" timeout 30s retry 2 idempotent
    ///     step verify error_rate < 1% within 2m
    ///   }
    /// }
    /// ```
    name: "retry-without-idempotent",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            if step.plan.retries == 0 || step.plan.idempotent {
                continue;
            }
            let what = match &step.plan.action {
                Action::Shell { .. } => "shell command".to_string(),
                Action::Http { method, .. } if method == "POST" || method == "PATCH" => format!("`{method}` request"),
                _ => continue,
            };
            out.push(
                Violation::new(
                    step.modifier_or_head("retry"),
                    format!("step {} retries a {what} that is not marked `idempotent`", step.plan.id),
                )
                .label("a try that timed out may have done its work; the retry does it again")
                .help("make sure running it twice is safe and add `idempotent`, or remove the retry"),
            );
        }
    }
}
