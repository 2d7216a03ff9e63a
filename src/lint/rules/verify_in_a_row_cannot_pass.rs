use crate::lint::{Context, Violation};
use crate::plan::{Action, format_duration};

rule! {
    /// ## What it does
    /// Checks for `verify ... for N consecutive` steps whose `within` leaves room for fewer than `N` checks,
    /// counting its defaults (`every 5s`, `within 1m`).
    ///
    /// ## Why is this bad?
    /// A verify step checks at its start and then every `every` until `within` runs out; `for N
    /// consecutive` passes at the `N`th passing check in a row. `N` checks `every` apart take
    /// `(N - 1) x every`, and a check takes time of its own, so a `within` that is not longer than that
    /// cannot pass, however well the recovery goes: the level fails, or escalates, every time.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify shell "./healthy" within 30s every 15s for 4 consecutive
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify shell "./healthy" within 2m every 15s for 4 consecutive
    ///   }
    /// }
    /// ```
    name: "verify-in-a-row-cannot-pass",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        for step in &level.steps {
            let (every, consecutive) = match step.plan.action {
                Action::VerifyCondition { every_ms, consecutive, .. }
                | Action::VerifyShell { every_ms, consecutive, .. }
                | Action::VerifyHttp { every_ms, consecutive, .. } => (every_ms, consecutive),
                _ => continue,
            };
            let within = step.plan.timeout_ms;
            let needed = u64::from(consecutive.saturating_sub(1)).saturating_mul(every);
            if consecutive <= 1 || needed < within {
                continue;
            }
            // Checks start at 0, every, 2 x every, ... strictly before `within` runs out.
            let fits = within.div_ceil(every.max(1)).max(1);
            let span = step.modifier("for N consecutive").map_or(step.span(), |m| m.span);
            out.push(
                Violation::new(
                    span,
                    format!(
                        "step {} needs {consecutive} passing checks in a row, but `within {}` at `every {}` leaves room for {fits}",
                        step.plan.id,
                        format_duration(within),
                        format_duration(every)
                    ),
                )
                .label("can never pass")
                .help(format!(
                    "give it more than `within {}`, such as `within {}` (or a shorter `every`, or fewer checks in a row)",
                    format_duration(needed),
                    format_duration(needed.saturating_add(every))
                )),
            );
        }
    }
}
