//! Triggers: matched by name, except anonymous ones, whose generated names (`trigger_3`) move when a
//! trigger is inserted before them: those are matched by what they say first. A trigger that kept what it
//! says under a new name is `renamed`.

use super::describe;
use super::{Change, Scope};
use crate::plan::{Condition, Hold, Matching, Trigger, Value, format_duration};

pub(super) fn diff(old: &[Trigger], new: &[Trigger], out: &mut Vec<Change>) {
    let mut old_match: Vec<Option<usize>> = vec![None; old.len()];
    let mut new_match: Vec<Option<usize>> = vec![None; new.len()];
    fn pair(o: usize, n: usize, old_match: &mut [Option<usize>], new_match: &mut [Option<usize>]) {
        old_match[o] = Some(n);
        new_match[n] = Some(o);
    }
    // Named triggers by name.
    for (n, t) in new.iter().enumerate().filter(|(_, t)| !t.generated_name) {
        if let Some(o) = old.iter().position(|o| !o.generated_name && o.name == t.name) {
            pair(o, n, &mut old_match, &mut new_match);
        }
    }
    // Anonymous triggers: by content, then by generated name.
    for by_content in [true, false] {
        for (n, t) in new.iter().enumerate().filter(|(_, t)| t.generated_name) {
            if new_match[n].is_some() {
                continue;
            }
            let found = old.iter().enumerate().position(|(o, ot)| {
                old_match[o].is_none() && ot.generated_name && if by_content { same(ot, t) } else { ot.name == t.name }
            });
            if let Some(o) = found {
                pair(o, n, &mut old_match, &mut new_match);
            }
        }
    }
    // What is left and says the same thing was renamed.
    for (n, t) in new.iter().enumerate() {
        if new_match[n].is_some() {
            continue;
        }
        if let Some(o) = old.iter().enumerate().position(|(o, ot)| old_match[o].is_none() && same(ot, t)) {
            pair(o, n, &mut old_match, &mut new_match);
        }
    }

    for (o, t) in old.iter().enumerate() {
        if old_match[o].is_none() {
            out.push(Change::removed(Scope::Trigger, &t.name, &format!("trigger {}", t.name), describe::trigger(t)));
        }
    }
    for (n, t) in new.iter().enumerate() {
        match new_match[n] {
            None => {
                out.push(Change::added(Scope::Trigger, &t.name, &format!("trigger {}", t.name), describe::trigger(t)))
            }
            Some(o) => changes(&old[o], t, out),
        }
    }
}

/// Whether two triggers say the same thing, whatever their names.
fn same(a: &Trigger, b: &Trigger) -> bool {
    a.condition == b.condition
        && a.hold == b.hold
        && a.keep_firing_for_ms == b.keep_firing_for_ms
        && a.clear_when == b.clear_when
        && a.on_no_data == b.on_no_data
        && a.target == b.target
}

fn changes(old: &Trigger, new: &Trigger, out: &mut Vec<Change>) {
    let name = new.name.as_str();
    // A generated name (`trigger_3`) is a position, not a name: it moves with insertions above it.
    if old.name != new.name && !(old.generated_name && new.generated_name) {
        out.push(Change {
            scope: Scope::Trigger,
            name: name.to_string(),
            field: "renamed".to_string(),
            summary: format!("trigger {}: renamed to {}", old.name, new.name),
            old: Some(old.name.clone()),
            new: Some(new.name.clone()),
        });
    }
    let prefix = format!("trigger {name}:");
    if old.condition != new.condition {
        let field = condition_field(&old.condition, &new.condition);
        out.push(Change::changed(
            Scope::Trigger,
            name,
            &prefix,
            field,
            old.condition_text.clone(),
            new.condition_text.clone(),
        ));
    }
    if old.hold != new.hold {
        let (field, a, b) = match (old.hold, new.hold) {
            (Hold::For { ms: a }, Hold::For { ms: b }) => ("for", format_duration(a), format_duration(b)),
            (Hold::Consecutive { evaluations: a }, Hold::Consecutive { evaluations: b }) => {
                ("for", format!("{a} consecutive"), format!("{b} consecutive"))
            }
            (Hold::OfLast { n: a, m: x }, Hold::OfLast { n: b, m: y }) => {
                ("for", format!("{a} of {x}"), format!("{b} of {y}"))
            }
            (a, b) => ("hold", describe::hold(&a), describe::hold(&b)),
        };
        out.push(Change::changed(Scope::Trigger, name, &prefix, field, a, b));
    }
    if old.clear_when.as_ref().map(|c| &c.condition) != new.clear_when.as_ref().map(|c| &c.condition) {
        let (a, b) = (describe::clear_when(old), describe::clear_when(new));
        out.push(Change::changed(Scope::Trigger, name, &prefix, "clear when", a, b));
    }
    if old.on_no_data != new.on_no_data {
        let (a, b) = (old.on_no_data.as_str().to_string(), new.on_no_data.as_str().to_string());
        out.push(Change::changed(Scope::Trigger, name, &prefix, "on no data", a, b));
    }
    if old.keep_firing_for_ms != new.keep_firing_for_ms {
        let (a, b) = (format_duration(old.keep_firing_for_ms), format_duration(new.keep_firing_for_ms));
        out.push(Change::changed(Scope::Trigger, name, &prefix, "keep firing for", a, b));
    }
    if old.target != new.target {
        let (a, b) = (describe::target(&old.target), describe::target(&new.target));
        out.push(Change::changed(Scope::Trigger, name, &prefix, "target", a, b));
    }
    attributes(old, new, name, &prefix, out);
}

/// The alert name, each label and each annotation by name (`label severity "warning" -> "critical"`,
/// `(none)` on the side that lacks one).
fn attributes(old: &Trigger, new: &Trigger, name: &str, prefix: &str, out: &mut Vec<Change>) {
    let none = || "(none)".to_string();
    if old.alert != new.alert {
        let alert = |t: &Trigger| t.alert.as_deref().map_or_else(none, describe::quoted);
        out.push(Change::changed(Scope::Trigger, name, prefix, "alert", alert(old), alert(new)));
    }
    let label = |t: &Trigger, k: &str| t.labels.iter().find(|(n, _)| n == k).map(|(_, v)| describe::quoted(v));
    let annotation = |t: &Trigger, k: &str| t.annotations.iter().find(|(n, _)| n == k).map(|(_, v)| v.to_string());
    let names = |a: Vec<&String>, b: Vec<&String>| {
        let mut all: Vec<String> = a.into_iter().chain(b).cloned().collect();
        let mut seen = Vec::new();
        all.retain(|n| {
            let first = !seen.contains(n);
            seen.push(n.clone());
            first
        });
        all
    };
    for k in names(old.labels.iter().map(|(n, _)| n).collect(), new.labels.iter().map(|(n, _)| n).collect()) {
        let (a, b) = (label(old, &k), label(new, &k));
        if a != b {
            let field = format!("label {k}");
            out.push(Change::changed(
                Scope::Trigger,
                name,
                prefix,
                &field,
                a.unwrap_or_else(none),
                b.unwrap_or_else(none),
            ));
        }
    }
    let (old_names, new_names): (Vec<&String>, Vec<&String>) =
        (old.annotations.iter().map(|(n, _)| n).collect(), new.annotations.iter().map(|(n, _)| n).collect());
    let mut reported = false;
    for k in names(old_names.clone(), new_names.clone()) {
        let (a, b) = (annotation(old, &k), annotation(new, &k));
        if a != b {
            reported = true;
            let field = format!("annotation {k}");
            out.push(Change::changed(
                Scope::Trigger,
                name,
                prefix,
                &field,
                a.unwrap_or_else(none),
                b.unwrap_or_else(none),
            ));
        }
    }
    // The same annotations in another order: the order is what a notification shows.
    if !reported && old_names != new_names {
        let list = |n: &[&String]| n.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        out.push(Change::changed(Scope::Trigger, name, prefix, "annotation order", list(&old_names), list(&new_names)));
    }
}

/// `threshold` when only numbers differ between the two conditions, `matching` when only the `on(...)` /
/// `ignoring(...)` written after operators do, `condition` otherwise.
pub(super) fn condition_field(old: &Condition, new: &Condition) -> &'static str {
    if mask(old, Mask::Numbers) == mask(new, Mask::Numbers) {
        "threshold"
    } else if mask(old, Mask::Matching) == mask(new, Mask::Matching) {
        "matching"
    } else {
        "condition"
    }
}

/// What [`mask`] takes out of a condition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mask {
    /// Every number literal, replaced by 0: the condition's shape.
    Numbers,
    /// Every written matching: which series meet, taken out.
    Matching,
}

fn mask(c: &Condition, what: Mask) -> Condition {
    let m = |matching: &Option<Matching>| if what == Mask::Matching { None } else { matching.clone() };
    let b = |c: &Condition| Box::new(mask(c, what));
    match c {
        Condition::Compare { op, lhs, rhs, matching } => Condition::Compare {
            op: *op,
            lhs: mask_value(lhs, what),
            rhs: mask_value(rhs, what),
            matching: m(matching),
        },
        Condition::And { lhs, rhs, matching } => Condition::And { lhs: b(lhs), rhs: b(rhs), matching: m(matching) },
        Condition::Or { lhs, rhs, matching } => Condition::Or { lhs: b(lhs), rhs: b(rhs), matching: m(matching) },
        Condition::Unless { lhs, rhs, matching } => {
            Condition::Unless { lhs: b(lhs), rhs: b(rhs), matching: m(matching) }
        }
        Condition::Not { operand } => Condition::Not { operand: b(operand) },
    }
}

fn mask_value(v: &Value, what: Mask) -> Value {
    match v {
        Value::Number { .. } if what == Mask::Numbers => Value::Number { value: 0.0 },
        Value::Abs { operand } => Value::Abs { operand: Box::new(mask_value(operand, what)) },
        Value::Neg { operand } => Value::Neg { operand: Box::new(mask_value(operand, what)) },
        Value::Arith { op, lhs, rhs, matching } => Value::Arith {
            op: *op,
            lhs: Box::new(mask_value(lhs, what)),
            rhs: Box::new(mask_value(rhs, what)),
            matching: if what == Mask::Matching { None } else { matching.clone() },
        },
        other => other.clone(),
    }
}
