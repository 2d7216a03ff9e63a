//! Failures that must never be quiet, through the real binary: unreadable journals are listed as such, an
//! empty journal is an error, a directory with no runbook is a diagnostic, a NUL byte in a command is a
//! diagnostic, and `resume` recreates a missing `locks/` directory.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, code, describe, ripcord, stderr, stdout};

const QUICK: &str = "runbook quick {\n  level 1 {\n    step shell \"echo one\"\n    step shell \"echo two\"\n  }\n}\n";

fn with_state(dir: &Path, args: &[&str]) -> std::process::Output {
    Test::with_state_in(dir).args(args).run()
}

/// One finished run of `quick.runbook`; its journal's path.
fn one_run(dir: &Path) -> std::path::PathBuf {
    let out = with_state(dir, &["run", "quick.runbook", "--level", "1", "--operator", "a", "--reason", "r", "--yes"]);
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let entry = std::fs::read_dir(dir.join("state/runs")).expect("runs").flatten().next().expect("a journal");
    entry.path()
}

#[test]
fn runs_lists_unreadable_journals_and_fails() {
    let dir = support::dir_with(&[("quick.runbook", QUICK)]);
    let d = dir.path();
    let good = one_run(d);
    let text = std::fs::read_to_string(&good).expect("journal");
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 3);
    lines[2] = "{\"t_ms\": 1, \"event\": \"step_st";
    std::fs::write(d.join("state/runs/broken-middle.jsonl"), lines.join("\n") + "\n").expect("write");
    std::fs::write(d.join("state/runs/empty-journal.jsonl"), "").expect("write");

    let out = with_state(d, &["runs"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    let listed = stdout(&out);
    assert!(listed.contains("succeeded"), "the readable run is still listed: {listed}");
    assert!(listed.contains("broken-middle  unreadable: ") && listed.contains("line 3"), "{listed}");
    assert!(listed.contains("empty-journal  unreadable: ") && listed.contains("is empty"), "{listed}");
    assert!(stderr(&out).contains("2 journal(s)"), "{}", stderr(&out));

    let out = with_state(d, &["runs", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let unreadable: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter(|r| r["status"] == "unreadable")
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(unreadable, ["broken-middle", "empty-journal"]);

    let out = with_state(d, &["runs", "show", "empty-journal"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(stderr(&out).contains("is empty"), "{}", describe(&out));
    let out = with_state(d, &["runs", "show", "broken-middle"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(stderr(&out).contains("line 3"), "{}", describe(&out));
}

#[test]
fn check_and_fmt_of_a_directory_without_runbooks_fail_with_a_diagnostic() {
    let dir = support::dir_with(&[("empty/notes.txt", "not a runbook\n")]);
    let d = dir.path();
    for cmd in ["check", "fmt"] {
        let out = ripcord(d, &[cmd, "empty"]);
        assert_eq!(code(&out), 1, "{cmd}: {}", describe(&out));
        assert!(stderr(&out).contains("RC011"), "{cmd}: {}", describe(&out));
        assert!(stderr(&out).contains("no `*.runbook` file under `empty`"), "{cmd}: {}", describe(&out));
    }
    let out = ripcord(d, &["check", "--format", "json", "empty"]);
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["diagnostics"][0]["code"], "RC011", "{v}");
}

#[test]
fn a_nul_byte_in_a_shell_command_is_a_diagnostic() {
    let dir =
        support::dir_with(&[("nul.runbook", "runbook nul {\n  level 1 {\n    step shell \"echo a\0b\"\n  }\n}\n")]);
    let out = ripcord(dir.path(), &["check", "nul.runbook"]);
    assert_eq!(code(&out), 1, "{}", describe(&out));
    assert!(stderr(&out).contains("RC311"), "{}", describe(&out));
    assert!(stderr(&out).contains("holds a NUL byte"), "{}", describe(&out));
}

#[test]
fn resume_recreates_a_missing_locks_directory() {
    let runbook = "runbook slow {\n  level 1 {\n    step shell \"test -f go || sleep 30\"\n    step shell \"echo done > finished\"\n  }\n}\n";
    let dir = support::dir_with(&[("slow.runbook", runbook)]);
    let d = dir.path();
    let mut child = Test::with_state_in(d)
        .args(["run", "slow.runbook", "--level", "1", "--operator", "a", "--reason", "r", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let start = Instant::now();
    let journal = loop {
        let found = std::fs::read_dir(d.join("state/runs"))
            .ok()
            .and_then(|mut r| r.next())
            .and_then(Result::ok)
            .map(|e| e.path())
            .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("step_start")));
        if let Some(p) = found {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the run did not start its step");
        std::thread::sleep(Duration::from_millis(20));
    };
    // A crash: the run is left interrupted.
    child.kill().expect("kill");
    let _ = child.wait();
    std::fs::remove_dir_all(d.join("state/locks")).expect("remove locks/");
    std::fs::write(d.join("go"), "").expect("write");
    let id = journal.file_stem().expect("stem").to_string_lossy().into_owned();
    // The killed run's `sleep` still runs in its own process group: resume ends it rather than running beside it.
    let out = with_state(d, &["resume", &id, "--yes", "--kill-leftover"]);
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(d.join("finished").exists());
}
