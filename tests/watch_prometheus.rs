//! `ripcord watch` against a REAL Prometheus (`/usr/bin/prometheus`) started on loopback with a temp TSDB,
//! scraping (every 1s) a tiny exporter this test serves: a trigger goes pending and fires on schedule and its
//! level's shell step really runs; a broken edit (saved by rename, as editors do) keeps the old runbook live
//! and `/api/status` shows the error; a good edit goes live and keeps an unchanged trigger's pending timer.
//!
//! Without the `prometheus` binary the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::installed;
use support::prometheus::{PROMETHEUS, scraped};
use support::watch::{Watch, runbook, trigger};

/// The URL of this test's webhook receiver, set once before the runbook is first written.
static HOOK: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn runbook_text(high_hold: &str) -> String {
    let hook = HOOK.get().map(String::as_str).unwrap_or("http://127.0.0.1:9/unset");
    format!(
        "runbook live {{\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
         channel hook webhook \"{hook}\"\n  \
         trigger page: errors > 0.1 -> notify hook \"errors at ${{value}} from ${{trigger}}\"\n  \
         trigger high: errors > 0.1 for {high_hold} -> level 1\n  trigger slow: errors > 0.1 for 1h -> level 1\n  \
         level 1 {{\n    step shell \"echo ran > fired.txt\"\n  }}\n}}\n"
    )
}

/// Saves like an editor that writes a temporary file and renames it over the original.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("runbook.swp~");
    std::fs::write(&tmp, text).expect("write the temporary file");
    std::fs::rename(&tmp, path).expect("rename over");
}

fn since(s: &Value, name: &str) -> Option<i64> {
    trigger(s, "live", name).and_then(|t| t["since"].as_i64())
}

fn state<'a>(s: &'a Value, name: &str) -> &'a str {
    trigger(s, "live", name).and_then(|t| t["state"].as_str()).unwrap_or("?")
}

#[test]
fn watch_fires_runs_and_reloads_against_a_real_prometheus() {
    if !installed("watch_fires_runs_and_reloads_against_a_real_prometheus", &[PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (hook_url, hook) = webhook_receiver();
    HOOK.set(hook_url).expect("the hook URL is set once");
    let (exporter, prom) = scraped(d, 0.2);
    let books = d.join("books");
    std::fs::create_dir(&books).expect("mkdir");
    let rb = books.join("live.runbook");
    std::fs::write(&rb, runbook_text("3s")).expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);
    // 0. A notification-only trigger posts Slack-compatible JSON to its channel when it fires.
    let body = hook.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("no webhook call:\n{}", w.text()));
    let json: Value = serde_json::from_str(&body).expect("the webhook body is JSON");
    let text = json["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("errors at 0.2 from page"), "{json}");

    // 1. Pending at the first evaluation, firing 3s later (one evaluation interval of slack), and the level's
    //    shell step runs.
    let s = w.wait_status(Duration::from_secs(10), "`high` pending", |s| state(s, "high") == "pending");
    let pending_since = since(&s, "high").expect("pending since");
    let slow_since = since(&s, "slow").expect("slow pending since");
    let s = w.wait_status(Duration::from_secs(10), "`high` firing", |s| state(s, "high") == "firing");
    let fired_at = since(&s, "high").expect("firing since");
    let held = fired_at - pending_since;
    assert!((3000..=4100).contains(&held), "fired {held} ms after going pending\n{}", w.text());
    let start = Instant::now();
    while !books.join("fired.txt").exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the step did not run:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(state(&s, "slow"), "pending");

    // 2. A broken edit: the old version stays live (still evaluated), the error shows in /api/status.
    save_by_rename(&rb, "runbook live {\n  trigger oops: nope >\n}\n");
    let s = w.wait_status(Duration::from_secs(10), "the failed reload", |s| {
        runbook(s, "live").is_some_and(|r| r["last_reload"]["ok"] == false)
    });
    let error = runbook(&s, "live").and_then(|r| r["last_reload"]["error"].as_str()).unwrap_or_default().to_string();
    assert!(!error.is_empty(), "{s}");
    assert_eq!(state(&s, "high"), "firing", "{s}");
    assert_eq!(since(&s, "slow"), Some(slow_since), "{s}");
    let (_, m) = w.get("/metrics");
    assert!(m.contains("ripcord_reload_failures_total 1"), "{m}");

    // 3. A good edit goes live: `slow` is unchanged and keeps its pending timer; `high` changed its hold and
    //    starts over.
    save_by_rename(&rb, &runbook_text("2s"));
    let s = w.wait_status(Duration::from_secs(10), "the good reload", |s| {
        runbook(s, "live").is_some_and(|r| r["last_reload"]["ok"] == true)
    });
    assert_eq!(state(&s, "slow"), "pending", "{s}");
    assert_eq!(since(&s, "slow"), Some(slow_since), "{s}");
    assert_ne!(since(&s, "high"), Some(fired_at), "{s}");

    // 4. A new file is picked up, a deleted one dropped.
    std::fs::write(books.join("extra.runbook"), runbook_text("5s").replace("runbook live", "runbook extra"))
        .expect("write");
    w.wait_status(Duration::from_secs(10), "the new runbook", |s| runbook(s, "extra").is_some());
    std::fs::remove_file(books.join("extra.runbook")).expect("rm");
    w.wait_status(Duration::from_secs(10), "the deleted runbook to go", |s| runbook(s, "extra").is_none());

    exporter.set(0.0);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    drop(prom);
}

/// A loopback HTTP server that answers 200 to every request and hands each request body to the test.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = (&stream).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (url, rx)
}
