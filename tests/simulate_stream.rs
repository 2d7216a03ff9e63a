//! `ripcord simulate` on long series files through the real binary: memory that does not grow with the
//! length of the history (peak resident memory read from /proc while it runs), and a long file out of time
//! order across series refused with how to sort it. No timing is asserted.

mod support;

use std::path::Path;
use std::process::Stdio;

use support::bin::{Test, text};

const RUNBOOK: &str = r#"runbook long {
  evaluate every 15s
  trigger hot: avg_over(m0, 5m) > 95 for 1m -> level 1
  trigger spike: m1 > 99 -> level 1
  level 1 "respond" {
    step shell "true" timeout 1s
  }
}
"#;

/// A CSV of `steps` evaluation steps of 10 metrics, in time order (or series by series).
fn write_csv(path: &Path, steps: usize, by_series: bool) {
    let mut out = String::with_capacity(steps * 10 * 16);
    out.push_str("time,metric,value\n");
    let row = |out: &mut String, k: usize, m: usize| {
        out.push_str(&format!("{},m{m},{}\n", k * 15, (k * (m + 3) + m * 977) % 10_000 / 100));
    };
    if by_series {
        for m in 0..10 {
            (0..steps).for_each(|k| row(&mut out, k, m));
        }
    } else {
        for k in 0..steps {
            (0..10).for_each(|m| row(&mut out, k, m));
        }
    }
    std::fs::write(path, out).expect("write the series file");
}

/// Runs `simulate` on `csv`, returning the peak resident memory in kB (VmHWM, read until it exits).
fn peak_kb(dir: &Path, csv: &str) -> u64 {
    let mut child = Test::in_dir(dir)
        .args(["simulate", "long.runbook", "--series", csv, "--format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kb) = s.lines().find_map(|l| l.strip_prefix("VmHWM:"))
            && let Ok(kb) = kb.trim().trim_end_matches("kB").trim().parse::<u64>()
        {
            peak = peak.max(kb);
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "simulate {csv} failed");
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[test]
fn peak_memory_does_not_grow_with_the_length_of_the_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("long.runbook"), RUNBOOK).expect("runbook");
    // 1.2 and 3.6 million samples: both several fills of the stream.
    write_csv(&dir.path().join("short.csv"), 120_000, false);
    write_csv(&dir.path().join("long.csv"), 360_000, false);
    let short = peak_kb(dir.path(), "short.csv");
    let long = peak_kb(dir.path(), "long.csv");
    let grown = std::fs::metadata(dir.path().join("long.csv")).expect("size").len() / 1024
        - std::fs::metadata(dir.path().join("short.csv")).expect("size").len() / 1024;
    assert!(short > 0 && long > 0, "no reading of /proc");
    // The file grew by some 50 MB; the peak stays within a few MB of the shorter history's.
    assert!(
        long < short + 8 * 1024,
        "peak {long} kB for the long file, {short} kB for the short one (file +{grown} kB)"
    );
}

#[test]
fn a_long_file_written_series_by_series_is_refused_with_how_to_sort_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("long.runbook"), RUNBOOK).expect("runbook");
    write_csv(&dir.path().join("grouped.csv"), 60_000, true);
    let out = Test::in_dir(dir.path())
        .args(["simulate", "long.runbook", "--series", "grouped.csv"])
        .env("NO_COLOR", "1")
        .run();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RC411"), "{stderr}");
    // The first fill (524,288 samples) ends inside `m8`; its next sample is older than what was evaluated.
    assert!(stderr.contains("`m8` at 664320 comes after samples up to 899970 were evaluated"), "{stderr}");
    assert!(stderr.contains("grouped.csv:524290:1"), "the refused row's line: {stderr}");
    assert!(stderr.contains("sort -t, -k1,1n"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
}

#[test]
fn a_bad_row_deep_in_a_long_file_is_reported_at_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("long.runbook"), RUNBOOK).expect("runbook");
    let csv = dir.path().join("bad.csv");
    write_csv(&csv, 60_000, false);
    let mut body = std::fs::read_to_string(&csv).expect("read");
    body.push_str("900000,m0,oops\n");
    std::fs::write(&csv, body).expect("write");
    let out =
        Test::in_dir(dir.path()).args(["simulate", "long.runbook", "--series", "bad.csv"]).env("NO_COLOR", "1").run();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RC403") && stderr.contains("`oops` is not a sample value"), "{stderr}");
    assert!(stderr.contains("bad.csv:600002:"), "{stderr}");
}

#[test]
fn limit_prints_some_events_then_a_summary_per_trigger_and_warnings_fold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runbook = r#"runbook folded {
  evaluate every 15s
  trigger a: m0 > 50 for 20s -> level 1
  trigger b: m1 > 50 for 20s -> level 1
  trigger c: m2 > 50 for 20s -> level 1
  level 1 "respond" {
    step shell "true" timeout 1s
  }
}
"#;
    std::fs::write(dir.path().join("folded.runbook"), runbook).expect("runbook");
    write_csv(&dir.path().join("s.csv"), 2_000, false);
    let out = Test::in_dir(dir.path())
        .args(["simulate", "folded.runbook", "--series", "s.csv", "--limit", "3"])
        .env("NO_COLOR", "1")
        .run();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("RC210").count(), 2, "one rendering and one count: {stderr}");
    assert!(stderr.contains("2 more RC210 warnings like this one, at lines 4, 5"), "{stderr}");
    let events = stdout.lines().filter(|l| l.starts_with("  00:") || l.starts_with("  0")).count();
    assert_eq!(events, 3, "{stdout}");
    assert!(stdout.contains("more events left out (`--limit 3`); by trigger:"), "{stdout}");
    for t in ["a", "b", "c"] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(&format!("{t} ")) && l.contains("fired")),
            "{t}: {stdout}"
        );
    }
}
