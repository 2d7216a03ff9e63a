//! Levels, matched by number: their settings, then their steps (`steps.rs`).

use super::describe;
use super::steps;
use super::{Change, Scope};
use crate::plan::{Level, format_duration};

pub(super) fn diff(old: &[Level], new: &[Level], out: &mut Vec<Change>) {
    let mut numbers: Vec<u32> = old.iter().chain(new).map(|l| l.number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    for number in numbers {
        let name = number.to_string();
        let label = format!("level {number}");
        match (old.iter().find(|l| l.number == number), new.iter().find(|l| l.number == number)) {
            (Some(o), None) => out.push(Change::removed(Scope::Level, &name, &label, describe_level(o))),
            (None, Some(n)) => {
                // A new level is reviewed whole: its steps follow, each as an addition.
                out.push(Change::added(Scope::Level, &name, &label, describe_level(n)));
                steps::diff(&[], &n.steps, number, out);
            }
            (Some(o), Some(n)) => changes(o, n, out),
            (None, None) => {}
        }
    }
}

/// `"Title" (approval required, on failure escalate level 3; 2 steps)`: the title, the options written
/// (defaults left out) and the number of steps.
fn describe_level(l: &Level) -> String {
    let title = l.title.as_deref().map_or_else(|| "(untitled)".to_string(), describe::quoted);
    let written = |name: &str| !l.defaulted.iter().any(|d| d == name);
    let mut options = Vec::new();
    if let Some(d) = l.deadline_ms {
        options.push(format!("deadline {}", format_duration(d)));
    }
    if l.approval_required {
        options.push("approval required".to_string());
    }
    if written("cooldown") {
        options.push(format!("cooldown {}", format_duration(l.cooldown_ms)));
    }
    if written("max attempts") {
        options.push(format!("max attempts {}", l.max_attempts));
    }
    if written("max parallel") {
        options.push(format!("max parallel {}", l.max_parallel));
    }
    if written("on failure") {
        options.push(format!("on failure {}", describe::on_failure(&l.on_failure)));
    }
    let n = l.steps.len();
    let steps = format!("{n} step{}", if n == 1 { "" } else { "s" });
    if options.is_empty() { format!("{title} ({steps})") } else { format!("{title} ({}; {steps})", options.join(", ")) }
}

fn changes(old: &Level, new: &Level, out: &mut Vec<Change>) {
    let name = new.number.to_string();
    let prefix = format!("level {}:", new.number);
    let mut field = |field: &str, a: String, b: String| {
        if a != b {
            out.push(Change::changed(Scope::Level, &name, &prefix, field, a, b));
        }
    };
    let title = |l: &Level| l.title.as_deref().map_or_else(|| "(none)".to_string(), describe::quoted);
    field("title", title(old), title(new));
    let deadline = |l: &Level| l.deadline_ms.map_or_else(|| "none".to_string(), format_duration);
    field("deadline", deadline(old), deadline(new));
    let approval = |l: &Level| if l.approval_required { "required" } else { "not required" }.to_string();
    field("approval", approval(old), approval(new));
    field("cooldown", format_duration(old.cooldown_ms), format_duration(new.cooldown_ms));
    field("max attempts", old.max_attempts.to_string(), new.max_attempts.to_string());
    field("max parallel", old.max_parallel.to_string(), new.max_parallel.to_string());
    field("on failure", describe::on_failure(&old.on_failure), describe::on_failure(&new.on_failure));
    steps::diff(&old.steps, &new.steps, new.number, out);
}
