use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use crate::diagnostic::Severity;
use crate::lint::{Context, StepRef, Violation};
use crate::plan::{Action, RestoreSource, Step};

rule! {
    /// ## What it does
    /// Checks for `restore` steps with no `snapshot` of the same file before them:
    ///
    /// - `restore "X" from snapshot` when no earlier step snapshots `X`: not earlier in the same level, and
    ///   not in a level that escalates to this one (directly or through others). This is an error.
    /// - `restore "X" from "backup"` when no earlier step of the same level snapshots `X`. This is a warning.
    ///
    /// Steps inside one `parallel` group run at the same time, so a snapshot there is not "before" a restore
    /// in the same group.
    ///
    /// ## Why is this bad?
    /// `restore ... from snapshot` puts back the newest snapshot of the file in the state directory. If the
    /// runbook never took one, the step restores whatever an earlier run, days ago, left there, or fails in
    /// the middle of an incident.
    ///
    /// Replacing a file from a backup without a snapshot first loses the live version from the run's record:
    /// there is nothing to compare in the post-mortem and nothing for `restore ... from snapshot` to roll
    /// forward to if the backup turns out to be the wrong one.
    ///
    /// ## Example
    /// ```runbook
    /// runbook config {
    ///   files under "/etc/app"
    ///   level 1 "Restore config" {
    ///     approval required
    ///     step restore "/etc/app/app.yaml" from "/etc/app/app.yaml.good" timeout 10s
    ///     step shell "systemctl restart app" timeout 1m
    ///     step verify shell "./healthy" within 1m
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook config {
    ///   files under "/etc/app"
    ///   level 1 "Restore config" {
    ///     approval required
    ///     step snapshot "/etc/app/app.yaml" timeout 10s
    ///     step restore "/etc/app/app.yaml" from "/etc/app/app.yaml.good" timeout 10s
    ///     step shell "systemctl restart app" timeout 1m
    ///     step verify shell "./healthy" within 1m
    ///   }
    /// }
    /// ```
    name: "restore-without-snapshot",
    severity: Error,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    for level in &cx.levels {
        // Snapshots taken by levels that can run before this one in the same run.
        let mut earlier_levels = BTreeSet::new();
        for from in predecessors(cx, level.plan.number) {
            if let Some(l) = cx.plan.level(from) {
                for s in collect(&l.steps) {
                    if let Action::Snapshot { path } = &s.action {
                        earlier_levels.insert(normal(path));
                    }
                }
            }
        }
        let by_id: HashMap<&str, &StepRef<'_>> = level.steps.iter().map(|s| (s.plan.id.as_str(), s)).collect();
        let mut before = BTreeSet::new();
        walk(&level.plan.steps, &mut before, &mut |step, before| {
            let Action::Restore { path, from } = &step.action else { return };
            let Some(at) = by_id.get(step.id.as_str()) else { return };
            let target = normal(path);
            let number = level.plan.number;
            match from {
                RestoreSource::Snapshot if !before.contains(&target) && !earlier_levels.contains(&target) => {
                    out.push(
                        Violation::new(at.span(), format!("`{path}` is restored from a snapshot that no step takes"))
                            .label("restores whatever an earlier run left, or fails")
                            .help(format!(
                                "add `step snapshot \"{path}\"` before the change this restore undoes, in level {number} or in a level that escalates to it"
                            )),
                    );
                }
                RestoreSource::Path(_) if !before.contains(&target) => {
                    out.push(
                        Violation::new(at.span(), format!("level {number} replaces `{path}` without a snapshot of it"))
                            .label("the live file is not kept in the run's snapshot store")
                            .help(format!(
                                "add `step snapshot \"{path}\"` before this step, so the file as it was can be compared and put back with `restore ... from snapshot`"
                            ))
                            .severity(Severity::Warning),
                    );
                }
                _ => {}
            }
        });
    }
}

fn normal(path: &str) -> PathBuf {
    crate::analyze::normalize(path).unwrap_or_else(|| PathBuf::from(path))
}

/// Levels that escalate to `level`, directly or through others.
fn predecessors(cx: &Context<'_>, level: u32) -> BTreeSet<u32> {
    let mut found = BTreeSet::new();
    let mut todo = vec![level];
    while let Some(to) = todo.pop() {
        for e in cx.plan.escalations.iter().filter(|e| e.to == to) {
            if e.from != level && found.insert(e.from) {
                todo.push(e.from);
            }
        }
    }
    found
}

fn collect(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for s in steps {
        out.push(s);
        if let Action::Parallel { steps } = &s.action {
            out.extend(collect(steps));
        }
    }
    out
}

/// Visits each step with the files snapshotted before it starts; steps of one `parallel` group see only
/// what came before the group.
fn walk<'a>(steps: &'a [Step], before: &mut BTreeSet<PathBuf>, visit: &mut dyn FnMut(&'a Step, &BTreeSet<PathBuf>)) {
    for step in steps {
        match &step.action {
            Action::Parallel { steps: children } => {
                let mut after = before.clone();
                for child in children {
                    let mut mine = before.clone();
                    walk(std::slice::from_ref(child), &mut mine, visit);
                    after.extend(mine);
                }
                *before = after;
            }
            Action::Snapshot { path } => {
                visit(step, before);
                before.insert(normal(path));
            }
            _ => visit(step, before),
        }
    }
}
