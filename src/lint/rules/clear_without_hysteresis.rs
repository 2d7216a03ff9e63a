use crate::lint::{Context, Violation};
use crate::plan::Threshold;

rule! {
    /// ## What it does
    /// Checks for a `clear when` that is exactly the negation of the trigger's condition: `cpu > 90`
    /// cleared by `cpu <= 90`.
    ///
    /// ## Why is this bad?
    /// `clear when` exists to leave a band between the threshold that starts an incident and the one that
    /// ends it (hysteresis), so that a value hovering around the threshold does not fire, clear and fire
    /// again at every evaluation. The negation of the condition leaves no band at all: the trigger clears
    /// exactly when it would without the clause, and the clause only suggests a safety it does not give.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger hot: cpu > 90 for 2m clear when cpu <= 90 -> level 1
    ///   level 1 "Scale out" {
    ///     step shell "./scale-out" timeout 1m
    ///     step verify cpu < 80 within 10m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger hot: cpu > 90 for 2m clear when cpu < 80 -> level 1
    ///   level 1 "Scale out" {
    ///     step shell "./scale-out" timeout 1m
    ///     step verify cpu < 80 within 10m
    ///   }
    /// }
    /// ```
    name: "clear-without-hysteresis",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for t in &cx.triggers {
        let (Some(clear), Some(clear_ast)) = (&t.plan.clear_when, &t.ast.clear_when) else { continue };
        let (Some(fires), Some(clears)) = (Threshold::of(&t.plan.condition), Threshold::of(&clear.condition)) else {
            continue;
        };
        if !fires.negates(&clears) {
            continue;
        }
        out.push(
            Violation::new(
                clear_ast.condition.span,
                format!(
                    "trigger `{}` clears when `{clears}`, exactly when `{fires}` stops holding: no band between them",
                    t.plan.name
                ),
            )
            .label("the negation of the condition")
            .help(format!(
                "the clear threshold should leave a band between it and the firing one, such as `clear when {}`, or remove \
                 `clear when`",
                fires.band_example()
            )),
        );
    }
}
