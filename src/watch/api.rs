//! The HTTP API and the status page. Every POST needs `Authorization: Bearer TOKEN` matching the token file
//! (401 without one, 403 with a wrong one; compared in constant time).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::state::{StartResult, WatchState, lock};
use super::webhook::{AlertStatus, WebhookAlert, parse_webhook};
use crate::eval::TriggerState;
use crate::runs::{self, DecideError, Decision, Event, Record, RunStore, RunSummary};

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
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.metrics.render())
        .into_response()
}

fn state_word(s: TriggerState) -> &'static str {
    s.as_str()
}

fn status_doc(s: &WatchState) -> Value {
    let runbooks: Vec<Value> = lock(&s.runbooks)
        .values()
        .map(|l| {
            let triggers: Vec<Value> = l
                .triggers
                .iter()
                .map(|t| {
                    json!({
                        "name": t.trigger.name,
                        "state": state_word(t.machine.state()),
                        "since": t.since_ms,
                    })
                })
                .collect();
            json!({
                "name": l.name(),
                "path": l.path.display().to_string(),
                "last_reload": { "ok": l.last_reload.ok, "at": l.last_reload.at, "error": l.last_reload.error },
                "triggers": triggers,
            })
        })
        .collect();
    let runs: Vec<Value> = runs::all_runs(&s.state_dir)
        .iter()
        .map(|(r, _)| json!({ "id": r.id, "runbook": r.runbook, "level": r.current_level, "status": r.status }))
        .collect();
    let version = lock(&s.version).clone();
    json!({ "prometheus": version, "runbooks": runbooks, "runs": runs })
}

async fn status(State(s): Live) -> Json<Value> {
    Json(status_doc(&s))
}

async fn runs(State(s): Live) -> Json<Vec<RunSummary>> {
    Json(runs::all_runs(&s.state_dir).into_iter().map(|(r, _)| r).collect())
}

async fn run(State(s): Live, Path(id): Path<String>) -> Response {
    match runs::load_run(&s.state_dir, &id) {
        Ok(records) => match runs::summarize(&s.state_dir, &records) {
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
    let s2 = Arc::clone(&s);
    let (runbook, operator, reason) = (runbook.to_string(), operator.to_string(), reason.to_string());
    let result = tokio::task::spawn_blocking(move || s2.start_level(&runbook, level, &operator, &reason)).await;
    match result {
        Ok(StartResult::Started(id)) => {
            (StatusCode::CREATED, Json(json!({ "id": id, "result": "started" }))).into_response()
        }
        Ok(StartResult::Unknown(m)) => error(StatusCode::NOT_FOUND, &m),
        Ok(StartResult::Busy(m) | StartResult::Cooldown(m)) => error(StatusCode::CONFLICT, &m),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn decide(s: Arc<WatchState>, headers: HeaderMap, id: String, body: String, approved: bool) -> Response {
    if let Err((code, msg)) = authorize(&s, &headers) {
        return error(code, msg);
    }
    let operator = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| field(&v, "operator").map(str::to_string))
        .unwrap_or_else(|| "api".to_string());
    let records = match runs::load_run(&s.state_dir, &id) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::NOT_FOUND, &e),
    };
    let Some(summary) = runs::summarize(&s.state_dir, &records) else {
        return error(StatusCode::NOT_FOUND, "the journal has no start record");
    };
    if summary.status != "waiting_approval" {
        return error(StatusCode::CONFLICT, &format!("run `{id}` is {}, not waiting for approval", summary.status));
    }
    let decision = Decision::now(approved, operator, summary.current_level);
    match s.state_dir.write_decision(&id, &decision) {
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

/// Alertmanager webhook (v4): firing alerts labelled `ripcord_runbook` and `ripcord_level` start that level,
/// once per firing (fingerprint and `startsAt`: see `webhook`). A malformed body is refused (400).
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
    let result = s.start_level(runbook, level, "alertmanager", &reason);
    match &result {
        StartResult::Started(id) => {
            json!({ "fingerprint": fingerprint, "runbook": runbook, "level": level, "result": "started", "id": id })
        }
        StartResult::Cooldown(m) | StartResult::Busy(m) | StartResult::Unknown(m) => {
            lock(&s.alert_deliveries).forget(&key);
            answer(result.word(), m)
        }
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
    h.push_str("<h2>Runbooks</h2>");
    for l in lock(&s.runbooks).values() {
        h.push_str(&format!(
            "<h3>{} <small>{}</small></h3>",
            escape_html(&l.name()),
            escape_html(&l.path.display().to_string())
        ));
        if let Some(e) = &l.last_reload.error {
            h.push_str(&format!("<p class=\"err\">last reload failed: {}</p>", escape_html(e)));
        }
        h.push_str("<table><tr><th>trigger</th><th>state</th><th>since</th></tr>");
        for t in &l.triggers {
            let st = t.machine.state().as_str();
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"{st}\">{st}</td><td>{}</td></tr>",
                escape_html(&t.trigger.name),
                format_time(t.since_ms)
            ));
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Runs</h2><table><tr><th>id</th><th>runbook</th><th>level</th><th>status</th><th>started</th><th>steps</th></tr>");
    let mut all = runs::all_runs(&s.state_dir);
    all.reverse();
    for (r, records) in all.iter().take(20) {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><ul>{}</ul></td></tr>",
            escape_html(&r.id),
            escape_html(&r.runbook),
            r.current_level,
            escape_html(&r.status),
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
