use crate::lint::context::LevelOption;
use crate::lint::{Context, Violation};

rule! {
    /// ## What it does
    /// Checks for `on failure escalate level M` where `M` is lower than the level's own number.
    ///
    /// ## Why is this bad?
    /// Levels are numbered by how much they do: each higher level is the bigger hammer for when the one
    /// before it was not enough. A level that escalates down, when it fails, runs a milder procedure than
    /// the one that just failed, which will rarely fix what the bigger one could not. It is usually a
    /// typo, or two levels numbered in the wrong order. To run the same level again, use `max attempts`.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 2
    ///   level 1 "Traffic rollback" {
    ///     step shell "./lb-weights old=100" timeout 10s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Full rollback" {
    ///     approval required
    ///     on failure escalate level 1
    ///     step shell "./full-rollback" timeout 5m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Traffic rollback" {
    ///     on failure escalate level 2
    ///     step shell "./lb-weights old=100" timeout 10s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Full rollback" {
    ///     approval required
    ///     step shell "./full-rollback" timeout 5m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    name: "escalation-to-lower-level",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for e in cx.plan.escalations.iter().filter(|e| e.to < e.from) {
        let Some(level) = cx.level(e.from) else { continue };
        let span = level.option_span(LevelOption::OnFailure).unwrap_or(level.header_span());
        let mut v = Violation::new(span, format!("level {} escalates down to level {}", e.from, e.to))
            .label("a failure here starts a milder level")
            .help(format!(
                "escalate to a higher level, or use `max attempts N` to run level {} again; if level {} is the bigger procedure, swap the two numbers",
                e.from, e.to
            ));
        if let Some(target) = cx.level(e.to) {
            v = v.related(target.header_span(), "the lower level");
        }
        out.push(v);
    }
}
