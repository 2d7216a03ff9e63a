//! Triggers: matched by name, except anonymous ones, whose generated names (`trigger_3`) move when a
//! trigger is inserted before them: those are matched by what they say first. A trigger that kept what it
//! says under a new name is `renamed`.

use super::describe;
use super::{Change, Scope};
use crate::plan::{Condition, Hold, Trigger, Value, format_duration};

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
            (a, b) => ("hold", describe::hold(&a), describe::hold(&b)),
        };
        out.push(Change::changed(Scope::Trigger, name, &prefix, field, a, b));
    }
    if old.keep_firing_for_ms != new.keep_firing_for_ms {
        let (a, b) = (format_duration(old.keep_firing_for_ms), format_duration(new.keep_firing_for_ms));
        out.push(Change::changed(Scope::Trigger, name, &prefix, "keep firing for", a, b));
    }
    if old.target != new.target {
        let (a, b) = (describe::target(&old.target), describe::target(&new.target));
        out.push(Change::changed(Scope::Trigger, name, &prefix, "target", a, b));
    }
}

/// `threshold` when only numbers differ between the two conditions, `condition` otherwise.
pub(super) fn condition_field(old: &Condition, new: &Condition) -> &'static str {
    if mask(old) == mask(new) { "threshold" } else { "condition" }
}

/// The condition with every number literal replaced by 0: its shape.
fn mask(c: &Condition) -> Condition {
    match c {
        Condition::Compare { op, lhs, rhs, matching } => {
            Condition::Compare { op: *op, lhs: mask_value(lhs), rhs: mask_value(rhs), matching: matching.clone() }
        }
        Condition::And { lhs, rhs, matching } => {
            Condition::And { lhs: Box::new(mask(lhs)), rhs: Box::new(mask(rhs)), matching: matching.clone() }
        }
        Condition::Or { lhs, rhs, matching } => {
            Condition::Or { lhs: Box::new(mask(lhs)), rhs: Box::new(mask(rhs)), matching: matching.clone() }
        }
        Condition::Unless { lhs, rhs, matching } => {
            Condition::Unless { lhs: Box::new(mask(lhs)), rhs: Box::new(mask(rhs)), matching: matching.clone() }
        }
        Condition::Not { operand } => Condition::Not { operand: Box::new(mask(operand)) },
    }
}

fn mask_value(v: &Value) -> Value {
    match v {
        Value::Number { .. } => Value::Number { value: 0.0 },
        Value::Abs { operand } => Value::Abs { operand: Box::new(mask_value(operand)) },
        Value::Neg { operand } => Value::Neg { operand: Box::new(mask_value(operand)) },
        Value::Arith { op, lhs, rhs, matching } => Value::Arith {
            op: *op,
            lhs: Box::new(mask_value(lhs)),
            rhs: Box::new(mask_value(rhs)),
            matching: matching.clone(),
        },
        other => other.clone(),
    }
}
