use crate::lint::{Context, Violation};
use crate::plan::format_duration;
use crate::plan::timing::{one_try_ms, worst_case_ms};

/// The most retries a step should need; beyond this, retrying stands in for a fix.
const MAX_SANE_RETRIES: u32 = 10;

rule! {
    /// ## What it does
    /// Checks for retries that cannot help:
    ///
    /// - a step that retries more than 10 times;
    /// - a step whose retries, each with its timeout and the doubling backoff before it, cannot fit in the
    ///   level's `deadline` even though one try does.
    ///
    /// ## Why is this bad?
    /// A step that fails ten times in a row is not going to succeed on the eleventh: retrying stands in for
    /// escalating, and the incident goes on while ripcord waits. The backoff doubles before each retry, so
    /// `retry 12 backoff 1s` alone waits more than an hour.
    ///
    /// Retries that outlast the deadline never run: the deadline fails the level first, and the retry count
    /// promises a resilience that does not exist.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 2m
    ///     step shell "./rollback" timeout 30s retry 5 backoff 5s idempotent
    ///     step verify error_rate < 1% within 1m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 2m
    ///     step shell "./rollback" timeout 15s retry 2 backoff 2s idempotent
    ///     step verify error_rate < 1% within 1m
    ///   }
    /// }
    /// ```
    name: "unbounded-retries",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            let retries = step.plan.retries;
            if retries == 0 {
                continue;
            }
            let span = step.modifier_or_head("retry");
            if retries > MAX_SANE_RETRIES {
                out.push(
                    Violation::new(span, format!("step {} retries {retries} times", step.plan.id))
                        .label(format!("more than {MAX_SANE_RETRIES} retries"))
                        .help("retry a few times at most and let the level fail, so that `on failure` can escalate"),
                );
                continue;
            }
            let Some(deadline) = level.plan.deadline_ms else { continue };
            let (one, all) = (one_try_ms(step.plan), worst_case_ms(step.plan));
            if one <= deadline && all > deadline {
                out.push(
                    Violation::new(
                        span,
                        format!(
                            "with its retries step {} can take {}, longer than the level's {} deadline",
                            step.plan.id,
                            format_duration(all),
                            format_duration(deadline)
                        ),
                    )
                    .label("the last retries can never run")
                    .help(
                        "retry fewer times, shorten the timeout or the backoff, or give the level a longer `deadline`",
                    ),
                );
            }
        }
    }
}
