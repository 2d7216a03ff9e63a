//! `ripcord watch` against a REAL Prometheus 2.42 and a REAL Prometheus 3.5 (the second from
//! `.ci/prometheus3.sh`), each scraping (every 1s) a tiny exporter this test serves: without
//! `--prometheus-version`, watch asks the server (`/api/v1/status/buildinfo`), evaluates with its major
//! version, logs it and shows it in `/api/status`; a trigger goes pending, fires on schedule and its level's
//! shell step runs. With a flag that names the other version, the flag wins and the mismatch is a warning in
//! the log and in `/api/status`.
//!
//! Without a Prometheus binary the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::installed;
use support::prometheus::{Version, scraped_by};
use support::watch::{Watch, trigger};

const RUNBOOK: &str = "runbook live {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
                       trigger high: errors > 0.1 for 2s -> level 1\n  \
                       trigger ratio: avg_over(errors, 5s) > 0.1 -> level 1\n  \
                       level 1 {\n    step shell \"echo ran > fired.txt\"\n  }\n}\n";

fn state<'a>(s: &'a Value, name: &str) -> &'a str {
    trigger(s, "live", name).and_then(|t| t["state"].as_str()).unwrap_or("?")
}

#[test]
fn watch_follows_the_version_of_prometheus_2_and_3() {
    for version in Version::ALL {
        let binary = version.prometheus();
        if !installed("watch_follows_the_version_of_prometheus_2_and_3", &[&binary]) {
            continue;
        }
        let other = match version {
            Version::V2 => Version::V3,
            Version::V3 => Version::V2,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let (exporter, prom) = scraped_by(version, d, 0.2);
        let books = d.join("books");
        std::fs::create_dir(&books).expect("mkdir");
        std::fs::write(books.join("live.runbook"), RUNBOOK).expect("write");
        let major: u64 = version.flag().parse().expect("a number");

        // 1. No flag: the server's major version, logged and in /api/status; the trigger fires on schedule.
        let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);
        let s = w.wait_status(Duration::from_secs(15), "the server's version", |s| {
            s["prometheus"]["server"].as_str().is_some()
        });
        let server = s["prometheus"]["server"].as_str().unwrap_or_default().to_string();
        assert!(server.starts_with(&format!("{major}.")), "{s}");
        assert_eq!(s["prometheus"]["evaluating_as"], major, "{s}");
        assert_eq!(s["prometheus"]["warning"], Value::Null, "{s}");
        assert!(
            w.text().contains(&format!("Prometheus runs {server}; evaluating as Prometheus {major}")),
            "{}",
            w.text()
        );
        let s = w.wait_status(Duration::from_secs(10), "`high` pending", |s| state(s, "high") == "pending");
        let pending = trigger(&s, "live", "high").and_then(|t| t["since"].as_i64()).expect("since");
        let s = w.wait_status(Duration::from_secs(10), "`high` firing", |s| state(s, "high") == "firing");
        let fired = trigger(&s, "live", "high").and_then(|t| t["since"].as_i64()).expect("since");
        assert!((2000..=3100).contains(&(fired - pending)), "fired {} ms after pending\n{}", fired - pending, w.text());
        let start = Instant::now();
        while !books.join("fired.txt").exists() {
            assert!(start.elapsed() < Duration::from_secs(10), "the step did not run:\n{}", w.text());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(w.terminate(), Some(0), "{}", w.text());

        // 2. A flag naming the other version wins, with a warning in the log and in /api/status.
        let flag = other.flag();
        let args = ["books", "--prometheus", &prom.url, "--state-dir", "state2", "--prometheus-version", flag];
        let mut w = Watch::start(d, &args);
        let s = w.wait_status(Duration::from_secs(15), "the mismatch warning", |s| {
            s["prometheus"]["warning"].as_str().is_some()
        });
        assert_eq!(s["prometheus"]["evaluating_as"], other.flag().parse::<u64>().expect("a number"), "{s}");
        assert_eq!(s["prometheus"]["asked"], other.flag().parse::<u64>().expect("a number"), "{s}");
        let warning = s["prometheus"]["warning"].as_str().unwrap_or_default();
        assert!(warning.contains(&format!("--prometheus-version {flag}")) && warning.contains(&server), "{s}");
        assert!(w.text().contains(&format!("warning: {warning}")), "{}", w.text());
        let (_, page) = w.get("/");
        assert!(page.contains("evaluating as Prometheus"), "{page}");
        exporter.set(0.0);
        assert_eq!(w.terminate(), Some(0), "{}", w.text());
        drop(prom);
    }
}
