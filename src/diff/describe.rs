//! Plan parts in the language's own words, on one line, for the old and new values of a change: a step
//! reads `verify error_rate < 0.01 within 2m`, a trigger `error_rate > 0.05 for 1m -> level 1`.

use crate::plan::{Action, Hold, OnFailure, RestoreSource, Step, Target, Template, Trigger, format_duration};

/// A string as the language quotes it.
pub(super) fn quoted(s: &str) -> String {
    Template::literal(s).to_string()
}

/// A query in backticks, as runbooks write them; quoted when backticks or line breaks would not read.
pub(super) fn raw(s: &str) -> String {
    if s.contains(['`', '\n', '\r']) { quoted(s) } else { format!("`{s}`") }
}

pub(super) fn hold(h: &Hold) -> String {
    match h {
        Hold::For { ms } => format!("for {}", format_duration(*ms)),
        Hold::Consecutive { evaluations } => format!("for {evaluations} consecutive"),
        Hold::OfLast { n, m } => format!("for {n} of {m}"),
    }
}

/// `clear when C`, or `(none)`.
pub(super) fn clear_when(t: &Trigger) -> String {
    t.clear_when.as_ref().map_or_else(|| "(none)".to_string(), |c| c.condition_text.clone())
}

pub(super) fn target(t: &Target) -> String {
    match t {
        Target::Level { level } => format!("level {level}"),
        Target::Notify { channel, message } => format!("notify {channel} {message}"),
    }
}

pub(super) fn on_failure(o: &OnFailure) -> String {
    match o {
        OnFailure::Escalate { level } => format!("escalate level {level}"),
        OnFailure::Abort => "abort".to_string(),
        OnFailure::Continue => "continue".to_string(),
    }
}

/// `CONDITION [for D] [clear when C] [keep firing for D] [on no data P] -> TARGET [(alert "Name")]`.
pub(super) fn trigger(t: &Trigger) -> String {
    let mut out = t.condition_text.clone();
    if t.hold != (Hold::For { ms: 0 }) {
        out.push(' ');
        out.push_str(&hold(&t.hold));
    }
    if let Some(clear) = &t.clear_when {
        out.push_str(&format!(" clear when {}", clear.condition_text));
    }
    if t.keep_firing_for_ms > 0 {
        out.push_str(&format!(" keep firing for {}", format_duration(t.keep_firing_for_ms)));
    }
    if !t.on_no_data.is_default() {
        out.push_str(&format!(" on no data {}", t.on_no_data.as_str()));
    }
    out.push_str(" -> ");
    out.push_str(&target(&t.target));
    if let Some(alert) = &t.alert {
        out.push_str(&format!(" (alert {})", quoted(alert)));
    }
    out
}

pub(super) fn headers(headers: &[(String, Template)]) -> String {
    if headers.is_empty() {
        return "(none)".to_string();
    }
    headers.iter().map(|(k, v)| format!("{} {v}", quoted(k))).collect::<Vec<_>>().join(", ")
}

/// What a step does, without its modifiers: `shell "cmd"`, `verify error_rate < 0.01`.
pub(super) fn action(a: &Action) -> String {
    match a {
        Action::Shell { command } => format!("shell {command}"),
        Action::Http { method, url, .. } => format!("http {method} {url}"),
        Action::Snapshot { path } => format!("snapshot {}", quoted(path)),
        Action::Restore { path, from: RestoreSource::Snapshot } => format!("restore {} from snapshot", quoted(path)),
        Action::Restore { path, from: RestoreSource::Path(p) } => {
            format!("restore {} from {}", quoted(path), quoted(p))
        }
        Action::VerifyCondition { condition_text, .. } => format!("verify {condition_text}"),
        Action::VerifyShell { command, .. } => format!("verify shell {command}"),
        Action::VerifyHttp { method, url, .. } => format!("verify http {method} {url}"),
        Action::Wait { ms } => format!("wait {}", format_duration(*ms)),
        Action::Notify { channel, message } => format!("notify {channel} {message}"),
        Action::Parallel { steps } => {
            format!("parallel {{ {} }}", steps.iter().map(step).collect::<Vec<_>>().join("; "))
        }
    }
}

pub(super) fn is_verify(a: &Action) -> bool {
    matches!(a, Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. })
}

/// A step as a runbook would write it: its action, then the modifiers that were written (defaults left
/// out), in the formatter's order.
pub(super) fn step(s: &Step) -> String {
    let written = |name: &str| !s.defaulted.iter().any(|d| d == name);
    let mut out = action(&s.action);
    match &s.action {
        Action::Http { headers, body, expect, .. } => {
            for (k, v) in headers {
                out.push_str(&format!(" header {} {v}", quoted(k)));
            }
            if let Some(b) = body {
                out.push_str(&format!(" body {b}"));
            }
            if written("expect") {
                out.push_str(&format!(" expect {expect}"));
            }
        }
        Action::VerifyHttp { expect, .. } if written("expect") => out.push_str(&format!(" expect {expect}")),
        _ => {}
    }
    match &s.action {
        Action::Parallel { .. } | Action::Wait { .. } => return out,
        a if is_verify(a) => {
            if written("within") {
                out.push_str(&format!(" within {}", format_duration(s.timeout_ms)));
            }
            let every = match a {
                Action::VerifyCondition { every_ms, .. }
                | Action::VerifyShell { every_ms, .. }
                | Action::VerifyHttp { every_ms, .. } => *every_ms,
                _ => 0,
            };
            if written("every") {
                out.push_str(&format!(" every {}", format_duration(every)));
            }
            if let Action::VerifyCondition { consecutive, .. }
            | Action::VerifyShell { consecutive, .. }
            | Action::VerifyHttp { consecutive, .. } = a
                && *consecutive > 1
            {
                out.push_str(&format!(" for {consecutive} consecutive"));
            }
        }
        _ => {
            if written("timeout") {
                out.push_str(&format!(" timeout {}", format_duration(s.timeout_ms)));
            }
        }
    }
    if s.retries > 0 {
        out.push_str(&format!(" retry {}", s.retries));
        if written("backoff") {
            out.push_str(&format!(" backoff {}", format_duration(s.backoff_ms)));
        }
    }
    if s.idempotent {
        out.push_str(" idempotent");
    }
    out
}
