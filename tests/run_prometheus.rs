//! `verify CONDITION` against a REAL Prometheus (`/usr/bin/prometheus`, Debian's 2.42) started on loopback,
//! scraping a tiny exporter this test serves: the real binary reads the metric through
//! `/api/v1/query_range`, fails while the exporter says 0.2 and passes once it says 0.01 (also under an
//! `evaluate every` that does not divide the 5-minute lookback, which used to read a value one step old).
//!
//! Without the `prometheus` binary the test fails when `CI` is set and otherwise says it skips.
//! (`verify CONDITION` without `--prometheus` is covered in tests/run.rs.)

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, describe, text};
use support::installed;
use support::prometheus::{PROMETHEUS, scraped, wait_for_value};

/// `ripcord ARGS...` in `dir`, plain output (`RIPCORD_PLAIN=1`).
fn ripcord(dir: &Path, args: &[&str]) -> Test {
    Test::in_dir(dir).env("RIPCORD_PLAIN", "1").args(args)
}

fn run_level(dir: &Path, level: &str, prometheus: &str) -> Test {
    ripcord(
        dir,
        &[
            "run",
            "rb.runbook",
            "--level",
            level,
            "--operator",
            "alice",
            "--reason",
            "live verify",
            "--prometheus",
            prometheus,
            "--state-dir",
            "state",
        ],
    )
}

fn runs_json(dir: &Path) -> Vec<Value> {
    let out = ripcord(dir, &["runs", "--state-dir", "state", "--format", "json"]).run();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("runs JSON");
    doc.as_array().cloned().unwrap_or_else(|| panic!("`runs --format json` is not an array: {doc}"))
}

fn journal(dir: &Path, run_id: &str) -> Vec<Value> {
    let body = std::fs::read_to_string(dir.join("state/runs").join(format!("{run_id}.jsonl"))).expect("journal");
    body.lines().map(|l| serde_json::from_str(l).expect("every journal line is JSON")).collect()
}

fn step_end(records: &[Value]) -> &Value {
    records.iter().find(|r| r["event"] == "step_end").expect("a step_end record")
}

#[test]
fn verify_condition_against_a_real_prometheus() {
    let started = Instant::now();
    if !installed("verify_condition_against_a_real_prometheus", &[PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (exporter, prom) = scraped(d, 0.2);
    assert_eq!(prom.current(), Some(0.2), "the first scrape");
    let ready_after = started.elapsed();

    std::fs::write(
        d.join("rb.runbook"),
        "runbook live {\n  metric errors = promql \"app_errors_ratio\"\n  level 1 {\n    step verify errors < 0.05 within 6s every 1s\n  }\n  level 2 {\n    step verify errors < 0.05 within 20s every 1s\n  }\n}\n",
    )
    .expect("write the runbook");

    // 1. The exporter says 0.2 all along: the verify fails once `within` has passed, naming the condition.
    let t = Instant::now();
    let out = run_level(d, "1", &prom.url).run();
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}\nprometheus log:\n{}", describe(&out), prom.log());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("failed"), "{}", describe(&out));
    assert!(stdout.contains("`errors < 0.05` does not hold"), "{}", describe(&out));
    assert!(took >= Duration::from_secs(5), "the verify gave up after {took:?}, before its 6s `within`");
    assert!(took < Duration::from_secs(15), "the verify took {took:?} for a 6s `within`");
    let runs = runs_json(d);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "failed", "{runs:?}");
    let id = runs[0]["id"].as_str().expect("run id").to_string();
    let records = journal(d, &id);
    let end = step_end(&records);
    assert_eq!(end["outcome"], "failed", "{end}");
    assert!(end["detail"].as_str().is_some_and(|s| s.contains("errors < 0.05")), "{end}");
    assert_eq!(records.last().expect("records")["status"], "failed");
    assert!(records[0]["prometheus"] == prom.url.as_str(), "{}", records[0]);

    // 2. Regression: with `evaluate every 7s` (which does not divide the 5-minute lookback) the verify read the
    // value Prometheus had 6s earlier. Here 0.2 has held for more than 6s: a stale read fails this 3s verify.
    exporter.set(0.01);
    wait_for_value(&prom, 0.01);
    std::fs::write(
        d.join("rb7.runbook"),
        "runbook live_7s {\n  evaluate every 7s\n  metric errors = promql \"app_errors_ratio\"\n  level 1 {\n    step verify errors < 0.05 within 3s every 1s\n  }\n}\n",
    )
    .expect("write the runbook");
    let out = ripcord(
        d,
        &["run", "rb7.runbook", "--level", "1", "--operator", "alice", "--reason", "r", "--state-dir", "state"],
    )
    .args(["--prometheus", &prom.url])
    .run();
    assert!(out.status.success(), "the verify read a stale value: {}", describe(&out));
    let runs = runs_json(d);
    let seven = runs.iter().find(|r| r["runbook"] == "live_7s").unwrap_or_else(|| panic!("{runs:?}"));
    assert_eq!(seven["status"], "succeeded", "{runs:?}");
    let records = journal(d, seven["id"].as_str().expect("run id"));
    assert_eq!(step_end(&records)["detail"], "passed at check 1", "{}", step_end(&records));

    // 3. The exporter says 0.2 when the verify starts and drops to 0.01 while it polls: it passes at a later
    // check.
    exporter.set(0.2);
    wait_for_value(&prom, 0.2);
    let t = Instant::now();
    let child = run_level(d, "2", &prom.url).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    // Let at least two checks see 0.2 first.
    std::thread::sleep(Duration::from_millis(2500));
    exporter.set(0.01);
    let out = child.wait_with_output().expect("wait for ripcord");
    let took = t.elapsed();
    assert!(out.status.success(), "{}\nprometheus log:\n{}", describe(&out), prom.log());
    assert!(text(&out.stdout).contains("succeeded"), "{}", describe(&out));
    assert!(took < Duration::from_secs(12), "the verify took {took:?} to see the new value");
    assert_eq!(prom.current(), Some(0.01), "Prometheus scraped the new value");
    let runs = runs_json(d);
    assert_eq!(runs.len(), 3, "{runs:?}");
    let second = runs
        .iter()
        .find(|r| r["runbook"] == "live" && r["level"] == 2)
        .unwrap_or_else(|| panic!("a level 2 run: {runs:?}"));
    assert_eq!(second["status"], "succeeded", "{runs:?}");
    let id = second["id"].as_str().expect("run id").to_string();
    let records = journal(d, &id);
    let end = step_end(&records);
    assert_eq!(end["outcome"], "ok", "{end}");
    let checks: u32 = end["detail"]
        .as_str()
        .and_then(|s| s.strip_prefix("passed at check "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("a `passed at check N` detail: {end}"));
    assert!(checks >= 2, "the verify passed at check {checks}, before the exporter changed: {end}");
    assert_eq!(records.last().expect("records")["status"], "succeeded");

    eprintln!("real Prometheus ready with a first scrape after {ready_after:?}; whole test {:?}", started.elapsed());
}
