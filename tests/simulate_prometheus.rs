//! `ripcord simulate --from-prometheus`: a backtest over history in a real Prometheus 2.42. The history is
//! backfilled into its TSDB with `promtool tsdb create-blocks-from openmetrics` (samples from 3h to 1h ago, so
//! the blocks lie outside the head's range), and the result must agree with `simulate --series` over a CSV of
//! the same samples when the query is the plain metric name and the step equals the sample spacing. A query of
//! several series brings every one back with its labels; two equal once their names are dropped are refused.
//!
//! Without the `prometheus` or `promtool` binary the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::bin::{describe, ripcord, text};
use support::installed;
use support::prometheus::{PROMETHEUS, PROMTOOL, Prometheus, free_port};

const RUNBOOK: &str = "runbook backtest {\n  evaluate every 15s\n  metric app_errors_ratio = promql \"app_errors_ratio\"\n  trigger high: app_errors_ratio > 0.05 for 1m -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

fn firing_times(doc: &Value) -> Vec<Value> {
    doc["transitions"]
        .as_array()
        .expect("transitions")
        .iter()
        .filter(|t| t["state"] == "firing")
        .map(|t| t["t"].clone())
        .collect()
}

#[test]
fn backtest_against_backfilled_history_agrees_with_the_series_file() {
    if !installed("backtest_against_backfilled_history_agrees_with_the_series_file", &[PROMETHEUS, PROMTOOL]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let now_s = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
    let first = (now_s - 3 * 3600) / 60 * 60;
    let last = first + 2 * 3600 - 60;
    let rise = first + 70 * 60;
    let (mut om, mut csv) = (String::from("# TYPE app_errors_ratio gauge\n"), String::from("time,metric,value\n"));
    // Beside it: a copy under another name with the same labels, and `disk_used` for two mounts, `/` rising
    // at `rise` and `/data` ten minutes later.
    let (mut copy, mut disks) =
        (String::from("# TYPE app_errors_copy gauge\n"), String::from("# TYPE disk_used gauge\n"));
    let mut t = first;
    while t <= last {
        let v = if t >= rise { 0.1 } else { 0.01 };
        om.push_str(&format!("app_errors_ratio {v} {t}\n"));
        csv.push_str(&format!("{t},app_errors_ratio,{v}\n"));
        copy.push_str(&format!("app_errors_copy {v} {t}\n"));
        let data = if t >= rise + 600 { 0.95 } else { 0.5 };
        disks.push_str(&format!("disk_used{{mount=\"/\"}} {} {t}\ndisk_used{{mount=\"/data\"}} {data} {t}\n", v * 9.5));
        t += 15;
    }
    om.push_str(&copy);
    om.push_str(&disks);
    om.push_str("# EOF\n");
    std::fs::write(d.join("history.om"), om).expect("write OpenMetrics");
    std::fs::write(d.join("history.csv"), csv).expect("write CSV");
    std::fs::write(d.join("rb.runbook"), RUNBOOK).expect("write the runbook");
    let tsdb = d.join("tsdb");
    let out = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(d.join("history.om"))
        .arg(&tsdb)
        .output()
        .expect("run promtool");
    assert!(out.status.success(), "promtool could not create the blocks: {}", describe(&out));

    // Prometheus serving the TSDB that holds the blocks, once it answers a query over them.
    let mut prom = Prometheus::launch(d, "global:\n  scrape_interval: 15s\n", &tsdb, "30d");
    prom.wait_for_query(&format!("/api/v1/query?query=app_errors_ratio&time={rise}"), Duration::from_secs(30));

    // Seconds in, seconds out: the same JSON as the CSV of the same samples.
    let (start, end) = (first.to_string(), last.to_string());
    let from = ripcord(
        d,
        &[
            "simulate",
            "rb.runbook",
            "--from-prometheus",
            &prom.url,
            "--start",
            &start,
            "--end",
            &end,
            "--format",
            "json",
        ],
    );
    assert!(from.status.success(), "{}\nprometheus log:\n{}", describe(&from), prom.log());
    let series = ripcord(
        d,
        &["simulate", "rb.runbook", "--series", "history.csv", "--start", &start, "--end", &end, "--format", "json"],
    );
    assert!(series.status.success(), "{}", describe(&series));
    let from: Value = serde_json::from_slice(&from.stdout).expect("JSON");
    let series: Value = serde_json::from_slice(&series.stdout).expect("JSON");
    assert_eq!(firing_times(&from), vec![Value::from(rise + 60)], "{from:#}");
    assert_eq!(from["runs"][0]["t"], Value::from(rise + 60), "{from:#}");
    assert_eq!(from, series, "Prometheus history and the CSV disagree");

    // RFC 3339 in, RFC 3339 out.
    let rfc = |s: i64| {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(u64::try_from(s).expect("after 1970")))
            .to_string()
    };
    let out = ripcord(
        d,
        &[
            "simulate",
            "rb.runbook",
            "--from-prometheus",
            &prom.url,
            "--start",
            &rfc(first),
            "--end",
            &rfc(last),
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["start"], Value::from(rfc(first)));
    assert_eq!(firing_times(&doc), vec![Value::from(rfc(rise + 60))], "{doc:#}");

    // A query of several series: every one comes back with its labels, and each fires on its own.
    std::fs::write(
        d.join("disks.runbook"),
        "runbook disks {\n  evaluate every 15s\n  metric disk = promql \"disk_used\"\n  trigger full: disk > 0.9 for 1m -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n",
    )
    .expect("write the runbook");
    let out = ripcord(
        d,
        &[
            "simulate",
            "disks.runbook",
            "--from-prometheus",
            &prom.url,
            "--start",
            &start,
            "--end",
            &end,
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(firing_times(&doc), vec![Value::from(rise + 60), Value::from(rise + 660)], "{doc:#}");
    let runs: Vec<&Value> = doc["runs"].as_array().expect("runs").iter().map(|r| &r["t"]).collect();
    assert_eq!(runs, [&Value::from(rise + 60), &Value::from(rise + 660)], "{doc:#}");
    // Where the timeline carries the series' labels, each firing names its own mount.
    let firing = doc["transitions"].as_array().expect("transitions").iter().filter(|t| t["state"] == "firing");
    for (t, mount) in firing.zip(["/", "/data"]) {
        if let Some(labels) = t.get("labels") {
            assert_eq!(labels, &serde_json::json!({ "mount": mount }), "{doc:#}");
        }
    }

    // Two series with the same labels once their names are dropped: an error naming both.
    std::fs::write(
        d.join("clash.runbook"),
        RUNBOOK.replace("promql \"app_errors_ratio\"", "promql \"{__name__=~'app_errors_ratio|app_errors_copy'}\""),
    )
    .expect("write the runbook");
    let out =
        ripcord(d, &["simulate", "clash.runbook", "--from-prometheus", &prom.url, "--start", &start, "--end", &end]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(err.contains("`app_errors_copy{}` and `app_errors_ratio{}`"), "{}", describe(&out));
    assert!(err.contains("same labels once the metric name is dropped"), "{}", describe(&out));
}

#[test]
fn from_prometheus_usage_and_undeclared_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("rb.runbook"), RUNBOOK).expect("write the runbook");
    std::fs::write(
        d.join("bare.runbook"),
        "runbook bare {\n  trigger high: app_errors_ratio > 0.05 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n",
    )
    .expect("write the runbook");
    std::fs::write(d.join("s.csv"), "time,metric,value\n0,app_errors_ratio,1\n").expect("write CSV");
    // Nothing listens here: these must fail before any request.
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = ripcord(d, &["simulate", "rb.runbook", "--from-prometheus", &url, "--start", "0"]);
    assert_eq!(out.status.code(), Some(2), "both times are required: {}", describe(&out));
    let out = ripcord(
        d,
        &["simulate", "rb.runbook", "--from-prometheus", &url, "--series", "s.csv", "--start", "0", "--end", "60"],
    );
    assert_eq!(out.status.code(), Some(2), "--series and --from-prometheus exclude each other: {}", describe(&out));
    let out = ripcord(d, &["simulate", "rb.runbook"]);
    assert_eq!(out.status.code(), Some(2), "one source is required: {}", describe(&out));
    let out = ripcord(d, &["simulate", "bare.runbook", "--from-prometheus", &url, "--start", "0", "--end", "60"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(err.contains("`app_errors_ratio` has no declared query"), "{err}");
    assert!(err.contains("metric app_errors_ratio = promql"), "{err}");
}
