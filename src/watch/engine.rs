//! The live loop: loaded runbooks, their trigger machines, evaluations, runs, hot reload, shutdown.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use super::metrics::{Metrics, labels};
use super::prom::{self, Want};
use crate::diagnostic::render_plain;
use crate::eval::{CompiledCondition, TriggerMachine, TriggerState};
use crate::interpret::{self, Context};
use crate::plan::{Plan, Target, Trigger, Variable};
use crate::runs::{self as state, RunStore, StateDir, now_ms};
use crate::source::SeriesSet;

/// Prometheus queries in flight at once during one evaluation.
const QUERY_CONCURRENCY: usize = 16;
/// How long a notification-only trigger's webhook may take before it is given up (and logged).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub prometheus: String,
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    pub token: Option<String>,
    pub query_timeout: Duration,
    pub grace: Duration,
    pub debounce: Duration,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone, Debug, Serialize)]
pub struct ReloadStatus {
    pub ok: bool,
    pub at: i64,
    pub error: Option<String>,
}

pub struct LiveTrigger {
    pub trigger: Trigger,
    pub machine: TriggerMachine,
    /// When the trigger entered its current state (`None` while inactive).
    pub since_ms: Option<i64>,
}

pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub plan: Option<Arc<Plan>>,
    pub triggers: Vec<LiveTrigger>,
    pub last_reload: ReloadStatus,
    pub next_due_ms: i64,
}

impl Loaded {
    pub fn name(&self) -> String {
        match &self.plan {
            Some(p) => p.runbook.clone(),
            None => self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

/// What happened to a request to start a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartResult {
    Started(String),
    Cooldown(String),
    Busy(String),
    Unknown(String),
}

impl StartResult {
    pub fn word(&self) -> &'static str {
        match self {
            StartResult::Started(_) => "started",
            StartResult::Cooldown(_) => "cooldown",
            StartResult::Busy(_) => "busy",
            StartResult::Unknown(_) => "unknown runbook",
        }
    }
}

pub struct Shared {
    pub runbooks: Mutex<BTreeMap<PathBuf, Loaded>>,
    pub metrics: Metrics,
    pub state: StateDir,
    pub prometheus: String,
    pub token: Option<String>,
    pub fingerprints: Mutex<HashSet<String>>,
    /// Runbooks with a run this process started that has not ended yet.
    pub active: Mutex<HashSet<String>>,
    pub threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    pub stopping: AtomicBool,
    pub roots: Vec<PathBuf>,
    /// Stops the runs this process started (SIGTERM drains them, the grace's end interrupts them).
    pub interrupter: interpret::Interrupter,
}

fn log(msg: &str) {
    eprintln!("watch: {msg}");
}

/// Every `*.runbook` under `roots` (files given by name are taken whatever they are called).
pub fn discover(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = crate::files::expand_paths(roots).into_iter().filter(|p| p.is_file()).collect();
    out.sort();
    out.dedup();
    out
}

/// Compiles a runbook's text: the plan, or the errors rendered as plain text.
fn compile_text(path: &Path, text: &str) -> Result<Plan, String> {
    let compiled = crate::compile(crate::source_text(text));
    match compiled.plan {
        Some(p) => Ok(p),
        None => {
            let shown = path.display().to_string();
            let errors: Vec<String> = compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| render_plain(&shown, text, d).trim_end().to_string())
                .collect();
            Err(if errors.is_empty() { "the runbook has errors".into() } else { errors.join("\n") })
        }
    }
}

/// Whether a reloaded trigger keeps its timers: same name, condition, hold and `keep firing for`.
fn same_trigger(a: &Trigger, b: &Trigger) -> bool {
    a.name == b.name && a.condition == b.condition && a.hold == b.hold && a.keep_firing_for_ms == b.keep_firing_for_ms
}

fn live_triggers(plan: &Plan, old: &[LiveTrigger]) -> Vec<LiveTrigger> {
    plan.triggers
        .iter()
        .map(|t| {
            let mut machine = TriggerMachine::new(t);
            let mut since_ms = None;
            if let Some(prev) = old.iter().find(|o| same_trigger(&o.trigger, t)) {
                machine.carry_over(prev.machine.timers());
                since_ms = prev.since_ms;
            }
            LiveTrigger { trigger: t.clone(), machine, since_ms }
        })
        .collect()
}

impl Shared {
    /// Brings the loaded set in line with the files: new files load, changed ones compile off to the side and
    /// go live only when valid, deleted ones are dropped.
    pub fn rescan(&self) {
        let files = discover(&self.roots);
        let now = now_ms();
        let mut books = lock(&self.runbooks);
        books.retain(|path, l| {
            let keep = files.contains(path);
            if !keep {
                log(&format!("`{}` was removed; runbook `{}` is no longer watched", path.display(), l.name()));
            }
            keep
        });
        for path in files {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            if books.get(&path).is_some_and(|l| l.text == text) {
                continue;
            }
            let result = compile_text(&path, &text);
            let existed = books.contains_key(&path);
            match (result, books.get_mut(&path)) {
                (Ok(plan), Some(l)) => {
                    l.triggers = live_triggers(&plan, &l.triggers);
                    l.plan = Some(Arc::new(plan));
                    l.text = text;
                    l.last_reload = ReloadStatus { ok: true, at: now, error: None };
                    self.metrics.reloads.inc();
                    log(&format!("reloaded `{}`", path.display()));
                }
                (Err(e), Some(l)) => {
                    l.text = text;
                    l.last_reload = ReloadStatus { ok: false, at: now, error: Some(e.clone()) };
                    self.metrics.reload_failures.inc();
                    log(&format!("`{}` has errors; the previous version stays live:\n{e}", path.display()));
                }
                (result, None) => {
                    let (plan, status) = match result {
                        Ok(p) => (Some(Arc::new(p)), ReloadStatus { ok: true, at: now, error: None }),
                        Err(e) => {
                            log(&format!("`{}` has errors; it is not watched until fixed:\n{e}", path.display()));
                            if existed {
                                self.metrics.reload_failures.inc();
                            }
                            (None, ReloadStatus { ok: false, at: now, error: Some(e) })
                        }
                    };
                    let triggers = plan.as_ref().map(|p| live_triggers(p, &[])).unwrap_or_default();
                    books.insert(
                        path.clone(),
                        Loaded { path, text, plan, triggers, last_reload: status, next_due_ms: now },
                    );
                }
            }
        }
    }

    /// Starts `level` of the runbook named `runbook` in its own thread, through `interpret::start`.
    pub fn start_level(self: &Arc<Self>, runbook: &str, level: u32, operator: &str, reason: &str) -> StartResult {
        let found = {
            let books = lock(&self.runbooks);
            books
                .values()
                .find_map(|l| l.plan.as_ref().filter(|p| p.runbook == runbook).map(|p| (Arc::clone(p), l.path.clone())))
        };
        let Some((plan, path)) = found else {
            return StartResult::Unknown(format!("no runbook `{runbook}` is watched"));
        };
        let Some(lvl) = plan.level(level) else {
            return StartResult::Unknown(format!("runbook `{runbook}` has no level {level}"));
        };
        if self.stopping.load(Ordering::SeqCst) {
            return StartResult::Busy("watch is shutting down".into());
        }
        // Checked and claimed under one guard, so that a trigger and an API call cannot both start a run.
        let mut active = lock(&self.active);
        if active.contains(runbook) {
            return StartResult::Busy(format!("runbook `{runbook}` is already running"));
        }
        if let Some(holder) = self.state.lock_holder(runbook) {
            return StartResult::Busy(format!("runbook `{runbook}` is already running (run {holder})"));
        }
        if lvl.cooldown_ms > 0
            && let Some(end) = state::last_level_end(&self.state, runbook, level)
            && now_ms() < end.saturating_add(i64::try_from(lvl.cooldown_ms).unwrap_or(i64::MAX / 2))
        {
            return StartResult::Cooldown(format!("level {level} of `{runbook}` is cooling down"));
        }
        active.insert(runbook.to_string());
        drop(active);
        let run_id = state::new_run_id(runbook);
        let workdir = std::path::absolute(&path)
            .ok()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let ctx = Context {
            run_id: run_id.clone(),
            runbook_path: path.display().to_string(),
            operator: operator.to_string(),
            reason: reason.to_string(),
            workdir,
            state: self.state.clone(),
            prometheus: Some(self.prometheus.clone()),
            yes: false,
        };
        let me = Arc::clone(self);
        let (name, id) = (runbook.to_string(), run_id.clone());
        let plan = (*plan).clone();
        let plan_kinds: BTreeMap<String, &'static str> =
            plan.all_steps().into_iter().map(|s| (s.id.clone(), s.action.kind())).collect();
        let interrupter = self.interrupter.clone();
        let handle = std::thread::spawn(move || {
            let outcome = match interpret::start_with(plan, ctx, level, false, Some(interrupter)) {
                Ok(o) => o.status.word().to_string(),
                Err(e) => {
                    log(&format!("run {id} of `{name}` level {level} could not start: {e}"));
                    "not_started".to_string()
                }
            };
            log(&format!("run {id} of `{name}` level {level}: {outcome}"));
            let lv = level.to_string();
            me.metrics.runs.get_or_create(&labels(&[("runbook", &name), ("level", &lv), ("outcome", &outcome)])).inc();
            me.observe_step_durations(&name, &id, &plan_kinds);
            lock(&me.active).remove(&name);
        });
        lock(&self.threads).push(handle);
        log(&format!("started run {run_id} of `{runbook}` level {level} ({reason})"));
        StartResult::Started(run_id)
    }

    /// One evaluation of every runbook due at `t`: the distinct queries fetched concurrently, each trigger fed.
    pub async fn evaluate_due(self: &Arc<Self>, client: &reqwest::Client, t: i64, timeout: Duration) {
        let due: Vec<(PathBuf, Arc<Plan>)> = {
            let mut books = lock(&self.runbooks);
            books
                .values_mut()
                .filter(|l| l.next_due_ms <= t)
                .filter_map(|l| {
                    let plan = l.plan.clone()?;
                    let step = i64::try_from(plan.evaluation_interval_ms.max(100)).unwrap_or(1000);
                    l.next_due_ms = if l.next_due_ms + step > t { l.next_due_ms + step } else { t + step };
                    Some((l.path.clone(), plan))
                })
                .collect()
        };
        if due.is_empty() {
            return;
        }
        let began = Instant::now();
        let mut wants: BTreeMap<String, Want> = BTreeMap::new();
        for (_, plan) in &due {
            prom::collect(plan, &mut wants);
        }
        let base = self.prometheus.clone();
        let fetches: Vec<_> = wants
            .into_iter()
            .map(|(q, w)| {
                let (client, base) = (client.clone(), base.clone());
                async move {
                    let r = prom::fetch(&client, &base, &q, &w, t, timeout).await;
                    (q, r)
                }
            })
            .collect();
        // Concurrently, but at most QUERY_CONCURRENCY at a time, so that many runbooks do not flood Prometheus.
        let results: BTreeMap<String, Result<crate::source::Series, String>> =
            futures_util::stream::iter(fetches).buffer_unordered(QUERY_CONCURRENCY).collect().await;
        for (q, r) in &results {
            if let Err(e) = r {
                self.metrics.query_errors.inc();
                log(&format!("query `{q}` failed: {e}"));
            }
        }
        let mut firing: Vec<(String, u32, String)> = Vec::new();
        // Notification-only triggers that turned firing: (runbook, trigger, channel URL or None for `log`, text).
        let mut notices: Vec<(String, String, Option<String>, String)> = Vec::new();
        {
            let mut books = lock(&self.runbooks);
            for (path, plan) in &due {
                let Some(l) = books.get_mut(path) else { continue };
                // The set of this plan's metrics that were fetched; a metric whose query failed is absent.
                let mut set = SeriesSet::default();
                let mut failed: HashSet<&str> = HashSet::new();
                for m in &plan.metrics {
                    match m.promql.as_ref().map(|q| results.get(q)) {
                        Some(Some(Ok(series))) => {
                            set.series.insert(m.name.clone(), series.clone());
                        }
                        _ => {
                            failed.insert(m.name.as_str());
                        }
                    }
                }
                for lt in &mut l.triggers {
                    let ok = !lt.trigger.metrics.iter().any(|m| failed.contains(m.as_str()));
                    let compiled = CompiledCondition::compile(&lt.trigger.condition, &set);
                    let answer = ok.then(|| compiled.eval_at(t));
                    if let Some(tr) = lt.machine.observe(t, answer) {
                        lt.since_ms = (tr.to != TriggerState::Inactive).then_some(t);
                        log(&format!("trigger `{}` of `{}`: {} -> {}", lt.trigger.name, plan.runbook, tr.from, tr.to));
                        if tr.to == TriggerState::Firing {
                            match &lt.trigger.target {
                                Target::Level { level } => {
                                    firing.push((plan.runbook.clone(), *level, lt.trigger.name.clone()))
                                }
                                Target::Notify { channel, message } => {
                                    let value = compiled.display_value_at(t);
                                    let text = message.render(|v| match v {
                                        Variable::Trigger => Some(lt.trigger.name.clone()),
                                        Variable::Runbook => Some(plan.runbook.clone()),
                                        Variable::Value => value.map(crate::plan::format_number),
                                        Variable::Env(name) => std::env::var(name).ok(),
                                        _ => None,
                                    });
                                    let url = plan.channels.iter().find(|c| &c.name == channel).and_then(|c| {
                                        c.url.as_ref().map(|u| {
                                            u.render(|v| match v {
                                                Variable::Env(name) => std::env::var(name).ok(),
                                                _ => None,
                                            })
                                        })
                                    });
                                    notices.push((plan.runbook.clone(), lt.trigger.name.clone(), url, text));
                                }
                            }
                        }
                    }
                    let state = match lt.machine.state() {
                        TriggerState::Inactive => 0,
                        TriggerState::Pending => 1,
                        TriggerState::Firing => 2,
                    };
                    self.metrics
                        .trigger_state
                        .get_or_create(&labels(&[("runbook", &plan.runbook), ("trigger", &lt.trigger.name)]))
                        .set(state);
                }
                self.metrics.evaluations.get_or_create(&labels(&[("runbook", &plan.runbook)])).inc();
            }
        }
        self.metrics.evaluation_duration.observe(began.elapsed().as_secs_f64());
        for (runbook, trigger, url, text) in notices {
            match url {
                None => log(&format!("notify from `{runbook}` trigger `{trigger}`: {text}")),
                Some(url) => match crate::actions::http::post_webhook(client, &url, &text, NOTIFY_TIMEOUT).await {
                    Ok(status) if (200..300).contains(&status) => {
                        log(&format!("trigger `{trigger}` of `{runbook}` notified its channel ({status})"))
                    }
                    Ok(status) => log(&format!("trigger `{trigger}` of `{runbook}`: the webhook answered {status}")),
                    Err(e) => log(&format!("trigger `{trigger}` of `{runbook}`: the webhook failed: {e}")),
                },
            }
        }
        for (runbook, level, trigger) in firing {
            let result = self.start_level(&runbook, level, "ripcord-watch", &format!("trigger {trigger} fired"));
            if !matches!(result, StartResult::Started(_)) {
                log(&format!("trigger `{trigger}` fired but level {level} of `{runbook}` did not start: {result:?}"));
            }
        }
    }

    /// Feeds the step durations of a finished run (from its journal) into `ripcord_step_duration_seconds`.
    fn observe_step_durations(&self, runbook: &str, run_id: &str, kinds: &BTreeMap<String, &'static str>) {
        let Ok(records) = state::load_run(&self.state, run_id) else { return };
        for r in records {
            if let crate::runs::Event::StepEnd { step, outcome, duration_ms, .. } = r.event {
                let kind = kinds.get(&step).copied().unwrap_or("step");
                let outcome = serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_string));
                let outcome = outcome.unwrap_or_default();
                self.metrics
                    .step_duration
                    .get_or_create(&labels(&[("runbook", runbook), ("kind", kind), ("outcome", &outcome)]))
                    .observe(duration_ms as f64 / 1000.0);
            }
        }
    }

    fn next_due(&self) -> Option<i64> {
        lock(&self.runbooks).values().filter(|l| l.plan.is_some()).map(|l| l.next_due_ms).min()
    }
}

/// Watches the directories of `roots` (never the files: an editor's rename-over would leave a file watch
/// deaf) and rescans after each debounced batch of events.
fn start_reloader(shared: Arc<Shared>, debounce: Duration) -> Result<impl Drop, String> {
    use notify::RecursiveMode;
    use notify_debouncer_full::new_debouncer;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = new_debouncer(debounce, None, tx).map_err(|e| format!("cannot watch files: {e}"))?;
    // Directories given are watched recursively; for a file given by name, its directory alone.
    let mut dirs: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for root in &shared.roots {
        let abs = std::path::absolute(root).unwrap_or_else(|_| root.clone());
        let entry = if abs.is_dir() {
            (abs, RecursiveMode::Recursive)
        } else {
            (abs.parent().map(PathBuf::from).unwrap_or(abs), RecursiveMode::NonRecursive)
        };
        if !dirs.iter().any(|(d, m)| *d == entry.0 && *m == entry.1) {
            dirs.push(entry);
        }
    }
    for (dir, mode) in &dirs {
        debouncer.watch(dir, *mode).map_err(|e| format!("cannot watch `{}`: {e}", dir.display()))?;
    }
    std::thread::spawn(move || {
        for batch in rx {
            if shared.stopping.load(Ordering::SeqCst) {
                break;
            }
            let relevant = match batch {
                Ok(events) => {
                    events.iter().any(|e| e.paths.iter().any(|p| p.extension().is_some_and(|x| x == "runbook")))
                }
                Err(errors) => {
                    log(&format!("file watch errors: {errors:?}"));
                    true
                }
            };
            if relevant {
                shared.rescan();
            }
        }
    });
    Ok(debouncer)
}

/// Runs `watch` until SIGTERM or SIGINT; the exit code.
pub fn run(opts: Options) -> u8 {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
        eprintln!("error: cannot start the runtime");
        return 1;
    };
    match rt.block_on(serve(opts)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn serve(opts: Options) -> Result<(), String> {
    if !opts.listen.ip().is_loopback() && opts.token.is_none() {
        return Err(format!(
            "refusing to listen on {} (beyond loopback) without --token-file: every POST needs a bearer token",
            opts.listen
        ));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let state_dir = std::path::absolute(&opts.state_dir).unwrap_or_else(|_| opts.state_dir.clone());
    let state = StateDir::new(state_dir);
    state.create_dirs().map_err(|e| format!("cannot create the state dir `{}`: {e}", state.root.display()))?;
    for (summary, _) in state::all_runs(&state) {
        if summary.status == "interrupted" {
            log(&format!(
                "run {} of `{}` (level {}) was interrupted; it is left for `ripcord resume {}`",
                summary.id, summary.runbook, summary.current_level, summary.id
            ));
        }
    }
    let shared = Arc::new(Shared {
        runbooks: Mutex::new(BTreeMap::new()),
        metrics: Metrics::new(),
        state,
        prometheus: opts.prometheus.clone(),
        token: opts.token.clone(),
        fingerprints: Mutex::new(HashSet::new()),
        active: Mutex::new(HashSet::new()),
        threads: Mutex::new(Vec::new()),
        stopping: AtomicBool::new(false),
        roots: opts.paths.clone(),
        interrupter: interpret::Interrupter::new(),
    });
    shared.rescan();
    if lock(&shared.runbooks).is_empty() {
        return Err("no `*.runbook` file under the given paths".into());
    }
    let _reloader = start_reloader(Arc::clone(&shared), opts.debounce)?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    log(&format!("listening on http://{addr}"));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = super::api::router(Arc::clone(&shared));
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let evaluator = {
        let shared = Arc::clone(&shared);
        let mut stop = stop_rx.clone();
        let timeout = opts.query_timeout;
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            loop {
                if *stop.borrow() {
                    break;
                }
                let now = now_ms();
                let wait = match shared.next_due() {
                    Some(due) if due <= now => {
                        shared.evaluate_due(&client, now, timeout).await;
                        continue;
                    }
                    Some(due) => Duration::from_millis(u64::try_from(due - now).unwrap_or(0).min(250)),
                    None => Duration::from_millis(250),
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
            }
        })
    };
    let signal = wait_for_signal().await?;
    shared.stopping.store(true, Ordering::SeqCst);
    if signal == "SIGTERM" {
        // Running steps end on their own within the grace; no new step starts.
        log("stopping (SIGTERM): no more evaluations; running steps may end within the grace period");
        shared.interrupter.drain(signal);
    } else {
        log(&format!("stopping ({signal}): no more evaluations; running steps are interrupted"));
        shared.interrupter.interrupt(signal);
    }
    let _ = stop_tx.send(true);
    let _ = evaluator.await;
    let deadline = Instant::now() + opts.grace;
    let threads: Vec<_> = std::mem::take(&mut *lock(&shared.threads));
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if threads.iter().any(|t| !t.is_finished()) {
        log("the grace period is over: interrupting the steps still running (`ripcord resume` continues them)");
        shared.interrupter.interrupt(signal);
        // Long enough for a shell step's process group to be ended and `interrupted` to be journalled.
        let journalled = Instant::now() + Duration::from_secs(5);
        while threads.iter().any(|t| !t.is_finished()) && Instant::now() < journalled {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for t in threads {
        if t.is_finished() {
            let _ = t.join();
        } else {
            log("a run did not journal its interruption in time; its journal shows where it stopped");
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    log("stopped");
    Ok(())
}

/// Waits for SIGINT or SIGTERM; its name.
async fn wait_for_signal() -> Result<&'static str, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    Ok(tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        crate::compile(text).plan.expect("compiles")
    }

    const V1: &str = "runbook r {\n  metric e = promql \"x\"\n  trigger a: e > 1 for 1m -> level 1\n  trigger b: e > 2 for 1m -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

    #[test]
    fn reload_keeps_timers_of_unchanged_triggers_only() {
        let old_plan = plan(V1);
        let mut old = live_triggers(&old_plan, &[]);
        for t in &mut old {
            t.machine.observe(1000, Some(true));
            t.since_ms = Some(1000);
        }
        let new_plan = plan(&V1.replace("e > 2 for 1m", "e > 2 for 2m"));
        let new = live_triggers(&new_plan, &old);
        assert_eq!(new[0].machine.state(), TriggerState::Pending);
        assert_eq!(new[0].machine.active_since(), Some(1000));
        assert_eq!(new[0].since_ms, Some(1000));
        assert_eq!(new[1].machine.state(), TriggerState::Inactive);
        assert_eq!(new[1].since_ms, None);
    }

    #[test]
    fn compile_errors_are_rendered() {
        let e = compile_text(Path::new("r.runbook"), "runbook r {\n  trigger t: nope >\n}\n").expect_err("broken");
        assert!(e.contains("r.runbook"), "{e}");
    }
}
