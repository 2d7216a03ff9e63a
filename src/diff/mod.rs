//! What changed in meaning between two plans: the semantic diff that `ripcord diff` and
//! `ripcord plan --check-snapshot` print, so that a review reads "threshold 0.05 -> 0.03" instead of a
//! text diff.
//!
//! Everything is compared on the `Plan`, never on text: layout, comments, `5%` versus `0.05` and
//! defaults written out or left implicit make no change. Triggers are matched by name (anonymous ones by
//! content first, since their generated names move), levels by number, channels and metrics by name,
//! steps by content (`steps.rs`), so that one inserted step reads as one insertion.
//!
//! INVARIANT: `diff_plans(p, p)` is empty, and the changes come in a fixed order: runbook settings,
//! channels, metrics, triggers, levels (each level's own settings, then its steps), escalations.

mod describe;
mod level;
mod render;
mod steps;
mod trigger;

pub use render::{render_json, render_text};

use serde::Serialize;

use crate::plan::{Channel, Escalation, Metric, Plan, format_duration};
use describe::quoted;

/// What a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Runbook,
    Channel,
    Metric,
    Trigger,
    Level,
    Step,
    Escalation,
}

/// One change in meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub scope: Scope,
    /// The trigger, channel or metric name, the level number, the step id (`L1.S3`), `L1 -> L2` for an
    /// escalation, or the runbook's name.
    pub name: String,
    /// What changed: `added`, `removed`, `renamed`, or a setting (`threshold`, `for`, `deadline`,
    /// `timeout`, ...).
    pub field: String,
    /// The old value in the language's words; `None` for an addition.
    pub old: Option<String>,
    /// The new value; `None` for a removal.
    pub new: Option<String>,
    /// The whole change in one line, as `ripcord diff` prints it.
    pub summary: String,
}

impl Change {
    /// `PREFIX FIELD OLD -> NEW`, where the prefix says what changed (`trigger errors:`).
    fn changed(scope: Scope, name: &str, prefix: &str, field: &str, old: String, new: String) -> Change {
        Change {
            scope,
            name: name.to_string(),
            field: field.to_string(),
            summary: format!("{prefix} {field} {old} -> {new}"),
            old: Some(old),
            new: Some(new),
        }
    }

    /// `LABEL added: WHAT`.
    fn added(scope: Scope, name: &str, label: &str, what: String) -> Change {
        Change {
            scope,
            name: name.to_string(),
            field: "added".to_string(),
            summary: format!("{label} added: {what}"),
            old: None,
            new: Some(what),
        }
    }

    /// `LABEL removed: WHAT`.
    fn removed(scope: Scope, name: &str, label: &str, what: String) -> Change {
        Change {
            scope,
            name: name.to_string(),
            field: "removed".to_string(),
            summary: format!("{label} removed: {what}"),
            old: Some(what),
            new: None,
        }
    }
}

/// Every change in meaning from `old` to `new`, in the order described in the module documentation.
pub fn diff_plans(old: &Plan, new: &Plan) -> Vec<Change> {
    let mut out = Vec::new();
    runbook(old, new, &mut out);
    by_name(&old.channels, &new.channels, |c| &c.name, channel_changes, describe_channel, Scope::Channel, &mut out);
    by_name(&old.metrics, &new.metrics, |m| &m.name, metric_changes, describe_metric, Scope::Metric, &mut out);
    trigger::diff(&old.triggers, &new.triggers, &mut out);
    level::diff(&old.levels, &new.levels, &mut out);
    escalations(&old.escalations, &new.escalations, &mut out);
    out
}

fn runbook(old: &Plan, new: &Plan, out: &mut Vec<Change>) {
    let name = new.runbook.as_str();
    let mut field = |field: &str, a: String, b: String| {
        if a != b {
            out.push(Change::changed(Scope::Runbook, name, "runbook:", field, a, b));
        }
    };
    field("name", old.runbook.clone(), new.runbook.clone());
    let text = |t: &Option<String>| t.as_deref().map_or_else(|| "(none)".to_string(), quoted);
    field("description", text(&old.description), text(&new.description));
    field("owner", text(&old.owner), text(&new.owner));
    field("evaluate every", format_duration(old.evaluation_interval_ms), format_duration(new.evaluation_interval_ms));
    let roots = |r: &[String]| {
        if r.is_empty() { "(none)".to_string() } else { r.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ") }
    };
    field("files under", roots(&old.files_under), roots(&new.files_under));
    field("max series", old.max_series.to_string(), new.max_series.to_string());
}

/// Items matched by name: removed ones first (in the old order), then added and changed ones in the new
/// order.
fn by_name<T>(
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> &String,
    changes: impl Fn(&T, &T, &mut Vec<Change>),
    describe: impl Fn(&T) -> String,
    scope: Scope,
    out: &mut Vec<Change>,
) {
    let word = if scope == Scope::Channel { "channel" } else { "metric" };
    for o in old {
        if !new.iter().any(|n| name(n) == name(o)) {
            out.push(Change::removed(scope, name(o), &format!("{word} {}", name(o)), describe(o)));
        }
    }
    for n in new {
        match old.iter().find(|o| name(o) == name(n)) {
            Some(o) => changes(o, n, out),
            None => out.push(Change::added(scope, name(n), &format!("{word} {}", name(n)), describe(n))),
        }
    }
}

fn describe_channel(c: &Channel) -> String {
    match &c.url {
        Some(url) => format!("webhook {url}"),
        None => "built-in log".to_string(),
    }
}

fn channel_changes(old: &Channel, new: &Channel, out: &mut Vec<Change>) {
    let (a, b) = (describe_channel(old), describe_channel(new));
    if a != b {
        let prefix = format!("channel {}:", new.name);
        out.push(Change::changed(Scope::Channel, &new.name, &prefix, "url", a, b));
    }
}

fn describe_metric(m: &Metric) -> String {
    match &m.promql {
        Some(q) => format!("promql {}", describe::raw(q)),
        None => "(undeclared: input series only)".to_string(),
    }
}

fn metric_changes(old: &Metric, new: &Metric, out: &mut Vec<Change>) {
    if old.promql != new.promql {
        let query = |m: &Metric| m.promql.as_deref().map_or_else(|| "(undeclared)".to_string(), describe::raw);
        let prefix = format!("metric {}:", new.name);
        out.push(Change::changed(Scope::Metric, &new.name, &prefix, "query", query(old), query(new)));
    }
}

fn escalations(old: &[Escalation], new: &[Escalation], out: &mut Vec<Change>) {
    let edge = |e: &Escalation| format!("L{} -> L{}", e.from, e.to);
    for e in old.iter().filter(|e| !new.contains(e)) {
        let name = edge(e);
        out.push(Change::removed(Scope::Escalation, &name, "escalation", name.clone()));
    }
    for e in new.iter().filter(|e| !old.contains(e)) {
        let name = edge(e);
        out.push(Change::added(Scope::Escalation, &name, "escalation", name.clone()));
    }
}
