use crate::lint::condition::never_true;
use crate::lint::{Context, Violation};

rule! {
    /// ## What it does
    /// Checks for trigger conditions that can provably never be true.
    ///
    /// The reasoning is that of `verify-never-true`: `error_rate > 5% and error_rate < 1%`, `abs(x) < 0`,
    /// `1 > 2`.
    ///
    /// ## Why is this bad?
    /// A trigger that can never fire is a level that never starts: the runbook looks like it watches for
    /// the problem and does not. It is almost always a reversed comparison or an `and` that should be an
    /// `or`.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% and error_rate < 1% for 1m -> level 1
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
    name: "trigger-never-fires",
    severity: Error,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for t in &cx.triggers {
        let Some(reason) = never_true(&t.plan.condition) else { continue };
        out.push(
            Violation::new(t.ast.condition.span, format!("trigger `{}` can never fire: {reason}", t.plan.name))
                .label("never true")
                .help("check the comparisons' directions and whether `and` should be `or`"),
        );
    }
}
