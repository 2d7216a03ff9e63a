//! Approvals raced: many `ripcord approve` / `ripcord deny` processes (and API calls) against one run that waits
//! for approval. Exactly one decision is recorded; every other is told it came too late and exits 1 (409 on
//! the API); the run follows the decision that won.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, text};
use support::watch::Watch;

const GATED: &str =
    "runbook gated {\n  level 1 {\n    approval required\n    step shell \"echo ${operator} > approved-by\"\n  }\n}\n";

fn runs_json(dir: &Path) -> Value {
    let out = Test::with_state_in(dir).args(["runs", "--format", "json"]).run();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("runs JSON")
}

/// The id of the one run once it waits for approval.
fn waiting_run(dir: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Some(r) = runs_json(dir).as_array().and_then(|a| a.first()).cloned()
            && r["status"] == "waiting_approval"
        {
            return r["id"].as_str().expect("id").to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the run never waited for approval");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `approval` records of the journal of `id`.
fn approvals(dir: &Path, id: &str) -> Vec<Value> {
    let body = std::fs::read_to_string(dir.join(format!("state/runs/{id}.jsonl"))).expect("journal");
    body.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|r| r["event"] == "approval")
        .collect()
}

/// Starts `ripcord run` of the gated level in `d`; the child and its run's id once it waits for approval.
fn start_gated(d: &Path) -> (std::process::Child, String) {
    let run = Test::with_state_in(d)
        .args(["run", "gated.runbook", "--level", "1", "--operator", "alice", "--reason", "race"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    (run, waiting_run(d))
}

#[test]
fn concurrent_approve_and_deny_processes_one_wins_the_rest_are_too_late() {
    let dir = support::dir_with(&[("gated.runbook", GATED)]);
    let d = dir.path();
    let (mut run, id) = start_gated(d);

    let deciders: Vec<(String, bool, std::process::Child)> = (0..16)
        .map(|i| {
            let approve = i % 2 == 0;
            let operator = format!("op{i}");
            let child = Test::with_state_in(d)
                .args([if approve { "approve" } else { "deny" }, &id, "--operator", &operator])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            (operator, approve, child)
        })
        .collect();
    let mut winners = Vec::new();
    for (operator, approve, child) in deciders {
        let out = child.wait_with_output().expect("wait");
        if out.status.success() {
            winners.push((operator, approve));
        } else {
            assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
            let err = text(&out.stderr);
            assert!(
                err.contains("too late: level 1 was already") || err.contains("not waiting for approval"),
                "a losing decision says why: {err}"
            );
        }
    }
    assert_eq!(winners.len(), 1, "exactly one decision wins: {winners:?}");
    let (operator, approved) = winners.remove(0);
    let status = run.wait().expect("wait for the run");
    let recorded = approvals(d, &id);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["operator"], operator.as_str());
    assert_eq!(recorded[0]["approved"], approved);
    assert_eq!(status.success(), approved, "the run follows the decision that won");
    assert_eq!(d.join("approved-by").exists(), approved);

    // Later still: the run has ended, so the decision is refused.
    let out = Test::with_state_in(d).args(["deny", &id, "--operator", "late"]).run();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_second_decision_after_the_first_is_told_who_decided_and_when() {
    let dir = support::dir_with(&[("gated.runbook", GATED)]);
    let d = dir.path();
    // The run is stopped before the decision is read: both decisions meet a waiting run.
    let (mut run, id) = start_gated(d);
    let _ = std::process::Command::new("kill").arg("-STOP").arg(run.id().to_string()).status();
    let first = Test::with_state_in(d).args(["deny", &id, "--operator", "carol"]).run();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = Test::with_state_in(d).args(["approve", &id, "--operator", "dave"]).run();
    let _ = std::process::Command::new("kill").arg("-CONT").arg(run.id().to_string()).status();
    assert_eq!(second.status.code(), Some(1));
    let err = text(&second.stderr);
    assert!(err.contains("too late: level 1 was already denied by carol at 20"), "{err}");
    assert!(err.contains("this decision was not recorded"), "{err}");
    assert_eq!(run.wait().expect("wait").code(), Some(1), "the denial stands");
    assert!(!d.join("approved-by").exists());
}

#[test]
fn api_decisions_race_one_is_accepted_the_rest_get_409() {
    let dir = support::dir_with(&[("gated.runbook", GATED), ("token", "t0k\n")]);
    let d = dir.path();
    let w = Watch::start(
        d,
        &["gated.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
    );
    let (code, v) =
        w.post("/api/runs", Some("t0k"), r#"{"operator":"alice","reason":"r","runbook":"gated","level":1}"#);
    assert_eq!(code, 201, "{v}");
    let id = v["id"].as_str().expect("id").to_string();
    w.wait_status(Duration::from_secs(10), "waiting for approval", |s| s["runs"][0]["status"] == "waiting_approval");
    let base = w.base.clone();
    let answers: Vec<(bool, u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (base, id) = (&base, &id);
                s.spawn(move || {
                    let approve = i % 2 == 0;
                    let path = format!("/api/runs/{id}/{}", if approve { "approve" } else { "deny" });
                    let body = format!(r#"{{"operator":"op{i}"}}"#);
                    let (code, body) =
                        support::watch::request(base, "POST", &path, &[("Authorization", "Bearer t0k")], &body)
                            .expect("POST");
                    (approve, code, body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let accepted: Vec<_> = answers.iter().filter(|(_, code, _)| *code == 200).collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    for (_, code, body) in &answers {
        assert!(*code == 200 || *code == 409, "{code} {body}");
    }
    let approved = accepted[0].0;
    let want = if approved { "succeeded" } else { "failed" };
    w.wait_status(Duration::from_secs(10), "the run to follow the accepted decision", |s| {
        s["runs"][0]["status"] == want
    });
    assert_eq!(approvals(d, &id).len(), 1);
}
