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
use crate::runs::{self, RunStore, now_ms};

/// What `ripcord watch` was asked to do.
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub prometheus: String,
    pub listen: SocketAddr,
    /// The state dir, or a store shared with other replicas (`--store`).
    pub store: runs::StoreOptions,
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

/// The store (`runs::open_store`), ready, with the interrupted runs it holds logged.
fn open_store(opts: &runs::StoreOptions) -> Result<Arc<dyn RunStore>, String> {
    let store = runs::open_store(opts)?;
    store.prepare()?;
    let listing = runs::list_all(&store);
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
    Ok(store)
}

async fn serve(opts: Options) -> Result<(), String> {
    if !opts.listen.ip().is_loopback() && opts.token.is_none() {
        return Err(format!(
            "refusing to listen on {} (beyond loopback) without --token-file: every POST needs a bearer token",
            opts.listen
        ));
    }
    crate::net::install_crypto();
    let store_opts = runs::StoreOptions { takeover: true, ..opts.store.clone() };
    let store = open_store(&store_opts)?;
    let mut state =
        WatchState::new(opts.paths.clone(), Arc::clone(&store), opts.prometheus.clone(), opts.token.clone());
    state.max_answer_bytes = opts.max_answer_bytes;
    state.restore = opts.restore;
    if store.shared() {
        state.replica = store_opts.replica_id.clone().unwrap_or_else(runs::default_replica_id);
        log(&format!(
            "runs are kept in {} as replica {} (leases renewed every {}, expiring after {})",
            store.location(),
            state.replica,
            humantime::format_duration(store_opts.lease.heartbeat),
            humantime::format_duration(store_opts.lease.expiry)
        ));
    }
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
    let taker = live.store.shared().then(|| {
        let (live, every) = (Arc::clone(&live), store_opts.lease.heartbeat);
        tokio::spawn(takeover_loop(live, stop_rx.clone(), every))
    });
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
    if let Some(t) = taker {
        let _ = t.await;
    }
    wait_for_runs(&live, signal, opts.grace).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    log("stopped");
    Ok(())
}

/// How long after a due instant replicas on a shared store evaluate it: a scrape stamped just before the
/// instant is ingested a few milliseconds after it, and every replica must see it.
const SETTLE_MS: i64 = 500;

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
        // On a shared store, every replica evaluates at the due instant itself, once [`SETTLE_MS`] have let
        // the samples up to it reach Prometheus (see `reload::first_load`).
        let shared = live.store.shared();
        let settle = if shared { SETTLE_MS } else { 0 };
        let wait = match live.next_due() {
            Some(due) if due + settle <= now => {
                let t = if shared { due } else { now };
                tokio::select! {
                    _ = live.evaluate_due(&client, t, &limits) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                continue;
            }
            Some(due) => Duration::from_millis(u64::try_from(due + settle - now).unwrap_or(0).min(250)),
            None => Duration::from_millis(250),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Looks for runs whose replica was lost every `every` (the heartbeat), and takes them over, until `stop`.
async fn takeover_loop(live: Arc<WatchState>, mut stop: tokio::sync::watch::Receiver<bool>, every: Duration) {
    let mut was_up = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let l = Arc::clone(&live);
        let up = tokio::task::spawn_blocking(move || {
            l.take_over_lost_runs();
            l.store.health()
        })
        .await
        .unwrap_or(Ok(()));
        match (&up, was_up) {
            (Err(e), true) => log(&format!("the store cannot be reached: {e}; no new run starts until it is back")),
            (Ok(()), false) => log("the store answers again"),
            _ => {}
        }
        was_up = up.is_ok();
        live.metrics.store_up.set(i64::from(was_up));
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
