//! Trigger timing against promtool: every fixture in tests/promtool/fixtures was confirmed by
//! `promtool test rules` (Prometheus 2.42) when tests/promtool/generate.py made it. `ripcord simulate` must
//! fire at exactly the same evaluations.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::bin::Test;
use support::root;

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
fn simulate_fires_when_promtool_does() {
    let dir = root().join("tests/promtool/fixtures");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).expect("fixtures dir").flatten().map(|e| e.path()).collect();
    cases.sort();
    assert!(cases.len() >= 100, "expected at least 100 promtool fixtures, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).expect("expected.json"))
                .expect("json");
        let interval_s = expected["interval_s"].as_i64().expect("interval_s");
        let end_s = expected["end_s"].as_i64().expect("end_s");
        let trigger = expected["trigger"].as_str().expect("trigger");
        let want: BTreeSet<i64> =
            expected["firing"].as_array().expect("firing").iter().filter_map(Value::as_i64).collect();
        let out = Test::in_dir(case)
            .env_inherited("NO_COLOR")
            .args(["simulate", "case.runbook", "--series", "test.yml", "--format", "json", "--start", "0", "--end"])
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
    assert!(failures.is_empty(), "{} of {} fixtures disagree:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
