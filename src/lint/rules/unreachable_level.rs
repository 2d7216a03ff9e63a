use std::collections::BTreeSet;

use crate::lint::{Context, Violation};

rule! {
    /// ## What it does
    /// Checks for levels that nothing starts.
    ///
    /// A level is started by a trigger that targets it, or by an escalation from a level that is started
    /// (directly or through other levels).
    ///
    /// A runbook whose triggers start no level at all (it has none, or they only notify) is run by hand,
    /// level by level, and is not checked.
    ///
    /// ## Why is this bad?
    /// A level that no trigger or escalation reaches never runs on its own. Usually a trigger points at the
    /// wrong number or an `on failure escalate` was forgotten, and the procedure the authors wrote for the
    /// worst case is silently skipped when it happens. If the level really is for people to run by hand,
    /// say so with an allow comment and a reason.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Restore the database" {
    ///     approval required
    ///     step shell "./restore-db" timeout 20m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   trigger errors: error_rate > 5% for 1m -> level 1
    ///   level 1 "Rollback" {
    ///     on failure escalate level 2
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///   }
    ///   level 2 "Restore the database" {
    ///     approval required
    ///     step shell "./restore-db" timeout 20m
    ///     step verify error_rate < 1% within 5m
    ///   }
    /// }
    /// ```
    name: "unreachable-level",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let mut todo: Vec<u32> = cx.triggers.iter().filter_map(|t| t.level()).collect();
    if todo.is_empty() {
        return;
    }
    let mut reached: BTreeSet<u32> = BTreeSet::new();
    while let Some(n) = todo.pop() {
        if reached.insert(n) {
            todo.extend(cx.plan.escalations.iter().filter(|e| e.from == n).map(|e| e.to));
        }
    }
    for level in &cx.levels {
        let n = level.plan.number;
        if reached.contains(&n) {
            continue;
        }
        let escalated_from: Vec<String> =
            cx.plan.escalations.iter().filter(|e| e.to == n).map(|e| format!("level {}", e.from)).collect();
        let label = if escalated_from.is_empty() {
            "no trigger targets it and no level escalates to it".to_string()
        } else {
            format!("only {} escalates to it, and nothing starts that", escalated_from.join(" and "))
        };
        out.push(
            Violation::new(level.header_span(), format!("level {n} is never started"))
                .label(label)
                .help(format!(
                    "point a trigger at it (`-> level {n}`) or escalate to it from a level that runs (`on failure escalate level {n}`)"
                )),
        );
    }
}
