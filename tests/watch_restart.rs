//! Trigger state survives a restart of `watch` (docs/ha.md), against a REAL Prometheus scraping a tiny
//! exporter every second: a `for 12s` that had been pending ~5s when `watch` was killed (SIGKILL, no chance
//! to save anything more) continues after the restart with the time it had spent, the outage not counted;
//! a series already firing stays firing across a second restart without starting its level again; and
//! state older than `--outage-tolerance` is not restored (the pending clock starts again).
//!
//! Without the `prometheus` binary the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::installed;
use support::prometheus::{PROMETHEUS, scraped};
use support::watch::{Watch, trigger};

const RUNBOOK: &str = "runbook live {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  \
     trigger high: errors > 0.1 for 12s -> level 1\n  \
     level 1 {\n    step shell \"echo ran >> fired.txt\"\n  }\n}\n";

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn high(s: &Value) -> (String, Option<i64>) {
    let t = trigger(s, "live", "high");
    let state = t.and_then(|t| t["state"].as_str()).unwrap_or("?").to_string();
    (state, t.and_then(|t| t["since"].as_i64()))
}

fn start(d: &Path, state: &str, extra: &[&str], prom: &str) -> Watch {
    let mut args = vec!["books", "--prometheus", prom, "--state-dir", state];
    args.extend_from_slice(extra);
    Watch::start(d, &args)
}

fn runs_of(books: &Path) -> usize {
    std::fs::read_to_string(books.join("fired.txt")).map(|t| t.lines().count()).unwrap_or(0)
}

#[test]
fn a_restart_continues_pending_and_firing_triggers() {
    if !installed("a_restart_continues_pending_and_firing_triggers", &[PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (_exporter, prom) = scraped(d, 0.2);
    let books = d.join("books");
    std::fs::create_dir(&books).expect("mkdir");
    std::fs::write(books.join("live.runbook"), RUNBOOK).expect("write");

    // 1. Pending for about 5 of its 12 seconds, then killed outright.
    let mut w = start(d, "state", &[], &prom.url);
    let s = w.wait_status(Duration::from_secs(15), "`high` pending", |s| high(s).0 == "pending");
    let pending_since = high(&s).1.expect("pending since");
    std::thread::sleep(Duration::from_millis(5000));
    let _ = w.child.kill();
    let _ = w.child.wait();

    // 2. Three seconds later, a new process on the same state dir: still pending since the same time, and it
    //    fires with the ~7s it had left, not 12s from the restart.
    std::thread::sleep(Duration::from_secs(3));
    let restarted_at = now_ms();
    let mut w = start(d, "state", &[], &prom.url);
    let s = w.wait_status(Duration::from_secs(10), "`high` restored", |s| high(s).0 != "inactive");
    assert_eq!(high(&s), ("pending".to_string(), Some(pending_since)), "{}", w.text());
    assert!(w.text().contains("restored the trigger state of `live`: 1 series"), "{}", w.text());
    let s = w.wait_status(Duration::from_secs(20), "`high` firing", |s| high(s).0 == "firing");
    let fired_at = high(&s).1.expect("firing since");
    assert!(
        fired_at < restarted_at + 10_000,
        "fired {} ms after the restart: the pending clock started again\n{}",
        fired_at - restarted_at,
        w.text()
    );
    assert!(
        fired_at - pending_since >= 12_000 + 2_000,
        "fired {} ms after going pending: the outage was counted as pending time\n{}",
        fired_at - pending_since,
        w.text()
    );
    let start_wait = Instant::now();
    while runs_of(&books) < 1 {
        assert!(start_wait.elapsed() < Duration::from_secs(10), "the level did not run:\n{}", w.text());
        std::thread::sleep(Duration::from_millis(50));
    }

    // 3. Killed again while firing: the next process keeps it firing and does not run the level again.
    let _ = w.child.kill();
    let _ = w.child.wait();
    let w = start(d, "state", &[], &prom.url);
    let s = w.wait_status(Duration::from_secs(10), "`high` restored", |s| high(s).0 != "inactive");
    assert_eq!(high(&s), ("firing".to_string(), Some(fired_at)), "{}", w.text());
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(high(&w.status()).0, "firing");
    assert_eq!(runs_of(&books), 1, "a restart started the level again:\n{}", w.text());
    drop(w);

    // 4. State older than the outage tolerance is not restored: the pending clock starts again.
    let mut w = start(d, "fresh", &[], &prom.url);
    w.wait_status(Duration::from_secs(15), "`high` pending", |s| high(s).0 == "pending");
    let _ = w.child.kill();
    let _ = w.child.wait();
    std::thread::sleep(Duration::from_millis(2500));
    let restarted_at = now_ms();
    let w = start(d, "fresh", &["--outage-tolerance", "1s"], &prom.url);
    let s = w.wait_status(Duration::from_secs(10), "`high` pending again", |s| high(s).0 == "pending");
    let since = high(&s).1.expect("pending since");
    assert!(since >= restarted_at - 1000, "pending since {since}, before the restart at {restarted_at}\n{}", w.text());
    assert!(w.text().contains("longer than the outage tolerance (1s): not restored"), "{}", w.text());
}
