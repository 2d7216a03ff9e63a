//! `ripcord check` as a user runs it: the real binary, files in a temporary directory, exit codes
//! (0 no errors, 1 errors, 2 usage), the JSON output's exact shape, and the file-reading diagnostics
//! (RC002 too large, RC009 not UTF-8, RC010 unreadable) that only a file on disk can produce.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::bin::{Test, code, reported};
use support::{dir_with_bytes as dir_with, temp_dir};

const VALID: &str = "runbook ok {\n  trigger errors: error_rate > 5% for 1m -> level 1\n  level 1 \"Rollback\" {\n    step shell \"./rollback\"\n  }\n}\n";
const UNKNOWN_LEVEL: &str = "runbook bad {\n  trigger errors: error_rate > 5% -> level 2\n  level 1 \"Rollback\" {\n    step shell \"./rollback\"\n  }\n}\n";
const WARNING_ONLY: &str = "runbook warn {\n  trigger errors: error_rate > 5% for 20s -> level 1\n  level 1 \"Rollback\" {\n    step shell \"./rollback\"\n  }\n}\n";

/// Runs `ripcord ARGS...` in `dir`, with stdout and stderr piped and colour not forbidden.
fn ripcord(dir: &Path, args: &[&str]) -> Output {
    Test::in_dir(dir).env_remove("NO_COLOR").args(args).run()
}

/// `ripcord check --format json ARGS...`: the exit code and the parsed output.
fn check_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = ripcord(dir, &all);
    let stdout = String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout");
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    (code(&out), json)
}

#[test]
fn a_valid_file_exits_0_and_prints_nothing() {
    let dir = dir_with(&[("ok.runbook", VALID.as_bytes())]);
    let out = ripcord(dir.path(), &["check", "ok.runbook"]);
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.is_empty());
}

#[test]
fn an_error_exits_1_and_is_explained_on_stderr() {
    let dir = dir_with(&[("bad.runbook", UNKNOWN_LEVEL.as_bytes())]);
    let out = ripcord(dir.path(), &["check", "bad.runbook"]);
    assert_eq!(code(&out), 1);
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(stderr.contains("RC110"), "{stderr}");
    assert!(stderr.contains("bad.runbook:2:"), "{stderr}");
    assert!(stderr.contains("trigger `errors` targets level 2"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = dir_with(&[("ok.runbook", VALID.as_bytes())]);
    for args in [
        &["check"][..],
        &["check", "--format", "xml", "ok.runbook"],
        &["check", "--no-such-flag", "ok.runbook"],
        &["no-such-command"],
        &[],
    ] {
        let out = ripcord(dir.path(), args);
        assert_eq!(code(&out), 2, "ripcord {args:?}");
        assert!(!out.stderr.is_empty(), "ripcord {args:?} says why");
    }
}

#[test]
fn json_output_has_exactly_the_documented_shape() {
    let dir = dir_with(&[("bad.runbook", UNKNOWN_LEVEL.as_bytes())]);
    let out = ripcord(dir.path(), &["check", "--format", "json", "bad.runbook"]);
    assert_eq!(code(&out), 1);
    assert!(out.stderr.is_empty(), "JSON mode writes nothing to stderr");
    let expected = concat!(
        r#"{"diagnostics":[{"path":"bad.runbook","code":"RC110","severity":"error","#,
        r#""message":"trigger `errors` targets level 2, which is not declared","#,
        r#""line":2,"column":44,"end_line":2,"end_column":45,"#,
        r#""help":"the declared levels are 1; declare level 2 or target one of them"}]}"#,
        "\n"
    );
    assert_eq!(String::from_utf8(out.stdout).expect("UTF-8"), expected);
}

#[test]
fn json_entries_all_have_the_same_keys_and_types() {
    let dir = dir_with(&[
        ("bad.runbook", UNKNOWN_LEVEL.as_bytes()),
        ("warn.runbook", WARNING_ONLY.as_bytes()),
        ("syntax.runbook", b"runbook x {\n  level 1 {\n"),
    ]);
    let (_, json) = check_json(dir.path(), &["bad.runbook", "warn.runbook", "syntax.runbook"]);
    let object = json.as_object().expect("an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["diagnostics"]);
    let entries = json["diagnostics"].as_array().expect("array");
    assert_eq!(entries.len(), 3);
    for entry in entries {
        let mut keys: Vec<&str> = entry.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "column", "end_column", "end_line", "help", "line", "message", "path", "severity"]);
        for key in ["path", "code", "severity", "message"] {
            assert!(entry[key].is_string(), "{key} in {entry}");
        }
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(entry[key].as_u64().is_some_and(|n| n >= 1), "{key} in {entry}");
        }
        assert!(entry["help"].is_string() || entry["help"].is_null());
        assert!(matches!(entry["severity"].as_str(), Some("error" | "warning")));
    }
}

#[test]
fn no_diagnostics_is_an_empty_list() {
    let dir = dir_with(&[("ok.runbook", VALID.as_bytes())]);
    let (status, json) = check_json(dir.path(), &["ok.runbook"]);
    assert_eq!(status, 0);
    assert_eq!(json, serde_json::json!({ "diagnostics": [] }));
}

#[test]
fn warnings_alone_exit_0() {
    let dir = dir_with(&[("warn.runbook", WARNING_ONLY.as_bytes())]);
    let (status, json) = check_json(dir.path(), &["warn.runbook"]);
    assert_eq!(status, 0);
    assert_eq!(json["diagnostics"][0]["code"], "RC210");
    assert_eq!(json["diagnostics"][0]["severity"], "warning");
    let text = ripcord(dir.path(), &["check", "warn.runbook"]);
    assert_eq!(code(&text), 0);
    assert!(String::from_utf8_lossy(&text.stderr).contains("RC210"));
}

#[test]
fn one_bad_file_among_several_exits_1() {
    let dir = dir_with(&[
        ("a.runbook", VALID.as_bytes()),
        ("b.runbook", UNKNOWN_LEVEL.as_bytes()),
        ("c.runbook", WARNING_ONLY.as_bytes()),
    ]);
    let (status, json) = check_json(dir.path(), &["a.runbook", "b.runbook", "c.runbook"]);
    assert_eq!(status, 1);
    assert_eq!(
        reported(&json, "diagnostics"),
        [("b.runbook".to_string(), "RC110".to_string(), 2), ("c.runbook".to_string(), "RC210".to_string(), 2),]
    );
}

#[test]
fn a_directory_expands_to_its_runbook_files() {
    let dir = dir_with(&[
        ("book/a.runbook", UNKNOWN_LEVEL.as_bytes()),
        ("book/notes.txt", b"not a runbook at all {{{"),
        ("book/nested/b.runbook", WARNING_ONLY.as_bytes()),
        ("book/ok.runbook", VALID.as_bytes()),
    ]);
    let (status, json) = check_json(dir.path(), &["book"]);
    assert_eq!(status, 1);
    assert_eq!(
        reported(&json, "diagnostics"),
        [
            ("book/a.runbook".to_string(), "RC110".to_string(), 2),
            ("book/nested/b.runbook".to_string(), "RC210".to_string(), 2),
        ]
    );
}

#[test]
fn a_directory_of_valid_runbooks_exits_0() {
    let dir = dir_with(&[
        ("book/a.runbook", VALID.as_bytes()),
        ("book/b.runbook", VALID.as_bytes()),
        ("book/broken.txt", b"{{{"),
    ]);
    let out = ripcord(dir.path(), &["check", "book"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn piped_stderr_has_no_ansi_escapes() {
    let dir = dir_with(&[("bad.runbook", UNKNOWN_LEVEL.as_bytes()), ("warn.runbook", WARNING_ONLY.as_bytes())]);
    let out = ripcord(dir.path(), &["check", "bad.runbook", "warn.runbook"]);
    assert_eq!(code(&out), 1);
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert!(stderr.contains("RC110") && stderr.contains("RC210"));
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in {stderr:?}");
}

#[test]
fn a_file_over_8_mib_is_refused_with_rc002() {
    let mut big = b"runbook big {\n".to_vec();
    big.resize(8 * 1024 * 1024 + 1, b'\n');
    let dir = dir_with(&[("big.runbook", &big)]);
    let (status, json) = check_json(dir.path(), &["big.runbook"]);
    assert_eq!(status, 1);
    assert_eq!(reported(&json, "diagnostics"), [("big.runbook".to_string(), "RC002".to_string(), 1)]);
}

#[test]
fn a_file_of_exactly_8_mib_is_read() {
    let mut text = VALID.as_bytes().to_vec();
    text.resize(8 * 1024 * 1024, b'\n');
    let dir = dir_with(&[("edge.runbook", &text)]);
    let (status, json) = check_json(dir.path(), &["edge.runbook"]);
    assert_eq!(status, 0, "{json}");
}

#[test]
fn invalid_utf8_is_rc009_at_the_bad_byte() {
    let mut text = b"runbook x {\n  description \"caf".to_vec();
    text.push(0xe9); // Latin-1 `é`
    text.extend_from_slice(b"\"\n}\n");
    let dir = dir_with(&[("latin1.runbook", &text)]);
    let (status, json) = check_json(dir.path(), &["latin1.runbook"]);
    assert_eq!(status, 1);
    assert_eq!(reported(&json, "diagnostics"), [("latin1.runbook".to_string(), "RC009".to_string(), 2)]);
    assert_eq!(json["diagnostics"][0]["column"], 19);
}

#[test]
fn a_missing_file_is_rc010() {
    let dir = temp_dir();
    let (status, json) = check_json(dir.path(), &["nowhere.runbook"]);
    assert_eq!(status, 1);
    assert_eq!(reported(&json, "diagnostics"), [("nowhere.runbook".to_string(), "RC010".to_string(), 1)]);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let mut text = "\u{feff}".as_bytes().to_vec();
    text.extend_from_slice(VALID.as_bytes());
    let dir = dir_with(&[("bom.runbook", &text)]);
    let out = ripcord(dir.path(), &["check", "bom.runbook"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}
