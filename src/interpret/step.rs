//! One step: skipped if an earlier process of the run finished it, journalled before it starts and after
//! it ends (both records durable before going on), its tries bounded by the step's timeout and the level's
//! deadline, with exponential backoff between them (`plan::timing`). A `parallel` step runs its children
//! at once and fails if any of them fails.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use super::action::ActionResult;
use super::progress::StepBar;
use super::takeover::Decided;
use super::{Interpreter, mutex};
use crate::plan::timing::retry_wait_ms;
use crate::plan::{Action, RestoreSource, Step, format_duration};
use crate::runs::{Event, StepOutcome};

/// How one step ended.
pub(super) enum StepResult {
    Ok,
    Failed(String),
    Interrupted,
    /// A person ended the run at this step (`resume --abort`).
    Aborted(String),
}

impl Interpreter {
    pub(super) fn step<'a>(
        &'a self,
        level: u32,
        attempt: u32,
        step: &'a Step,
        deadline: Option<Instant>,
    ) -> Pin<Box<dyn Future<Output = StepResult> + 'a>> {
        Box::pin(async move {
            let key = (level, attempt, step.id.clone());
            if let Some((ok, detail)) = self.earlier.done.get(&key) {
                self.progress.line(&format!(
                    "  = {} already {} before the interruption; not run again",
                    step.id,
                    if *ok { "succeeded" } else { "failed" }
                ));
                return if *ok { StepResult::Ok } else { StepResult::Failed(format!("{} failed: {detail}", step.id)) };
            }
            if self.stops_new_steps() {
                return StepResult::Interrupted;
            }
            let rerun = self.earlier.started.contains(&key);
            if rerun && !step.idempotent && !matches!(step.action, Action::Parallel { .. }) {
                match self.decide_unfinished(level, step).await {
                    Decided::Rerun => {}
                    Decided::Interrupted => return StepResult::Interrupted,
                    Decided::Skip(by) => {
                        let detail = format!("not run again: skipped by {by} after it was cut off");
                        let _ = self.record(Event::StepEnd {
                            level,
                            attempt,
                            step: step.id.clone(),
                            outcome: StepOutcome::Ok,
                            duration_ms: 0,
                            tries: 0,
                            exit_code: None,
                            status: None,
                            detail: detail.clone(),
                            stdout_tail: String::new(),
                            stderr_tail: String::new(),
                            files: Vec::new(),
                        });
                        self.progress.line(&format!("  = {} {detail}", step.id));
                        return StepResult::Ok;
                    }
                    Decided::Abort(by) => {
                        return StepResult::Aborted(format!(
                            "run aborted by {by} at {}, which was cut off when its replica was lost",
                            step.id
                        ));
                    }
                }
            }
            if rerun && !matches!(step.action, Action::Parallel { .. }) {
                self.progress.line(&format!(
                    "  ! {} started before the interruption but did not finish; running it again ({})",
                    step.id,
                    if step.idempotent {
                        "marked idempotent: safe to run again"
                    } else {
                        "NOT marked idempotent: check what its first run did"
                    }
                ));
            }
            let detail = self.describe(level, step);
            if let Err(e) = self.record(Event::StepStart {
                level,
                attempt,
                step: step.id.clone(),
                kind: step.action.kind().into(),
                detail: detail.clone(),
                idempotent: step.idempotent,
                rerun,
            }) {
                return StepResult::Failed(format!(
                    "{}: cannot write the journal, so the step was not started: {e}",
                    step.id
                ));
            }
            if let Err(e) = mutex(&self.journal).check_lease() {
                self.progress.line(&format!("  ! {} not started: {e}", step.id));
                return StepResult::Interrupted;
            }
            mutex(&self.running).insert(step.id.clone());
            let bar = self.progress.step_started(&step.id, step.action.kind(), &detail);
            let started = Instant::now();
            let done = match &step.action {
                Action::Parallel { steps } => {
                    let results = futures_util::future::join_all(
                        steps.iter().map(|child| self.step(level, attempt, child, deadline)),
                    )
                    .await;
                    if results.iter().any(|r| matches!(r, StepResult::Interrupted)) {
                        ActionResult { interrupted: true, ..ActionResult::default() }
                    } else if let Some(why) = results.iter().find_map(|r| match r {
                        StepResult::Aborted(why) => Some(why.clone()),
                        _ => None,
                    }) {
                        mutex(&self.running).remove(&step.id);
                        return StepResult::Aborted(why);
                    } else {
                        let failed: Vec<&str> = steps
                            .iter()
                            .zip(&results)
                            .filter(|(_, r)| matches!(r, StepResult::Failed(_)))
                            .map(|(s, _)| s.id.as_str())
                            .collect();
                        if failed.is_empty() {
                            ActionResult::ok()
                        } else {
                            ActionResult::failed(format!("{} failed", failed.join(", ")))
                        }
                    }
                }
                _ => self.tries(level, attempt, step, deadline).await,
            };
            mutex(&self.running).remove(&step.id);
            if done.interrupted {
                self.progress.step_interrupted(bar);
                return StepResult::Interrupted;
            }
            let elapsed = started.elapsed();
            let _ = self.record(Event::StepEnd {
                level,
                attempt,
                step: step.id.clone(),
                outcome: if done.ok { StepOutcome::Ok } else { StepOutcome::Failed },
                duration_ms: elapsed.as_millis() as u64,
                tries: done.tries.max(1),
                exit_code: done.exit_code,
                status: done.status,
                detail: self.redactor.redact(&done.detail),
                stdout_tail: self.redactor.redact(&done.stdout),
                stderr_tail: self.redactor.redact(&done.stderr),
                files: done.files,
            });
            self.finish(bar, done.ok, elapsed, &done.detail);
            if done.ok {
                StepResult::Ok
            } else {
                StepResult::Failed(format!("{} failed: {}", step.id, self.redactor.redact(&done.detail)))
            }
        })
    }

    fn finish(&self, bar: StepBar, ok: bool, elapsed: Duration, detail: &str) {
        self.progress.step_finished(bar, ok, elapsed, &self.redactor.redact(detail));
    }

    /// One step with its retries, each try bounded by the step's timeout and the level's deadline.
    async fn tries(&self, level: u32, attempt: u32, step: &Step, deadline: Option<Instant>) -> ActionResult {
        let max_tries = step.retries.saturating_add(1);
        let verify = matches!(
            step.action,
            Action::VerifyCondition { .. } | Action::VerifyShell { .. } | Action::VerifyHttp { .. }
        );
        let mut tries = 0;
        loop {
            tries += 1;
            // A verify step stops itself at `within`; the grace lets its last check finish.
            let own = match step.action {
                // A wait's `timeout_ms` is its length: only the deadline bounds it.
                Action::Wait { ms } => Duration::from_millis(ms) + Duration::from_secs(3600),
                _ if verify => Duration::from_millis(step.timeout_ms) + Duration::from_secs(1),
                _ => Duration::from_millis(step.timeout_ms),
            };
            let mut limit = Instant::now() + own;
            let mut by_deadline = false;
            if let Some(d) = deadline
                && d <= limit
            {
                limit = d;
                by_deadline = true;
            }
            let result = tokio::select! {
                biased;
                _ = self.interrupted() => return ActionResult { interrupted: true, tries, ..ActionResult::default() },
                r = tokio::time::timeout_at(limit, self.action(level, step)) => r,
            };
            let mut done = match result {
                Ok(done) => done,
                Err(_) if by_deadline => ActionResult::failed("the level's deadline passed; the step was stopped"),
                Err(_) if verify => {
                    ActionResult::failed(format!("did not pass within {}", format_duration(step.timeout_ms)))
                }
                Err(_) => {
                    ActionResult::failed(format!("timed out after {}; stopped", format_duration(step.timeout_ms)))
                }
            };
            done.tries = tries;
            let deadline_passed = deadline.is_some_and(|d| Instant::now() >= d);
            if done.ok || tries >= max_tries || deadline_passed {
                return done;
            }
            let backoff = retry_wait_ms(step.backoff_ms, tries - 1);
            let _ = self.record(Event::StepRetry {
                level,
                attempt,
                step: step.id.clone(),
                try_: tries,
                error: self.redactor.redact(&done.detail),
                backoff_ms: backoff,
            });
            self.progress.line(&format!(
                "  ↻ {} try {tries} of {max_tries} failed: {}; retrying in {}",
                step.id,
                self.redactor.redact(&done.detail),
                format_duration(backoff)
            ));
            let wake = Instant::now() + Duration::from_millis(backoff);
            if let Some(d) = deadline
                && d <= wake
            {
                tokio::select! {
                    _ = self.interrupted() => return ActionResult { interrupted: true, tries, ..ActionResult::default() },
                    _ = tokio::time::sleep_until(d) => {}
                }
                let mut done =
                    ActionResult::failed(format!("{}; the level's deadline passed before the next try", done.detail));
                done.tries = tries;
                return done;
            }
            tokio::select! {
                _ = self.interrupted() => return ActionResult { interrupted: true, tries, ..ActionResult::default() },
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// A URL as it is sent, or the template as written with why it cannot be.
    fn url_or_error(&self, level: u32, url: &crate::plan::Template) -> String {
        self.render_url(level, url).unwrap_or_else(|e| format!("{url} ({e})"))
    }

    /// The step's command, request or file operation after interpolation, secrets masked. A shell command
    /// is shown as it runs, with references to its values (`"${RIPCORD_VAR_REASON}"`).
    fn describe(&self, level: u32, step: &Step) -> String {
        let text = match &step.action {
            Action::Shell { command } => self.render_shell(command),
            Action::VerifyShell { command, every_ms, .. } => {
                format!("{} (every {})", self.render_shell(command), format_duration(*every_ms))
            }
            Action::Http { method, url, .. } => format!("{method} {}", self.url_or_error(level, url)),
            Action::VerifyHttp { method, url, expect, every_ms, .. } => {
                format!(
                    "{method} {} expect {expect} (every {})",
                    self.url_or_error(level, url),
                    format_duration(*every_ms)
                )
            }
            Action::Snapshot { path } => format!("{path} -> {}", self.ctx.state.snapshots().display()),
            Action::Restore { path, from } => match from {
                RestoreSource::Path(p) => format!("{path} <- {p}"),
                RestoreSource::Snapshot => format!("{path} <- newest snapshot"),
            },
            Action::VerifyCondition { condition_text, every_ms, .. } => {
                format!("{condition_text} (every {})", format_duration(*every_ms))
            }
            Action::Wait { ms } => format_duration(*ms),
            Action::Notify { channel, message } => format!("{channel}: {}", self.render(level, message)),
            Action::Parallel { steps } => {
                format!("{} steps at once", steps.len())
            }
        };
        self.redactor.redact(&text)
    }
}
