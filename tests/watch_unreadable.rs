//! `ripcord watch` reports a runbook file it cannot read (here: not UTF-8) as it reports an invalid one:
//! logged, and kept in `/api/status` with `last_reload.ok: false` and the reading error; the other runbooks
//! are watched as usual.

mod support;

use support::watch::{Watch, runbook};

const GOOD: &str = "runbook good {\n  evaluate every 1s\n  metric errors = promql \"app_errors_ratio\"\n  trigger high: errors > 0.1 -> level 1\n  level 1 {\n    step shell \"true\"\n  }\n}\n";

#[test]
fn an_unreadable_runbook_is_reported_not_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("books")).expect("mkdir");
    std::fs::write(d.join("books/good.runbook"), GOOD).expect("write");
    std::fs::write(d.join("books/latin1.runbook"), b"runbook caf\xe9 {\n}\n").expect("write");
    let mut w = Watch::start(d, &["books", "--prometheus", "http://127.0.0.1:9", "--state-dir", "state"]);

    let s = w.status();
    assert_eq!(runbook(&s, "good").expect("runbook good")["last_reload"]["ok"], true, "{s}");
    let bad = runbook(&s, "latin1").expect("the unreadable file is listed");
    assert_eq!(bad["last_reload"]["ok"], false, "{s}");
    let error = bad["last_reload"]["error"].as_str().expect("an error");
    assert!(error.contains("latin1.runbook") && error.contains("UTF-8"), "{error}");
    assert!(bad["triggers"].as_array().is_some_and(|t| t.is_empty()), "{s}");
    assert!(w.text().contains("latin1.runbook"), "not logged:\n{}", w.text());
    assert_eq!(w.terminate(), Some(0));
}
