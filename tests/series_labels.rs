//! Series files with labels through the real binary: a trigger simulated over a CSV and a JSON Lines file that
//! hold two series of one metric fires for each series on its own (one run each), and label mistakes are
//! diagnostics that point into the file.

mod support;

use serde_json::Value;
use support::bin::{describe, ripcord, text};
use support::dir_with;

const RUNBOOK: &str = "runbook disks {\n  evaluate every 15s\n  trigger full: disk_used > 0.9 for 30s -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

/// `disk_used` for two mounts: `/` (host a) crosses at 15s, `/data` is high from 0s until 60s. Labels in the
/// `labels` column, in either quoting, and once after the metric name.
const CSV: &str = "\
time,metric,labels,value
0,disk_used,\"{mount=\"\"/\"\", host='a'}\",0.5
0,disk_used,{mount='/data'},0.95
15,disk_used,\"{host='a', mount=\"\"/\"\"}\",0.95
15,disk_used,{mount='/data'},0.95
30,disk_used,\"{mount=\"\"/\"\", host='a'}\",0.95
30,disk_used,{mount='/data'},0.95
45,disk_used,\"{mount=\"\"/\"\", host='a'}\",0.95
45,disk_used,{mount='/data'},0.95
60,disk_used,\"{mount=\"\"/\"\", host='a'}\",0.95
60,disk_used{mount=\"/data\"},,0.5
";

/// The same samples as JSON Lines.
fn jsonl() -> String {
    let mut out = String::new();
    for (t, root, data) in [(0, 0.5, 0.95), (15, 0.95, 0.95), (30, 0.95, 0.95), (45, 0.95, 0.95), (60, 0.95, 0.5)] {
        out.push_str(&format!(
            "{{\"time\": {t}, \"metric\": \"disk_used\", \"labels\": {{\"mount\": \"/\", \"host\": \"a\"}}, \"value\": {root}}}\n"
        ));
        out.push_str(&format!("{{\"time\": {t}, \"metric\": \"disk_used{{mount='/data'}}\", \"value\": {data}}}\n"));
    }
    out
}

fn simulate(dir: &std::path::Path, series: &str) -> Value {
    let out = ripcord(dir, &["simulate", "rb.runbook", "--series", series, "--format", "json"]);
    assert!(out.status.success(), "{series}: {}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn each_series_of_a_labelled_file_fires_on_its_own() {
    let dir = dir_with(&[("rb.runbook", RUNBOOK), ("s.csv", CSV), ("s.jsonl", &jsonl())]);
    let from_csv = simulate(dir.path(), "s.csv");
    let from_jsonl = simulate(dir.path(), "s.jsonl");
    assert_eq!(from_csv, from_jsonl, "the CSV and the JSON Lines file hold the same series");
    // `/data` is pending at 0s and fires at 30s; `/` is pending at 15s and fires at 45s; one run each.
    let transitions = from_csv["transitions"].as_array().expect("transitions");
    let at = |state: &str| -> Vec<(i64, Option<Value>)> {
        transitions
            .iter()
            .filter(|t| t["state"] == state)
            .map(|t| (t["t"].as_i64().expect("t"), t.get("labels").cloned()))
            .collect()
    };
    let firing = at("firing");
    assert_eq!(firing.iter().map(|f| f.0).collect::<Vec<_>>(), [30, 45], "{from_csv:#}");
    assert_eq!(at("pending").iter().map(|f| f.0).collect::<Vec<_>>(), [0, 15], "{from_csv:#}");
    let runs = from_csv["runs"].as_array().expect("runs");
    assert_eq!(runs.iter().map(|r| r["t"].as_i64().expect("t")).collect::<Vec<_>>(), [30, 45], "{from_csv:#}");
    // Each firing names its own series.
    let data = serde_json::json!({"mount": "/data"});
    let root = serde_json::json!({"host": "a", "mount": "/"});
    for ((_, labels), want) in firing.iter().zip([data, root]) {
        assert_eq!(labels.as_ref(), Some(&want), "{from_csv:#}");
    }
}

#[test]
fn label_mistakes_in_series_files_point_into_the_file() {
    let dir = dir_with(&[
        ("rb.runbook", RUNBOOK),
        ("twice.csv", "time,metric,labels,value\n0,disk_used,,1\n0,disk_used{mount='/'},{host='a'},1\n"),
        ("bad.csv", "time,metric,labels,value\n0,disk_used,\"{mount=\"\"/\"\", mount='/'}\",1\n"),
        ("escape.jsonl", "{\"time\": 0, \"metric\": \"disk_used{mount=\\\"\\\\q\\\"}\", \"value\": 1}\n"),
        (
            "order.jsonl",
            "{\"time\": 5, \"metric\": \"disk_used\", \"labels\": {\"mount\": \"/\"}, \"value\": 1}\n{\"time\": 9, \"metric\": \"disk_used\", \"value\": 1}\n{\"time\": 5, \"metric\": \"disk_used\", \"labels\": {\"mount\": \"/\"}, \"value\": 1}\n",
        ),
    ]);
    let cases: &[(&str, &[&str])] = &[
        ("twice.csv", &["RC401", "twice.csv:3:", "this row gives labels twice"]),
        ("bad.csv", &["RC401", "bad.csv:2:28", "the label `mount` is given twice", "first here"]),
        ("escape.jsonl", &["RC401", "escape.jsonl:1:13", "`\\q` is not an escape PromQL knows"]),
        ("order.jsonl", &["RC402", "order.jsonl:3:", "`disk_used{mount=\"/\"}` has two samples at 5"]),
    ];
    for (file, wanted) in cases {
        let out = ripcord(dir.path(), &["simulate", "rb.runbook", "--series", file]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", describe(&out));
        let err = text(&out.stderr);
        for w in *wanted {
            assert!(err.contains(w), "{file}: `{w}` is not in\n{err}");
        }
    }
}

#[test]
fn the_documented_label_examples_read() {
    let doc = std::fs::read_to_string(support::root().join("docs/simulation.md")).expect("docs/simulation.md");
    let labels = doc.split("### Labels").nth(1).expect("a Labels section");
    let labels = labels.split("\n## ").next().unwrap_or(labels);
    let runbook = "runbook disks {\n  evaluate every 15s\n  trigger full: disk_used > 0.9 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";
    let mut read = 0;
    for (opening, name) in [("```csv", "s.csv"), ("```json", "s.jsonl"), ("```yaml", "s.yaml")] {
        for block in support::fenced_blocks(labels, &[opening], false) {
            let dir = dir_with(&[("rb.runbook", runbook), (name, &block)]);
            let out = ripcord(dir.path(), &["simulate", "rb.runbook", "--series", name, "--format", "json"]);
            assert!(out.status.success(), "{name}:\n{block}\n{}", describe(&out));
            read += 1;
        }
    }
    assert_eq!(read, 3, "one example per format");
}
