//! The scale-out path end to end, every piece real: `ripcord export prometheus-rules` writes the runbook's
//! alerting rules, a REAL Prometheus (`/usr/bin/prometheus`) loads them (evaluation every 1s, scraping a tiny
//! exporter) and sends its alerts to a REAL Alertmanager (`/usr/bin/prometheus-alertmanager`, clustering off,
//! group_wait/group_interval 1s), whose webhook receiver posts them, with the bearer token from a credentials
//! file, to `ripcord watch`'s `/api/alertmanager`; `watch` starts the level and its shell step writes a file.
//!
//! `watch` loads the same runbook with the trigger's hold raised to 1h, so that only the Alertmanager path can
//! start the level during the test (runs it starts have operator `alertmanager`).
//!
//! Without `prometheus` or `prometheus-alertmanager` the test fails when `CI` is set and otherwise skips.

mod support;

use std::time::{Duration, Instant};

use support::alertmanager::{ALERTMANAGER, Alertmanager};
use support::bin::Test;
use support::installed;
use support::prometheus::{Exporter, PROMETHEUS, Prometheus, free_port, http_get};
use support::watch::Watch;

const TOKEN: &str = "s3cret-token-for-the-webhook";

fn runbook(hold: &str) -> String {
    format!(
        "runbook scale_out {{\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
         trigger errors_high: errors > 0.1{hold} -> level 1\n  \
         level 1 \"Write the marker\" {{\n    step shell \"echo ran > fired.txt\"\n  }}\n}}\n"
    )
}

#[test]
fn exported_rules_fire_through_prometheus_and_alertmanager_into_watch() {
    if !installed("exported_rules_fire_through_prometheus_and_alertmanager_into_watch", &[PROMETHEUS, ALERTMANAGER]) {
        return;
    }
    let began = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exporter = Exporter::start(0.0);

    // 1. The rules, exported by the real binary.
    let source = d.join("scale_out.runbook");
    std::fs::write(&source, runbook("")).expect("write");
    let out = Test::new().env_inherited("NO_COLOR").args(["export", "prometheus-rules"]).arg(&source).run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rules = String::from_utf8(out.stdout).expect("UTF-8 rules");
    assert!(rules.contains("ripcord_runbook: scale_out") && rules.contains("ripcord_level: \"1\""), "{rules}");
    std::fs::write(d.join("rules.yml"), &rules).expect("write the rules");

    let am_port = free_port();
    // 2. Prometheus with the exported rules, alerting to the Alertmanager started below (it retries until then).
    let prom_dir = d.join("prom");
    std::fs::create_dir_all(prom_dir.join("tsdb")).expect("mkdir");
    let mut prom = Prometheus::launch(
        &prom_dir,
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - '{}'\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
             scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{}']\n",
            d.join("rules.yml").display(),
            exporter.addr
        ),
        &prom_dir.join("tsdb"),
        "1h",
    );
    prom.wait_ready();
    let (_, loaded) = http_get(&prom.url, "/api/v1/rules").expect("GET /api/v1/rules");
    assert!(loaded.contains("\"name\":\"errors_high\""), "the exported rule is not loaded: {loaded}");

    // 3. `watch`, with the token, and the runbook's own trigger held for 1h.
    std::fs::create_dir(d.join("books")).expect("mkdir");
    std::fs::write(d.join("books/scale_out.runbook"), runbook(" for 1h")).expect("write");
    std::fs::write(d.join("token"), format!("{TOKEN}\n")).expect("write the token");
    let w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state", "--token-file", "token"]);

    // 4. Alertmanager: one route, a webhook receiver with the token from a credentials file.
    std::fs::write(d.join("am-token"), TOKEN).expect("write");
    let am = Alertmanager::start(
        d,
        &format!(
            "route:\n  receiver: ripcord\n  group_by: ['alertname', 'ripcord_runbook']\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: ripcord\n    webhook_configs:\n      \
             - url: 'http://{}/api/alertmanager'\n        send_resolved: false\n        http_config:\n          \
             authorization:\n            credentials_file: '{}'\n",
            w.base,
            d.join("am-token").display()
        ),
        am_port,
    );

    // 5. The metric goes bad: the alert fires in Prometheus, Alertmanager posts it, `watch` runs the level.
    exporter.set(0.5);
    let marker = d.join("books/fired.txt");
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the level did not run.\nwatch:\n{}\nalertmanager:\n{}\nprometheus:\n{}",
            w.text(),
            am.log(),
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let s = w.wait_status(Duration::from_secs(10), "the run to succeed", |s| {
        s["runs"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["runbook"] == "scale_out" && r["status"] == "succeeded"))
    });
    let id = s["runs"][0]["id"].as_str().expect("run id").to_string();
    let (code, run) = w.get(&format!("/api/runs/{id}"));
    assert_eq!(code, 200, "{run}");
    assert!(run.contains("\"operator\":\"alertmanager\""), "the run was not started by Alertmanager: {run}");
    // Only one run, however often Alertmanager repeats itself.
    assert_eq!(s["runs"].as_array().map(Vec::len), Some(1), "{s}");
    assert!(began.elapsed() < Duration::from_secs(60), "took {:?}", began.elapsed());
    drop(w);
    drop(prom);
    drop(am);
}
