//! Per-series promtool fixtures (tests/promtool/series, tests/promtool/kinds): the firing times they
//! expect, the same read from `ripcord simulate --format json`, and the differences between the two.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A series' labels, and the evaluation times (seconds) it fires at.
pub type Timeline = BTreeMap<BTreeMap<String, String>, BTreeSet<i64>>;

/// The fixture directories under `tests/promtool/<dir>`, sorted; at least `min` of them.
pub fn fixtures(dir: &str, min: usize) -> Vec<PathBuf> {
    let path = super::root().join("tests/promtool").join(dir);
    let mut cases: Vec<_> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= min, "expected at least {min} fixtures in tests/promtool/{dir}, found {}", cases.len());
    cases
}

pub fn name_of(case: &Path) -> String {
    case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub struct Expected {
    pub interval_s: i64,
    pub end_s: i64,
    pub trigger: String,
    pub firing: Timeline,
}

pub fn expected(case: &Path) -> Expected {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).expect("expected.json"))
            .expect("json");
    let mut firing = Timeline::new();
    for s in json["series"].as_array().expect("series") {
        let labels: BTreeMap<String, String> = serde_json::from_value(s["labels"].clone()).expect("labels");
        let times = s["firing"].as_array().expect("firing").iter().filter_map(Value::as_i64).collect();
        firing.insert(labels, times);
    }
    Expected {
        interval_s: json["interval_s"].as_i64().expect("interval_s"),
        end_s: json["end_s"].as_i64().expect("end_s"),
        trigger: json["trigger"].as_str().expect("trigger").to_string(),
        firing,
    }
}

/// Per series, the evaluations at which `trigger` is firing, from `simulate --format json`'s transitions
/// (each with its series' `labels`).
pub fn simulated(output: &Value, want: &Expected) -> Timeline {
    let mut since: BTreeMap<BTreeMap<String, String>, i64> = BTreeMap::new();
    let mut out = Timeline::new();
    let step = usize::try_from(want.interval_s).unwrap_or(1);
    let transitions = output["transitions"].as_array().cloned().unwrap_or_default();
    for t in transitions.iter().filter(|t| t["trigger"] == want.trigger.as_str()) {
        let labels: BTreeMap<String, String> = serde_json::from_value(t["labels"].clone()).unwrap_or_default();
        let at = t["t"].as_i64().unwrap_or(-1);
        if let Some(from) = since.remove(&labels) {
            out.entry(labels.clone()).or_default().extend((from..at).step_by(step));
        }
        if t["state"] == "firing" {
            since.insert(labels, at);
        }
    }
    for (labels, from) in since {
        out.entry(labels).or_default().extend((from..=want.end_s).step_by(step));
    }
    out.retain(|_, times| !times.is_empty());
    out
}

pub fn differences(want: &Timeline, got: &Timeline) -> Vec<String> {
    let keys: BTreeSet<_> = want.keys().chain(got.keys()).collect();
    let empty = BTreeSet::new();
    keys.into_iter()
        .filter_map(|labels| {
            let (w, g) = (want.get(labels).unwrap_or(&empty), got.get(labels).unwrap_or(&empty));
            (w != g).then(|| {
                let missing: Vec<_> = w.difference(g).collect();
                let extra: Vec<_> = g.difference(w).collect();
                format!("{labels:?}: promtool fires at {missing:?} and ripcord does not; ripcord fires at {extra:?} and promtool does not")
            })
        })
        .collect()
}

/// Each fixture's disagreements between `ripcord simulate` of its `case.runbook` over `series` (a file in the
/// fixture) under `version` and the per-series firing times promtool confirmed; empty when they agree.
pub fn simulate_disagreements(cases: &[PathBuf], version: super::prometheus::Version, series: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let want = expected(case);
        let out = super::bin::Test::in_dir(case)
            .env_inherited("NO_COLOR")
            .args(["simulate", "case.runbook", "--series", series, "--format", "json"])
            .args(["--prometheus-version", version.flag(), "--start", "0", "--end"])
            .arg(want.end_s.to_string())
            .run();
        let name = name_of(case);
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
        let diff = differences(&want.firing, &simulated(&json, &want));
        if !diff.is_empty() {
            failures.push(format!("{name}:\n  {}", diff.join("\n  ")));
        }
    }
    failures
}
