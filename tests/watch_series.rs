//! One run per firing series, against a REAL Prometheus scraping `disk_usage` for three instances: when one
//! crosses the threshold exactly its run starts, carrying its labels; a second crossing while the first run
//! goes starts its own (`max parallel 2`); each runs once; the third, below the threshold, never runs until
//! it crosses too, and then waits for room in its level and starts once a run ends. `/api/status`, the
//! status page and `/metrics` show the series.
//!
//! Without the `prometheus` binary the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::installed;
use support::prometheus::{FamilyExporter, PROMETHEUS, Version};
use support::watch::{Watch, runbook, trigger};

const RUNBOOK: &str = "runbook disk {\n  evaluate every 1s\n  metric usage = promql \"disk_usage\"\n  \
    trigger full: usage > 90 -> level 1\n  \
    level 1 {\n    max parallel 2\n    \
    step shell \"echo ${labels.instance} >> started.txt; while [ ! -f go-${labels.instance} ]; do sleep 0.1; done\"\n  \
    }\n}\n";

fn started(d: &Path) -> Vec<String> {
    std::fs::read_to_string(d.join("books/started.txt")).unwrap_or_default().lines().map(str::to_string).collect()
}

fn wait_started(w: &Watch, d: &Path, want: &[&str]) {
    let start = Instant::now();
    while started(d) != want {
        assert!(start.elapsed() < Duration::from_secs(20), "started {:?}, want {want:?}\n{}", started(d), w.text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn runs_of(s: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let instance = r["labels"]["instance"].as_str().unwrap_or_default().to_string();
            (instance, r["status"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn each_firing_series_starts_its_own_run_against_a_real_prometheus() {
    if !installed("each_firing_series_starts_its_own_run_against_a_real_prometheus", &[PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exporter = FamilyExporter::start("disk_usage", &[("a", 10.0), ("b", 10.0), ("c", 10.0)]);
    let prom = exporter.scraped_by(Version::V2, d, "disk_usage");
    std::fs::create_dir(d.join("books")).expect("mkdir");
    std::fs::write(d.join("books/disk.runbook"), RUNBOOK).expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);
    w.wait_status(Duration::from_secs(10), "the first evaluation", |s| {
        trigger(s, "disk", "full").is_some_and(|t| t["state"] == "inactive")
    });

    // b crosses: exactly its run starts, with its labels.
    exporter.set("b", 95.0);
    wait_started(&w, d, &["b"]);
    let s = w.wait_status(Duration::from_secs(10), "b's run", |s| runs_of(s) == [("b".into(), "running".into())]);
    let series = &trigger(&s, "disk", "full").expect("trigger")["series"];
    assert_eq!(series[0]["labels"]["instance"], "b", "{s}");
    assert_eq!(series[0]["state"], "firing", "{s}");

    // a crosses while b's run goes: its own run starts beside it (`max parallel 2`).
    exporter.set("a", 95.0);
    wait_started(&w, d, &["b", "a"]);
    let s = w.wait_status(Duration::from_secs(10), "two runs", |s| {
        runs_of(s) == [("a".into(), "running".into()), ("b".into(), "running".into())]
    });
    assert_eq!(trigger(&s, "disk", "full").expect("trigger")["series_count"], 2, "{s}");
    let (_, m) = w.get("/metrics");
    assert!(m.contains(r#"ripcord_trigger_series{runbook="disk",trigger="full",state="firing"} 2"#), "{m}");
    let (_, page) = w.get("/");
    assert!(page.contains("instance=&quot;a&quot;") && page.contains("instance=&quot;b&quot;"), "{page}");

    // c crosses while the level is full: it waits, first in line, and starts when b's run ends.
    exporter.set("c", 95.0);
    let s = w.wait_status(Duration::from_secs(10), "c waiting", |s| {
        runbook(s, "disk").is_some_and(|r| r["waiting"][0]["labels"]["instance"] == "c")
    });
    assert_eq!(runs_of(&s).len(), 2, "{s}");
    std::fs::write(d.join("books/go-b"), "").expect("write");
    wait_started(&w, d, &["b", "a", "c"]);
    for i in ["a", "c"] {
        std::fs::write(d.join(format!("books/go-{i}")), "").expect("write");
    }
    let s = w.wait_status(Duration::from_secs(15), "every run to end", |s| {
        runs_of(s).iter().filter(|(_, st)| st == "succeeded").count() == 3
    });
    // Each series ran once, with its labels.
    let runs = runs_of(&s);
    assert_eq!(
        runs,
        [("a".into(), "succeeded".into()), ("b".into(), "succeeded".into()), ("c".into(), "succeeded".into())],
        "{s}"
    );
    assert_eq!(started(d), ["b", "a", "c"]);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    drop(prom);
}

#[test]
fn a_series_below_the_threshold_never_runs() {
    if !installed("a_series_below_the_threshold_never_runs", &[PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exporter = FamilyExporter::start("disk_usage", &[("a", 10.0), ("b", 95.0), ("c", 10.0)]);
    let prom = exporter.scraped_by(Version::V2, d, "disk_usage");
    std::fs::create_dir(d.join("books")).expect("mkdir");
    let book = RUNBOOK
        .replace("    max parallel 2\n", "")
        .replace("while [ ! -f go-${labels.instance} ]; do sleep 0.1; done", "true");
    std::fs::write(d.join("books/disk.runbook"), book).expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);
    let s =
        w.wait_status(Duration::from_secs(15), "b's run to end", |s| runs_of(s) == [("b".into(), "succeeded".into())]);
    // b keeps firing: no second run; a and c never cross.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(runs_of(&w.status()), runs_of(&s));
    assert_eq!(started(d), ["b"]);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    drop(prom);
}
