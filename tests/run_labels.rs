//! Runs for a series: `ripcord run --label NAME=VALUE` through the real binary. `${labels.NAME}` reaches a
//! shell step as one argument whatever the value holds and an HTTP request percent-encoded; the labels are
//! journalled and shown by `runs`, `runs show` and `report`; one lock per runbook and label set, and a
//! level's `max parallel` across label sets.

mod support;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, text};
use support::http::Recorder;
use support::{temp_dir, write_file as write};

fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::with_state_in(dir).args(args).run()
}

fn run_args<'a>(labels: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "rb.runbook", "--level", "1", "--operator", "alice", "--reason", "disk full"];
    for l in labels {
        args.extend(["--label", l]);
    }
    args
}

/// A value no shell may split or run: quotes, spaces, `;`, `$(...)`, a newline.
const HOSTILE: &str = "a \"b\"; echo pwned $(id)\nx";

#[test]
fn labels_render_in_shell_and_http_steps_and_are_journalled_and_shown() {
    let srv = Recorder::start(200, "{}");
    let dir = temp_dir();
    let d = dir.path();
    let runbook = format!(
        "runbook rb {{\n  level 1 {{\n    \
         step shell \"printf '%s|' ${{labels.instance}} ${{labels.mountpoint}} ${{labels.missing}} > out.txt\"\n    \
         step http POST \"{}/hook?i=${{labels.instance}}&m=${{labels.mountpoint}}\" expect 200\n  }}\n}}\n",
        srv.url
    );
    write(d, "rb.runbook", &runbook);
    let instance = format!("instance={HOSTILE}");
    let out = ripcord(d, &run_args(&[&instance, "mountpoint=/var/lib"]));
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    // One argument each, the missing label an empty one; nothing ran.
    assert_eq!(std::fs::read_to_string(d.join("out.txt")).expect("out.txt"), format!("{HOSTILE}|/var/lib||"));
    let requests = srv.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].target, "/hook?i=a%20%22b%22%3B%20echo%20pwned%20%24%28id%29%0Ax&m=%2Fvar%2Flib");

    // The journal's start record keeps the labels; `runs --format json` gives them.
    let runs = ripcord(d, &["runs", "--format", "json"]);
    let all: Value = serde_json::from_slice(&runs.stdout).expect("runs JSON");
    assert_eq!(all[0]["labels"], serde_json::json!({ "instance": HOSTILE, "mountpoint": "/var/lib" }), "{all}");
    let id = all[0]["id"].as_str().expect("id").to_string();
    let journal = std::fs::read_to_string(d.join(format!("state/runs/{id}.jsonl"))).expect("journal");
    let start: Value = serde_json::from_str(journal.lines().next().expect("a start record")).expect("JSON");
    assert_eq!(start["labels"]["mountpoint"], "/var/lib", "{start}");

    // People read them escaped: the newline in a value never reaches the terminal.
    let listed = text(&ripcord(d, &["runs"]).stdout);
    assert!(listed.contains(r#"for {instance="a \"b\"; echo pwned $(id)\nx", mountpoint="/var/lib"}"#), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let shown = text(&ripcord(d, &["runs", "show", &id]).stdout);
    assert!(shown.lines().next().is_some_and(|l| l.contains(r#"mountpoint="/var/lib""#)), "{shown}");
    let report = text(&ripcord(d, &["report", &id]).stdout);
    assert!(report.contains(r#"| labels | "#) && report.contains(r#"mountpoint="/var/lib""#), "{report}");
}

#[test]
fn a_run_without_labels_reads_as_before_and_bad_labels_are_refused() {
    let dir = temp_dir();
    let d = dir.path();
    write(d, "rb.runbook", "runbook rb {\n  level 1 {\n    step shell \"echo [${labels.instance}]\"\n  }\n}\n");
    let out = ripcord(d, &run_args(&[]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("run rb-"), "{}", text(&out.stdout));
    let listed = text(&ripcord(d, &["runs"]).stdout);
    assert!(!listed.contains(" for {"), "{listed}");
    for (bad, why) in [
        ("instance", "not NAME=VALUE"),
        ("1x=a", "not a label name"),
        ("__name__=a", "reserved"),
        ("instance=", "empty value"),
    ] {
        let out = ripcord(d, &run_args(&[bad]));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(why), "{bad}: {}", text(&out.stderr));
    }
    let out = ripcord(d, &run_args(&["a=1", "a=2"]));
    assert!(text(&out.stderr).contains("given twice"), "{}", text(&out.stderr));
}

/// A runbook whose level 1 waits for `go` to exist (the runs stay running) with `max parallel` given.
fn waiting_runbook(max_parallel: Option<u32>) -> String {
    let option = max_parallel.map(|n| format!("    max parallel {n}\n")).unwrap_or_default();
    format!(
        "runbook rb {{\n  level 1 {{\n{option}    \
         step shell \"echo ${{labels.instance}} >> started.txt; while [ ! -f go ]; do sleep 0.05; done\"\n  }}\n}}\n"
    )
}

fn spawn(dir: &Path, labels: &[&str]) -> Child {
    Test::with_state_in(dir).args(run_args(labels)).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()
}

/// Waits until `started.txt` has `n` lines.
fn wait_started(dir: &Path, n: usize) {
    let start = Instant::now();
    while std::fs::read_to_string(dir.join("started.txt")).map_or(0, |s| s.lines().count()) < n {
        assert!(start.elapsed() < Duration::from_secs(20), "{n} runs did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn refused(dir: &Path, labels: &[&str], why: &str) {
    let out = ripcord(dir, &run_args(labels));
    assert_eq!(out.status.code(), Some(1), "{labels:?}: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains(why), "{labels:?}: {}", text(&out.stderr));
}

fn finish(dir: &Path, children: Vec<Child>) {
    write(dir, "go", "");
    for mut c in children {
        let status = c.wait().expect("wait");
        assert!(status.success(), "a run failed");
    }
}

#[test]
fn one_run_per_label_set_and_max_parallel_1_by_default() {
    let dir = temp_dir();
    let d = dir.path();
    write(d, "rb.runbook", waiting_runbook(None));
    let a = spawn(d, &["instance=a"]);
    wait_started(d, 1);
    refused(d, &["instance=a"], "already running for {instance=\"a\"}");
    refused(d, &["instance=b"], "max parallel 1");
    refused(d, &[], "max parallel 1");
    finish(d, vec![a]);
    // The slot is free again.
    write(d, "rb.runbook", waiting_runbook(None).replace("while [ ! -f go ]; do sleep 0.05; done", "true"));
    let out = ripcord(d, &run_args(&["instance=b"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn runs_for_different_label_sets_go_side_by_side_up_to_max_parallel() {
    let dir = temp_dir();
    let d = dir.path();
    write(d, "rb.runbook", waiting_runbook(Some(2)));
    let a = spawn(d, &["instance=a"]);
    wait_started(d, 1);
    let b = spawn(d, &["instance=b"]);
    wait_started(d, 2);
    refused(d, &["instance=a"], "already running for {instance=\"a\"}");
    refused(d, &["instance=c"], "max parallel 2");
    let runs = ripcord(d, &["runs", "--format", "json"]);
    let all: Value = serde_json::from_slice(&runs.stdout).expect("runs JSON");
    let running: Vec<&Value> = all.as_array().expect("runs").iter().filter(|r| r["status"] == "running").collect();
    assert_eq!(running.len(), 2, "{all}");
    finish(d, vec![a, b]);
}
