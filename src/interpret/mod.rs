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
//!
//! The files: this one starts and drives a run (the [`Context`] it runs in, the `Interpreter` every part works on);
//! `level.rs` runs levels (approval, attempts, deadline, escalation); `step.rs` runs one step with its
//! retries and journals it; `action.rs` does what a step says (shell, HTTP, verify, files, notify);
//! `resume.rs` continues an interrupted run from what its journal says was done; `leftover.rs` keeps a run
//! from starting beside a step a killed process left running; `interrupt.rs` stops runs (signals, or an
//! [`Interrupter`] held by `watch`). Runs are kept in a [`RunStore`] (`crate::runs`).

mod action;
pub mod dry;
mod interrupt;
mod leftover;
mod level;
mod progress;
mod resume;
mod step;
mod takeover;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tokio::sync::watch;

use crate::actions::{self, Redactor};
use crate::plan::{Action, Bindings, Labels, Plan, Template, TemplatePart, Variable, format_duration};
use crate::runs::{self, Claim, Event, LevelSlot, LockError, RunJournal, RunStore, RunbookLock, StateDir, now_ms};
pub use interrupt::Interrupter;
pub use leftover::Leftovers;
use progress::Progress;
use resume::EarlierProgress;
pub use resume::{resume, resume_deciding};
pub use takeover::{Unfinished, continue_taken};

/// Who runs what, where, and why; `state` is the store the run is kept in.
#[derive(Clone, Debug)]
pub struct Context<S = StateDir> {
    pub run_id: String,
    pub runbook_path: String,
    pub operator: String,
    pub reason: String,
    /// The labels of the series the run is for (`${labels.NAME}`, `verify` for that series, the run's lock
    /// and cooldown); empty for a plain `ripcord run`.
    pub labels: Labels,
    /// Shell steps run here: the runbook's directory.
    pub workdir: PathBuf,
    pub state: S,
    pub prometheus: Option<String>,
    /// Whose semantics `verify CONDITION` steps follow.
    pub prometheus_version: crate::eval::PromVersion,
    /// The largest Prometheus answer a `verify CONDITION` step reads, in bytes.
    pub max_answer_bytes: u64,
    pub yes: bool,
}

impl<S: RunStore + 'static> Context<S> {
    /// The same context over a store the interpreter holds without knowing its type.
    fn boxed(self) -> Context<Box<dyn RunStore>> {
        let Context {
            run_id,
            runbook_path,
            operator,
            reason,
            labels,
            workdir,
            state,
            prometheus,
            prometheus_version,
            max_answer_bytes,
            yes,
        } = self;
        Context {
            run_id,
            runbook_path,
            operator,
            reason,
            labels,
            workdir,
            state: Box::new(state),
            prometheus,
            prometheus_version,
            max_answer_bytes,
            yes,
        }
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

/// One run in progress: what it runs, where it is kept, and what it has done so far in this process.
struct Interpreter {
    plan: Plan,
    ctx: Context<Box<dyn RunStore>>,
    redactor: Redactor,
    journal: Mutex<Box<dyn RunJournal>>,
    client: OnceLock<Result<reqwest::Client, String>>,
    interrupt: watch::Receiver<Option<&'static str>>,
    /// Set when the caller stops the run itself (see [`Interrupter`]); `None` under the run's own signal handler.
    interrupter: Option<Interrupter>,
    /// What earlier processes of this run did (empty for a new run).
    earlier: EarlierProgress,
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
            if let TemplatePart::Var(Variable::Env(n)) = p {
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
        match &r {
            Err(e) if runs::is_fenced(e) => {
                self.progress.line(&format!("run {} stops here: {e}", self.ctx.run_id));
            }
            Err(e) => self.progress.line(&format!("warning: cannot write the journal: {e}")),
            Ok(()) => {}
        }
        r
    }

    /// Who stands behind `level`'s steps: whoever approved it, else who started the run.
    fn operator(&self, level: u32) -> String {
        mutex(&self.approvers).get(&level).cloned().unwrap_or_else(|| self.ctx.operator.clone())
    }

    /// The `${...}` variables for `level`'s steps.
    fn bindings(&self, level: u32) -> Bindings {
        Bindings {
            labels: self.ctx.labels.clone(),
            ..Bindings::manual_run(&self.plan.runbook, level, &self.ctx.run_id, &self.operator(level), &self.ctx.reason)
        }
    }

    fn render(&self, level: u32, t: &Template) -> String {
        self.bindings(level).render(t)
    }

    /// A URL with each value encoded for its position (`plan::request`), or why it cannot be sent.
    fn render_url(&self, level: u32, t: &Template) -> Result<String, String> {
        self.bindings(level).render_url(t)
    }

    /// A shell command as the shell runs it: references to the values, never their text (`plan::shell`).
    fn render_shell(&self, t: &Template) -> String {
        crate::plan::shell::script(t)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Runs the levels from `first` on a runtime of its own, then journals an interruption if there was one.
fn drive(
    plan: Plan,
    ctx: Context<Box<dyn RunStore>>,
    journal: Box<dyn RunJournal>,
    earlier: EarlierProgress,
    first: u32,
    log_to_stdout: bool,
    interrupter: Option<Interrupter>,
) -> Result<RunStatus, String> {
    on_runtime(async move {
        let rx = interrupt::receiver(interrupter.as_ref())?;
        let rx = interrupt::or_lease_lost(rx, journal.lease_lost());
        let interp = Interpreter {
            interrupter,
            redactor: redactor_for(&plan),
            plan,
            ctx,
            journal: Mutex::new(journal),
            client: OnceLock::new(),
            interrupt: rx,
            earlier,
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
            if signal == interrupt::LEASE_LOST {
                interp.progress.line(&format!(
                    "run {} stopped: its lease was lost, and the replica that holds it now continues it",
                    interp.ctx.run_id
                ));
            } else {
                interp
                    .progress
                    .line(&format!("interrupted by {signal}; resume with `ripcord resume {}`", interp.ctx.run_id));
            }
        }
        Ok(status)
    })?
}

/// Runs `work` to its end on a runtime of its own, then shuts the runtime down without waiting more than
/// [`SHUTDOWN_GRACE`] for its blocking threads: a file operation stuck in the kernel (a hung mount) must not
/// keep the run, or the runbook's lock, alive once its step has ended. Such a thread is left behind.
fn on_runtime<F: std::future::Future>(work: F) -> Result<F::Output, String> {
    let rt = runtime()?;
    let out = rt.block_on(work);
    rt.shutdown_timeout(SHUTDOWN_GRACE);
    Ok(out)
}

/// How long a finished run waits for its blocking threads (a cancelled file operation cleaning up).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Why a new run did not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A run of the same runbook and labels is going.
    Running(String),
    /// The level already has its `max parallel` runs (across label sets).
    LevelFull(String),
    /// The level ran for these labels within its `cooldown`.
    Cooldown(String),
    /// Anything else (the store, a level not in the plan).
    Failed(String),
    /// This start (its start key) already started a run: the run's id.
    Duplicate(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Running(s) | Refusal::LevelFull(s) | Refusal::Cooldown(s) | Refusal::Failed(s) => f.write_str(s),
            Refusal::Duplicate(id) => write!(f, "this start already started run {id}"),
        }
    }
}

/// A new run's right to start: the lock of its runbook and labels, taken within its level's `max parallel`,
/// and its level checked against its cooldown for those labels. Held until the run ends.
pub struct Claimed {
    lock: RunbookLock,
    level: u32,
}

/// Claims a new run of `level` for `ctx` (its run id and labels); see [`Claimed`].
pub fn claim<S: RunStore>(plan: &Plan, ctx: &Context<S>, level: u32) -> Result<Claimed, Refusal> {
    claim_once(plan, ctx, level, None)
}

/// [`claim`], once per `start_key` across the replicas sharing the store (a trigger's firing, an API
/// request's idempotency key, an alert's firing): a key already taken is [`Refusal::Duplicate`].
pub fn claim_once<S: RunStore>(
    plan: &Plan,
    ctx: &Context<S>,
    level: u32,
    start_key: Option<&str>,
) -> Result<Claimed, Refusal> {
    let store = &ctx.state;
    let lvl = plan.level(level).ok_or_else(|| Refusal::Failed(format!("level {level} is not in the plan")))?;
    store.prepare().map_err(Refusal::Failed)?;
    let slot = LevelSlot { level, max_parallel: lvl.max_parallel.max(1) };
    let start = start_event(plan, ctx, level);
    let claim = Claim {
        runbook: &plan.runbook,
        labels: &ctx.labels,
        run_id: &ctx.run_id,
        level: Some(slot),
        start_key,
        start: Some(&start),
    };
    let lock = store.lock_run(&claim).map_err(|e| match e {
        LockError::Held(m) => Refusal::Running(m),
        LockError::LevelFull(m) => Refusal::LevelFull(m),
        LockError::Store(m) => Refusal::Failed(m),
        LockError::Duplicate(id) => Refusal::Duplicate(id),
    })?;
    if lvl.cooldown_ms > 0
        && let Some(end) = runs::last_level_end(store, &plan.runbook, level, &ctx.labels)
    {
        let until = end + lvl.cooldown_ms as i64;
        let now = now_ms();
        if now < until {
            let series = if ctx.labels.is_empty() { String::new() } else { format!(" for {}", ctx.labels) };
            return Err(Refusal::Cooldown(format!(
                "level {level} of `{}` ran{series} {} ago and is cooling down for another {} (`cooldown {}`); \
                 --yes does not override a cooldown",
                plan.runbook,
                format_duration((now - end).max(0) as u64),
                format_duration((until - now).max(0) as u64),
                format_duration(lvl.cooldown_ms)
            )));
        }
    }
    Ok(Claimed { lock, level })
}

/// The start record of a new run of `level` of `plan` for `ctx`.
fn start_event<S>(plan: &Plan, ctx: &Context<S>, level: u32) -> Event {
    Event::Start {
        run_id: ctx.run_id.clone(),
        runbook: plan.runbook.clone(),
        runbook_path: ctx.runbook_path.clone(),
        workdir: ctx.workdir.display().to_string(),
        level,
        labels: ctx.labels.clone(),
        operator: ctx.operator.clone(),
        reason: ctx.reason.clone(),
        yes: ctx.yes,
        prometheus: ctx.prometheus.clone(),
        plan_hash: plan_hash(plan),
        plan: Box::new(plan.clone()),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// Starts a new run of `level`. Refuses when the runbook is running for the same labels, the level has its
/// `max parallel` runs, or the level is cooling down for these labels.
pub fn start<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    level: u32,
    log_to_stdout: bool,
) -> Result<Outcome, String> {
    start_with(plan, ctx, level, log_to_stdout, None)
}

/// [`start`], with what to do about a step an interrupted run of the runbook left running.
pub fn start_with_leftovers<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    level: u32,
    log_to_stdout: bool,
    leftovers: &Leftovers,
) -> Result<Outcome, String> {
    let claimed = claim(&plan, &ctx, level).map_err(|e| e.to_string())?;
    start_claimed(plan, ctx, claimed, log_to_stdout, None, leftovers)
}

/// [`start`], stopped by `interrupter` instead of the run's own SIGINT/SIGTERM handler when one is given.
pub fn start_with<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    level: u32,
    log_to_stdout: bool,
    interrupter: Option<Interrupter>,
) -> Result<Outcome, String> {
    let claimed = claim(&plan, &ctx, level).map_err(|e| e.to_string())?;
    start_claimed(plan, ctx, claimed, log_to_stdout, interrupter, &Leftovers::default())
}

/// Runs what [`claim`] claimed (with the same plan and context), holding its lock to the end.
pub fn start_claimed<S: RunStore + 'static>(
    plan: Plan,
    ctx: Context<S>,
    claimed: Claimed,
    log_to_stdout: bool,
    interrupter: Option<Interrupter>,
    leftovers: &Leftovers,
) -> Result<Outcome, String> {
    let Claimed { lock: _lock, level } = claimed;
    let ctx = ctx.boxed();
    let store = ctx.state.as_ref();
    leftover::settle(store, &plan.runbook, &ctx.labels, &ctx.run_id, leftovers, |line| eprintln!("{line}"))?;
    let location = store.journal_location(&ctx.run_id);
    // A shared store wrote the start record with the lock (see `Claim::start`).
    let journal = if store.shared() {
        store.reopen_run(&ctx.run_id)?
    } else {
        let mut journal = store.create_run(&ctx.run_id)?;
        journal
            .append(start_event(&plan, &ctx, level))
            .map_err(|e| format!("cannot write the journal `{location}`: {e}"))?;
        journal
    };
    let (run_id, runbook) = (ctx.run_id.clone(), plan.runbook.clone());
    let status = drive(plan, ctx, journal, EarlierProgress::default(), level, log_to_stdout, interrupter)?;
    Ok(Outcome { run_id, runbook, level, status, journal: location })
}

/// The labels a run started by hand may carry (`ripcord run --label`, the API): each name a Prometheus
/// label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not `__` reserved ones), once; each value non-empty.
pub fn run_labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Labels, String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{}` is not a label name: letters, digits and `_`, not starting with a digit",
                crate::text::escape_control(name)
            ));
        }
        if name.starts_with("__") {
            return Err(format!("label names starting with `__` are reserved (`{name}`)"));
        }
        if value.is_empty() {
            return Err(format!("label `{name}` has an empty value, which is no label at all; leave it out"));
        }
        if seen.iter().any(|(n, _)| n == name) {
            return Err(format!("label `{name}` is given twice"));
        }
        seen.push((name.to_string(), value.to_string()));
    }
    Ok(Labels::from_pairs(seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_blocking_thread_does_not_hold_the_run() {
        let start = std::time::Instant::now();
        let out = on_runtime(async {
            let stuck = tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(30)));
            // The step's timeout: the run goes on without the thread.
            tokio::time::timeout(std::time::Duration::from_millis(50), stuck).await.is_err()
        });
        assert_eq!(out, Ok(true));
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
    }
}
