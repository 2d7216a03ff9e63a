//! The semantic diff (`ripcord::diff`) and the commands built on it: `ripcord diff OLD NEW` and
//! `ripcord plan FILE --check-snapshot DIR [--update]`.
//!
//! Each kind of change is made to one base runbook and must read as exactly the lines a reviewer expects;
//! layout, spelling (`5%` or `0.05`) and written-out defaults must read as no change at all.

mod support;

use ripcord::diff::{Change, Scope, diff_plans, render_json, render_text};
use ripcord::{Plan, compile};
use support::bin::{code, ripcord, stdout, text};
use support::{dir_with, root};

const BASE: &str = r#"runbook svc {
  owner "sre"
  metric error_rate = promql `sum(rate(errors_total[1m]))`
  channel ops webhook "https://hooks.example.com/ops"
  trigger errors_critical: error_rate > 5% for 1m -> level 1
  trigger errors_warning: error_rate > 2% for 5m -> level 2
  level 1 "Traffic rollback" {
    deadline 3m
    on failure escalate level 2
    step shell "./lb old" timeout 10s
    step http POST "https://flags.example.com/off" expect 200
    step notify ops "done"
  }
  level 2 "Data rollback" {
    approval required
    on failure escalate level 3
    step shell "./sync"
    parallel {
      step shell "./a"
      step shell "./b"
    }
  }
  level 3 "Full" {
    step shell "./full"
  }
}
"#;

fn plan(text: &str) -> Plan {
    let compiled = compile(text);
    compiled.plan.unwrap_or_else(|| panic!("no plan: {:#?}\n{text}", compiled.diagnostics))
}

/// The base runbook with `from` replaced by `to` (which must occur once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "`{from}` occurs once in BASE");
    BASE.replace(from, to)
}

/// The one-line summaries of the changes from BASE to `new`.
fn lines(new: &str) -> Vec<String> {
    diff_plans(&plan(BASE), &plan(new)).into_iter().map(|c| c.summary).collect()
}

#[test]
fn no_change_in_meaning_is_no_change() {
    assert!(lines(BASE).is_empty());
    let respelled = edit("error_rate > 5% for 1m", "error_rate>0.05 for 60s").replace("\n  ", "\n      ");
    assert!(lines(&respelled).is_empty(), "{:?}", lines(&respelled));
    let defaults_written = edit("step shell \"./sync\"", "step shell \"./sync\" timeout 5m retry 0");
    assert!(lines(&defaults_written).is_empty(), "{:?}", lines(&defaults_written));
    let formatted = ripcord::format::format_source(BASE).expect("formats");
    assert!(lines(&formatted).is_empty());
}

#[test]
fn a_threshold_change() {
    let changes = diff_plans(&plan(BASE), &plan(&edit("error_rate > 5% for 1m", "error_rate > 3% for 1m")));
    assert_eq!(
        changes,
        [Change {
            scope: Scope::Trigger,
            name: "errors_critical".into(),
            field: "threshold".into(),
            old: Some("error_rate > 0.05".into()),
            new: Some("error_rate > 0.03".into()),
            summary: "trigger errors_critical: threshold error_rate > 0.05 -> error_rate > 0.03".into(),
        }]
    );
    assert_eq!(
        lines(&edit("error_rate > 5% for 1m", "error_rate >= 5% for 1m")),
        ["trigger errors_critical: condition error_rate > 0.05 -> error_rate >= 0.05"]
    );
}

#[test]
fn a_hold_change() {
    assert_eq!(lines(&edit("5% for 1m", "5% for 2m")), ["trigger errors_critical: for 1m -> 2m"]);
    assert_eq!(
        lines(&edit("5% for 1m", "5% for 4 consecutive")),
        ["trigger errors_critical: hold for 1m -> for 4 consecutive"]
    );
    assert_eq!(
        lines(&edit("5% for 1m", "5% for 1m keep firing for 30s")),
        ["trigger errors_critical: keep firing for 0s -> 30s"]
    );
    assert_eq!(
        lines(&edit("5% for 1m -> level 1", "5% for 1m -> level 2")),
        ["trigger errors_critical: target level 1 -> level 2"]
    );
}

#[test]
fn a_step_inserted_in_the_middle_is_one_insertion() {
    let new =
        edit("    step notify ops \"done\"", "    step verify error_rate < 1% within 2m\n    step notify ops \"done\"");
    assert_eq!(lines(&new), ["level 1: step L1.S3 added: verify error_rate < 0.01 within 2m"]);
    let changes = diff_plans(&plan(BASE), &plan(&new));
    assert_eq!(
        (changes[0].scope, changes[0].name.as_str(), changes[0].field.as_str()),
        (Scope::Step, "L1.S3", "added")
    );
    assert_eq!(changes[0].old, None);
}

#[test]
fn steps_removed_and_changed_keep_their_neighbours_quiet() {
    assert_eq!(
        lines(&edit("    step shell \"./lb old\" timeout 10s\n", "")),
        ["level 1: step L1.S1 removed: shell \"./lb old\" timeout 10s"]
    );
    assert_eq!(
        lines(&edit("\"./lb old\" timeout 10s", "\"./lb legacy\" timeout 20s retry 2")),
        [
            "level 1: step L1.S1 command \"./lb old\" -> \"./lb legacy\"",
            "level 1: step L1.S1 timeout 10s -> 20s",
            "level 1: step L1.S1 retry 0 -> 2",
        ]
    );
    // A change after an insertion names the step by its new id and its old one.
    let new = edit("    step notify ops \"done\"", "    step wait 10s\n    step notify ops \"all done\"");
    assert_eq!(
        lines(&new),
        ["level 1: step L1.S3 added: wait 10s", "level 1: step L1.S4 (was L1.S3) message \"done\" -> \"all done\"",]
    );
    assert_eq!(
        lines(&edit("step shell \"./b\"", "step shell \"./c\"")),
        ["level 2: step L2.S2.2 command \"./b\" -> \"./c\""]
    );
}

#[test]
fn an_escalation_change() {
    assert_eq!(
        lines(&edit("on failure escalate level 2", "on failure escalate level 3")),
        [
            "level 1: on failure escalate level 2 -> escalate level 3",
            "escalation removed: L1 -> L2",
            "escalation added: L1 -> L3",
        ]
    );
}

#[test]
fn a_level_removed() {
    let new =
        edit("  level 3 \"Full\" {\n    step shell \"./full\"\n  }\n", "").replace("on failure escalate level 3\n", "");
    assert_eq!(
        lines(&new),
        [
            "level 2: on failure escalate level 3 -> abort",
            "level 3 removed: \"Full\" (1 step)",
            "escalation removed: L2 -> L3",
        ]
    );
    let changes = diff_plans(&plan(BASE), &plan(&new));
    assert_eq!((changes[1].scope, changes[1].name.as_str()), (Scope::Level, "3"));
}

#[test]
fn a_level_added_lists_its_options_and_steps() {
    let new = edit(
        "  level 3 \"Full\" {",
        "  level 4 \"Last\" {\n    approval required\n    cooldown 1h\n    step shell \"./last\"\n    step wait 5s\n  }\n  level 3 \"Full\" {",
    );
    assert_eq!(
        lines(&new),
        [
            "level 4 added: \"Last\" (approval required, cooldown 1h; 2 steps)",
            "level 4: step L4.S1 added: shell \"./last\"",
            "level 4: step L4.S2 added: wait 5s",
        ]
    );
}

#[test]
fn level_settings() {
    assert_eq!(lines(&edit("deadline 3m", "deadline 5m")), ["level 1: deadline 3m -> 5m"]);
    assert_eq!(lines(&edit("    deadline 3m\n", "")), ["level 1: deadline 3m -> none"]);
    assert_eq!(
        lines(&edit("    approval required\n", "    cooldown 30m\n    max attempts 2\n")),
        ["level 2: approval required -> not required", "level 2: cooldown 0s -> 30m", "level 2: max attempts 1 -> 2"]
    );
    assert_eq!(lines(&edit("\"Full\"", "\"Everything\"")), ["level 3: title \"Full\" -> \"Everything\""]);
}

#[test]
fn triggers_added_removed_and_renamed() {
    assert_eq!(
        lines(&edit("trigger errors_warning: error_rate > 2% for 5m -> level 2\n", "")),
        ["trigger errors_warning removed: error_rate > 0.02 for 5m -> level 2"]
    );
    assert_eq!(
        lines(&edit("trigger errors_warning:", "trigger errors_elevated:")),
        ["trigger errors_warning: renamed to errors_elevated"]
    );
    let added =
        edit("  level 1 \"Traffic", "  trigger watch: error_rate > 1% -> notify ops \"look\"\n  level 1 \"Traffic");
    assert_eq!(lines(&added), ["trigger watch added: error_rate > 0.01 -> notify ops \"look\""]);
    // Anonymous triggers are matched by what they say: inserting one before another is one addition.
    let one = edit("  level 1 \"Traffic", "  error_rate > 9% -> level 3\n  level 1 \"Traffic");
    let two =
        edit("  level 1 \"Traffic", "  error_rate > 7% -> level 2\n  error_rate > 9% -> level 3\n  level 1 \"Traffic");
    let changes: Vec<String> = diff_plans(&plan(&one), &plan(&two)).into_iter().map(|c| c.summary).collect();
    assert_eq!(changes, ["trigger trigger_3 added: error_rate > 0.07 -> level 2"]);
}

#[test]
fn runbook_channel_and_metric_changes() {
    let new = BASE
        .replace("owner \"sre\"", "owner \"dba\"\n  evaluate every 30s")
        .replace("errors_total[1m]", "errors_total[5m]")
        .replace("hooks.example.com/ops", "hooks.example.com/sre")
        .replace("5m -> level 2", "10m -> level 2");
    assert_eq!(
        lines(&new),
        [
            "runbook: owner \"sre\" -> \"dba\"",
            "runbook: evaluate every 15s -> 30s",
            "channel ops: url webhook \"https://hooks.example.com/ops\" -> webhook \"https://hooks.example.com/sre\"",
            "metric error_rate: query `sum(rate(errors_total[1m]))` -> `sum(rate(errors_total[5m]))`",
            "trigger errors_warning: for 5m -> 10m",
        ]
    );
}

#[test]
fn json_has_one_object_per_change() {
    let changes = diff_plans(&plan(BASE), &plan(&edit("deadline 3m", "deadline 5m")));
    let json: serde_json::Value = serde_json::from_str(&render_json(&changes)).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({"changes": [{
            "scope": "level", "name": "1", "field": "deadline", "old": "3m", "new": "5m",
            "summary": "level 1: deadline 3m -> 5m"
        }]})
    );
    assert_eq!(render_text(&changes), "level 1: deadline 3m -> 5m\n");
    assert_eq!(render_json(&[]), "{\"changes\":[]}\n");
}

#[test]
fn every_runbook_against_itself_and_against_nothing() {
    let empty = plan("runbook svc {}");
    for entry in std::fs::read_dir(root().join("runbooks")).expect("runbooks/") {
        let path = entry.expect("entry").path();
        let p = plan(&std::fs::read_to_string(&path).expect("readable"));
        assert!(diff_plans(&p, &p).is_empty(), "{}", path.display());
        let added = diff_plans(&empty, &p);
        assert_eq!(added.iter().filter(|c| c.scope == Scope::Level).count(), p.levels.len());
        assert_eq!(added.iter().filter(|c| c.scope == Scope::Trigger).count(), p.triggers.len());
        assert!(added.iter().all(|c| c.old.is_none() || c.scope == Scope::Runbook), "{added:#?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------------------

#[test]
fn diff_exits_0_1_and_2() {
    let new = edit("deadline 3m", "deadline 5m");
    let dir = dir_with(&[("old.runbook", BASE), ("new.runbook", &new), ("broken.runbook", "runbook {")]);
    let out = ripcord(dir.path(), &["diff", "old.runbook", "old.runbook"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, ""));

    let out = ripcord(dir.path(), &["diff", "old.runbook", "new.runbook"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (1, "level 1: deadline 3m -> 5m\n"));

    let out = ripcord(dir.path(), &["diff", "old.runbook", "new.runbook", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["changes"][0]["field"], "deadline");

    let out = ripcord(dir.path(), &["diff", "old.runbook", "broken.runbook"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("RC001"), "{}", text(&out.stderr));
    assert_eq!(code(&ripcord(dir.path(), &["diff", "old.runbook", "missing.runbook"])), 2);
    assert_eq!(code(&ripcord(dir.path(), &["diff", "old.runbook"])), 2);
    assert_eq!(code(&ripcord(dir.path(), &["diff", "old.runbook", "new.runbook", "--format", "yaml"])), 2);
}

#[test]
fn diff_reads_plan_snapshots() {
    let dir = dir_with(&[("old.runbook", BASE), ("new.runbook", &edit("5% for 1m", "5% for 2m"))]);
    let out = ripcord(dir.path(), &["plan", "old.runbook", "--format", "json"]);
    assert_eq!(code(&out), 0);
    std::fs::write(dir.path().join("old.plan.json"), &out.stdout).expect("write");
    let out = ripcord(dir.path(), &["diff", "old.plan.json", "new.runbook"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (1, "trigger errors_critical: for 1m -> 2m\n"));
    let out = ripcord(dir.path(), &["diff", "old.plan.json", "old.runbook"]);
    assert_eq!(code(&out), 0);

    std::fs::write(dir.path().join("bad.plan.json"), "{\"format\": 99}").expect("write");
    let out = ripcord(dir.path(), &["diff", "bad.plan.json", "old.runbook"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("format 99"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("junk.plan.json"), "not json").expect("write");
    assert_eq!(code(&ripcord(dir.path(), &["diff", "junk.plan.json", "old.runbook"])), 2);
}

#[test]
fn check_snapshot_and_update() {
    let dir = dir_with(&[("svc.runbook", BASE)]);
    let d = dir.path();

    let out = ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"]);
    assert_eq!(code(&out), 1, "no snapshot yet");
    assert!(text(&out.stderr).contains("--update"), "{}", text(&out.stderr));

    let out = ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps", "--update"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let written = std::fs::read_to_string(d.join("snaps/svc.plan.json")).expect("snapshot written");
    let json = ripcord(d, &["plan", "svc.runbook", "--format", "json"]);
    assert_eq!(written, stdout(&json), "the snapshot is the JSON plan");

    let out = ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, ""));

    // Layout is not meaning.
    std::fs::write(d.join("svc.runbook"), ripcord::format::format_source(BASE).expect("formats")).expect("write");
    assert_eq!(code(&ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"])), 0);

    std::fs::write(d.join("svc.runbook"), edit("error_rate > 5%", "error_rate > 3%")).expect("write");
    let out = ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "trigger errors_critical: threshold error_rate > 0.05 -> error_rate > 0.03\n");
    assert!(text(&out.stderr).contains("1 change in meaning"), "{}", text(&out.stderr));

    assert_eq!(code(&ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps", "--update"])), 0);
    assert_eq!(code(&ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"])), 0);

    std::fs::write(d.join("snaps/svc.plan.json"), "{").expect("write");
    let out = ripcord(d, &["plan", "svc.runbook", "--check-snapshot", "snaps"]);
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("not JSON"), "{}", text(&out.stderr));

    assert_eq!(code(&ripcord(d, &["plan", "svc.runbook", "--update"])), 2, "--update needs --check-snapshot");
}

const SERIES: &str = r#"runbook disks {
  metric usage = promql `max by (instance, mountpoint) (disk_usage)`
  metric quota = promql `max by (instance, mountpoint) (disk_quota)`
  trigger disk_full: usage > on(instance, mountpoint) quota for 5m -> level 1 {
    alert "DiskFull"
    labels { severity "warning" }
    annotations { summary "Disk ${labels.mountpoint} is full" }
  }
  level 1 "Clean" {
    step shell "./clean ${labels.mountpoint}"
  }
}
"#;

/// The one-line summaries of the changes from SERIES to SERIES with `from` replaced by `to`.
fn series_lines(from: &str, to: &str) -> Vec<String> {
    assert_eq!(SERIES.matches(from).count(), 1, "`{from}` occurs once in SERIES");
    diff_plans(&plan(SERIES), &plan(&SERIES.replace(from, to))).into_iter().map(|c| c.summary).collect()
}

#[test]
fn matching_and_alert_attributes() {
    assert!(series_lines("on(instance, mountpoint)", "on(mountpoint, instance)").is_empty());
    assert_eq!(
        series_lines("on(instance, mountpoint)", "ignoring(job)"),
        ["trigger disk_full: matching usage > on(instance, mountpoint) quota -> usage > ignoring(job) quota"]
    );
    assert_eq!(
        series_lines("on(instance, mountpoint) quota", "on(instance, mountpoint) quota * 2"),
        ["trigger disk_full: condition usage > on(instance, mountpoint) quota -> usage > on(instance, mountpoint) \
          quota * 2"]
    );
    assert_eq!(
        series_lines("\"DiskFull\"", "\"DiskAlmostFull\""),
        ["trigger disk_full: alert \"DiskFull\" -> \"DiskAlmostFull\""]
    );
    assert_eq!(series_lines("    alert \"DiskFull\"\n", ""), ["trigger disk_full: alert \"DiskFull\" -> (none)"]);
    assert_eq!(
        series_lines("{ severity \"warning\" }", "{ team \"infra\" severity \"critical\" }"),
        [
            "trigger disk_full: label severity \"warning\" -> \"critical\"",
            "trigger disk_full: label team (none) -> \"infra\""
        ]
    );
    assert_eq!(
        series_lines("is full\" }", "is full\" runbook \"${runbook}\" }"),
        ["trigger disk_full: annotation runbook (none) -> \"${runbook}\""]
    );
    assert_eq!(
        series_lines("is full", "is ${value} full"),
        ["trigger disk_full: annotation summary \"Disk ${labels.mountpoint} is full\" -> \"Disk ${labels.mountpoint} \
          is ${value} full\""]
    );
}

#[test]
fn max_parallel_and_max_series() {
    assert_eq!(series_lines("\"Clean\" {\n", "\"Clean\" {\n    max parallel 8\n"), ["level 1: max parallel 1 -> 8"]);
    // Written out as the default, it is no change.
    assert!(series_lines("\"Clean\" {\n", "\"Clean\" {\n    max parallel 1\n").is_empty());
    assert_eq!(
        series_lines("runbook disks {\n", "runbook disks {\n  max series 50\n"),
        ["runbook: max series 1000 -> 50"]
    );
}

#[test]
fn trigger_kinds_and_verify_checks_in_a_row() {
    assert_eq!(lines(&edit("5% for 1m", "5% for 3 of 5")), ["trigger errors_critical: hold for 1m -> for 3 of 5"]);
    let of_last = edit("5% for 1m", "5% for 3 of 5");
    let changes = diff_plans(&plan(&of_last), &plan(&edit("5% for 1m", "5% for 4 of 6")));
    assert_eq!(
        changes.iter().map(|c| c.summary.as_str()).collect::<Vec<_>>(),
        ["trigger errors_critical: for 3 of 5 -> 4 of 6"]
    );
    assert_eq!(
        lines(&edit("5% for 1m", "5% for 1m clear when error_rate < 1%")),
        ["trigger errors_critical: clear when (none) -> error_rate < 0.01"]
    );
    let cleared = edit("5% for 1m", "5% for 1m clear when error_rate < 1%");
    let changes = diff_plans(&plan(&cleared), &plan(&edit("5% for 1m", "5% for 1m clear when error_rate < 2%")));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "clear when");
    assert_eq!(changes[0].summary, "trigger errors_critical: clear when error_rate < 0.01 -> error_rate < 0.02");
    assert_eq!(
        lines(&edit("5% for 1m", "5% for 1m on no data keep")),
        ["trigger errors_critical: on no data clear -> keep"]
    );
    // `on no data clear` is the default: writing it changes nothing.
    assert!(lines(&edit("5% for 1m", "5% for 1m on no data clear")).is_empty());
    let removed = diff_plans(&plan(&cleared), &plan(BASE));
    assert_eq!(removed[0].summary, "trigger errors_critical: clear when error_rate < 0.01 -> (none)");

    let verify = |tail: &str| {
        edit(
            "    step notify ops \"done\"",
            &format!("    step verify error_rate < 1% within 2m{tail}\n    step notify ops \"done\""),
        )
    };
    let changes = diff_plans(&plan(&verify("")), &plan(&verify(" for 3 consecutive")));
    assert_eq!(
        changes.iter().map(|c| c.summary.as_str()).collect::<Vec<_>>(),
        ["level 1: step L1.S3 for N consecutive 1 -> 3"]
    );
}
