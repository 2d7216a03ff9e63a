use std::collections::BTreeSet;

use crate::lint::{Context, Violation};
use crate::plan::{Action, Target};

rule! {
    /// ## What it does
    /// Checks for channels declared with `channel NAME webhook ...` that no `notify` step and no trigger
    /// notifies.
    ///
    /// ## Why is this bad?
    /// A channel is declared because someone should hear about the rollback: the on-call rotation, the
    /// release managers, the incident room. If nothing notifies it, they will not, and they will assume
    /// that no news is good news. Often the notify step went to `log` or to another channel by mistake.
    ///
    /// ## Example
    /// ```runbook
    /// runbook api {
    ///   channel oncall webhook "${env.SLACK_ONCALL_URL}"
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///     step notify log "rolled back"
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```runbook
    /// runbook api {
    ///   channel oncall webhook "${env.SLACK_ONCALL_URL}"
    ///   level 1 "Rollback" {
    ///     step shell "./rollback" timeout 30s
    ///     step verify error_rate < 1% within 2m
    ///     step notify oncall "rolled back (${trigger})"
    ///   }
    /// }
    /// ```
    name: "unused-channel",
    severity: Warning,
    check: Some(check),
}

fn check(cx: &Context<'_>, out: &mut Vec<Violation>) {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for t in &cx.plan.triggers {
        if let Target::Notify { channel, .. } = &t.target {
            used.insert(channel);
        }
    }
    for step in cx.plan.all_steps() {
        if let Action::Notify { channel, .. } = &step.action {
            used.insert(channel);
        }
    }
    for c in &cx.channels {
        if !used.contains(c.name.name.as_str()) {
            out.push(
                Violation::new(c.name.span, format!("channel `{}` is never notified", c.name.name))
                    .label("declared, not used by any notify step or trigger")
                    .help(format!("add `step notify {} \"...\"` where its people should hear about the run, or remove the channel", c.name.name)),
            );
        }
    }
}
