//! `ripcord run --dry-run`: every command after interpolation, every HTTP request, every file operation
//! with its paths, in order, as if every step passed. Touches nothing: no process, no request, no file
//! written, not even the state dir.

use std::fmt::Write;
use std::path::Path;

use crate::actions::{file_steps, shell_quote};
use crate::plan::{
    Action, Bindings, ChannelKind, Labels, OnFailure, Plan, RestoreSource, Step, Template, format_duration, shell,
};

pub struct DryRun<'a> {
    pub plan: &'a Plan,
    pub level: u32,
    pub run_id: &'a str,
    pub operator: &'a str,
    pub reason: &'a str,
    /// The labels the run would carry (`--label`).
    pub labels: &'a Labels,
    pub workdir: &'a Path,
    pub state_dir: &'a Path,
    pub yes: bool,
}

impl DryRun<'_> {
    /// The variables as the run would bind them: the operator who started it, not yet an approver.
    fn bindings(&self) -> Bindings {
        Bindings {
            labels: self.labels.clone(),
            ..Bindings::manual_run(&self.plan.runbook, self.level, self.run_id, self.operator, self.reason)
        }
    }

    fn render(&self, t: &Template) -> String {
        self.bindings().render(t)
    }

    /// The values a shell command receives in its environment (its text holds only references to them,
    /// `plan::shell`), one line each, shell-quoted so that every byte shows.
    fn shell_values(&self, t: &Template, pad: &str) -> String {
        let mut out = String::new();
        for (name, value) in self.bindings().shell_env(t) {
            let _ = write!(out, "\n{pad}    with {name}={}", shell_quote(&value));
        }
        out
    }

    /// A URL as it would be sent, or why it could not be.
    fn render_url(&self, t: &Template) -> String {
        self.bindings().render_url(t).unwrap_or_else(|e| format!("{t} (would fail: {e})"))
    }

    pub fn render_all(&self) -> String {
        let redactor = super::redactor_for(self.plan);
        let mut out = String::new();
        let Some(level) = self.plan.level(self.level) else {
            return out;
        };
        let _ = writeln!(
            out,
            "dry run of `{}` level {} (nothing is run, sent or written)",
            self.plan.runbook, level.number
        );
        let _ = writeln!(out, "shell steps run in {}", self.workdir.display());
        if level.approval_required {
            let _ = writeln!(
                out,
                "level {} requires approval{}",
                level.number,
                if self.yes { " (given in advance with --yes)" } else { ": the run would wait for `ripcord approve`" }
            );
        }
        if let Some(d) = level.deadline_ms {
            let _ = writeln!(out, "deadline {}", format_duration(d));
        }
        for step in &level.steps {
            self.step(step, 0, &mut out);
        }
        match level.on_failure {
            OnFailure::Escalate { level: to } => {
                let _ = writeln!(out, "if a step failed: escalate to level {to} (not shown)");
            }
            OnFailure::Abort => {
                let _ = writeln!(out, "if a step failed: abort");
            }
            OnFailure::Continue => {
                let _ = writeln!(out, "if a step failed: continue with the next steps, then fail");
            }
        }
        crate::text::for_terminal(&redactor.redact(&out)).into_owned()
    }

    fn step(&self, step: &Step, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        let id = &step.id;
        let retry = if step.retries > 0 {
            format!(" (retry {} backoff {})", step.retries, format_duration(step.backoff_ms))
        } else {
            String::new()
        };
        let line = match &step.action {
            Action::Shell { command } => {
                format!("{id} shell: {}{retry}{}", shell::script(command), self.shell_values(command, &pad))
            }
            Action::VerifyShell { command, every_ms, consecutive } => format!(
                "{id} verify shell (every {}{}, within {}): {}{}",
                format_duration(*every_ms),
                in_a_row(*consecutive),
                format_duration(step.timeout_ms),
                shell::script(command),
                self.shell_values(command, &pad)
            ),
            Action::Http { method, url, headers, body, expect } => {
                let b = self.bindings();
                let mut s = format!("{id} http: {method} {} expect {expect}{retry}", self.render_url(url));
                for (k, v) in headers {
                    let v = b.render_header(k, v).unwrap_or_else(|e| format!("{v} (would fail: {e})"));
                    let _ = write!(s, "\n{pad}    header {k}: {v}");
                }
                if let Some(body) = body {
                    let _ = write!(s, "\n{pad}    body {}", b.render_body(headers, body));
                }
                s
            }
            Action::VerifyHttp { method, url, expect, every_ms, consecutive } => format!(
                "{id} verify http (every {}{}, within {}): {method} {} expect {expect}",
                format_duration(*every_ms),
                in_a_row(*consecutive),
                format_duration(step.timeout_ms),
                self.render_url(url)
            ),
            Action::Snapshot { path } => {
                format!(
                    "{id} snapshot: copy {} into {}",
                    self.resolved(path),
                    self.state_dir.join("snapshots").display()
                )
            }
            Action::Restore { path, from } => {
                let source = match from {
                    RestoreSource::Path(p) => self.resolved(p),
                    RestoreSource::Snapshot => "the newest snapshot of it in the state dir".to_string(),
                };
                format!(
                    "{id} restore: keep the current {target} in {kept}, then replace it with a copy of {source}",
                    target = self.resolved(path),
                    kept = self.state_dir.join("kept").join(self.run_id).join(id).display()
                )
            }
            Action::VerifyCondition { condition_text, every_ms, consecutive, .. } => format!(
                "{id} verify (every {}{}, within {}): {condition_text} on live metrics (--prometheus)",
                format_duration(*every_ms),
                in_a_row(*consecutive),
                format_duration(step.timeout_ms)
            ),
            Action::Wait { ms } => format!("{id} wait {}", format_duration(*ms)),
            Action::Notify { channel, message } => {
                let text = self.render(message);
                match self.plan.channels.iter().find(|c| &c.name == channel) {
                    Some(c) if c.kind == ChannelKind::Webhook => format!(
                        "{id} notify {channel}: POST {} {}",
                        c.url.as_ref().map(|u| self.render(u)).unwrap_or_default(),
                        serde_json::json!({ "text": text })
                    ),
                    _ => format!("{id} notify log: {text}"),
                }
            }
            Action::Parallel { steps } => {
                let _ = writeln!(out, "{pad}{id} parallel {{");
                for s in steps {
                    self.step(s, depth + 1, out);
                }
                let _ = writeln!(out, "{pad}}}");
                return;
            }
        };
        let _ = writeln!(out, "{pad}{line}");
    }

    /// The path as a run would use it (the root's own links resolved; reading only), or why it would fail.
    fn resolved(&self, path: &str) -> String {
        match file_steps::check(path, &self.plan.files_under) {
            Ok(p) if p.as_os_str() == path => path.to_string(),
            Ok(p) => format!("{path} (resolves to {})", p.display()),
            Err(e) => format!("{path} (would fail: {e})"),
        }
    }
}

/// `, passing N checks in a row` for a verify `for N consecutive` (nothing for a plain verify).
fn in_a_row(consecutive: u32) -> String {
    if consecutive > 1 { format!(", passing {consecutive} checks in a row") } else { String::new() }
}
