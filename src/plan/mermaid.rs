//! The plan as a Mermaid flowchart: triggers -> levels -> steps, and escalations, so a plan renders as a
//! diagram in a GitHub pull request.

use std::fmt::Write;

use super::{Action, Hold, NoData, Plan, Step, Target, format_duration};

pub fn render_mermaid(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "flowchart LR");
    for (i, t) in plan.triggers.iter().enumerate() {
        let hold = match t.hold {
            Hold::For { ms: 0 } => String::new(),
            Hold::For { ms } => format!(" for {}", format_duration(ms)),
            Hold::Consecutive { evaluations } => format!(" for {evaluations} consecutive"),
            Hold::OfLast { n, m } => format!(" for {n} of {m}"),
        };
        let mut extra = String::new();
        if let Some(clear) = &t.clear_when {
            extra.push_str(&format!("<br/>clear when {}", esc(&clear.condition_text)));
        }
        if t.on_no_data != NoData::Clear {
            extra.push_str(&format!("<br/>on no data {}", t.on_no_data.as_str()));
        }
        let _ = writeln!(w, "  T{i}{{{{\"{}<br/>{}{}{extra}\"}}}}", esc(&t.name), esc(&t.condition_text), esc(&hold));
        match &t.target {
            Target::Level { level } => {
                let _ = writeln!(w, "  T{i} --> L{level}");
            }
            Target::Notify { channel, .. } => {
                let _ = writeln!(w, "  T{i} -.-> N{i}([\"notify {}\"])", esc(channel));
            }
        }
    }
    for l in &plan.levels {
        let title = l.title.as_deref().unwrap_or("");
        let approval = if l.approval_required { "<br/>approval required" } else { "" };
        let deadline = l.deadline_ms.map(|d| format!("<br/>deadline {}", format_duration(d))).unwrap_or_default();
        let _ = writeln!(w, "  subgraph {}_steps [\"{} {}\"]", l.id, l.id, esc(title));
        let _ = writeln!(w, "    direction TB");
        let _ = writeln!(w, "    {}[\"level {}{}{}\"]", l.id, l.number, deadline, approval);
        let mut prev = l.id.clone();
        for s in &l.steps {
            prev = step_nodes(w, s, &prev);
        }
        let _ = writeln!(w, "  end");
    }
    for e in &plan.escalations {
        let _ = writeln!(w, "  L{} == on failure ==> L{}", e.from, e.to);
    }
    out
}

/// Writes a step (a parallel group fans out and joins) and returns the node the next step follows.
fn step_nodes(w: &mut String, s: &Step, prev: &str) -> String {
    let node = node_id(&s.id);
    match &s.action {
        Action::Parallel { steps } => {
            let _ = writeln!(w, "    {node}{{{{\"{} parallel\"}}}}", s.id);
            let _ = writeln!(w, "    {prev} --> {node}");
            let join = format!("{node}_join");
            let _ = writeln!(w, "    {join}(( ))");
            for c in steps {
                let last = step_nodes(w, c, &node);
                let _ = writeln!(w, "    {last} --> {join}");
            }
            join
        }
        action => {
            let _ = writeln!(w, "    {node}[\"{} {}\"]", s.id, esc(&summary(action)));
            let _ = writeln!(w, "    {prev} --> {node}");
            node
        }
    }
}

fn node_id(step_id: &str) -> String {
    step_id.replace('.', "_")
}

/// ` for N consecutive` when a verify needs more than one passing check.
fn in_a_row(consecutive: u32) -> String {
    if consecutive > 1 { format!(" for {consecutive} consecutive") } else { String::new() }
}

fn summary(action: &Action) -> String {
    let text = match action {
        Action::Shell { command } => format!("shell {command}"),
        Action::Http { method, url, .. } => format!("http {method} {url}"),
        Action::Snapshot { path } => format!("snapshot {path}"),
        Action::Restore { path, .. } => format!("restore {path}"),
        Action::VerifyCondition { condition_text, consecutive, .. } => {
            format!("verify {condition_text}{}", in_a_row(*consecutive))
        }
        Action::VerifyShell { command, consecutive, .. } => format!("verify shell {command}{}", in_a_row(*consecutive)),
        Action::VerifyHttp { method, url, consecutive, .. } => {
            format!("verify {method} {url}{}", in_a_row(*consecutive))
        }
        Action::Wait { ms } => format!("wait {}", format_duration(*ms)),
        Action::Notify { channel, .. } => format!("notify {channel}"),
        Action::Parallel { .. } => "parallel".to_string(),
    };
    if text.chars().count() > 60 { format!("{}...", text.chars().take(57).collect::<String>()) } else { text }
}

/// Mermaid labels are quoted; quotes and angle brackets become entities.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "#quot;").replace('<', "&lt;").replace('>', "&gt;")
}
