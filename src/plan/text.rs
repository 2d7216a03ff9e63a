//! The plan as a person reviews it: every resolved value shown, defaults marked, one line per step.
//! Deterministic: the same plan always renders to the same bytes.

use std::fmt::Write;

use super::{Action, Hold, NoData, OnFailure, Plan, RestoreSource, Shape, Step, Target, format_duration};

pub fn render_text(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "runbook {}", plan.runbook);
    if let Some(d) = &plan.description {
        let _ = writeln!(w, "  description     {d}");
    }
    if let Some(o) = &plan.owner {
        let _ = writeln!(w, "  owner           {o}");
    }
    let _ = writeln!(
        w,
        "  evaluate every  {}{}",
        format_duration(plan.evaluation_interval_ms),
        if plan.evaluation_interval_default { " (default)" } else { "" }
    );
    if !plan.files_under.is_empty() {
        let _ = writeln!(w, "  files under     {}", plan.files_under.join(", "));
    }
    if !plan.max_series_default {
        let _ = writeln!(w, "  max series      {}", plan.max_series);
    }

    if !plan.channels.is_empty() {
        let _ = writeln!(w, "\nchannels");
        for c in &plan.channels {
            match &c.url {
                Some(url) => {
                    let _ = writeln!(w, "  {}  webhook {url}", c.name);
                }
                None => {
                    let _ = writeln!(w, "  {}  built-in log", c.name);
                }
            }
        }
    }

    if !plan.metrics.is_empty() {
        let _ = writeln!(w, "\nmetrics");
        let width = plan.metrics.iter().map(|m| m.name.len()).max().unwrap_or(0);
        for m in &plan.metrics {
            match &m.promql {
                Some(q) => {
                    let _ = writeln!(w, "  {:width$}  promql `{}`", m.name, q.replace('\n', " "));
                }
                None => {
                    let _ = writeln!(w, "  {:width$}  (undeclared: read from input series only)", m.name);
                }
            }
            let _ = writeln!(w, "  {:width$}  {}", "", shape_words(&m.shape));
        }
    }

    let _ = writeln!(w, "\ntriggers");
    if plan.triggers.is_empty() {
        let _ = writeln!(w, "  (none: levels run by hand only)");
    }
    for t in &plan.triggers {
        let hold = match t.hold {
            Hold::For { ms: 0 } => "at once".to_string(),
            Hold::For { ms } => format!("for {}", format_duration(ms)),
            Hold::Consecutive { evaluations } => format!("for {evaluations} consecutive"),
            Hold::OfLast { n, m } => format!("for {n} of {m}"),
        };
        let keep = if t.keep_firing_for_ms > 0 {
            format!(", keep firing for {}", format_duration(t.keep_firing_for_ms))
        } else {
            String::new()
        };
        let target = match &t.target {
            Target::Level { level } => format!("level {level}"),
            Target::Notify { channel, message } => format!("notify {channel} {message}"),
        };
        let generated = if t.generated_name { " (unnamed)" } else { "" };
        let _ = writeln!(w, "  {}{generated}", t.name);
        let _ = writeln!(w, "    when  {}", t.condition_text);
        let _ = writeln!(w, "          {}", shape_words(&t.shape));
        let no_data = if t.on_no_data == NoData::Clear {
            String::new()
        } else {
            format!(", on no data {}", no_data_words(t.on_no_data))
        };
        if let Some(clear) = &t.clear_when {
            let _ = writeln!(w, "    clear {}", clear.condition_text);
        }
        let _ = writeln!(w, "    hold  {hold}{keep}{no_data}");

        let _ = writeln!(w, "    then  {target}");
        if let Some(alert) = &t.alert {
            let _ = writeln!(w, "    alert        {alert}");
        }
        if !t.labels.is_empty() {
            let labels: Vec<String> = t.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", v.escape_default())).collect();
            let _ = writeln!(w, "    labels       {{{}}}", labels.join(", "));
        }
        for (name, text) in &t.annotations {
            let _ = writeln!(w, "    annotation   {name} {text}");
        }
    }

    let _ = writeln!(w, "\nlevels");
    if plan.levels.is_empty() {
        let _ = writeln!(w, "  (none)");
    }
    for l in &plan.levels {
        let title = l.title.as_deref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
        let _ = writeln!(w, "  {}{title}", l.id);
        let mark = |name: &str| if l.defaulted.iter().any(|d| d == name) { " (default)" } else { "" };
        let deadline = l.deadline_ms.map(format_duration).unwrap_or_else(|| "none".into());
        let mut opts = vec![
            format!("deadline {deadline}{}", mark("deadline")),
            if l.approval_required { "approval required".to_string() } else { "no approval".to_string() },
            format!("cooldown {}{}", format_duration(l.cooldown_ms), mark("cooldown")),
            format!("max attempts {}{}", l.max_attempts, mark("max attempts")),
        ];
        if !l.defaulted.iter().any(|d| d == "max parallel") {
            opts.push(format!("max parallel {}", l.max_parallel));
        }
        let on_failure = match l.on_failure {
            OnFailure::Escalate { level } => format!("on failure escalate level {level}"),
            OnFailure::Abort => "on failure abort".to_string(),
            OnFailure::Continue => "on failure continue".to_string(),
        };
        opts.push(format!("{on_failure}{}", mark("on failure")));
        let _ = writeln!(w, "    {}", opts.join(" | "));
        for s in &l.steps {
            step_line(w, s, 4);
        }
    }

    if !plan.escalations.is_empty() {
        let _ = writeln!(w, "\nescalations");
        for e in &plan.escalations {
            let _ = writeln!(w, "  L{} -> L{}", e.from, e.to);
        }
    }
    out
}

/// How many series a metric or a condition has, in words.
fn shape_words(shape: &Shape) -> String {
    match shape {
        Shape::Scalar | Shape::Single => "one series".to_string(),
        Shape::PerSeries => "per series".to_string(),
        Shape::Labels(l) => format!("per series by ({})", l.join(", ")),
    }
}

fn step_line(w: &mut String, s: &Step, indent: usize) {
    let pad = " ".repeat(indent);
    let mark = |name: &str| if s.defaulted.iter().any(|d| d == name) { " (default)" } else { "" };
    let what = match &s.action {
        Action::Shell { command } => format!("shell {command}"),
        Action::Http { method, url, headers, body, expect } => {
            let mut t = format!("http {method} {url} expect {expect}{}", mark("expect"));
            for (k, v) in headers {
                let _ = write!(t, " header \"{k}\" {v}");
            }
            if let Some(b) = body {
                let _ = write!(t, " body {b}");
            }
            t
        }
        Action::Snapshot { path } => format!("snapshot \"{path}\""),
        Action::Restore { path, from: RestoreSource::Snapshot } => format!("restore \"{path}\" from snapshot"),
        Action::Restore { path, from: RestoreSource::Path(p) } => format!("restore \"{path}\" from \"{p}\""),
        Action::VerifyCondition { condition_text, .. } => {
            format!("verify {condition_text}")
        }
        Action::VerifyShell { command, .. } => {
            format!("verify shell {command}")
        }
        Action::VerifyHttp { method, url, expect, .. } => {
            format!("verify http {method} {url} expect {expect}{}", mark("expect"))
        }
        Action::Wait { ms } => format!("wait {}", format_duration(*ms)),
        Action::Notify { channel, message } => format!("notify {channel} {message}"),
        Action::Parallel { steps } => {
            let _ = writeln!(w, "{pad}{}  parallel", s.id);
            for c in steps {
                step_line(w, c, indent + 2);
            }
            return;
        }
    };
    let mut mods = Vec::new();
    let is_verify =
        matches!(s.action, Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. });
    if is_verify {
        mods.push(format!("within {}{}", format_duration(s.timeout_ms), mark("within")));
        if let Action::VerifyCondition { every_ms, .. }
        | Action::VerifyShell { every_ms, .. }
        | Action::VerifyHttp { every_ms, .. } = &s.action
        {
            mods.push(format!("every {}{}", format_duration(*every_ms), mark("every")));
        }
        if let Action::VerifyCondition { consecutive, .. }
        | Action::VerifyShell { consecutive, .. }
        | Action::VerifyHttp { consecutive, .. } = &s.action
            && *consecutive > 1
        {
            mods.push(format!("for {consecutive} consecutive"));
        }
    } else if !matches!(s.action, Action::Wait { .. }) {
        mods.push(format!("timeout {}{}", format_duration(s.timeout_ms), mark("timeout")));
    }
    if s.retries > 0 {
        mods.push(format!("retry {} backoff {}{}", s.retries, format_duration(s.backoff_ms), mark("backoff")));
    }
    if s.idempotent {
        mods.push("idempotent".to_string());
    }
    let _ = writeln!(w, "{pad}{}  {what}", s.id);
    if !mods.is_empty() {
        let _ = writeln!(w, "{pad}{}  {}", " ".repeat(s.id.len()), mods.join(", "));
    }
}

/// What `on no data` does, in words (the default, `clear`, is not shown).
fn no_data_words(n: NoData) -> &'static str {
    match n {
        NoData::Keep => "keep (the state holds, timers pause)",
        NoData::Fire => "fire (counts as true)",
        NoData::Clear => "clear (counts as false)",
    }
}
