use crate::lint::{Context, Violation};
use crate::plan::{Shapes, Target};

rule! {
    /// ## What it does
    /// Checks for steps that name a label (`${labels.NAME}`) that the series starting their level cannot
    /// have: every trigger that starts the level reads metrics whose labels the queries tell
    /// (`sum by (instance) (...)`, or one series without labels), `NAME` is not among them, and no
    /// trigger adds it with `labels { ... }`.
    ///
    /// Levels that a trigger of unknown labels starts (a plain selector) are not checked: their series may
    /// have any label.
    ///
    /// ## Why is this bad?
    /// A label the series lacks renders as the empty string, as in Prometheus's templates. The step then
    /// acts on no host at all, or on whatever its command does with an empty argument: `restart-service
    /// --host ""` may mean every host.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   metric errors = promql `sum by (job) (rate(http_errors_total[5m]))`
    ///   trigger high_errors: errors > 10 for 5m -> level 1
    ///   level 1 "Restart" {
    ///     step shell "/opt/ops/restart --host ${labels.instance}" timeout 1m
    ///     step verify errors < 1 within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   metric errors = promql `sum by (job, instance) (rate(http_errors_total[5m]))`
    ///   trigger high_errors: errors > 10 for 5m -> level 1
    ///   level 1 "Restart" {
    ///     step shell "/opt/ops/restart --host ${labels.instance}" timeout 1m
    ///     step verify errors < 1 within 5m
    ///   }
    /// }
    /// ```
    name: "label-the-series-lacks",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let shapes = Shapes::new(&cx.plan.metrics);
    for level in &cx.levels {
        let starters: Vec<_> = cx
            .plan
            .triggers
            .iter()
            .filter(|t| matches!(t.target, Target::Level { level: n } if n == level.plan.number))
            .collect();
        if starters.is_empty() {
            continue;
        }
        // The labels some starting series may have; `None` when a trigger's labels are unknown.
        let mut possible: Vec<String> = Vec::new();
        let mut known = true;
        for t in &starters {
            match shapes.condition(&t.condition).known_labels() {
                Some(l) => possible.extend(l.iter().cloned()),
                None => known = false,
            }
            possible.extend(t.labels.iter().map(|(k, _)| k.clone()));
        }
        if !known {
            continue;
        }
        for step in &level.steps {
            for name in step.plan.action.labels_used() {
                if possible.iter().any(|p| p == name) {
                    continue;
                }
                let names: Vec<&str> = starters.iter().map(|t| t.name.as_str()).collect();
                let have = if possible.is_empty() {
                    "no labels".to_string()
                } else {
                    let mut p = possible.clone();
                    p.sort();
                    p.dedup();
                    format!("only {}", p.join(", "))
                };
                out.push(
                    Violation::new(step.span(), format!("`${{labels.{name}}}` is empty in every run of level {}", level.plan.number))
                        .label(format!("the series of `{}` have {have}", names.join("`, `")))
                        .help(format!(
                            "keep `{name}` in the metric's query (`sum by (..., {name}) (...)`), add it to the trigger with `labels {{ {name} \"...\" }}`, or name a label the series have"
                        )),
                );
            }
        }
    }
}
