use crate::lint::{Context, Violation};
use crate::plan::{NoData, format_duration};

rule! {
    /// ## What it does
    /// Checks for triggers with `on no data fire` that fire on the first such evaluation: no `for`,
    /// `for 0s`, `for 1 consecutive` or `for 1 of M`.
    ///
    /// ## Why is this bad?
    /// An evaluation has no data when no metric the condition reads has a sample: Prometheus restarting, a
    /// scrape that timed out, a rule group that was late. `on no data fire` counts that evaluation as true,
    /// so without a hold the first gap in scraping starts the level, and a monitoring hiccup becomes an
    /// incident response. A hold lets a short gap pass and still fires when the metric is really gone.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger down: up_targets < 1 on no data fire -> level 1
    ///   level 1 "Restart" {
    ///     step shell "./restart" timeout 1m
    ///     step verify up_targets >= 1 within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger down: up_targets < 1 for 2m on no data fire -> level 1
    ///   level 1 "Restart" {
    ///     step shell "./restart" timeout 1m
    ///     step verify up_targets >= 1 within 5m
    ///   }
    /// }
    /// ```
    name: "fire-on-no-data-without-for",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let interval = cx.plan.evaluation_interval_ms;
    for t in &cx.triggers {
        if t.plan.on_no_data != NoData::Fire || t.hold_ms(interval) > 0 {
            continue;
        }
        let Some(on) = &t.ast.on_no_data else { continue };
        out.push(
            Violation::new(
                on.span,
                format!("trigger `{}` fires at the first evaluation with no data: one gap in scraping", t.plan.name),
            )
            .label("no hold before firing")
            .help(format!(
                "add a hold before `on no data fire`, such as `for {}`, so that a short gap in scraping passes",
                format_duration(interval.saturating_mul(4))
            )),
        );
    }
}
