//! The engine's life: start-up (state dir, first scan, file watcher, HTTP server), the evaluation loop, and
//! shutdown on SIGTERM (drain: running steps may finish within the grace) or SIGINT (interrupt).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::reload::start_file_watcher;
use super::state::{WatchState, lock, log};
use crate::prometheus::Limits;
use crate::runs::{self, StateDir, now_ms};

/// What `ripcord watch` was asked to do.
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub prometheus: String,
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    pub token: Option<String>,
    pub query_timeout: Duration,
    /// The largest Prometheus answer read, in bytes.
    pub max_answer_bytes: u64,
    pub grace: Duration,
    pub debounce: Duration,
    /// `--prometheus-version`; `None` follows the server's major version.
    pub prometheus_version: Option<crate::eval::PromVersion>,
    /// How trigger state saved before a restart is restored.
    pub restore: super::RestoreRules,
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

/// The state dir, created, with the interrupted runs it holds logged.
fn open_state_dir(dir: &std::path::Path) -> Result<StateDir, String> {
    let state_dir = StateDir::new(std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    state_dir.create_dirs().map_err(|e| format!("cannot create the state dir `{}`: {e}", state_dir.root.display()))?;
    let listing = runs::list_all(&state_dir);
    for u in &listing.unreadable {
        log(&format!("the journal of run {} cannot be read: {}", u.id, u.error));
    }
    for (summary, _) in &listing.runs {
        if summary.status == "interrupted" {
            log(&format!(
                "run {} of `{}` (level {}) was interrupted; it is left for `ripcord resume {}`",
                summary.id, summary.runbook, summary.current_level, summary.id
            ));
        }
    }
    Ok(state_dir)
}

async fn serve(opts: Options) -> Result<(), String> {
    if !opts.listen.ip().is_loopback() && opts.token.is_none() {
        return Err(format!(
            "refusing to listen on {} (beyond loopback) without --token-file: every POST needs a bearer token",
            opts.listen
        ));
    }
    crate::net::install_crypto();
    let state_dir = open_state_dir(&opts.state_dir)?;
    let mut state = WatchState::new(opts.paths.clone(), state_dir, opts.prometheus.clone(), opts.token.clone());
    state.max_answer_bytes = opts.max_answer_bytes;
    state.restore = opts.restore;
    let live = Arc::new(state);
    *lock(&live.version) = super::state::VersionState::new(opts.prometheus_version);
    live.rescan();
    if lock(&live.runbooks).is_empty() {
        return Err("no `*.runbook` file under the given paths".into());
    }
    let _file_watcher = start_file_watcher(Arc::clone(&live), opts.debounce)?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    log(&format!("listening on http://{addr}"));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = super::api::router(Arc::clone(&live));
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let limits = Limits::timeout(opts.query_timeout).max_bytes(opts.max_answer_bytes);
    let evaluator = tokio::spawn(evaluation_loop(Arc::clone(&live), stop_rx.clone(), limits));
    let signal = wait_for_signal().await?;
    live.stopping.store(true, Ordering::SeqCst);
    if signal == "SIGTERM" {
        // Running steps end on their own within the grace; no new step starts.
        log("stopping (SIGTERM): no more evaluations; running steps may end within the grace period");
        live.interrupter.drain(signal);
    } else {
        log(&format!("stopping ({signal}): no more evaluations; running steps are interrupted"));
        live.interrupter.interrupt(signal);
    }
    let _ = stop_tx.send(true);
    let _ = evaluator.await;
    wait_for_runs(&live, signal, opts.grace).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    log("stopped");
    Ok(())
}

/// Evaluates the runbooks as they fall due, until `stop` turns true. A stop abandons an evaluation in flight
/// (its queries are dropped mid-answer), so that SIGTERM never waits on a slow or endless Prometheus answer.
async fn evaluation_loop(live: Arc<WatchState>, mut stop: tokio::sync::watch::Receiver<bool>, limits: Limits) {
    let client = reqwest::Client::new();
    loop {
        if *stop.borrow() {
            break;
        }
        if lock(&live.version).recheck {
            ask_version(&live, &client, limits.timeout).await;
        }
        let now = now_ms();
        let wait = match live.next_due() {
            Some(due) if due <= now => {
                tokio::select! {
                    _ = live.evaluate_due(&client, now, &limits) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
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
}

/// Asks the server which Prometheus it runs (`/api/v1/status/buildinfo`) and evaluates with its major
/// version unless `--prometheus-version` says otherwise; logs the outcome when it changes. A failure leaves
/// the version as it was and asks again before the next evaluation.
async fn ask_version(live: &WatchState, client: &reqwest::Client, timeout: Duration) {
    match crate::prometheus::build_info(client, &live.prometheus, timeout).await {
        Ok(info) => {
            let lines = lock(&live.version).answered(&info.version, info.major());
            for line in lines {
                log(&line);
            }
        }
        Err(e) => {
            let e = e.to_string();
            let mut v = lock(&live.version);
            if v.last_error.as_deref() != Some(e.as_str()) {
                log(&format!(
                    "cannot ask which version Prometheus runs ({e}); evaluating as Prometheus {} until it answers",
                    v.evaluating_as
                ));
                v.last_error = Some(e);
            }
        }
    }
}

/// Waits for the runs this process started to end within `grace`; then interrupts those still running
/// and gives them a moment to journal it.
async fn wait_for_runs(live: &WatchState, signal: &'static str, grace: Duration) {
    let deadline = Instant::now() + grace;
    let threads: Vec<_> = std::mem::take(&mut *lock(&live.run_threads));
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if threads.iter().any(|t| !t.is_finished()) {
        log("the grace period is over: interrupting the steps still running (`ripcord resume` continues them)");
        live.interrupter.interrupt(signal);
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
