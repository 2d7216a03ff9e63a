//! What a step does: a shell command (in its own process group, in the runbook's directory), an HTTP
//! request, a verify that checks until it passes or `within` ends, a wait, a notification, a file snapshot
//! or restore (confined to `files under`; what a restore replaces is kept in the run store for `undo`).
//! The side effects themselves live in `crate::actions`.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::Interpreter;
use crate::actions::beneath::Cancel;
use crate::actions::process::ProcessGroup;
use crate::actions::{self, file_steps};
use crate::plan::{Action, ChannelKind, InARow, RestoreSource, Step, Template, format_duration};
use crate::prometheus::Limits;
use crate::runs::{Event, now_ms};

/// Output kept per stream in the journal.
const TAIL_BYTES: usize = 4096;

/// What one try of a step's action did.
#[derive(Default)]
pub(super) struct ActionResult {
    pub(super) ok: bool,
    pub(super) interrupted: bool,
    pub(super) detail: String,
    pub(super) tries: u32,
    pub(super) exit_code: Option<i32>,
    pub(super) status: Option<u16>,
    pub(super) stdout: String,
    pub(super) stderr: String,
    pub(super) files: Vec<file_steps::FileRecord>,
}

impl ActionResult {
    pub(super) fn ok() -> ActionResult {
        ActionResult { ok: true, ..ActionResult::default() }
    }
    pub(super) fn failed(detail: impl Into<String>) -> ActionResult {
        ActionResult { detail: detail.into(), ..ActionResult::default() }
    }
}

impl Interpreter {
    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client.get_or_init(actions::http::client).as_ref().map_err(Clone::clone)
    }

    /// The environment of a shell step: who and what is running, and the value of each `${...}` of
    /// `command` (`plan::shell`).
    fn shell_env(&self, level: u32, step: &Step, command: &Template) -> Vec<(String, String)> {
        let mut env = vec![
            ("RIPCORD_RUN_ID".into(), self.ctx.run_id.clone()),
            ("RIPCORD_RUNBOOK".into(), self.plan.runbook.clone()),
            ("RIPCORD_LEVEL".into(), level.to_string()),
            ("RIPCORD_STEP".into(), step.id.clone()),
            ("RIPCORD_OPERATOR".into(), self.operator(level)),
        ];
        env.extend(self.bindings(level).shell_env(command));
        env
    }

    pub(super) async fn action(&self, level: u32, step: &Step) -> ActionResult {
        match &step.action {
            Action::Shell { command } => self.shell(level, step, command).await,
            Action::VerifyShell { command, every_ms, consecutive } => {
                self.poll(step, *every_ms, *consecutive, || self.shell(level, step, command)).await
            }
            Action::Http { method, url, headers: templates, body, expect } => {
                let bindings = self.bindings(level);
                let url = match bindings.render_url(url) {
                    Ok(u) => u,
                    Err(e) => return ActionResult::failed(e),
                };
                let mut headers = Vec::with_capacity(templates.len());
                for (k, v) in templates {
                    match bindings.render_header(k, v) {
                        Ok(v) => headers.push((k.clone(), v)),
                        Err(e) => return ActionResult::failed(e),
                    }
                }
                let body = body.as_ref().map(|b| bindings.render_body(templates, b));
                self.http(method, &url, &headers, body, *expect, Duration::from_millis(step.timeout_ms)).await
            }
            Action::VerifyHttp { method, url, expect, every_ms, consecutive } => {
                let url = match self.render_url(level, url) {
                    Ok(u) => u,
                    Err(e) => return ActionResult::failed(e),
                };
                let timeout = Duration::from_millis(step.timeout_ms.min(crate::plan::defaults::HTTP_TIMEOUT_MS));
                self.poll(step, *every_ms, *consecutive, || self.http(method, &url, &[], None, *expect, timeout)).await
            }
            Action::VerifyCondition { condition, condition_text, every_ms, consecutive } => {
                let Some(base) = self.ctx.prometheus.clone() else {
                    return ActionResult::failed(format!(
                        "`verify {condition_text}` reads live metrics and no source was given: pass --prometheus URL"
                    ));
                };
                let timeout = Duration::from_millis(step.timeout_ms.min(crate::plan::defaults::HTTP_TIMEOUT_MS));
                let limits = Limits::timeout(timeout).max_bytes(self.ctx.max_answer_bytes);
                self.poll(step, *every_ms, *consecutive, || async {
                    let client = match self.client() {
                        Ok(c) => c,
                        Err(e) => return ActionResult::failed(e),
                    };
                    let version = self.ctx.prometheus_version;
                    let (plan, labels) = (&self.plan, &self.ctx.labels);
                    match actions::prom::holds(client, &base, plan, condition, now_ms(), version, &limits, labels).await
                    {
                        Ok(true) => ActionResult::ok(),
                        Ok(false) => ActionResult::failed(format!("`{condition_text}` does not hold")),
                        Err(e) => ActionResult::failed(e),
                    }
                })
                .await
            }
            Action::Wait { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                ActionResult::ok()
            }
            Action::Notify { channel, message } => {
                let text = self.render(level, message);
                self.notify(level, step, channel, &text).await
            }
            Action::Snapshot { path } => {
                let (path, roots) = (path.clone(), self.plan.files_under.clone());
                let store = self.ctx.state.snapshots();
                let (run_id, step_id) = (self.ctx.run_id.clone(), step.id.clone());
                blocking(move |cancel| file_steps::snapshot(&path, &roots, &store, &run_id, &step_id, cancel)).await
            }
            Action::Restore { path, from } => {
                let (path, from, roots) = (path.clone(), from.clone(), self.plan.files_under.clone());
                let store = self.ctx.state.snapshots();
                let kept = self.ctx.state.kept(&self.ctx.run_id);
                let step_id = step.id.clone();
                blocking(move |cancel| {
                    let from = match &from {
                        RestoreSource::Path(p) => file_steps::RestoreFrom::Path(p),
                        RestoreSource::Snapshot => file_steps::RestoreFrom::Snapshot,
                    };
                    file_steps::restore(&path, from, &roots, &store, &kept, &step_id, cancel)
                })
                .await
            }
            Action::Parallel { .. } => ActionResult::ok(),
        }
    }

    /// Checks at once, then every `every`, until `consecutive` checks in a row have passed (a failing check
    /// starts the count again) or the next check would fall after `within`.
    async fn poll<F, Fut>(&self, step: &Step, every_ms: u64, consecutive: u32, mut check: F) -> ActionResult
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ActionResult>,
    {
        let start = Instant::now();
        let within = Duration::from_millis(step.timeout_ms);
        let every = Duration::from_millis(every_ms.max(1));
        let mut row = InARow::new(consecutive);
        let needed = row.needed();
        let mut checks = 0u32;
        loop {
            checks += 1;
            let result = check().await;
            if row.check(result.ok) {
                let detail = if needed == 1 {
                    format!("passed at check {checks}")
                } else {
                    format!("passed {needed} checks in a row (checks {} to {checks})", checks + 1 - needed)
                };
                return ActionResult { detail, ..result };
            }
            let next = start + every * checks;
            if next > start + within {
                let last = if result.ok { format!("{} passed in a row", row.count()) } else { result.detail.clone() };
                let goal = if needed == 1 { String::new() } else { format!(" {needed} checks in a row") };
                let mut out = ActionResult::failed(format!(
                    "did not pass{goal} within {} ({checks} check{}; last: {last})",
                    format_duration(step.timeout_ms),
                    if checks == 1 { "" } else { "s" },
                ));
                out.exit_code = result.exit_code;
                out.status = result.status;
                out.stdout = result.stdout;
                out.stderr = result.stderr;
                return out;
            }
            tokio::time::sleep_until(next).await;
        }
    }

    async fn shell(&self, level: u32, step: &Step, command: &Template) -> ActionResult {
        let script = self.render_shell(command);
        let started = |group: &ProcessGroup| {
            let _ = self.record(Event::StepProcess { level, step: step.id.clone(), group: group.clone() });
        };
        match actions::shell::run(&script, &self.ctx.workdir, &self.shell_env(level, step, command), started).await {
            Ok(r) => ActionResult {
                ok: r.success(),
                detail: match r.exit_code {
                    Some(0) => String::new(),
                    Some(c) => format!("exited with status {c}"),
                    None => "ended by a signal".to_string(),
                },
                exit_code: r.exit_code,
                stdout: actions::tail(&r.stdout, TAIL_BYTES),
                stderr: actions::tail(&r.stderr, TAIL_BYTES),
                ..ActionResult::default()
            },
            Err(e) => ActionResult::failed(format!("cannot start `sh`: {e}")),
        }
    }

    async fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<String>,
        expect: u16,
        timeout: Duration,
    ) -> ActionResult {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return ActionResult::failed(e),
        };
        match actions::http::send(client, method, url, headers, body, timeout).await {
            Ok(status) if status == expect => ActionResult { status: Some(status), ..ActionResult::ok() },
            Ok(status) => ActionResult {
                status: Some(status),
                ..ActionResult::failed(format!("answered {status}, expected {expect}"))
            },
            Err(e) => ActionResult::failed(e),
        }
    }

    pub(super) async fn notify(&self, level: u32, step: &Step, channel: &str, text: &str) -> ActionResult {
        let declared = self.plan.channels.iter().find(|c| c.name == channel);
        let redacted = self.redactor.redact(text);
        match declared {
            Some(c) if c.kind == ChannelKind::Webhook => {
                let Some(url) = c.url.as_ref().map(|u| self.render(level, u)) else {
                    return ActionResult::failed(format!("channel `{channel}` has no URL"));
                };
                if url.is_empty() {
                    return ActionResult::failed(format!(
                        "channel `{channel}`'s URL is empty (is its environment variable set?)"
                    ));
                }
                let client = match self.client() {
                    Ok(c) => c,
                    Err(e) => return ActionResult::failed(e),
                };
                match actions::http::post_webhook(client, &url, text, Duration::from_millis(step.timeout_ms)).await {
                    Ok(status) => ActionResult { status: Some(status), ..ActionResult::ok() },
                    Err(e) => ActionResult::failed(format!("channel `{channel}`: {e}")),
                }
            }
            _ => {
                let _ = self.record(Event::Notify {
                    level,
                    step: step.id.clone(),
                    channel: channel.to_string(),
                    message: redacted.clone(),
                });
                if self.log_to_stdout {
                    println!("[{}] {}", self.ctx.run_id, crate::text::for_terminal(&redacted));
                } else {
                    self.progress.line(&format!("[log] {redacted}"));
                }
                ActionResult::ok()
            }
        }
    }
}

/// Runs a file operation on a blocking thread. When the step ends first (timeout, deadline, interruption:
/// this future is dropped), the operation is told to stop and never renames anything into place; a thread
/// stuck in the kernel (a hung mount) is left behind, and the run does not wait for it (see `drive`).
async fn blocking<F>(f: F) -> ActionResult
where
    F: FnOnce(&Cancel) -> Result<Vec<file_steps::FileRecord>, String> + Send + 'static,
{
    struct CancelOnDrop(Cancel);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let guard = CancelOnDrop(Cancel::new());
    let cancel = guard.0.clone();
    match tokio::task::spawn_blocking(move || f(&cancel)).await {
        Ok(Ok(files)) => ActionResult { files, ..ActionResult::ok() },
        Ok(Err(e)) => ActionResult::failed(e),
        Err(e) => ActionResult::failed(format!("the file step stopped: {e}")),
    }
}
