//! `ripcord simulate` through the real binary: bundled incidents (timeline and JSON snapshots), what-if
//! options, the chart's structure, bad input, and the absence of side effects.

mod support;

use std::path::Path;

use serde_json::Value;
use support::bin::ripcord;
use support::root;

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Every incident in examples/incidents/ that has a runbook of the same name.
fn incidents() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let dir = root().join("examples/incidents");
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("incidents").flatten().map(|e| e.path()).collect();
    entries.sort();
    for csv in entries.into_iter().filter(|p| p.extension().is_some_and(|e| e == "csv")) {
        let stem = csv.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let runbook = format!("runbooks/{stem}.runbook");
        if root().join(&runbook).exists() {
            let csv = format!("examples/incidents/{stem}.csv");
            out.push((stem, runbook, csv));
        }
    }
    out
}

#[test]
fn bundled_incidents_snapshot_timeline_and_json() {
    let cases = incidents();
    assert!(cases.len() >= 5, "expected an incident per runbook, found {}", cases.len());
    // The incidents were recorded and reviewed under Prometheus 2.42's semantics. Under Prometheus 3's (the
    // default) none of their samples sits on a window's or the lookback's left edge where it would decide a
    // comparison, so the timeline is the same but for the header.
    for (name, runbook, csv) in cases {
        let v2 = ["--prometheus-version", "2"];
        let text = ripcord(root(), &[&["simulate", &runbook, "--series", &csv][..], &v2].concat());
        assert!(text.status.success(), "{name}: {}", String::from_utf8_lossy(&text.stderr));
        insta::assert_snapshot!(format!("{name}_timeline"), String::from_utf8_lossy(&text.stdout));
        let j =
            json(&ripcord(root(), &[&["simulate", &runbook, "--series", &csv, "--format", "json"][..], &v2].concat()));
        insta::assert_json_snapshot!(format!("{name}_json"), j);
        let v3 = ripcord(root(), &["simulate", &runbook, "--series", &csv]);
        assert!(v3.status.success(), "{name}: {}", String::from_utf8_lossy(&v3.stderr));
        assert_eq!(
            String::from_utf8_lossy(&v3.stdout),
            String::from_utf8_lossy(&text.stdout).replacen("as Prometheus 2 does", "as Prometheus 3 does", 1),
            "{name}"
        );
    }
}

/// The bundled storage-migration incident simulated, as JSON.
fn storage_migration_json() -> Value {
    json(&ripcord(
        root(),
        &[
            "simulate",
            "runbooks/storage-migration.runbook",
            "--series",
            "examples/incidents/storage-migration.csv",
            "--format",
            "json",
        ],
    ))
}

/// Samples on the evaluation grid and a window of four intervals: Prometheus 2 counts five samples in
/// `[t - 1m, t]`, Prometheus 3 four in `(t - 1m, t]`; the last sample is seen 5m later by 2, not by 3.
#[test]
fn the_prometheus_version_decides_samples_on_the_left_edge() {
    let runbook = "runbook edge {\n  evaluate every 15s\n  trigger full: count_over(x, 1m) >= 5 -> level 1\n  \
                   trigger seen: x > 0 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
    let csv: String = std::iter::once("time,metric,value\n".to_string())
        .chain((0..=8).map(|i| format!("{},x,1\n", i * 15)))
        .collect();
    let dir = support::dir_with(&[("edge.runbook", runbook), ("x.csv", &csv)]);
    let firing = |version: &str, trigger: &str| -> Vec<(i64, String)> {
        let args = ["simulate", "edge.runbook", "--series", "x.csv", "--format", "json", "--end", "500"];
        let j = json(&ripcord(dir.path(), &[&args[..], &["--prometheus-version", version]].concat()));
        assert_eq!(j["prometheus_version"].as_str().map(str::to_string), None, "a number");
        j["transitions"]
            .as_array()
            .expect("transitions")
            .iter()
            .filter(|t| t["trigger"] == trigger)
            .map(|t| (t["t"].as_i64().unwrap_or(-1), t["state"].as_str().unwrap_or_default().to_string()))
            .collect()
    };
    let states = |v: &[(i64, &str)]| v.iter().map(|(t, s)| (*t, (*s).to_string())).collect::<Vec<_>>();
    // 2: five samples from 60 s to 120 s (the last sample); 3: never more than four.
    assert_eq!(firing("2", "full"), states(&[(60, "firing"), (135, "inactive")]));
    assert_eq!(firing("3", "full"), Vec::new());
    // The last sample (120 s) is seen through 420 s by 2, through 405 s by 3.
    assert_eq!(firing("2", "seen"), states(&[(0, "firing"), (435, "inactive")]));
    assert_eq!(firing("3", "seen"), states(&[(0, "firing"), (420, "inactive")]));
}

#[test]
fn json_has_exactly_the_documented_shape() {
    let j = storage_migration_json();
    let keys = |v: &Value| -> Vec<String> { v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default() };
    let mut top = keys(&j);
    top.sort();
    assert_eq!(top, ["end", "interval_s", "prometheus_version", "runbook", "runs", "start", "transitions"]);
    assert_eq!(j["interval_s"], 15);
    assert_eq!(j["prometheus_version"], 3, "the default");
    let t = &j["transitions"][0];
    let mut tk = keys(t);
    tk.sort();
    assert_eq!(tk, ["state", "t", "trigger", "value"]);
    let run = &j["runs"][0];
    let mut rk = keys(run);
    rk.sort();
    assert_eq!(rk, ["escalated_to", "id", "level", "outcome", "steps", "t", "trigger"]);
    let mut sk = keys(&run["steps"][0]);
    sk.sort();
    assert_eq!(sk, ["id", "kind", "outcome", "t"]);
}

#[test]
fn the_storage_migration_incident_escalates() {
    let j = storage_migration_json();
    let runs = j["runs"].as_array().expect("runs");
    assert!(runs.iter().any(|r| r["outcome"] == "escalated"), "no escalation in {runs:#?}");
}

const SMALL: &str = r#"
runbook small {
  evaluate every 15s
  trigger high: x > 10 for 30s -> level 1
  level 1 "first" {
    on failure escalate level 2
    step shell "touch /tmp/ripcord-simulate-must-not-create-this" timeout 5s retry 2 backoff 10s
    step verify x < 5 within 1m every 15s
  }
  level 2 "second" {
    approval required
    step shell "echo two" timeout 5s
  }
}
"#;

/// x is 1 until 60s, 20 from 60s to 240s, then 1 again: `high` is pending at 60s and fires at 90s.
const SMALL_SERIES: &str = "time,metric,value\n0,x,1\n15,x,1\n30,x,1\n45,x,1\n60,x,20\n75,x,20\n90,x,20\n105,x,20\n120,x,20\n135,x,20\n150,x,20\n165,x,20\n180,x,20\n195,x,20\n210,x,20\n225,x,20\n240,x,1\n255,x,1\n270,x,1\n285,x,1\n300,x,1\n";

/// `ripcord simulate small.runbook --series x.csv EXTRA...` in `dir`.
fn simulate_small(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["simulate", "small.runbook", "--series", "x.csv"];
    args.extend_from_slice(extra);
    ripcord(dir, &args)
}

fn small_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("small.runbook"), SMALL).expect("write");
    std::fs::write(dir.path().join("x.csv"), SMALL_SERIES).expect("write");
    dir
}

#[test]
fn timing_verify_on_the_series_and_no_side_effects() {
    let dir = small_dir();
    let j = json(&simulate_small(dir.path(), &["--format", "json"]));
    let states: Vec<(i64, String)> = j["transitions"]
        .as_array()
        .expect("t")
        .iter()
        .map(|t| (t["t"].as_i64().unwrap_or(-1), t["state"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(states, [(60, "pending".into()), (90, "firing".into()), (240, "inactive".into())]);
    let run = &j["runs"][0];
    assert_eq!(run["t"], 90);
    // verify x < 5 polls every 15s for a minute from 90s: x stays 20 until 240s, so it fails at 150s.
    assert_eq!(run["steps"][1]["outcome"], "failed");
    assert_eq!(run["outcome"], "escalated");
    assert_eq!(run["escalated_to"], 2);
    assert_eq!(j["runs"][1]["t"], 150);
    assert_eq!(j["runs"][1]["outcome"], "succeeded");
    assert!(!Path::new("/tmp/ripcord-simulate-must-not-create-this").exists(), "simulation ran a command");
}

#[test]
fn injected_failures_retry_with_backoff_and_denied_approval_fails() {
    let dir = small_dir();
    let j = json(&simulate_small(dir.path(), &["--format", "json", "--fail", "L1.S1", "--approve", "2=deny"]));
    let first = &j["runs"][0];
    assert_eq!(first["steps"][0]["outcome"], "failed");
    assert_eq!(first["steps"][1]["outcome"], "skipped");
    // Two retries with 10s backoff doubling: 10s + 20s after 90s.
    assert_eq!(j["runs"][1]["t"], 120);
    assert_eq!(j["runs"][1]["outcome"], "failed");
    assert_eq!(j["runs"][1]["steps"][0]["outcome"], "skipped");
}

#[test]
fn approval_after_a_delay_starts_steps_later() {
    let dir = small_dir();
    let j = json(&simulate_small(dir.path(), &["--format", "json", "--approve", "2=after:5m"]));
    assert_eq!(j["runs"][1]["t"], 150);
    assert_eq!(j["runs"][1]["steps"][0]["t"], 450);
}

#[test]
fn the_chart_has_one_line_per_metric_one_region_per_firing_interval_and_one_marker_per_run() {
    let dir = small_dir();
    let out = simulate_small(dir.path(), &["--chart", "out.svg", "--format", "json"]);
    let j = json(&out);
    let svg = std::fs::read_to_string(dir.path().join("out.svg")).expect("chart written");
    let doc = roxmltree::Document::parse(&svg).expect("the chart is well-formed XML");
    let count = |tag: &str, attr: &str, value: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name(tag) && n.attribute(attr).is_some_and(|v| v.eq_ignore_ascii_case(value)))
            .count()
    };
    assert_eq!(count("polyline", "stroke", "#1F77B4"), 1, "one line for metric x");
    assert_eq!(count("rect", "fill", "#D62728"), 1, "one firing interval (90s to 240s)");
    assert_eq!(count("rect", "fill", "#FFC83C"), 1, "one pending interval (60s to 90s)");
    let runs = j["runs"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(count("rect", "fill", "#9467BD"), runs, "one marker per run");
}

#[test]
fn bad_series_input_is_a_diagnostic_with_file_and_line() {
    let dir = small_dir();
    std::fs::write(dir.path().join("bad.csv"), "time,metric,value\n0,x,1\n30,x,2\n15,x,3\n").expect("write");
    let out = ripcord(dir.path(), &["simulate", "small.runbook", "--series", "bad.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RC402") && err.contains("bad.csv") && err.contains(":4:"), "{err}");

    std::fs::write(dir.path().join("nan.csv"), "time,metric,value\n0,x,abc\n").expect("write");
    let out = ripcord(dir.path(), &["simulate", "small.runbook", "--series", "nan.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RC403"));

    std::fs::write(dir.path().join("y.csv"), "time,metric,value\n0,y,1\n").expect("write");
    let out = ripcord(dir.path(), &["simulate", "small.runbook", "--series", "y.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RC404") && err.contains("small.runbook"), "{err}");
}

#[test]
fn bad_options_are_refused() {
    let dir = small_dir();
    let out = simulate_small(dir.path(), &["--fail", "L1.S9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RC406"));
    let out = simulate_small(dir.path(), &["--approve", "2=later"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ripcord(dir.path(), &["simulate", "small.runbook"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rfc3339_in_gives_rfc3339_out() {
    let dir = small_dir();
    std::fs::write(
        dir.path().join("dated.jsonl"),
        (0..30)
            .map(|i| {
                format!(
                    "{{\"time\":\"2026-11-01T10:{:02}:{:02}Z\",\"metric\":\"x\",\"value\":{}}}\n",
                    i * 15 / 60,
                    i * 15 % 60,
                    if (4..16).contains(&i) { 20 } else { 1 }
                )
            })
            .collect::<String>(),
    )
    .expect("write");
    let j = json(&ripcord(dir.path(), &["simulate", "small.runbook", "--series", "dated.jsonl", "--format", "json"]));
    assert_eq!(j["start"], "2026-11-01T10:00:00Z");
    assert_eq!(j["transitions"][1]["t"], "2026-11-01T10:01:30Z");
}
