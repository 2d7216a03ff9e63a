//! The HTTP API and the status page. Every POST needs `Authorization: Bearer TOKEN` matching the token file
//! (401 without one, 403 with a wrong one; compared in constant time). Triggers show their active series
//! (at most [`SERIES_SHOWN`] each, with their count), the series waiting for room in their level, and runs
//! their labels.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::state::{LiveTrigger, StartResult, WaitingQueues, WatchState, lock};
use super::webhook::{AlertStatus, WebhookAlert, parse_webhook};
use crate::plan::Labels;
use crate::runs::{self, DecideError, Decision, Event, Record, RunStore, RunSummary, StepChoice, StepDecision};

/// The most series of one trigger `/api/status` and the status page list (their count is always given):
/// a trigger over a thousand hosts must not make the page unreadable.
pub const SERIES_SHOWN: usize = 100;

/// The handlers' view of the live state.
type Live = State<Arc<WatchState>>;

/// Every route of the API and the status page.
pub fn router(live: Arc<WatchState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/status", get(status))
        .route("/api/runs", get(runs).post(start_run))
        .route("/api/runs/{id}", get(run))
        .route("/api/runs/{id}/approve", post(approve))
        .route("/api/runs/{id}/deny", post(deny))
        .route("/api/runs/{id}/resume", post(resume))
        .route("/api/alertmanager", post(alertmanager))
        .with_state(live)
}

fn error(code: StatusCode, msg: &str) -> Response {
    (code, Json(json!({ "error": msg }))).into_response()
}

/// Constant-time equality (the length is not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Err` carries the response's status and message.
fn authorize(live: &WatchState, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(given) = given else {
        return Err((StatusCode::UNAUTHORIZED, "missing `Authorization: Bearer TOKEN`"));
    };
    match &live.token {
        Some(token) if constant_time_eq(token.as_bytes(), given.as_bytes()) => Ok(()),
        Some(_) => Err((StatusCode::FORBIDDEN, "wrong token")),
        None => Err((StatusCode::FORBIDDEN, "watch was started without --token-file; POSTs are refused")),
    }
}

async fn metrics(State(s): Live) -> Response {
    s.metrics.store_up.set(i64::from(s.store.health().is_ok()));
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.metrics.render())
        .into_response()
}

/// A trigger in `/api/status`: its state as a whole, and its active series.
fn trigger_doc(t: &LiveTrigger) -> Value {
    let series = t.series();
    let shown: Vec<Value> = series
        .iter()
        .take(SERIES_SHOWN)
        .map(|(labels, state, since)| json!({ "labels": labels, "state": state.as_str(), "since": since }))
        .collect();
    json!({
        "name": t.trigger.name,
        "state": t.state().as_str(),
        "since": t.since_ms(),
        "series": shown,
        "series_count": series.len(),
        "series_limit_exceeded": t.over_limit.is_some(),
        "series_over_limit": t.over_limit,
        "evaluation_error": t.last_error,
        "evaluation_errors": t.errors,
    })
}

/// The series of `runbook` waiting for room in their level, in the order they start.
fn waiting_doc(waiting: &WaitingQueues, runbook: &str) -> Vec<Value> {
    waiting
        .iter()
        .filter(|((rb, _), _)| rb == runbook)
        .flat_map(|((_, level), q)| {
            q.iter()
                .map(move |w| json!({ "level": level, "trigger": w.trigger, "labels": w.labels, "since": w.since_ms }))
        })
        .collect()
}

fn status_doc(s: &WatchState) -> Value {
    let waiting = lock(&s.waiting).clone();
    let runbooks: Vec<Value> = lock(&s.runbooks)
        .values()
        .map(|l| {
            let triggers: Vec<Value> = l.triggers.iter().map(trigger_doc).collect();
            json!({
                "name": l.name(),
                "path": l.path.display().to_string(),
                "last_reload": { "ok": l.last_reload.ok, "at": l.last_reload.at, "error": l.last_reload.error },
                "triggers": triggers,
                "waiting": waiting_doc(&waiting, &l.name()),
            })
        })
        .collect();
    let runs: Vec<Value> = runs::all_runs(&s.store)
        .iter()
        .map(|(r, _)| {
            json!({ "id": r.id, "runbook": r.runbook, "level": r.current_level, "labels": r.labels, "status": r.status })
        })
        .collect();
    let version = lock(&s.version).clone();
    json!({ "prometheus": version, "store": store_doc(s), "runbooks": runbooks, "runs": runs })
}

/// Which store keeps the runs and whether it answers.
fn store_doc(s: &WatchState) -> Value {
    let health = s.store.health();
    json!({
        "kind": if s.store.shared() { "postgres" } else { "state_dir" },
        "location": s.store.location(),
        "replica": s.replica,
        "reachable": health.is_ok(),
        "error": health.err(),
    })
}

async fn status(State(s): Live) -> Json<Value> {
    let s2 = Arc::clone(&s);
    Json(tokio::task::spawn_blocking(move || status_doc(&s2)).await.unwrap_or_default())
}

async fn runs(State(s): Live) -> Json<Vec<RunSummary>> {
    Json(runs::all_runs(&s.store).into_iter().map(|(r, _)| r).collect())
}

async fn run(State(s): Live, Path(id): Path<String>) -> Response {
    match runs::load_run(&s.store, &id) {
        Ok(records) => match runs::summarize(&s.store, &records) {
            Some(summary) => Json(json!({ "run": summary, "records": records })).into_response(),
            None => error(StatusCode::NOT_FOUND, "the journal has no start record"),
        },
        Err(e) => error(StatusCode::NOT_FOUND, &e),
    }
}

fn body_json(body: &str) -> Result<Value, String> {
    serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

async fn start_run(State(s): Live, headers: HeaderMap, body: String) -> Response {
    if let Err((code, msg)) = authorize(&s, &headers) {
        return error(code, msg);
    }
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let (Some(operator), Some(reason), Some(runbook), Some(level)) = (
        field(&v, "operator"),
        field(&v, "reason"),
        field(&v, "runbook"),
        v.get("level").and_then(Value::as_u64).and_then(|l| u32::try_from(l).ok()),
    ) else {
        return error(StatusCode::BAD_REQUEST, "need `operator`, `reason`, `runbook` (strings) and `level` (a number)");
    };
    let labels = match body_labels(&v) {
        Ok(l) => l,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    // The same key (header `Idempotency-Key` or `idempotency_key`) starts one run across replicas and retries.
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| field(&v, "idempotency_key").map(str::to_string))
        .map(|k| format!("api:{runbook}:{level}:{k}"));
    let s2 = Arc::clone(&s);
    let (runbook, operator, reason) = (runbook.to_string(), operator.to_string(), reason.to_string());
    let result = tokio::task::spawn_blocking(move || {
        s2.start_level(&runbook, level, &labels, (&operator, &reason), key.as_deref())
    })
    .await;
    match result {
        Ok(StartResult::Started(id)) => {
            (StatusCode::CREATED, Json(json!({ "id": id, "result": "started" }))).into_response()
        }
        Ok(StartResult::Unknown(m)) => error(StatusCode::NOT_FOUND, &m),
        Ok(StartResult::Busy(m) | StartResult::Cooldown(m) | StartResult::LevelFull(m)) => {
            error(StatusCode::CONFLICT, &m)
        }
        Ok(StartResult::Failed(m)) => error(StatusCode::INTERNAL_SERVER_ERROR, &m),
        Ok(StartResult::Duplicate(id)) => {
            (StatusCode::OK, Json(json!({ "id": id, "result": "duplicate" }))).into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The optional `labels` of a start request: an object of strings, checked as `ripcord run --label` is.
fn body_labels(v: &Value) -> Result<Labels, String> {
    let Some(given) = v.get("labels") else { return Ok(Labels::empty()) };
    let Some(map) = given.as_object() else {
        return Err("`labels` must be an object of strings, as {\"instance\": \"a\"}".into());
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        let Some(v) = v.as_str() else { return Err(format!("label `{k}` must be a string")) };
        pairs.push((k.as_str(), v));
    }
    crate::interpret::run_labels(pairs)
}

async fn decide(s: Arc<WatchState>, headers: HeaderMap, id: String, body: String, approved: bool) -> Response {
    if let Err((code, msg)) = authorize(&s, &headers) {
        return error(code, msg);
    }
    let operator = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| field(&v, "operator").map(str::to_string))
        .unwrap_or_else(|| "api".to_string());
    let records = match runs::load_run(&s.store, &id) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::NOT_FOUND, &e),
    };
    let Some(summary) = runs::summarize(&s.store, &records) else {
        return error(StatusCode::NOT_FOUND, "the journal has no start record");
    };
    if summary.status != "waiting_approval" {
        return error(StatusCode::CONFLICT, &format!("run `{id}` is {}, not waiting for approval", summary.status));
    }
    let decision = Decision::now(approved, operator, summary.current_level);
    match s.store.write_decision(&id, &decision) {
        Ok(()) => Json(json!({ "id": id, "level": decision.level, "approved": approved })).into_response(),
        Err(e @ DecideError::AlreadyDecided(_)) => error(StatusCode::CONFLICT, &format!("run `{id}`: {e}")),
        Err(e @ DecideError::Store(_)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn approve(State(s): Live, headers: HeaderMap, Path(id): Path<String>, body: String) -> Response {
    decide(s, headers, id, body, true).await
}

async fn deny(State(s): Live, headers: HeaderMap, Path(id): Path<String>, body: String) -> Response {
    decide(s, headers, id, body, false).await
}

/// A person's decision about the step a taken-over run waits on (`{"choice": "rerun|skip|abort",
/// "operator": NAME}`), as `ripcord resume RUN --rerun|--skip|--abort` leaves it.
async fn resume(State(s): Live, headers: HeaderMap, Path(id): Path<String>, body: String) -> Response {
    if let Err((code, msg)) = authorize(&s, &headers) {
        return error(code, msg);
    }
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let choice = match field(&v, "choice") {
        Some("rerun") => StepChoice::Rerun,
        Some("skip") => StepChoice::Skip,
        Some("abort") => StepChoice::Abort,
        _ => return error(StatusCode::BAD_REQUEST, "need `choice`: `rerun`, `skip` or `abort`"),
    };
    let Some(operator) = field(&v, "operator").map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "need `operator` (a string): who decides");
    };
    let answer = tokio::task::spawn_blocking(move || {
        let records = runs::load_run(&s.store, &id).map_err(|e| (StatusCode::NOT_FOUND, e))?;
        let Some((_, step)) = runs::waiting_step(&records) else {
            return Err((StatusCode::CONFLICT, format!("run `{id}` is not waiting for a decision about a step")));
        };
        let decision = StepDecision { step: step.clone(), choice, operator, at_ms: runs::now_ms() };
        match s.store.write_step_decision(&id, &decision) {
            Ok(()) => Ok(json!({ "id": id, "step": step, "choice": choice.word() })),
            Err(e) => Err((StatusCode::CONFLICT, format!("run `{id}`: {e}"))),
        }
    })
    .await;
    match answer {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err((code, msg))) => error(code, &msg),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Alertmanager webhook (v4): firing alerts labelled `ripcord_runbook` and `ripcord_level` start that level
/// for the alert's labels, once per firing (fingerprint and `startsAt`: see `webhook`). A malformed body is
/// refused (400).
async fn alertmanager(State(s): Live, headers: HeaderMap, body: String) -> Response {
    if let Err((code, msg)) = authorize(&s, &headers) {
        return error(code, msg);
    }
    let alerts = match parse_webhook(&body) {
        Ok(alerts) => alerts,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let s2 = Arc::clone(&s);
    let results = tokio::task::spawn_blocking(move || alerts.iter().map(|a| one_alert(&s2, a)).collect::<Vec<Value>>())
        .await
        .unwrap_or_default();
    Json(json!({ "alerts": results })).into_response()
}

fn one_alert(s: &Arc<WatchState>, a: &WebhookAlert) -> Value {
    let (fingerprint, runbook, level) = (&a.fingerprint, &a.runbook, a.level);
    let answer = |result: &str, detail: &str| json!({ "fingerprint": fingerprint, "runbook": runbook, "level": level, "result": result, "detail": detail });
    let key = a.firing_key();
    if a.status == AlertStatus::Resolved {
        lock(&s.alert_deliveries).resolved(&key, runs::now_ms());
        return answer("ignored", "the alert is not firing");
    }
    let Some(level) = level else {
        return answer("unknown runbook", "the alert has no numeric `ripcord_level` label");
    };
    if runbook.is_empty() {
        return answer("unknown runbook", "the alert has no `ripcord_runbook` label");
    }
    if !lock(&s.alert_deliveries).claim(key.clone(), runs::now_ms()) {
        return answer("duplicate", "this firing of the alert (fingerprint and startsAt) already started a run");
    }
    let reason = format!(
        "alertmanager alert {fingerprint}{}",
        if a.summary.is_empty() { String::new() } else { format!(": {}", a.summary) }
    );
    // Across replicas and restarts, the store's start key catches what this replica's memory cannot.
    let start_key = format!("alert:{fingerprint}:{}", a.starts_at);
    let result = s.start_level(runbook, level, &a.labels, ("alertmanager", &reason), Some(&start_key));
    match &result {
        StartResult::Started(id) => json!({
            "fingerprint": fingerprint, "runbook": runbook, "level": level, "labels": a.labels, "result": "started",
            "id": id
        }),
        StartResult::Duplicate(id) => json!({
            "fingerprint": fingerprint, "runbook": runbook, "level": level, "result": "duplicate", "id": id,
            "detail": "this firing of the alert (fingerprint and startsAt) already started a run"
        }),
        StartResult::Cooldown(m)
        | StartResult::Busy(m)
        | StartResult::LevelFull(m)
        | StartResult::Unknown(m)
        | StartResult::Failed(m) => {
            lock(&s.alert_deliveries).forget(&key);
            answer(result.word(), m)
        }
    }
}

/// A run's status on the page; a run waiting for a person says about which step and how to decide.
fn status_cell(r: &RunSummary, records: &[Record]) -> String {
    match runs::waiting_step(records) {
        Some((_, step)) if r.status == "waiting_decision" => format!(
            "{}<br>step {} was cut off (not idempotent): <code>ripcord resume {} --rerun|--skip|--abort --operator NAME</code>",
            escape_html(&r.status),
            escape_html(&step),
            escape_html(&r.id)
        ),
        _ => escape_html(&r.status),
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn format_time(ms: Option<i64>) -> String {
    ms.map(|t| crate::source::format_rfc3339(t.max(0) / 1000 * 1000, false)).unwrap_or_else(|| "-".into())
}

fn steps_of(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        match &r.event {
            Event::StepStart { step, .. } => {
                out.push_str(&format!("<li>{} started {}</li>", escape_html(step), format_time(Some(r.t_ms))))
            }
            Event::StepEnd { step, outcome, .. } => out.push_str(&format!(
                "<li>{} ended {:?} {}</li>",
                escape_html(step),
                outcome,
                format_time(Some(r.t_ms))
            )),
            _ => {}
        }
    }
    out
}

/// A trigger's active series on the status page: at most [`SERIES_SHOWN`], the rest counted; a trigger over
/// `max series` or failing to evaluate says so.
fn series_cell(t: &LiveTrigger) -> String {
    let mut out = String::new();
    if let Some(n) = t.over_limit {
        out.push_str(&format!("<p class=\"err\">over <code>max series</code>: held for {n} series; all dropped</p>"));
    }
    if let Some(e) = &t.last_error {
        out.push_str(&format!("<p class=\"err\">cannot be evaluated: {}</p>", escape_html(e)));
    }
    let series = t.series();
    if series.is_empty() {
        return out;
    }
    out.push_str("<ul>");
    for (labels, state, since) in series.iter().take(SERIES_SHOWN) {
        let st = state.as_str();
        out.push_str(&format!(
            "<li>{} <span class=\"{st}\">{st}</span> since {}</li>",
            escape_html(&labels.to_string()),
            format_time(*since)
        ));
    }
    if series.len() > SERIES_SHOWN {
        out.push_str(&format!("<li>and {} more</li>", series.len() - SERIES_SHOWN));
    }
    out.push_str("</ul>");
    out
}

/// Labels as `/api/status` gives them (a JSON object), in PromQL's notation.
fn labels_text(v: &Value) -> String {
    let pairs =
        v.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()));
    Labels::from_pairs(pairs).to_string()
}

/// The status page: server-rendered, refreshing itself every 5 seconds.
async fn page(State(s): Live) -> Html<String> {
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
         <title>ripcord watch</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px}.firing{color:#b00;font-weight:bold}.pending{color:#b60}\
         .err{color:#b00;white-space:pre-wrap}</style></head><body><h1>ripcord watch</h1>",
    );
    let version = lock(&s.version).clone();
    h.push_str(&format!(
        "<p>Prometheus {}; evaluating as Prometheus {}</p>",
        escape_html(version.server.as_deref().unwrap_or("(not known yet)")),
        version.evaluating_as
    ));
    if let Some(w) = &version.warning {
        h.push_str(&format!("<p class=\"err\">{}</p>", escape_html(w)));
    }
    match s.store.health() {
        Ok(()) => h.push_str(&format!(
            "<p>store {}{}</p>",
            escape_html(&s.store.location()),
            if s.replica.is_empty() { String::new() } else { format!(" (replica {})", escape_html(&s.replica)) }
        )),
        Err(e) => h.push_str(&format!(
            "<p class=\"err\">store {} is unreachable: {}; no new run starts until it is back</p>",
            escape_html(&s.store.location()),
            escape_html(&e)
        )),
    }
    h.push_str("<h2>Runbooks</h2>");
    let waiting = lock(&s.waiting).clone();
    for l in lock(&s.runbooks).values() {
        h.push_str(&format!(
            "<h3>{} <small>{}</small></h3>",
            escape_html(&l.name()),
            escape_html(&l.path.display().to_string())
        ));
        if let Some(e) = &l.last_reload.error {
            h.push_str(&format!("<p class=\"err\">last reload failed: {}</p>", escape_html(e)));
        }
        h.push_str("<table><tr><th>trigger</th><th>state</th><th>since</th><th>series</th></tr>");
        for t in &l.triggers {
            let st = t.state().as_str();
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"{st}\">{st}</td><td>{}</td><td>{}</td></tr>",
                escape_html(&t.trigger.name),
                format_time(t.since_ms()),
                series_cell(t)
            ));
        }
        h.push_str("</table>");
        let waiting = waiting_doc(&waiting, &l.name());
        if !waiting.is_empty() {
            h.push_str("<p>waiting for room in their level (<code>max parallel</code>):</p><ul>");
            for w in &waiting {
                h.push_str(&format!(
                    "<li>level {} {} (trigger {}, since {})</li>",
                    w["level"],
                    escape_html(&labels_text(&w["labels"])),
                    escape_html(w["trigger"].as_str().unwrap_or_default()),
                    format_time(w["since"].as_i64())
                ));
            }
            h.push_str("</ul>");
        }
    }
    h.push_str("<h2>Runs</h2><table><tr><th>id</th><th>runbook</th><th>labels</th><th>level</th><th>status</th><th>started</th><th>steps</th></tr>");
    let mut all = runs::all_runs(&s.store);
    all.reverse();
    for (r, records) in all.iter().take(20) {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><ul>{}</ul></td></tr>",
            escape_html(&r.id),
            escape_html(&r.runbook),
            if r.labels.is_empty() { String::new() } else { escape_html(&r.labels.to_string()) },
            r.current_level,
            status_cell(r, records),
            format_time(Some(r.started_ms)),
            steps_of(records)
        ));
    }
    h.push_str("</table></body></html>");
    Html(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(escape_html("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }
}
