//! A step a killed `ripcord run` left running, through the real binary: after SIGKILL the step's process
//! group lives on; `resume` and a new run of the same runbook never run a step beside it. They wait for it
//! (bounded), refuse and say how to go on, or end it with `--kill-leftover`.

mod support;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, text};
use support::{temp_dir, write_file as write};

/// The step sleeps as long as the file `secs` says.
const RUNBOOK: &str = r#"runbook orphan {
  level 1 {
    step shell "echo start >> log; sleep `cat secs`; echo end >> log"
  }
}
"#;

fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::with_state_in(dir).args(args).run()
}

fn journal(dir: &Path) -> Vec<Value> {
    let Some(path) = std::fs::read_dir(dir.join("state/runs")).ok().and_then(|r| r.flatten().map(|e| e.path()).next())
    else {
        return Vec::new();
    };
    let body = std::fs::read_to_string(path).unwrap_or_default();
    body.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
}

/// Starts level 1, waits until its step's process group is journalled, SIGKILLs ripcord: the run id and
/// the step's group.
fn killed_mid_step(d: &Path, secs: &str) -> (String, u64) {
    write(d, "rb.runbook", RUNBOOK);
    write(d, "secs", secs);
    let mut child: Child = Test::with_state_in(d)
        .args(["run", "rb.runbook", "--level", "1", "--operator", "a", "--reason", "r"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let start = Instant::now();
    let pgid = loop {
        if let Some(p) = journal(d).iter().find(|r| r["event"] == "step_process") {
            break p["group"]["pgid"].as_u64().expect("pgid");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no step_process record");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().expect("kill").success());
    let _ = child.wait();
    let records = journal(d);
    let group = records.iter().find(|r| r["event"] == "step_process").expect("step_process");
    assert!(group["group"]["start_ticks"].as_u64().is_some_and(|t| t > 0), "{group}");
    (records[0]["run_id"].as_str().expect("run id").to_string(), pgid)
}

#[test]
fn resume_and_a_new_run_refuse_to_run_beside_the_step_a_killed_run_left() {
    let dir = temp_dir();
    let d = dir.path();
    let (id, pgid) = killed_mid_step(d, "30");
    assert!(alive(pgid), "the orphan lives on after SIGKILL");

    let out = ripcord(d, &["resume", &id, "--wait-leftover", "0s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("step L1.S1 of run {id} is still running")), "{stderr}");
    assert!(stderr.contains(&format!("process group {pgid}")) && stderr.contains("--kill-leftover"), "{stderr}");
    let out = ripcord(
        d,
        &["run", "rb.runbook", "--level", "1", "--operator", "a", "--reason", "r", "--wait-leftover", "300ms"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("waiting up to 300ms"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is still running"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(d.join("log")).expect("log"), "start\n", "nothing else started");

    write(d, "secs", "0");
    let out = ripcord(d, &["resume", &id, "--kill-leftover", "--wait-leftover", "0s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!alive(pgid), "the orphan was ended");
    // The first copy was ended (and journalled so) before the second one started.
    assert_eq!(std::fs::read_to_string(d.join("log")).expect("log"), "start\nstart\nend\n");
    let records = journal(d);
    let at = |what: &str| records.iter().position(|r| r["event"] == what).expect(what);
    let ended = &records[at("leftover_ended")];
    assert_eq!(ended["pgid"].as_u64(), Some(pgid));
    assert_eq!(ended["signal"], "SIGTERM");
    assert_eq!(ended["by_run"], id.as_str());
    let rerun = records.iter().position(|r| r["event"] == "step_start" && r["rerun"] == true).expect("rerun");
    assert!(at("leftover_ended") < rerun);
}

#[test]
fn resume_waits_for_a_leftover_that_ends_by_itself() {
    let dir = temp_dir();
    let d = dir.path();
    let (id, _) = killed_mid_step(d, "2");
    let out = ripcord(d, &["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("waiting up to 10s"), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(d.join("log")).expect("log");
    assert_eq!(log, "start\nend\nstart\nend\n", "the second copy ran after the first, never beside it");
}
