use crate::lint::context::LevelOption;
use crate::lint::{Context, Violation};
use crate::plan::format_duration;
use crate::plan::timing::{sequence_ms, worst_case_ms};

rule! {
    /// ## What it does
    /// Checks for levels whose `deadline` is shorter than the time their steps may take, one after the other.
    ///
    /// Each step counts with its timeout (a verify's `within`, a wait's duration) times its tries, plus the
    /// backoff before each retry (doubling); a `parallel` group counts as its longest step. Defaults count
    /// too.
    ///
    /// Only levels where every step fits in the deadline on its own are reported here; a single step that
    /// does not is `step-longer-than-deadline` or `unbounded-retries`.
    ///
    /// ## Why is this bad?
    /// Each step can stay within its own limit and the level still fail on its deadline, in the middle of a
    /// step, possibly half-way through a change. Either the deadline is a real target and the steps'
    /// limits promise more than it allows, or the limits are right and the deadline will fail recoveries
    /// that were going fine.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 2m
    ///     step shell "./drain" timeout 1m
    ///     step shell "./rollback" timeout 1m
    ///     step verify error_rate < 1% within 1m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   level 1 "Rollback" {
    ///     deadline 3m
    ///     step shell "./drain" timeout 1m
    ///     step shell "./rollback" timeout 1m
    ///     step verify error_rate < 1% within 1m
    ///   }
    /// }
    /// ```
    name: "deadline-shorter-than-steps",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        let Some(deadline) = level.plan.deadline_ms else { continue };
        if level.steps.iter().any(|s| worst_case_ms(s.plan) > deadline) {
            continue;
        }
        let total = sequence_ms(&level.plan.steps);
        if total <= deadline {
            continue;
        }
        let span = level.option_span(LevelOption::Deadline).unwrap_or(level.header_span());
        let longest = level.top_steps().max_by_key(|s| worst_case_ms(s.plan));
        let mut v = Violation::new(
            span,
            format!(
                "level {}'s steps may take {}, longer than its {} deadline",
                level.plan.number,
                format_duration(total),
                format_duration(deadline)
            ),
        )
        .label(format!("{} short", format_duration(total - deadline)))
        .help(format!(
            "raise the deadline to at least {} or shorten the steps' timeouts; the sum counts retries and backoff, a `parallel` group as its longest step and a verify as its `within`",
            format_duration(total)
        ));
        if let Some(s) = longest {
            v = v.related(s.span(), format!("the longest step: {}", format_duration(worst_case_ms(s.plan))));
        }
        out.push(v);
    }
}
