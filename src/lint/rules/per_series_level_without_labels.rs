use crate::lint::{Context, Violation};
use crate::plan::{Shape, Shapes};

rule! {
    /// ## What it does
    /// Checks for triggers that can hold for several series (a metric whose query is not aggregated to
    /// one series, such as a plain selector or `sum by (instance)`) and start a level whose steps never
    /// name the series: no `${labels.NAME}` in any command, request or message.
    ///
    /// Triggers that only notify are exempt, and so are conditions proven to be one series (every metric
    /// they read is aggregated without `by`, such as `sum(...)` or `max(...)`). Only metrics declared with a
    /// query are considered: a metric without one has no live source, and its series are whatever a recorded
    /// file holds.
    ///
    /// ## Why is this bad?
    /// A trigger fires once per series, as a Prometheus alert does, and each firing series starts its own
    /// run of the level. When the steps do not say which series they act on, every run does the same
    /// thing: a full-disk alert on one host restarts the whole fleet's log rotation, once per host. Either
    /// the steps should act on the series (`${labels.instance}`), or the runbook is about the whole service
    /// and the metric's query should say so by aggregating.
    ///
    /// ## Example
    /// ```runbook
    /// runbook disks {
    ///   metric free_ratio = promql `node_filesystem_avail_bytes / node_filesystem_size_bytes`
    ///   trigger disk_full: free_ratio < 0.1 for 5m -> level 1
    ///   level 1 "Clean up" {
    ///     step shell "/opt/ops/clean-logs" timeout 1m
    ///     step verify free_ratio > 0.2 within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook disks {
    ///   metric free_ratio = promql `node_filesystem_avail_bytes / node_filesystem_size_bytes`
    ///   trigger disk_full: free_ratio < 0.1 for 5m -> level 1
    ///   level 1 "Clean up" {
    ///     step shell "/opt/ops/clean-logs --host ${labels.instance} --mount ${labels.mountpoint}" timeout 1m
    ///     step verify free_ratio > 0.2 within 5m
    ///   }
    /// }
    /// ```
    name: "per-series-level-without-labels",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let shapes = Shapes::new(&cx.plan.metrics);
    for t in &cx.triggers {
        let Some(number) = t.level() else { continue };
        if !shapes.condition(&t.plan.condition).per_series() {
            continue;
        }
        let Some(level) = cx.level(number) else { continue };
        if level.steps.iter().any(|s| !s.plan.action.labels_used().is_empty()) {
            continue;
        }
        // The declared metrics that make it per series, to name in the message.
        let per_series: Vec<&str> = t
            .plan
            .metrics
            .iter()
            .filter(|m| cx.plan.declared_query(m).is_some() && shapes.metric(m).per_series())
            .map(String::as_str)
            .collect();
        let which = match per_series.as_slice() {
            [] => continue,
            [one] => format!("`{one}`"),
            many => many.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
        };
        let labels = match shapes.condition(&t.plan.condition) {
            Shape::Labels(l) if !l.is_empty() => format!("`${{labels.{}}}`", l[0]),
            _ => "`${labels.instance}`".to_string(),
        };
        out.push(
            Violation::new(
                t.ast.condition.span,
                format!(
                    "trigger `{}` fires once per series of {which}, but no step of level {number} says which series",
                    t.plan.name
                ),
            )
            .label("can hold for several series")
            .related(level.header_span(), "every run of this level does the same thing")
            .help(format!(
                "act on the series that fired with {labels} in the level's steps, or aggregate the query (`max(...)`, `sum(...)`) if the runbook is about the whole service"
            )),
        );
    }
}
