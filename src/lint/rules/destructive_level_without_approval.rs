use crate::diagnostic::Severity;
use crate::lint::{Context, Violation};
use crate::plan::Action;

/// From this level number up, a level is one of the runbook's heavy procedures (full system rollback,
/// disaster recovery, by the convention the language's examples follow).
const HEAVY_LEVEL: u32 = 3;

rule! {
    /// ## What it does
    /// Checks for levels that change a lot without `approval required`:
    ///
    /// - any level numbered 3 or higher (an error): by convention levels grow more invasive with their
    ///   number, and 3 and up are full-system rollbacks and disaster recovery;
    /// - a lower level with a `restore` step (a warning): it overwrites files on disk.
    ///
    /// ## Why is this bad?
    /// A trigger that misfires, a threshold set wrong or a metric that breaks can start a level. For a
    /// traffic switch that is cheap to undo that is fine; for a restore of files or a full rollback it is
    /// an outage of its own. `approval required` makes a person confirm before the first step, and the
    /// level still starts at once when they do.
    ///
    /// ## Example
    /// ```runbook
    /// runbook storage {
    ///   files under "/etc/app"
    ///   trigger corruption: corrupt_rows > 0 -> level 3
    ///   level 3 "Full system rollback" {
    ///     step snapshot "/etc/app/storage.yaml" timeout 10s
    ///     step restore "/etc/app/storage.yaml" from "/etc/app/storage.yaml.pre-migration" timeout 10s
    ///     step verify shell "./healthy" within 2m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook storage {
    ///   files under "/etc/app"
    ///   trigger corruption: corrupt_rows > 0 -> level 3
    ///   level 3 "Full system rollback" {
    ///     approval required
    ///     step snapshot "/etc/app/storage.yaml" timeout 10s
    ///     step restore "/etc/app/storage.yaml" from "/etc/app/storage.yaml.pre-migration" timeout 10s
    ///     step verify shell "./healthy" within 2m
    ///   }
    /// }
    /// ```
    name: "destructive-level-without-approval",
    severity: Error,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        if level.plan.approval_required {
            continue;
        }
        let n = level.plan.number;
        let help = "add `approval required` to the level, so that a person confirms before its first step";
        if n >= HEAVY_LEVEL {
            out.push(
                Violation::new(level.header_span(), format!("level {n} runs without approval"))
                    .label(format!("levels {HEAVY_LEVEL} and up are the heavy procedures"))
                    .help(help),
            );
            continue;
        }
        if let Some(restore) = level.steps.iter().find(|s| matches!(s.plan.action, Action::Restore { .. })) {
            out.push(
                Violation::new(level.header_span(), format!("level {n} restores files without approval"))
                    .label("starts without a person confirming")
                    .related(restore.span(), "overwrites a file on disk")
                    .help(help)
                    .severity(Severity::Warning),
            );
        }
    }
}
