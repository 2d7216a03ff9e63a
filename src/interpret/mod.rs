//! The live interpreter behind `ripcord run` and `ripcord resume`: runs one level of a [`Plan`] (and the
//! levels it escalates to) for real, on tokio, journalling every step. It reads only the plan.
//!
//! Semantics match `simulate::run` (docs/language.md, "Run semantics"): approval before the first step; a
//! failed step (after its retries, with exponential backoff) fails the attempt; `max attempts` runs the level
//! again from its first step; the deadline counts from the first step after approval, across attempts, and
//! passing it ends the running step; then `on failure` escalates, aborts or continues; a denial stops the
//! run and is never escalated past.
//!
//! Resume replays the journal: a step with an end record is not run again (its outcome is reused), a step
//! that started but has no end record runs again.

pub mod dry;
mod progress;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::actions::{self, Redactor, files, shell_quote};
use crate::plan::{
    Action, ChannelKind, Level, OnFailure, Plan, RestoreSource, Step, Template, Variable, format_duration,
};
use crate::runs::{self, Event, Record, RunJournal, RunStore, StateDir, StepOutcome, now_ms};
use progress::{Progress, StepBar};

/// Output kept per stream in the journal.
const TAIL_BYTES: usize = 4096;
/// How often a run waiting for approval looks for a decision.
const APPROVAL_POLL: Duration = Duration::from_millis(100);

/// How a caller that handles signals itself (`watch`) stops the runs it started, instead of the run's own
/// SIGINT/SIGTERM handler. [`Interrupter::drain`] lets the running steps end and starts no new one (the run is
/// journalled `interrupted` after them, for `ripcord resume`); [`Interrupter::interrupt`] also ends the running
/// steps at once, as a signal does under `ripcord run`. Clones share one state.
#[derive(Clone, Debug)]
pub struct Interrupter {
    inner: std::sync::Arc<InterrupterInner>,
}

#[derive(Debug)]
struct InterrupterInner {
    draining: Mutex<Option<&'static str>>,
    tx: watch::Sender<Option<&'static str>>,
}

impl Default for Interrupter {
    fn default() -> Self {
        Interrupter {
            inner: std::sync::Arc::new(InterrupterInner { draining: Mutex::new(None), tx: watch::Sender::new(None) }),
        }
    }
}

impl Interrupter {
    pub fn new() -> Self {
        Self::default()
    }

    /// No step starts any more; running steps end on their own. `why` is journalled (e.g. "SIGTERM").
    pub fn drain(&self, why: &'static str) {
        mutex(&self.inner.draining).get_or_insert(why);
    }

    /// Running steps are ended at once, as by a signal under `ripcord run`.
    pub fn interrupt(&self, why: &'static str) {
        self.drain(why);
        self.inner.tx.send_if_modified(|v| {
            if v.is_none() {
                *v = Some(why);
                true
            } else {
                false
            }
        });
    }

    fn draining(&self) -> Option<&'static str> {
        *mutex(&self.inner.draining)
    }
}

/// Who runs what, where, and why; `state` is the store the run is kept in.
#[derive(Clone, Debug)]
pub struct Context<S = StateDir> {
    pub run_id: String,
    pub runbook_path: String,
    pub operator: String,
    pub reason: String,
    /// Shell steps run here: the runbook's directory.
    pub workdir: PathBuf,
    pub state: S,
    pub prometheus: Option<String>,
    pub yes: bool,
}

impl<S: RunStore + 'static> Context<S> {
    /// The same context over a store the interpreter holds without knowing its type.
    fn boxed(self) -> Context<Box<dyn RunStore>> {
        let Context { run_id, runbook_path, operator, reason, workdir, state, prometheus, yes } = self;
        Context { run_id, runbook_path, operator, reason, workdir, state: Box::new(state), prometheus, yes }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Succeeded,
    Failed(String),
    Interrupted,
}

impl RunStatus {
    pub fn word(&self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed(_) => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// A finished (or interrupted) run, for the CLI's summary.
#[derive(Debug)]
pub struct Outcome {
    pub run_id: String,
    pub runbook: String,
    pub level: u32,
    pub status: RunStatus,
    /// Where the journal is (see [`RunStore::journal_location`]).
    pub journal: String,
}

type Key = (u32, u32, String);

/// What an earlier process of the same run already did (empty for a new run).
#[derive(Default)]
struct Prior {
    done: HashMap<Key, (bool, String)>,
    started: HashSet<Key>,
    approvals: HashMap<u32, (bool, String)>,
    waiting: HashSet<u32>,
    level_starts: HashSet<(u32, u32)>,
    level_ends: HashSet<(u32, u32)>,
    escalations: HashSet<(u32, u32)>,
    /// Time the top-level steps of each level took before the interruption, charged to its deadline.
    consumed_ms: HashMap<u32, u64>,
}

impl Prior {
    fn from_records(records: &[Record]) -> Prior {
        let mut p = Prior::default();
        let mut top: HashMap<u32, HashSet<String>> = HashMap::new();
        for r in records {
            match &r.event {
                Event::StepStart { level, attempt, step, .. } => {
                    p.started.insert((*level, *attempt, step.clone()));
                }
                Event::StepEnd { level, attempt, step, outcome, detail, duration_ms, .. } => {
                    p.done.insert((*level, *attempt, step.clone()), (*outcome == StepOutcome::Ok, detail.clone()));
                    // Top-level steps only (`L1.S2`, not `L1.S2.1`), so parallel time is not counted twice.
                    if step.matches('.').count() == 1 && top.entry(*level).or_default().insert(step.clone()) {
                        *p.consumed_ms.entry(*level).or_default() += duration_ms;
                    }
                }
                Event::Approval { level, approved, operator, .. } => {
                    p.approvals.insert(*level, (*approved, operator.clone()));
                }
                Event::WaitingApproval { level } => {
                    p.waiting.insert(*level);
                }
                Event::LevelStart { level, attempt } => {
                    p.level_starts.insert((*level, *attempt));
                }
                Event::LevelEnd { level, attempt, .. } => {
                    p.level_ends.insert((*level, *attempt));
                }
                Event::Escalate { from, to, .. } => {
                    p.escalations.insert((*from, *to));
                }
                _ => {}
            }
        }
        p
    }
}

enum LevelEnd {
    Succeeded,
    Failed(String),
    Denied(String),
    Interrupted,
}

#[derive(Default)]
struct Exec {
    ok: bool,
    interrupted: bool,
    detail: String,
    tries: u32,
    exit_code: Option<i32>,
    status: Option<u16>,
    stdout: String,
    stderr: String,
    files: Vec<files::FileRecord>,
}

impl Exec {
    fn ok() -> Exec {
        Exec { ok: true, ..Exec::default() }
    }
    fn failed(detail: impl Into<String>) -> Exec {
        Exec { detail: detail.into(), ..Exec::default() }
    }
}

enum StepResult {
    Ok,
    Failed(String),
    Interrupted,
}

struct Interpreter {
    plan: Plan,
    ctx: Context<Box<dyn RunStore>>,
    redactor: Redactor,
    journal: Mutex<Box<dyn RunJournal>>,
    client: OnceLock<Result<reqwest::Client, String>>,
    interrupt: watch::Receiver<Option<&'static str>>,
    /// Set when the caller stops the run itself (see [`Interrupter`]); `None` under the run's own signal handler.
    interrupter: Option<Interrupter>,
    prior: Prior,
    progress: Progress,
    /// Who approved each level (for `${operator}`).
    approvers: Mutex<HashMap<u32, String>>,
    /// Steps running right now, for the interrupted record.
    running: Mutex<BTreeSet<String>>,
    /// Whether `notify log` may print to stdout (not with `--format json`).
    log_to_stdout: bool,
}

/// The values of every `${env.*}` the plan reads: they are masked wherever text is kept or shown.
pub fn redactor_for(plan: &Plan) -> Redactor {
    let mut names = BTreeSet::new();
    let mut add = |t: &Template| {
        for p in &t.parts {
            if let crate::plan::TemplatePart::Var(Variable::Env(n)) = p {
                names.insert(n.clone());
            }
        }
    };
    for c in &plan.channels {
        if let Some(u) = &c.url {
            add(u);
        }
    }
    for s in plan.all_steps() {
        match &s.action {
            Action::Shell { command } | Action::VerifyShell { command, .. } => add(command),
            Action::Http { url, headers, body, .. } => {
                add(url);
                headers.iter().for_each(|(_, v)| add(v));
                if let Some(b) = body {
                    add(b);
                }
            }
            Action::VerifyHttp { url, .. } => add(url),
            Action::Notify { message, .. } => add(message),
            _ => {}
        }
    }
    Redactor::new(names.into_iter().filter_map(|n| std::env::var(n).ok()))
}

/// SHA-256 of the plan's JSON, as `ripcord plan --format json` prints it.
pub fn plan_hash(plan: &Plan) -> String {
    actions::sha256_hex(plan.to_json().as_bytes())
}

fn mutex<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Interpreter {
    fn record(&self, event: Event) -> std::io::Result<()> {
        let r = mutex(&self.journal).append(event);
        if let Err(e) = &r {
            self.progress.line(&format!("warning: cannot write the journal: {e}"));
        }
        r
    }

    async fn interrupted(&self) -> &'static str {
        let mut rx = self.interrupt.clone();
        match rx.wait_for(|v| v.is_some()).await {
            Ok(v) => v.unwrap_or("signal"),
            Err(_) => std::future::pending().await,
        }
    }

    fn is_interrupted(&self) -> bool {
        self.interrupt.borrow().is_some()
    }

    /// Whether no new step may start: interrupted, or drained by the caller.
    fn stops_new_steps(&self) -> bool {
        self.is_interrupted() || self.interrupter.as_ref().is_some_and(|i| i.draining().is_some())
    }

    /// What stopped the run, for the journal.
    fn stop_reason(&self) -> &'static str {
        (*self.interrupt.borrow())
            .or_else(|| self.interrupter.as_ref().and_then(Interrupter::draining))
            .unwrap_or("signal")
    }

    fn var(&self, level: u32, v: &Variable) -> Option<String> {
        Some(match v {
            Variable::Runbook => self.plan.runbook.clone(),
            Variable::Level => level.to_string(),
            Variable::Trigger => "manual".to_string(),
            Variable::Value => String::new(),
            Variable::RunId => self.ctx.run_id.clone(),
            Variable::Operator => {
                mutex(&self.approvers).get(&level).cloned().unwrap_or_else(|| self.ctx.operator.clone())
            }
            Variable::Reason => self.ctx.reason.clone(),
            Variable::Env(name) => std::env::var(name).ok()?,
        })
    }

    fn render(&self, level: u32, t: &Template) -> String {
        t.render(|v| self.var(level, v))
    }

    /// A shell command: every interpolated value is one shell-quoted word.
    fn render_shell(&self, level: u32, t: &Template) -> String {
        t.render(|v| self.var(level, v).map(|s| shell_quote(&s)))
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client.get_or_init(actions::http::client).as_ref().map_err(Clone::clone)
    }

    fn shell_env(&self, level: u32, step: &Step) -> Vec<(String, String)> {
        vec![
            ("RIPCORD_RUN_ID".into(), self.ctx.run_id.clone()),
            ("RIPCORD_RUNBOOK".into(), self.plan.runbook.clone()),
            ("RIPCORD_LEVEL".into(), level.to_string()),
            ("RIPCORD_STEP".into(), step.id.clone()),
            ("RIPCORD_OPERATOR".into(), self.var(level, &Variable::Operator).unwrap_or_default()),
        ]
    }

    /// The levels from `first` on, following escalations. Writes the end record.
    async fn run_levels(&self, first: u32) -> RunStatus {
        let mut number = first;
        loop {
            let Some(level) = self.plan.level(number) else {
                let why = format!("level {number} is not in the plan");
                let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                return RunStatus::Failed(why);
            };
            match self.run_level(level).await {
                LevelEnd::Succeeded => {
                    self.progress.line(&format!("level {number} succeeded"));
                    let _ = self.record(Event::End { status: "succeeded".into(), reason: "every step passed".into() });
                    return RunStatus::Succeeded;
                }
                LevelEnd::Failed(why) => match level.on_failure {
                    OnFailure::Escalate { level: to } => {
                        let reason = format!("{why}; on failure escalate level {to}");
                        self.progress.line(&format!("level {number} failed: {reason}"));
                        if !self.prior.escalations.contains(&(number, to)) {
                            let _ = self.record(Event::Escalate { from: number, to, reason });
                        }
                        number = to;
                    }
                    OnFailure::Abort | OnFailure::Continue => {
                        self.progress.line(&format!("level {number} failed: {why}"));
                        let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                        return RunStatus::Failed(why);
                    }
                },
                LevelEnd::Denied(by) => {
                    let why = format!(
                        "approval of level {number} denied by {by}; the run stops (a refusal is not escalated)"
                    );
                    self.progress.line(&why);
                    let _ = self.record(Event::End { status: "failed".into(), reason: why.clone() });
                    return RunStatus::Failed(why);
                }
                LevelEnd::Interrupted => return RunStatus::Interrupted,
            }
        }
    }

    async fn run_level(&self, level: &Level) -> LevelEnd {
        let n = level.number;
        let title = level.title.as_deref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
        self.progress.line(&format!("level {n}{title} of `{}` (run {})", self.plan.runbook, self.ctx.run_id));
        if level.approval_required {
            match self.approval(level).await {
                Ok(true) => {}
                Ok(false) => {
                    let by = mutex(&self.approvers).get(&n).cloned().unwrap_or_default();
                    if !self.prior.level_ends.contains(&(n, 1)) {
                        let reason = format!("approval denied by {by}");
                        let _ = self.record(Event::LevelEnd { level: n, attempt: 1, outcome: "denied".into(), reason });
                    }
                    return LevelEnd::Denied(by);
                }
                Err(()) => return LevelEnd::Interrupted,
            }
        }
        let attempts = level.max_attempts.max(1);
        // From the first step after approval, across attempts; a resumed run is charged what it used before.
        let deadline = level.deadline_ms.map(|d| {
            let used = self.prior.consumed_ms.get(&n).copied().unwrap_or(0);
            Instant::now() + Duration::from_millis(d.saturating_sub(used))
        });
        let mut failure = String::from("the level's deadline passed");
        for attempt in 1..=attempts {
            if deadline.is_some_and(|d| Instant::now() >= d) && attempt > 1 {
                break;
            }
            if !self.prior.level_starts.contains(&(n, attempt)) {
                let _ = self.record(Event::LevelStart { level: n, attempt });
            }
            if attempts > 1 {
                self.progress.line(&format!("level {n}, attempt {attempt} of {attempts}"));
            }
            let mut failed: Option<String> = None;
            for step in &level.steps {
                match self.step(n, attempt, step, deadline).await {
                    StepResult::Interrupted => return LevelEnd::Interrupted,
                    StepResult::Ok => {}
                    StepResult::Failed(why) => {
                        if failed.is_none() {
                            failed = Some(why);
                        }
                        if level.on_failure != OnFailure::Continue || deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                    }
                }
            }
            let (outcome, reason) = match &failed {
                None => ("succeeded", "every step passed".to_string()),
                Some(why) => ("failed", why.clone()),
            };
            if !self.prior.level_ends.contains(&(n, attempt)) {
                let _ = self.record(Event::LevelEnd { level: n, attempt, outcome: outcome.into(), reason });
            }
            match failed {
                None => return LevelEnd::Succeeded,
                Some(why) => {
                    failure = if attempts > 1 { format!("{why} (attempt {attempt} of {attempts})") } else { why };
                }
            }
        }
        LevelEnd::Failed(failure)
    }

    /// Waits for a person. `Ok(approved?)`, or `Err(())` when interrupted while waiting.
    async fn approval(&self, level: &Level) -> Result<bool, ()> {
        let n = level.number;
        if let Some((approved, by)) = self.prior.approvals.get(&n) {
            mutex(&self.approvers).insert(n, by.clone());
            return Ok(*approved);
        }
        let decided = |approved: bool, operator: String, via: &str| {
            mutex(&self.approvers).insert(n, operator.clone());
            self.progress
                .line(&format!("level {n} {} by {operator} ({via})", if approved { "approved" } else { "denied" }));
            let _ = self.record(Event::Approval { level: n, approved, operator, via: via.into() });
            approved
        };
        if self.ctx.yes {
            return Ok(decided(true, self.ctx.operator.clone(), "--yes"));
        }
        if !self.prior.waiting.contains(&n) {
            let _ = self.record(Event::WaitingApproval { level: n });
        }
        self.progress.line(&format!(
            "level {n} requires approval: `ripcord approve {id} --operator NAME` (or `ripcord deny {id} --operator NAME`)",
            id = self.ctx.run_id
        ));
        loop {
            if let Some(d) = self.ctx.state.read_decision(&self.ctx.run_id, n) {
                let via = if d.approved { "approve" } else { "deny" };
                return Ok(decided(d.approved, d.operator, via));
            }
            tokio::select! {
                _ = self.interrupted() => return Err(()),
                _ = tokio::time::sleep(APPROVAL_POLL) => {}
            }
        }
    }

    fn step<'a>(
        &'a self,
        level: u32,
        attempt: u32,
        step: &'a Step,
        deadline: Option<Instant>,
    ) -> Pin<Box<dyn Future<Output = StepResult> + 'a>> {
        Box::pin(async move {
            let key = (level, attempt, step.id.clone());
            if let Some((ok, detail)) = self.prior.done.get(&key) {
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
            let rerun = self.prior.started.contains(&key);
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
            mutex(&self.running).insert(step.id.clone());
            let bar = self.progress.step_started(&step.id, step.action.kind(), &detail);
            let started = Instant::now();
            let exec = match &step.action {
                Action::Parallel { steps } => {
                    let results = futures_util::future::join_all(
                        steps.iter().map(|child| self.step(level, attempt, child, deadline)),
                    )
                    .await;
                    if results.iter().any(|r| matches!(r, StepResult::Interrupted)) {
                        Exec { interrupted: true, ..Exec::default() }
                    } else {
                        let failed: Vec<&str> = steps
                            .iter()
                            .zip(&results)
                            .filter(|(_, r)| matches!(r, StepResult::Failed(_)))
                            .map(|(s, _)| s.id.as_str())
                            .collect();
                        if failed.is_empty() {
                            Exec::ok()
                        } else {
                            Exec::failed(format!("{} failed", failed.join(", ")))
                        }
                    }
                }
                _ => self.tries(level, attempt, step, deadline).await,
            };
            mutex(&self.running).remove(&step.id);
            if exec.interrupted {
                self.progress.step_interrupted(bar);
                return StepResult::Interrupted;
            }
            let elapsed = started.elapsed();
            let _ = self.record(Event::StepEnd {
                level,
                attempt,
                step: step.id.clone(),
                outcome: if exec.ok { StepOutcome::Ok } else { StepOutcome::Failed },
                duration_ms: elapsed.as_millis() as u64,
                tries: exec.tries.max(1),
                exit_code: exec.exit_code,
                status: exec.status,
                detail: self.redactor.redact(&exec.detail),
                stdout_tail: self.redactor.redact(&exec.stdout),
                stderr_tail: self.redactor.redact(&exec.stderr),
                files: exec.files,
            });
            self.finish(bar, exec.ok, elapsed, &exec.detail);
            if exec.ok {
                StepResult::Ok
            } else {
                StepResult::Failed(format!("{} failed: {}", step.id, self.redactor.redact(&exec.detail)))
            }
        })
    }

    fn finish(&self, bar: StepBar, ok: bool, elapsed: Duration, detail: &str) {
        self.progress.step_finished(bar, ok, elapsed, &self.redactor.redact(detail));
    }

    /// One step with its retries, each try bounded by the step's timeout and the level's deadline.
    async fn tries(&self, level: u32, attempt: u32, step: &Step, deadline: Option<Instant>) -> Exec {
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
                _ = self.interrupted() => return Exec { interrupted: true, tries, ..Exec::default() },
                r = tokio::time::timeout_at(limit, self.action(level, step)) => r,
            };
            let mut exec = match result {
                Ok(exec) => exec,
                Err(_) if by_deadline => Exec::failed("the level's deadline passed; the step was stopped"),
                Err(_) if verify => Exec::failed(format!("did not pass within {}", format_duration(step.timeout_ms))),
                Err(_) => Exec::failed(format!("timed out after {}; stopped", format_duration(step.timeout_ms))),
            };
            exec.tries = tries;
            let deadline_passed = deadline.is_some_and(|d| Instant::now() >= d);
            if exec.ok || tries >= max_tries || deadline_passed {
                return exec;
            }
            let backoff = step.backoff_ms.saturating_mul(1u64 << (tries - 1).min(30));
            let _ = self.record(Event::StepRetry {
                level,
                attempt,
                step: step.id.clone(),
                try_: tries,
                error: self.redactor.redact(&exec.detail),
                backoff_ms: backoff,
            });
            self.progress.line(&format!(
                "  ↻ {} try {tries} of {max_tries} failed: {}; retrying in {}",
                step.id,
                self.redactor.redact(&exec.detail),
                format_duration(backoff)
            ));
            let wake = Instant::now() + Duration::from_millis(backoff);
            if let Some(d) = deadline
                && d <= wake
            {
                tokio::select! {
                    _ = self.interrupted() => return Exec { interrupted: true, tries, ..Exec::default() },
                    _ = tokio::time::sleep_until(d) => {}
                }
                let mut exec =
                    Exec::failed(format!("{}; the level's deadline passed before the next try", exec.detail));
                exec.tries = tries;
                return exec;
            }
            tokio::select! {
                _ = self.interrupted() => return Exec { interrupted: true, tries, ..Exec::default() },
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// The step's command, request or file operation after interpolation, secrets masked.
    fn describe(&self, level: u32, step: &Step) -> String {
        let text = match &step.action {
            Action::Shell { command } => self.render_shell(level, command),
            Action::VerifyShell { command, every_ms } => {
                format!("{} (every {})", self.render_shell(level, command), format_duration(*every_ms))
            }
            Action::Http { method, url, .. } => format!("{method} {}", self.render(level, url)),
            Action::VerifyHttp { method, url, expect, every_ms } => {
                format!("{method} {} expect {expect} (every {})", self.render(level, url), format_duration(*every_ms))
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

    async fn action(&self, level: u32, step: &Step) -> Exec {
        match &step.action {
            Action::Shell { command } => self.shell(level, step, &self.render_shell(level, command)).await,
            Action::VerifyShell { command, every_ms } => {
                let cmd = self.render_shell(level, command);
                self.poll(step, *every_ms, || self.shell(level, step, &cmd)).await
            }
            Action::Http { method, url, headers, body, expect } => {
                let url = self.render(level, url);
                let headers: Vec<(String, String)> =
                    headers.iter().map(|(k, v)| (k.clone(), self.render(level, v))).collect();
                let body = body.as_ref().map(|b| self.render(level, b));
                self.http(method, &url, &headers, body, *expect, Duration::from_millis(step.timeout_ms)).await
            }
            Action::VerifyHttp { method, url, expect, every_ms } => {
                let url = self.render(level, url);
                let timeout = Duration::from_millis(step.timeout_ms.min(crate::plan::defaults::HTTP_TIMEOUT_MS));
                self.poll(step, *every_ms, || self.http(method, &url, &[], None, *expect, timeout)).await
            }
            Action::VerifyCondition { condition, condition_text, every_ms } => {
                let Some(base) = self.ctx.prometheus.clone() else {
                    return Exec::failed(format!(
                        "`verify {condition_text}` reads live metrics and no source was given: pass --prometheus URL"
                    ));
                };
                let timeout = Duration::from_millis(step.timeout_ms.min(crate::plan::defaults::HTTP_TIMEOUT_MS));
                self.poll(step, *every_ms, || async {
                    let client = match self.client() {
                        Ok(c) => c,
                        Err(e) => return Exec::failed(e),
                    };
                    match actions::prom::holds(client, &base, &self.plan, condition, now_ms(), timeout).await {
                        Ok(true) => Exec::ok(),
                        Ok(false) => Exec::failed(format!("`{condition_text}` does not hold")),
                        Err(e) => Exec::failed(e),
                    }
                })
                .await
            }
            Action::Wait { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                Exec::ok()
            }
            Action::Notify { channel, message } => {
                let text = self.render(level, message);
                self.notify(level, step, channel, &text).await
            }
            Action::Snapshot { path } => {
                let (path, roots) = (path.clone(), self.plan.files_under.clone());
                let store = self.ctx.state.snapshots();
                let (run_id, step_id) = (self.ctx.run_id.clone(), step.id.clone());
                blocking(move || {
                    let resolved = files::resolve_under(&path, &roots)?;
                    files::snapshot(&resolved, &store, &run_id, &step_id)
                })
                .await
            }
            Action::Restore { path, from } => {
                let (path, from, roots) = (path.clone(), from.clone(), self.plan.files_under.clone());
                let store = self.ctx.state.snapshots();
                let kept = self.ctx.state.kept(&self.ctx.run_id);
                let step_id = step.id.clone();
                blocking(move || {
                    let target = files::resolve_under(&path, &roots)?;
                    let source = match &from {
                        RestoreSource::Path(p) => files::resolve_under(p, &roots)?,
                        RestoreSource::Snapshot => files::newest_snapshot(&target, &store).ok_or_else(|| {
                            format!("there is no snapshot of `{}` in the state dir", target.display())
                        })?,
                    };
                    files::restore(&target, &source, &kept, &step_id)
                })
                .await
            }
            Action::Parallel { .. } => Exec::ok(),
        }
    }

    /// Checks at once, then every `every`, until a check passes or the next one would fall after `within`.
    async fn poll<F, Fut>(&self, step: &Step, every_ms: u64, mut check: F) -> Exec
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Exec>,
    {
        let start = Instant::now();
        let within = Duration::from_millis(step.timeout_ms);
        let every = Duration::from_millis(every_ms.max(1));
        let mut checks = 0u32;
        loop {
            checks += 1;
            let exec = check().await;
            if exec.ok {
                return Exec { detail: format!("passed at check {checks}"), ..exec };
            }
            let next = start + every * checks;
            if next > start + within {
                let mut out = Exec::failed(format!(
                    "did not pass within {} ({checks} check{}; last: {})",
                    format_duration(step.timeout_ms),
                    if checks == 1 { "" } else { "s" },
                    exec.detail
                ));
                out.exit_code = exec.exit_code;
                out.status = exec.status;
                out.stdout = exec.stdout;
                out.stderr = exec.stderr;
                return out;
            }
            tokio::time::sleep_until(next).await;
        }
    }

    async fn shell(&self, level: u32, step: &Step, command: &str) -> Exec {
        match actions::shell::run(command, &self.ctx.workdir, &self.shell_env(level, step)).await {
            Ok(r) => Exec {
                ok: r.success(),
                detail: match r.exit_code {
                    Some(0) => String::new(),
                    Some(c) => format!("exited with status {c}"),
                    None => "ended by a signal".to_string(),
                },
                exit_code: r.exit_code,
                stdout: actions::tail(&r.stdout, TAIL_BYTES),
                stderr: actions::tail(&r.stderr, TAIL_BYTES),
                ..Exec::default()
            },
            Err(e) => Exec::failed(format!("cannot start `sh`: {e}")),
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
    ) -> Exec {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return Exec::failed(e),
        };
        match actions::http::send(client, method, url, headers, body, timeout).await {
            Ok(status) if status == expect => Exec { status: Some(status), ..Exec::ok() },
            Ok(status) => {
                Exec { status: Some(status), ..Exec::failed(format!("answered {status}, expected {expect}")) }
            }
            Err(e) => Exec::failed(e),
        }
    }

    async fn notify(&self, level: u32, step: &Step, channel: &str, text: &str) -> Exec {
        let declared = self.plan.channels.iter().find(|c| c.name == channel);
        let redacted = self.redactor.redact(text);
        match declared {
            Some(c) if c.kind == ChannelKind::Webhook => {
                let Some(url) = c.url.as_ref().map(|u| self.render(level, u)) else {
                    return Exec::failed(format!("channel `{channel}` has no URL"));
                };
                if url.is_empty() {
                    return Exec::failed(format!(
                        "channel `{channel}`'s URL is empty (is its environment variable set?)"
                    ));
                }
                let client = match self.client() {
                    Ok(c) => c,
                    Err(e) => return Exec::failed(e),
                };
                match actions::http::post_webhook(client, &url, text, Duration::from_millis(step.timeout_ms)).await {
                    Ok(status) => Exec { status: Some(status), ..Exec::ok() },
                    Err(e) => Exec::failed(format!("channel `{channel}`: {e}")),
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
                    println!("[{}] {redacted}", self.ctx.run_id);
                } else {
                    self.progress.line(&format!("[log] {redacted}"));
                }
                Exec::ok()
            }
        }
    }
}

async fn blocking<F>(f: F) -> Exec
where
    F: FnOnce() -> Result<Vec<files::FileRecord>, String> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(files)) => Exec { files, ..Exec::ok() },
        Ok(Err(e)) => Exec::failed(e),
        Err(e) => Exec::failed(format!("the file step stopped: {e}")),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Listens for SIGINT and SIGTERM; the first one interrupts the run.
fn listen_for_signals(tx: watch::Sender<Option<&'static str>>) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        let _ = tx.send(Some(name));
        // Keep the sender (and the handlers) alive so later signals do not kill the process mid-journal.
        loop {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    });
    Ok(())
}

fn drive(
    plan: Plan,
    ctx: Context<Box<dyn RunStore>>,
    journal: Box<dyn RunJournal>,
    prior: Prior,
    first: u32,
    log_to_stdout: bool,
    interrupter: Option<Interrupter>,
) -> Result<RunStatus, String> {
    let rt = runtime()?;
    rt.block_on(async move {
        let rx = match &interrupter {
            Some(i) => i.inner.tx.subscribe(),
            None => {
                let (tx, rx) = watch::channel(None);
                listen_for_signals(tx)?;
                rx
            }
        };
        let interp = Interpreter {
            interrupter,
            redactor: redactor_for(&plan),
            plan,
            ctx,
            journal: Mutex::new(journal),
            client: OnceLock::new(),
            interrupt: rx,
            prior,
            progress: Progress::new(),
            approvers: Mutex::new(HashMap::new()),
            running: Mutex::new(BTreeSet::new()),
            log_to_stdout,
        };
        let status = interp.run_levels(first).await;
        if status == RunStatus::Interrupted {
            let signal = interp.stop_reason().to_string();
            let steps: Vec<String> = mutex(&interp.running).iter().cloned().collect();
            let _ = interp.record(Event::Interrupted { signal: signal.clone(), steps });
            interp
                .progress
                .line(&format!("interrupted by {signal}; resume with `ripcord resume {}`", interp.ctx.run_id));
        }
        Ok(status)
    })
}

/// Starts a new run of `level`. Refuses when the runbook is running or the level is cooling down.
pub fn start<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    level: u32,
    log_to_stdout: bool,
) -> Result<Outcome, String> {
    start_with(plan, ctx, level, log_to_stdout, None)
}

/// [`start`], stopped by `interrupter` instead of the run's own SIGINT/SIGTERM handler when one is given.
pub fn start_with<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    level: u32,
    log_to_stdout: bool,
    interrupter: Option<Interrupter>,
) -> Result<Outcome, String> {
    let ctx = ctx.boxed();
    let store = ctx.state.as_ref();
    store.prepare()?;
    let _lock = store.lock_runbook(&plan.runbook, &ctx.run_id)?;
    let lvl = plan.level(level).ok_or_else(|| format!("level {level} is not in the plan"))?;
    if lvl.cooldown_ms > 0
        && let Some(end) = runs::last_level_end(store, &plan.runbook, level)
    {
        let until = end + lvl.cooldown_ms as i64;
        let now = now_ms();
        if now < until {
            return Err(format!(
                "level {level} of `{}` ran {} ago and is cooling down for another {} (`cooldown {}`); \
                 --yes does not override a cooldown",
                plan.runbook,
                format_duration((now - end).max(0) as u64),
                format_duration((until - now).max(0) as u64),
                format_duration(lvl.cooldown_ms)
            ));
        }
    }
    let location = store.journal_location(&ctx.run_id);
    let mut journal = store.create_run(&ctx.run_id)?;
    journal
        .append(Event::Start {
            run_id: ctx.run_id.clone(),
            runbook: plan.runbook.clone(),
            runbook_path: ctx.runbook_path.clone(),
            workdir: ctx.workdir.display().to_string(),
            level,
            operator: ctx.operator.clone(),
            reason: ctx.reason.clone(),
            yes: ctx.yes,
            prometheus: ctx.prometheus.clone(),
            plan_hash: plan_hash(&plan),
            plan: Box::new(plan.clone()),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").into(),
        })
        .map_err(|e| format!("cannot write the journal `{location}`: {e}"))?;
    let (run_id, runbook) = (ctx.run_id.clone(), plan.runbook.clone());
    let status = drive(plan, ctx, journal, Prior::default(), level, log_to_stdout, interrupter)?;
    Ok(Outcome { run_id, runbook, level, status, journal: location })
}

/// Continues an interrupted run with the plan it started with.
pub fn resume<S: RunStore + Clone + 'static>(
    store: &S,
    run_id: &str,
    yes: bool,
    prometheus: Option<String>,
    log_to_stdout: bool,
) -> Result<Outcome, String> {
    let runs::StoredRun { records, summary, .. } = runs::open_run(store, run_id)?;
    if summary.status != "interrupted" {
        return Err(format!("run `{run_id}` is {}; only an interrupted run can be resumed", summary.status));
    }
    let Some(Record {
        event:
            Event::Start {
                plan, level, operator, reason, workdir, runbook_path, yes: was_yes, prometheus: was_prom, ..
            },
        ..
    }) = records.first().cloned()
    else {
        return Err(format!("the journal of `{run_id}` has no start record"));
    };
    let _lock = store.lock_runbook(&plan.runbook, run_id)?;
    // Re-read under the lock: the run may have been resumed by someone else meanwhile.
    let records = runs::load_run(store, run_id)?;
    if records.iter().any(|r| matches!(r.event, Event::End { .. })) {
        return Err(format!("run `{run_id}` has already ended"));
    }
    let location = store.journal_location(run_id);
    let mut journal = store.reopen_run(run_id)?;
    journal
        .append(Event::Resume { pid: std::process::id(), yes })
        .map_err(|e| format!("cannot write the journal `{location}`: {e}"))?;
    let prior = Prior::from_records(&records);
    let ctx = Context {
        run_id: run_id.to_string(),
        runbook_path,
        operator,
        reason,
        workdir: PathBuf::from(workdir),
        state: store.clone(),
        prometheus: prometheus.or(was_prom),
        yes: yes || was_yes,
    };
    let runbook = plan.runbook.clone();
    let status = drive(*plan, ctx.boxed(), journal, prior, level, log_to_stdout, None)?;
    Ok(Outcome { run_id: run_id.to_string(), runbook, level, status, journal: location })
}
