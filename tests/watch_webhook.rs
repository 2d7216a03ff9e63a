//! The Alertmanager webhook of `ripcord watch` across incidents: repeated deliveries of one firing start one
//! run; the same alert firing again after it resolved (a new `startsAt`) starts another; an alert without a
//! `status` is refused with a reason; a delivery repeated after `watch` restarts starts nothing either (the
//! state dir keeps the start keys), nor does an API request repeated with its `Idempotency-Key`.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::watch::Watch;

const RUNBOOK: &str = "runbook hook {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  level 1 {\n    step shell \"echo ran >> fired.txt\"\n  }\n}\n";

fn alert(status: &str, starts_at: &str) -> String {
    format!(
        r#"{{"version":"4","status":"{status}","alerts":[{{"status":"{status}","labels":{{"alertname":"X","ripcord_runbook":"hook","ripcord_level":"1"}},"startsAt":"{starts_at}","fingerprint":"fp1"}}]}}"#
    )
}

fn succeeded(w: &Watch, runs: usize) -> Value {
    w.wait_status(Duration::from_secs(15), &format!("{runs} finished runs"), |s| {
        s["runs"].as_array().is_some_and(|r| r.len() == runs && r.iter().all(|r| r["status"] == "succeeded"))
    })
}

#[test]
fn a_recurring_alert_starts_a_run_per_firing_not_per_delivery() {
    let dir = support::dir_with(&[("hook.runbook", RUNBOOK), ("token", "t\n")]);
    let d = dir.path();
    let mut w = Watch::start(
        d,
        &["hook.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );
    let first = "2026-01-01T00:00:00Z";
    let (code, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", first));
    assert_eq!((code, &v["alerts"][0]["result"]), (200, &Value::from("started")), "{v}");
    succeeded(&w, 1);
    // Alertmanager delivers the same firing again (repeat_interval, a retry): one run per firing.
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", first));
    assert_eq!(v["alerts"][0]["result"], "duplicate", "{v}");
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("resolved", first));
    assert_eq!(v["alerts"][0]["result"], "ignored", "{v}");
    // A late copy of the resolved firing is still a duplicate.
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", first));
    assert_eq!(v["alerts"][0]["result"], "duplicate", "{v}");
    // The same alert fires again: a new incident, a new run.
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", "2026-01-01T06:00:00Z"));
    assert_eq!(v["alerts"][0]["result"], "started", "{v}\n{}", w.text());
    succeeded(&w, 2);
    assert_eq!(std::fs::read_to_string(d.join("fired.txt")).expect("fired.txt"), "ran\nran\n");
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}

#[test]
fn malformed_alerts_are_refused_with_a_reason() {
    let dir = support::dir_with(&[("hook.runbook", RUNBOOK), ("token", "t\n")]);
    let d = dir.path();
    let w = Watch::start(
        d,
        &["hook.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );
    let no_status =
        r#"{"alerts":[{"labels":{"ripcord_runbook":"hook","ripcord_level":"1"},"startsAt":"2026-01-01T00:00:00Z"}]}"#;
    for (body, reason) in [
        (no_status, "no `status`"),
        (r#"{"status":"firing","alerts":[{"labels":{}}]}"#, "no `startsAt`"),
        (r#"{"status":"pending","alerts":[{"startsAt":"x"}]}"#, "`pending`"),
        ("[1]", "not a JSON object"),
        ("{", "not JSON"),
    ] {
        let (code, v) = w.post("/api/alertmanager", Some("t"), body);
        assert_eq!(code, 400, "{body}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| e.contains(reason)), "{body}: {v}");
    }
    assert!(!d.join("fired.txt").exists(), "nothing ran");
    assert!(w.status()["runs"].as_array().is_some_and(|r| r.is_empty()));
}

const PER_SERIES: &str = "runbook disk {\n  evaluate every 1s\n  metric usage = promql \"disk_usage\"\n  level 1 {\n    step shell \"echo ${labels.instance} ${labels.mountpoint} ${labels.alertname} >> fired.txt\"\n  }\n}\n";

#[test]
fn an_alerts_labels_are_its_runs_labels_and_the_api_takes_labels() {
    let dir = support::dir_with(&[("disk.runbook", PER_SERIES), ("token", "t\n")]);
    let d = dir.path();
    let mut w = Watch::start(
        d,
        &["disk.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );
    let body = r#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"DiskFull","ripcord_runbook":"disk","ripcord_level":"1","instance":"b","mountpoint":"/data"},"startsAt":"2026-01-01T00:00:00Z","fingerprint":"fpb"}]}"#;
    let (code, v) = w.post("/api/alertmanager", Some("t"), body);
    assert_eq!((code, &v["alerts"][0]["result"]), (200, &Value::from("started")), "{v}");
    assert_eq!(v["alerts"][0]["labels"], serde_json::json!({ "instance": "b", "mountpoint": "/data" }), "{v}");
    let s = succeeded(&w, 1);
    assert_eq!(s["runs"][0]["labels"], serde_json::json!({ "instance": "b", "mountpoint": "/data" }), "{s}");
    // The alert's name and ripcord's routing labels are not the run's.
    assert_eq!(std::fs::read_to_string(d.join("fired.txt")).expect("fired.txt"), "b /data \n");

    // A run started through the API carries the labels it was given, checked as `--label` is.
    let start = r#"{"operator":"bob","reason":"by hand","runbook":"disk","level":1,"labels":{"instance":"c"}}"#;
    let (code, v) = w.post("/api/runs", Some("t"), start);
    assert_eq!(code, 201, "{v}");
    let s = succeeded(&w, 2);
    assert!(s["runs"].as_array().is_some_and(|r| r.iter().any(|r| r["labels"]["instance"] == "c")), "{s}");
    let bad = r#"{"operator":"bob","reason":"r","runbook":"disk","level":1,"labels":{"1x":"c"}}"#;
    let (code, v) = w.post("/api/runs", Some("t"), bad);
    assert_eq!(code, 400, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("not a label name")), "{v}");
    let (code, page) = w.get("/");
    assert_eq!(code, 200);
    assert!(page.contains("{instance=&quot;c&quot;}"), "{page}");
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}

#[test]
fn a_delivery_repeated_after_a_restart_starts_no_second_run() {
    let dir = support::dir_with(&[("hook.runbook", RUNBOOK), ("token", "t\n")]);
    let d = dir.path();
    let args = ["hook.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"];
    let first = "2026-01-01T00:00:00Z";
    let mut w = Watch::start(d, &args);
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", first));
    assert_eq!(v["alerts"][0]["result"], "started", "{v}");
    let id = v["alerts"][0]["id"].clone();
    succeeded(&w, 1);
    let by_hand = r#"{"operator":"bob","reason":"retried","runbook":"hook","level":1,"idempotency_key":"req-7"}"#;
    let (code, v) = w.post("/api/runs", Some("t"), by_hand);
    assert_eq!(code, 201, "{v}");
    succeeded(&w, 2);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());

    // A new process, nothing in memory: the state dir's start keys answer.
    let mut w = Watch::start(d, &args);
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", first));
    assert_eq!(v["alerts"][0]["result"], "duplicate", "{v}\n{}", w.text());
    assert_eq!(v["alerts"][0]["id"], id, "the duplicate names the run the firing started: {v}");
    let (code, v) = w.post("/api/runs", Some("t"), by_hand);
    assert_eq!((code, &v["result"]), (200, &serde_json::Value::from("duplicate")), "{v}");
    // A new firing of the alert is a new incident.
    let (_, v) = w.post("/api/alertmanager", Some("t"), &alert("firing", "2026-01-02T00:00:00Z"));
    assert_eq!(v["alerts"][0]["result"], "started", "{v}");
    succeeded(&w, 3);
    assert_eq!(std::fs::read_to_string(d.join("fired.txt")).expect("fired.txt"), "ran\nran\nran\n");
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}
