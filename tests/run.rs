//! `ripcord run`, `resume`, `approve`, `deny`, `runs`, `report` and `undo` through the real binary, in
//! temporary directories: real shell commands, real files, a real HTTP server on loopback.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin::{Test, text};
use support::http::Recorder;
use support::{temp_dir, write_file as write};

/// `ripcord ARGS...` in `dir`, its state in `dir/state`.
fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::with_state_in(dir).args(args).run()
}

fn run_level(dir: &Path, level: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", "rb.runbook", "--level", level, "--operator", "alice", "--reason", "test"];
    args.extend_from_slice(extra);
    ripcord(dir, &args)
}

/// `ripcord run rb.runbook --level 1 ...` in the background, its output collected or dropped.
fn spawn_level_1(dir: &Path, operator: &str, reason: &str, output: fn() -> Stdio) -> std::process::Child {
    Test::with_state_in(dir)
        .args(["run", "rb.runbook", "--level", "1", "--operator", operator, "--reason", reason])
        .stdout(output())
        .stderr(output())
        .spawn()
}

/// A temporary directory holding `rb.runbook`.
fn with_runbook(runbook: &str) -> tempfile::TempDir {
    let dir = temp_dir();
    write(dir.path(), "rb.runbook", runbook);
    dir
}

/// Level 1 of `rb.runbook` fails (exit 1) and stdout says `what`.
fn level_1_fails_saying(dir: &Path, what: &str) {
    let out = run_level(dir, "1", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(what), "{}", text(&out.stdout));
}

/// The journal records of the only run in the state dir.
fn only_journal(dir: &Path) -> Vec<Value> {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join("state/runs"))
        .expect("runs dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    journal(&runs[0])
}

fn journal(path: &Path) -> Vec<Value> {
    let body = std::fs::read_to_string(path).expect("journal");
    assert!(body.ends_with('\n'), "journal ends with a whole line");
    body.lines().map(|l| serde_json::from_str(l).expect("every journal line is JSON")).collect()
}

fn run_id(records: &[Value]) -> String {
    records[0]["run_id"].as_str().expect("run id").to_string()
}

fn events<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["event"] == kind).collect()
}

fn runs_json(dir: &Path) -> Value {
    let out = ripcord(dir, &["runs", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("runs JSON")
}

fn alive(pid: &str) -> bool {
    // A zombie (no init to reap it in some containers) is dead too.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn interpolated_values_are_inert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "victim", "still here");
    write(d, "rb.runbook", "runbook q {\n  level 1 {\n    step shell \"printf '%s' ${reason} > got.txt\"\n  }\n}\n");
    let out = ripcord(
        d,
        &[
            "run",
            "rb.runbook",
            "--level",
            "1",
            "--operator",
            "o'brien",
            "--reason",
            "x; rm -f victim; echo $(id) `id` 'q",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(d.join("victim").exists(), "the reason was run as a command");
    assert_eq!(std::fs::read_to_string(d.join("got.txt")).expect("got"), "x; rm -f victim; echo $(id) `id` 'q");
}

#[test]
fn dry_run_prints_everything_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let srv = Recorder::start(200, "{}");
    let files = d.join("files");
    std::fs::create_dir(&files).expect("mkdir");
    write(&files, "a.conf", "live");
    write(&files, "a.good", "good");
    let rb = format!(
        r#"runbook dry {{
  files under "{f}"
  channel ops webhook "{u}/hook"
  level 1 {{
    approval required
    step shell "touch made-by-shell ${{reason}}"
    step http POST "{u}/api" body "x" expect 200
    step snapshot "{f}/a.conf"
    step restore "{f}/a.conf" from "{f}/a.good"
    step notify ops "hello ${{operator}}"
  }}
}}
"#,
        f = files.display(),
        u = srv.url
    );
    write(d, "rb.runbook", &rb);
    let before = listing(d);
    let out = run_level(d, "1", &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // The command holds a reference to the value, never its text; the value is shown beside it.
    assert!(
        stdout.contains(
            "L1.S1 shell: touch made-by-shell \"${RIPCORD_VAR_REASON}\"\n    with RIPCORD_VAR_REASON='test'\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("L1.S2 http: POST {}/api", srv.url)), "{stdout}");
    assert!(stdout.contains(&format!("L1.S3 snapshot: copy {}/a.conf", files.display())), "{stdout}");
    assert!(stdout.contains(&format!("with a copy of {}/a.good", files.display())), "{stdout}");
    assert!(stdout.contains(&format!("L1.S5 notify ops: POST {}/hook", srv.url)), "{stdout}");
    let order: Vec<usize> = ["L1.S1", "L1.S2", "L1.S3", "L1.S4", "L1.S5"]
        .iter()
        .map(|s| stdout.find(s).expect("every step printed"))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(listing(d), before, "the dry run changed files");
    assert!(!d.join("state").exists(), "the dry run created the state dir");
    std::thread::sleep(Duration::from_millis(50));
    assert!(srv.requests.lock().expect("lock").is_empty(), "the dry run sent a request");
}

fn listing(d: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn http_steps_webhooks_and_verify_http_reach_a_real_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ok = Recorder::start(204, "");
    let rb = format!(
        r#"runbook web {{
  channel ops webhook "${{env.RC_TEST_HOOK}}"
  level 1 {{
    step http POST "{u}/flags/off?run=${{run_id}}" header "Authorization" "Bearer ${{env.RC_TEST_TOKEN}}" body "{{\"reason\": \"${{reason}}\"}}" expect 204 timeout 5s
    step verify http GET "{u}/healthz" expect 204 within 5s every 100ms
    step notify ops "done by ${{operator}}"
  }}
}}
"#,
        u = ok.url
    );
    write(d, "rb.runbook", &rb);
    let out = Test::with_state_in(d)
        .args(["run", "rb.runbook", "--level", "1", "--operator", "alice", "--reason", "test"])
        .env("RC_TEST_HOOK", format!("{}/hook", ok.url))
        .env("RC_TEST_TOKEN", "s3cr3t-token-value")
        .run();
    // The webhook answered 204: a 2xx is success.
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reqs = ok.requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(reqs[0].method, "POST");
    assert!(reqs[0].target.starts_with("/flags/off?run=web-"), "{reqs:?}");
    assert_eq!(reqs[0].text(), r#"{"reason": "test"}"#);
    assert_eq!((reqs[1].method.as_str(), reqs[1].target.as_str()), ("GET", "/healthz"));
    let hook: Value = serde_json::from_str(&reqs[2].text()).expect("webhook JSON");
    assert_eq!(hook, serde_json::json!({"text": "done by alice"}));
    let journal_text = std::fs::read_to_string(
        std::fs::read_dir(d.join("state/runs")).expect("runs").flatten().next().expect("journal").path(),
    )
    .expect("read");
    assert!(!journal_text.contains("s3cr3t-token-value"), "a secret reached the journal");

    // A status other than `expect` fails the step.
    let bad = Recorder::start(500, "");
    write(
        d,
        "rb.runbook",
        format!("runbook web2 {{\n  level 1 {{\n    step http GET \"{}/x\" expect 200\n  }}\n}}\n", bad.url),
    );
    level_1_fails_saying(d, "answered 500, expected 200");
}

#[test]
fn verify_condition_reads_prometheus_and_needs_a_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let body: &'static str = Box::leak(
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{}},"values":[[{},"0.001"],[{},"0.002"]]}}]}}}}"#,
            now - 30,
            now - 15
        )
        .into_boxed_str(),
    );
    let prom = Recorder::start(200, body);
    write(
        d,
        "rb.runbook",
        "runbook v {\n  metric error_rate = promql `sum(rate(errors[5m]))`\n  level 1 {\n    step verify error_rate < 1% within 2s every 100ms\n  }\n}\n",
    );
    level_1_fails_saying(d, "pass --prometheus URL");
    let out = run_level(d, "1", &["--prometheus", &prom.url]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let reqs = prom.requests.lock().expect("lock").clone();
    assert!(reqs[0].target.starts_with("/api/v1/query_range?query=sum%28rate%28errors"), "{reqs:?}");
}

#[test]
fn restore_replaces_atomically_keeps_the_original_and_undo_puts_it_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let files = d.join("etc");
    std::fs::create_dir(&files).expect("mkdir");
    let live = write(&files, "app.yaml", "live: 1\n");
    std::fs::set_permissions(&live, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let good = write(&files, "app.yaml.good", "good: 1\n");
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let rb = format!(
        r#"runbook file_steps {{
  files under "{f}"
  level 1 {{
    step snapshot "{f}/app.yaml"
    step restore "{f}/app.yaml" from "{f}/app.yaml.good"
    step shell "echo edited > {f}/app.yaml"
    step restore "{f}/app.yaml" from snapshot
  }}
}}
"#,
        f = files.display()
    );
    write(d, "rb.runbook", &rb);
    let out = run_level(d, "1", &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    // Back to the snapshot: content and mode.
    assert_eq!(std::fs::read_to_string(&live).expect("read"), "live: 1\n");
    let mode = std::fs::metadata(&live).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let records = only_journal(d);
    let ends = events(&records, "step_end");
    let restore = ends.iter().find(|e| e["step"] == "L1.S2").expect("L1.S2 ended");
    let replaced = restore["files"].as_array().expect("files").iter().find(|f| f["role"] == "replaced").expect("kept");
    let kept = replaced["kept"].as_str().expect("kept path");
    assert_eq!(std::fs::read(kept).expect("kept copy"), b"live: 1\n", "the original is kept byte for byte");
    assert_eq!(replaced["sha256"], ripcord::actions::sha256_hex(b"live: 1\n").as_str());
    // No temp file left next to the target.
    let leftovers: Vec<_> = std::fs::read_dir(&files)
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // Undo puts back what the restores replaced: newest first, so the file ends as before the run.
    let id = run_id(&records);
    let out = ripcord(d, &["undo", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&live).expect("read"), "live: 1\n");
    let mode = std::fs::metadata(&live).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(events(&only_journal(d), "undo").len(), 2);
}

#[test]
fn a_symlink_out_of_the_roots_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let files = d.join("etc");
    std::fs::create_dir(&files).expect("mkdir");
    let outside = write(d, "outside.txt", "secret");
    std::os::unix::fs::symlink(&outside, files.join("link")).expect("symlink");
    write(&files, "good", "x");
    let rb = format!(
        "runbook esc {{\n  files under \"{f}\"\n  level 1 {{\n    step restore \"{f}/link\" from \"{f}/good\"\n  }}\n}}\n",
        f = files.display()
    );
    write(d, "rb.runbook", &rb);
    level_1_fails_saying(d, "outside `files under`");
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), "secret");
}

#[test]
fn a_timed_out_shell_step_has_its_children_killed() {
    let dir = with_runbook(
        "runbook t {\n  level 1 {\n    step shell \"sleep 30 & echo $! > pidfile; wait\" timeout 500ms\n  }\n}\n",
    );
    let d = dir.path();
    let start = Instant::now();
    level_1_fails_saying(d, "timed out after 500ms");
    assert!(start.elapsed() < Duration::from_secs(10));
    let pid = std::fs::read_to_string(d.join("pidfile")).expect("pidfile");
    wait_for("the child to die", || !alive(pid.trim()));
}

#[test]
fn retries_back_off_exponentially_then_the_level_escalates() {
    let dir = with_runbook(
        r#"runbook esc {
  level 1 {
    on failure escalate level 2
    step shell "echo try >> tries; exit 7" retry 2 backoff 100ms
    step shell "echo never >> never"
  }
  level 2 {
    max attempts 2
    on failure escalate level 3
    step shell "echo l2 >> l2; exit 1"
  }
  level 3 {
    step shell "echo l3 >> l3"
  }
}
"#,
    );
    let d = dir.path();
    let start = Instant::now();
    let out = run_level(d, "1", &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(start.elapsed() >= Duration::from_millis(300), "backoff 100ms then 200ms");
    assert_eq!(std::fs::read_to_string(d.join("tries")).expect("tries").lines().count(), 3);
    assert!(!d.join("never").exists(), "abort-like: the rest of level 1 is skipped");
    assert_eq!(std::fs::read_to_string(d.join("l2")).expect("l2").lines().count(), 2, "max attempts 2");
    assert!(d.join("l3").exists());
    let records = only_journal(d);
    let retries = events(&records, "step_retry");
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0]["backoff_ms"], 100);
    assert_eq!(retries[1]["backoff_ms"], 200);
    let esc: Vec<(u64, u64)> = events(&records, "escalate")
        .iter()
        .map(|e| (e["from"].as_u64().unwrap_or(0), e["to"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(esc, vec![(1, 2), (2, 3)]);
    let end = events(&records, "end");
    assert_eq!(end[0]["status"], "succeeded");
    let l1 = events(&records, "step_end").into_iter().find(|e| e["step"] == "L1.S1").expect("L1.S1").clone();
    assert_eq!((l1["tries"].as_u64(), l1["exit_code"].as_i64()), (Some(3), Some(7)));
    // The report shows what ran and the outcome.
    let out = ripcord(d, &["report", &run_id(&records)]);
    let md = text(&out.stdout);
    assert!(md.contains("## What ran") && md.contains("| L1.S1 | shell |") && md.contains("**succeeded**"), "{md}");
}

#[test]
fn the_deadline_stops_the_running_step() {
    let dir = with_runbook(
        "runbook dl {\n  level 1 {\n    deadline 1s\n    on failure abort\n    step shell \"sleep 30\" timeout 1m\n  }\n}\n",
    );
    let start = Instant::now();
    level_1_fails_saying(dir.path(), "deadline passed");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn approval_comes_from_another_process_and_a_denial_stops_the_run() {
    let dir = with_runbook(
        r#"runbook appr {
  level 1 {
    approval required
    on failure escalate level 2
    step shell "echo approved-by-${operator} >> out"
  }
  level 2 {
    step shell "echo l2 >> l2"
  }
}
"#,
    );
    let d = dir.path();
    for approve in [true, false] {
        let _ = std::fs::remove_dir_all(d.join("state"));
        let mut child = spawn_level_1(d, "alice", "r", Stdio::piped);
        let mut id = String::new();
        wait_for("waiting_approval", || {
            let runs = runs_json(d);
            match runs.as_array().and_then(|a| a.first()) {
                Some(r) if r["status"] == "waiting_approval" => {
                    id = r["id"].as_str().unwrap_or("").to_string();
                    true
                }
                _ => false,
            }
        });
        let verb = if approve { "approve" } else { "deny" };
        let out = ripcord(d, &[verb, &id, "--operator", "bob"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let status = child.wait().expect("wait");
        let records = only_journal(d);
        let approval = events(&records, "approval");
        assert_eq!(approval[0]["operator"], "bob");
        if approve {
            assert!(status.success());
            assert_eq!(std::fs::read_to_string(d.join("out")).expect("out"), "approved-by-'bob'\n".replace('\'', ""));
        } else {
            assert_eq!(status.code(), Some(1));
            assert!(!d.join("l2").exists(), "a denial is never escalated past");
            assert!(events(&records, "escalate").is_empty());
            assert_eq!(runs_json(d)[0]["status"], "failed");
        }
        let mut stderr = String::new();
        let _ = child.stderr.take().map(|mut s| s.read_to_string(&mut stderr));
    }
}

#[test]
fn a_second_concurrent_run_is_refused_and_cooldown_is_enforced() {
    let dir = with_runbook(
        "runbook lk {\n  level 1 {\n    cooldown 1h\n    step wait 1s\n  }\n  level 2 {\n    step wait 0s\n  }\n}\n",
    );
    let d = dir.path();
    let mut first = spawn_level_1(d, "a", "r", Stdio::null);
    wait_for("running", || runs_json(d).as_array().and_then(|a| a.first()).is_some_and(|r| r["status"] == "running"));
    let out = run_level(d, "2", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is already running"), "{}", text(&out.stderr));
    assert!(first.wait().expect("wait").success());
    let out = run_level(d, "1", &["--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cooling down"), "{}", text(&out.stderr));
}

#[test]
fn sigterm_interrupts_the_run_and_resume_finishes_it() {
    let dir = with_runbook(
        r#"runbook intr {
  level 1 {
    step shell "echo one >> log"
    step shell "echo two >> log; if [ ! -e pid2 ]; then sleep 30 & echo $! > pid2; wait; fi" idempotent
    step shell "echo three >> log"
  }
}
"#,
    );
    let d = dir.path();
    let mut child = spawn_level_1(d, "a", "r", Stdio::piped);
    wait_for("pid2", || std::fs::read_to_string(d.join("pid2")).is_ok_and(|s| s.ends_with('\n')));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("wait").code(), Some(130));
    let pid = std::fs::read_to_string(d.join("pid2")).expect("pid");
    wait_for("the step's child to die", || !alive(pid.trim()));
    let records = only_journal(d);
    assert_eq!(events(&records, "interrupted").len(), 1);
    assert_eq!(runs_json(d)[0]["status"], "interrupted");
    let id = run_id(&records);
    let out = ripcord(d, &["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("L1.S2 started before the interruption but did not finish; running it again (marked idempotent"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(d.join("log")).expect("log"), "one\ntwo\ntwo\nthree\n");
    assert_eq!(runs_json(d)[0]["status"], "succeeded");
    let out = ripcord(d, &["resume", &id]);
    assert_eq!(out.status.code(), Some(1), "a finished run cannot be resumed");
}

#[test]
fn verify_for_n_consecutive_passes_only_after_n_passing_checks_in_a_row() {
    // Every check counts itself in `n`; the second fails, the others pass: the first pass does not count
    // once the second fails, so the verify passes at the fifth check (third, fourth, fifth in a row).
    let dir = with_runbook(
        r#"runbook again {
  level 1 {
    step verify shell "n=$(( $(cat n 2>/dev/null || echo 0) + 1 )); echo $n > n; test $n -ne 2" within 20s every 100ms for 3 consecutive
  }
  level 2 {
    step verify shell "n=$(( $(cat m 2>/dev/null || echo 0) + 1 )); echo $n > m; test $((n % 2)) -eq 1" within 1500ms every 100ms for 2 consecutive
  }
}
"#,
    );
    let d = dir.path();
    let dry = run_level(d, "1", &["--dry-run"]);
    assert!(
        text(&dry.stdout).contains("verify shell (every 100ms, passing 3 checks in a row, within 20s)"),
        "{}",
        text(&dry.stdout)
    );
    assert!(!d.join("n").exists(), "a dry run runs no check");
    let out = run_level(d, "1", &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(std::fs::read_to_string(d.join("n")).expect("n").trim(), "5", "passed at the fifth check");
    let l1 = events(&only_journal(d), "step_end").into_iter().find(|e| e["step"] == "L1.S1").expect("L1.S1").clone();
    assert_eq!(l1["detail"], "passed 3 checks in a row (checks 3 to 5)");
    // Checks that alternate never pass twice in a row: the verify fails when `within` runs out.
    let out = run_level(d, "2", &[]);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let checks: u32 = std::fs::read_to_string(d.join("m")).expect("m").trim().parse().expect("a count");
    assert!(checks >= 4, "checked until within ran out, {checks} checks");
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("did not pass 2 checks in a row"), "{said}");
}
