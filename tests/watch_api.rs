//! `ripcord watch` HTTP API without a Prometheus (queries fail, are counted, change no trigger):
//! bearer-token auth on POSTs, the Alertmanager webhook (started, duplicate, unknown runbook), `/healthz`,
//! `/metrics`, the status page, refusing a non-loopback listen without a token, and SIGTERM exiting 0.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::bin::Test;
use support::watch::{Watch, runbook, trigger};

const RUNBOOK: &str = "runbook api {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  trigger high: errors > 0.1 for 3s -> level 1\n  level 1 {\n    step shell \"echo ran > fired.txt\"\n  }\n}\n";

fn alert(fingerprint: &str, runbook: &str) -> String {
    format!(
        r#"{{"version":"4","status":"firing","alerts":[{{"status":"firing","labels":{{"alertname":"X","ripcord_runbook":"{runbook}","ripcord_level":"1"}},"annotations":{{"summary":"s"}},"startsAt":"2026-01-01T00:00:00Z","fingerprint":"{fingerprint}"}}]}}"#
    )
}

#[test]
fn api_auth_alertmanager_and_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("books")).expect("mkdir");
    std::fs::write(d.join("books/api.runbook"), RUNBOOK).expect("write");
    std::fs::write(d.join("token"), "s3cret\n").expect("write");
    // Nothing listens on port 9 of loopback: every query fails.
    let mut w = Watch::start(
        d,
        &["books", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );

    let (code, body) = w.get("/healthz");
    assert_eq!(code, 200, "{body}");

    let s = w.status();
    let rb = runbook(&s, "api").expect("runbook api");
    assert_eq!(rb["last_reload"]["ok"], true, "{s}");
    assert!(rb["last_reload"]["error"].is_null(), "{s}");
    assert_eq!(trigger(&s, "api", "high").expect("trigger")["state"], "inactive");
    assert!(s["runs"].as_array().is_some_and(|r| r.is_empty()), "{s}");

    // POSTs need the token.
    let (code, _) = w.post("/api/alertmanager", None, &alert("fp1", "api"));
    assert_eq!(code, 401);
    let (code, _) = w.post("/api/alertmanager", Some("wrong"), &alert("fp1", "api"));
    assert_eq!(code, 403);
    let (code, _) = w.post("/api/runs", None, r#"{"operator":"a","reason":"r","runbook":"api","level":1}"#);
    assert_eq!(code, 401);

    let (code, v) = w.post("/api/alertmanager", Some("s3cret"), &alert("fp1", "api"));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["alerts"][0]["result"], "started", "{v}");
    let (code, v) = w.post("/api/alertmanager", Some("s3cret"), &alert("fp1", "api"));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["alerts"][0]["result"], "duplicate", "{v}");
    let (_, v) = w.post("/api/alertmanager", Some("s3cret"), &alert("fp2", "nope"));
    assert_eq!(v["alerts"][0]["result"], "unknown runbook", "{v}");
    // An alert that does not say whether it fires is refused, with the reason.
    let (code, v) = w.post("/api/alertmanager", Some("s3cret"), r#"{"alerts":[{}]}"#);
    assert_eq!(code, 400, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("no `status`")), "{v}");

    // The level's shell step really ran, in the runbook's directory, journalled like `ripcord run`.
    let start = Instant::now();
    while !d.join("books/fired.txt").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the step did not run:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    let s = w.wait_status(Duration::from_secs(10), "the run to succeed", |s| s["runs"][0]["status"] == "succeeded");
    let id = s["runs"][0]["id"].as_str().expect("run id").to_string();
    assert_eq!(s["runs"][0]["runbook"], "api");
    let (code, body) = w.get(&format!("/api/runs/{id}"));
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("L1.S1"), "{body}");
    let (code, _) = w.get("/api/runs/nope");
    assert_eq!(code, 404);

    // Query errors are counted and leave the trigger inactive.
    let start = Instant::now();
    loop {
        let (_, m) = w.get("/metrics");
        let step_counted =
            m.contains("ripcord_step_duration_seconds_count{runbook=\"api\",kind=\"shell\",outcome=\"ok\"} 1");
        if step_counted && m.lines().any(|l| l.starts_with("ripcord_query_errors_total ") && !l.ends_with(" 0")) {
            assert!(m.contains("ripcord_evaluations_total{runbook=\"api\"}"), "{m}");
            assert!(m.contains("ripcord_runs_total{"), "{m}");
            assert!(
                m.contains("ripcord_step_duration_seconds_count{runbook=\"api\",kind=\"shell\",outcome=\"ok\"} 1"),
                "the run's step duration is not in /metrics:\n{m}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no query error or step duration counted:\n{m}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(trigger(&w.status(), "api", "high").expect("trigger")["state"], "inactive");

    let (code, page) = w.get("/");
    assert_eq!(code, 200);
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(page.contains(&id), "{page}");

    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}

#[test]
fn refuses_to_listen_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.runbook"), RUNBOOK).expect("write");
    let out = Test::in_dir(dir.path())
        .env_inherited("NO_COLOR")
        .args(["watch", "a.runbook", "--prometheus", "http://127.0.0.1:9", "--listen", "0.0.0.0:0"])
        .run();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without --token-file"));
}

const GATED: &str = "runbook gated {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  level 1 {\n    approval required\n    step shell \"echo ok > approved.txt\"\n  }\n  level 2 {\n    step shell \"sleep 30\"\n  }\n}\n";

/// `POST /api/runs` then `/approve` through the same approvals as `ripcord approve`; an interrupted run in the
/// journal is reported at start and left for `resume`.
#[test]
fn start_approve_and_interrupted_runs_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("gated.runbook"), GATED).expect("write");
    std::fs::write(d.join("token"), "t0k\n").expect("write");

    // An interrupted run, made by `ripcord run` and SIGTERM.
    let mut run = Test::in_dir(d)
        .args(["run", "gated.runbook", "--level", "2", "--operator", "a", "--reason", "r", "--state-dir", "state"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let start = Instant::now();
    loop {
        let runs = std::fs::read_dir(d.join("state/runs")).map(|r| r.count()).unwrap_or(0);
        let journal = std::fs::read_dir(d.join("state/runs"))
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
            .and_then(|e| std::fs::read_to_string(e.path()).ok())
            .unwrap_or_default();
        if runs == 1 && journal.contains("step_start") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the run did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").arg("-TERM").arg(run.id().to_string()).status();
    let _ = run.wait();

    let mut w = Watch::start(
        d,
        &["gated.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );
    assert!(w.text().contains("was interrupted; it is left for `ripcord resume"), "{}", w.text());
    let s = w.status();
    assert_eq!(s["runs"][0]["status"], "interrupted", "{s}");

    let body = r#"{"operator":"alice","reason":"by hand","runbook":"gated","level":1}"#;
    let (code, v) = w.post("/api/runs", Some("t0k"), body);
    assert_eq!(code, 201, "{v}\n{}", w.text());
    let id = v["id"].as_str().expect("id").to_string();
    let (code, _) = w.post("/api/runs", Some("t0k"), body);
    assert_eq!(code, 409, "a second run of the same runbook is busy");
    w.wait_status(Duration::from_secs(10), "waiting for approval", |s| {
        s["runs"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["id"] == id.as_str() && r["status"] == "waiting_approval"))
    });
    let (code, _) = w.post(&format!("/api/runs/{id}/approve"), None, "{}");
    assert_eq!(code, 401);
    let (code, v) = w.post(&format!("/api/runs/{id}/approve"), Some("t0k"), r#"{"operator":"bob"}"#);
    assert_eq!(code, 200, "{v}");
    w.wait_status(Duration::from_secs(10), "the approved run to succeed", |s| {
        s["runs"].as_array().is_some_and(|r| r.iter().any(|r| r["id"] == id.as_str() && r["status"] == "succeeded"))
    });
    assert!(d.join("approved.txt").exists());
    // The interrupted run was never restarted.
    let s = w.status();
    assert!(s["runs"].as_array().is_some_and(|r| r.iter().any(|r| r["status"] == "interrupted")), "{s}");
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
}
