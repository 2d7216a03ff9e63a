//! `ripcord watch`'s status page in a REAL headless Chromium (`/usr/bin/chromium`): a runbook whose trigger
//! fires at once against a real Prometheus (scraping a tiny exporter), the page loaded with `--dump-dom` shows
//! the runbook and the firing trigger, and `--screenshot` saves `target/test-artifacts/status.png`.
//!
//! Without `chromium` or `prometheus` the test fails when `CI` is set and otherwise says it skips.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::prometheus::{PROMETHEUS, scraped};
use support::watch::{Watch, trigger};
use support::{installed, root};

/// Where Debian's `chromium` package installs the browser (.ci/run installs it).
const CHROMIUM: &str = "/usr/bin/chromium";

const RUNBOOK: &str = "runbook status_page_demo {\n  evaluate every 1s\n  \
    metric errors = promql \"app_errors_ratio\"\n  trigger errors_high: errors > 0.1 -> level 1\n  \
    trigger errors_sustained: errors > 0.1 for 1h -> level 1\n  \
    level 1 {\n    step shell \"echo ran > fired.txt\"\n  }\n}\n";

/// Runs headless Chromium with `args` after the flags every run needs; stdout on success.
fn chromium(profile: &Path, args: &[&str]) -> String {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_page_renders_in_headless_chromium() {
    if !installed("status_page_renders_in_headless_chromium", &[CHROMIUM, PROMETHEUS]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (exporter, prom) = scraped(d, 0.2);
    std::fs::create_dir(d.join("books")).expect("mkdir");
    std::fs::write(d.join("books/status_page_demo.runbook"), RUNBOOK).expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", &prom.url, "--state-dir", "state"]);
    let firing =
        |s: &serde_json::Value| trigger(s, "status_page_demo", "errors_high").is_some_and(|t| t["state"] == "firing");
    w.wait_status(Duration::from_secs(15), "`errors_high` firing", firing);
    // The run the trigger started, so that the page's run table has a row with its steps.
    w.wait_status(Duration::from_secs(15), "the run to finish", |s| {
        s["runs"].as_array().is_some_and(|r| r.iter().any(|r| r["status"] == "succeeded"))
    });

    let url = format!("http://{}/", w.base);
    let profile = d.join("chromium-profile");
    let dom = chromium(&profile, &["--dump-dom", &url]);
    assert!(dom.contains("<h1>ripcord watch</h1>"), "{dom}");
    assert!(dom.contains("status_page_demo"), "the runbook's name is missing:\n{dom}");
    assert!(dom.contains("errors_high"), "{dom}");
    assert!(dom.contains("<td class=\"firing\">firing</td>"), "no firing trigger in the DOM:\n{dom}");
    assert!(dom.contains("<td class=\"pending\">pending</td>"), "{dom}");
    assert!(dom.contains("succeeded"), "the run is missing:\n{dom}");

    let artifacts = root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("mkdir target/test-artifacts");
    let png = artifacts.join("status.png");
    let _ = std::fs::remove_file(&png);
    chromium(&profile, &[&format!("--screenshot={}", png.display()), "--window-size=1280,900", &url]);
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000, "not a PNG: {} bytes", bytes.len());

    exporter.set(0.0);
    assert_eq!(w.terminate(), Some(0), "{}", w.text());
    drop(prom);
}
