//! SIGTERM and `watch --grace`: the running step ends on its own within the grace (journalled as succeeded, no
//! further step starts, the run is left `interrupted` for `ripcord resume`), and only a step still running when
//! the grace runs out is interrupted. Either way `watch` exits 0. No Prometheus is needed: runs start by the API.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::watch::Watch;

const RUNBOOK: &str = "runbook slow {\n  metric errors = promql \"app_errors_ratio\"\n  trigger high: errors > 0.1 -> level 1\n  level 1 {\n    step shell \"sleep 2; touch done\"\n    step shell \"touch second\"\n  }\n  level 2 {\n    step shell \"sleep 6; touch late\"\n  }\n}\n";

/// The only journal under `state/runs`, as records.
fn journal(d: &Path) -> Vec<Value> {
    let Some(path) = std::fs::read_dir(d.join("state/runs"))
        .ok()
        .and_then(|r| r.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "jsonl")))
    else {
        return Vec::new();
    };
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn has(records: &[Value], event: &str) -> bool {
    records.iter().any(|r| r["event"] == event)
}

/// Starts `level` through the API and waits until its first step has started.
fn start_level(d: &Path, grace: &str, level: u32) -> Watch {
    std::fs::write(d.join("slow.runbook"), RUNBOOK).expect("write");
    std::fs::write(d.join("token"), "t0k\n").expect("write");
    // Nothing listens on port 9 of loopback: queries fail, no trigger fires; runs start by the API only.
    let w = Watch::start_with_grace(
        d,
        &["slow.runbook", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state", "--token-file", "token"],
        grace,
    );
    let body = format!(r#"{{"operator":"alice","reason":"test","runbook":"slow","level":{level}}}"#);
    let (code, v) = w.post("/api/runs", Some("t0k"), &body);
    assert!(code == 200 || code == 201 || code == 202, "{code} {v}\n{}", w.text());
    let start = Instant::now();
    while !has(&journal(d), "step_start") {
        assert!(start.elapsed() < Duration::from_secs(10), "the step did not start:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    w
}

#[test]
fn sigterm_lets_the_running_step_end_within_the_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut w = start_level(d, "10s", 1);
    let t = Instant::now();
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    let took = t.elapsed();
    assert!(d.join("done").exists(), "the running step was cut:\n{}", w.text());
    assert!(!d.join("second").exists(), "a step started after SIGTERM:\n{}", w.text());
    assert!(took < Duration::from_secs(8), "watch waited {took:?}: it should exit once the step ended");
    let records = journal(d);
    let end = records.iter().find(|r| r["event"] == "step_end").unwrap_or_else(|| panic!("no step_end: {records:?}"));
    assert_eq!(end["step"], "L1.S1", "{records:?}");
    assert_eq!(end["outcome"], "ok", "{records:?}");
    let stopped = records.iter().find(|r| r["event"] == "interrupted").expect("interrupted is journalled");
    assert_eq!(stopped["signal"], "SIGTERM", "{records:?}");
    assert!(stopped.get("steps").is_none_or(|s| s.as_array().is_some_and(|a| a.is_empty())), "{records:?}");
}

#[test]
fn a_step_still_running_when_the_grace_ends_is_interrupted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut w = start_level(d, "1s", 2);
    let t = Instant::now();
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "watch took {took:?} with a 1s grace");
    std::thread::sleep(Duration::from_secs(1));
    assert!(!d.join("late").exists(), "the step was not interrupted");
    let records = journal(d);
    assert!(!has(&records, "step_end"), "{records:?}");
    let stopped = records.iter().find(|r| r["event"] == "interrupted").expect("interrupted is journalled");
    assert_eq!(stopped["signal"], "SIGTERM", "{records:?}");
    assert!(has(&records, "step_start"), "{records:?}");
}
