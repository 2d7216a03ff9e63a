//! Trigger timing against promtool: every fixture in tests/promtool/fixtures holds its firing times under
//! Prometheus 2.42 (`expected.json`'s `firing`, asserted by `test.yml`) and under Prometheus 3.5
//! (`firing_v3`, asserted by `test.v3.yml`), both confirmed by that version's `promtool test rules` when
//! tests/promtool/generate.py made them. `ripcord simulate --prometheus-version N` must fire at exactly the
//! evaluations of version N; and each version's promtool is run on its test files again here, so the
//! fixtures stay confirmed (skipped without promtool unless `CI` is set).

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::bin::Test;
use support::prometheus::Version;
use support::{installed, root};

fn fixtures() -> Vec<PathBuf> {
    let dir = root().join("tests/promtool/fixtures");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).expect("fixtures dir").flatten().map(|e| e.path()).collect();
    cases.sort();
    assert!(cases.len() >= 100, "expected at least 100 promtool fixtures, found {}", cases.len());
    cases
}

/// `expected.json`'s key and the promtool test file for `version`.
fn files(version: Version) -> (&'static str, &'static str) {
    match version {
        Version::V2 => ("firing", "test.yml"),
        Version::V3 => ("firing_v3", "test.v3.yml"),
    }
}

fn firing_times(output: &Value, trigger: &str, interval_s: i64, end_s: i64) -> BTreeSet<i64> {
    let mut firing = BTreeSet::new();
    let mut since: Option<i64> = None;
    let transitions = output["transitions"].as_array().cloned().unwrap_or_default();
    for t in transitions.iter().filter(|t| t["trigger"] == trigger) {
        let at = t["t"].as_i64().unwrap_or(-1);
        if let Some(from) = since.take() {
            firing.extend((from..at).step_by(interval_s as usize));
        }
        if t["state"] == "firing" {
            since = Some(at);
        }
    }
    if let Some(from) = since {
        firing.extend((from..=end_s).step_by(interval_s as usize));
    }
    firing
}

#[test]
fn simulate_2_fires_when_promtool_2_42_does() {
    simulate_fires_when_promtool_does(Version::V2);
}

#[test]
fn simulate_3_fires_when_promtool_3_5_does() {
    simulate_fires_when_promtool_does(Version::V3);
}

/// The fixtures still pass `promtool test rules` of their version: one run per version over every file.
#[test]
fn every_fixture_is_confirmed_by_promtool_of_its_version() {
    for version in Version::ALL {
        let tool = version.promtool();
        if !installed("every_fixture_is_confirmed_by_promtool_of_its_version", &[&tool]) {
            continue;
        }
        let (_, test_file) = files(version);
        let cases = fixtures();
        let mut failed = Vec::new();
        // promtool resolves `rule_files` against the working directory, so each case runs in its own.
        for case in &cases {
            let out =
                Command::new(&tool).current_dir(case).args(["test", "rules", test_file]).output().expect("promtool");
            if !out.status.success() {
                let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                failed.push(format!(
                    "{name}: {}",
                    String::from_utf8_lossy(&out.stderr).chars().take(400).collect::<String>()
                ));
            }
        }
        assert!(failed.is_empty(), "{tool}: {} of {} fixtures fail:\n{}", failed.len(), cases.len(), failed.join("\n"));
    }
}

fn simulate_fires_when_promtool_does(version: Version) {
    let cases = fixtures();
    let (key, _) = files(version);
    let mut failures = Vec::new();
    for case in &cases {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).expect("expected.json"))
                .expect("json");
        let interval_s = expected["interval_s"].as_i64().expect("interval_s");
        let end_s = expected["end_s"].as_i64().expect("end_s");
        let trigger = expected["trigger"].as_str().expect("trigger");
        let want: BTreeSet<i64> = expected[key].as_array().expect("firing").iter().filter_map(Value::as_i64).collect();
        let out = Test::in_dir(case)
            .env_inherited("NO_COLOR")
            .args(["simulate", "case.runbook", "--series", "test.yml", "--format", "json", "--prometheus-version"])
            .arg(version.flag())
            .args(["--start", "0", "--end"])
            .arg(end_s.to_string())
            .run();
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !out.status.success() {
            failures.push(format!("{name}: exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let json: Value = match serde_json::from_slice(&out.stdout) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: output is not JSON: {e}"));
                continue;
            }
        };
        let got = firing_times(&json, trigger, interval_s, end_s);
        if got != want {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            failures.push(format!("{name}: promtool fires at {missing:?} and ripcord does not; ripcord fires at {extra:?} and promtool does not"));
        }
    }
    assert!(
        failures.is_empty(),
        "Prometheus {}: {} of {} fixtures disagree:\n{}",
        version.flag(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
