//! `ripcord test` through the real binary: the bundled runbooks' tests pass, a failing test explains itself
//! with expected and actual timelines, the JUnit report is well-formed XML, and a bad test file is a
//! diagnostic (never a panic).

mod support;

use std::path::{Path, PathBuf};

use support::bin::{ripcord, text};
use support::root;

/// A test file in `dir` for the repository's storage-migration runbook.
fn write_test(dir: &Path, name: &str, body: &str) -> PathBuf {
    let runbook = root().join("runbooks/storage-migration.runbook");
    let path = dir.join(name);
    std::fs::write(&path, format!("runbook: {}\ninterval: 15s\n{body}", runbook.display())).expect("write test file");
    path
}

const PASSING: &str = r#"tests:
  - name: critical errors roll traffic back
    input_series:
      error_rate: "0.01x3 0.06x6 0.004x20"
    expect:
      - {at: 1m, trigger: errors_critical, state: pending}
      - {at: 2m, trigger: errors_critical, state: firing}
      - {at: 2m, run: {level: 1, steps: [L1.S1, L1.S2, L1.S3, L1.S4, L1.S5], outcome: succeeded}}
"#;

const FAILING: &str = r#"tests:
  - name: passes
    input_series:
      error_rate: "0.01x3 0.06x6 0.004x20"
    expect:
      - {at: 2m, trigger: errors_critical, state: firing}
  - name: wrong about the steps and the timing
    input_series:
      error_rate: "0.01x3 0.06x6 0.004x20"
    fail: [L1.S3]
    expect:
      - {at: 1m45s, trigger: errors_critical, state: firing}
      - {at: 2m, run: {level: 1, steps: [L1.S1, L1.S2, L1.S3, L1.S4], outcome: succeeded}}
"#;

#[test]
fn every_bundled_runbook_has_tests_and_they_pass() {
    let out = ripcord(root(), &["test", "tests/runbooks"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("test result: ok."), "{stdout}");
    let mut runbooks: Vec<PathBuf> = std::fs::read_dir(root().join("runbooks"))
        .expect("runbooks/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    runbooks.sort();
    assert!(runbooks.len() >= 5);
    for runbook in runbooks {
        let stem = runbook.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let test = root().join(format!("tests/runbooks/{stem}.test.yml"));
        let body = std::fs::read_to_string(&test).unwrap_or_else(|_| panic!("{stem} has no {}", test.display()));
        assert!(body.contains(&format!("runbooks/{stem}.runbook")), "{} tests another runbook", test.display());
        assert!(body.contains("\n    fail: ["), "{}: no test injects a failure", test.display());
        assert!(body.contains("\n    approve: {"), "{}: no test decides an approval", test.display());
        assert!(stdout.contains(&format!("{stem}.test.yml: runbook `")), "{stem} did not run:\n{stdout}");
    }
}

#[test]
fn a_passing_file_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_test(dir.path(), "ok.test.yml", PASSING);
    let out = ripcord(dir.path(), &["test", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("  ok    critical errors roll traffic back"), "{stdout}");
    assert!(stdout.contains("test result: ok. 1 passed; 0 failed"), "{stdout}");
}

#[test]
fn a_failing_test_shows_expected_and_actual_timelines() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_test(dir.path(), "wrong.test.yml", FAILING);
    let out = ripcord(dir.path(), &["test", "wrong.test.yml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("  ok    passes"), "{stdout}");
    assert!(stdout.contains("  FAIL  wrong about the steps and the timing"), "{stdout}");
    // Both wrong expectations are reported, each at its line, with expected and actual side by side.
    assert!(stdout.contains("wrong.test.yml:14: not met: `errors_critical` is firing at 00:01:45"), "{stdout}");
    assert!(stdout.contains("expected  00:01:45  trigger errors_critical  firing"), "{stdout}");
    assert!(stdout.contains("actual    00:01:45  trigger errors_critical  pending (since 00:01:00)"), "{stdout}");
    assert!(stdout.contains("wrong.test.yml:15: not met: a matching run starts at 00:02:00"), "{stdout}");
    assert!(
        stdout.contains("expected  00:02:00  run of level 1: steps [L1.S1, L1.S2, L1.S3, L1.S4]; succeeded"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "actual    00:02:00  run-1 level 1 by `errors_critical`: steps [L1.S1, L1.S2, L1.S3], failed [L1.S3]; escalated to level 2"
        ),
        "{stdout}"
    );
    // The slice of the simulation's timeline around it, as `ripcord simulate` writes it.
    assert!(stdout.contains("timeline 00:00:00 to "), "{stdout}");
    assert!(stdout.contains("00:02:00  trigger errors_critical      FIRING  (value 0.06)"), "{stdout}");
    assert!(stdout.contains("L1.S3 http FAILED"), "{stdout}");
    assert!(stdout.contains("test result: FAILED. 1 passed; 1 failed"), "{stdout}");
}

#[test]
fn junit_report_is_well_formed() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_test(dir.path(), "a_ok.test.yml", PASSING);
    write_test(dir.path(), "b_wrong.test.yml", FAILING);
    std::fs::write(dir.path().join("c_bad.test.yml"), "runbook: nowhere.runbook\ntests: []\n").expect("write");
    let out =
        ripcord(dir.path(), &["test", "a_ok.test.yml", "b_wrong.test.yml", "c_bad.test.yml", "--junit", "report.xml"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(dir.path().join("report.xml")).expect("report written");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let rootel = doc.root_element();
    assert_eq!(rootel.tag_name().name(), "testsuites");
    assert_eq!(rootel.attribute("tests"), Some("4"), "{xml}");
    assert_eq!(rootel.attribute("failures"), Some("1"), "{xml}");
    assert_eq!(rootel.attribute("errors"), Some("1"), "{xml}");
    let suites: Vec<_> = rootel.children().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(names, ["a_ok.test.yml", "b_wrong.test.yml", "c_bad.test.yml"]);
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    let case_names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(
        case_names,
        ["critical errors roll traffic back", "passes", "wrong about the steps and the timing", "(test file)"]
    );
    assert_eq!(cases[0].attribute("classname"), Some("storage_migration"));
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).expect("a <failure>");
    assert!(failure.attribute("message").is_some_and(|m| m.contains("line 14: not met")), "{xml}");
    assert!(failure.text().is_some_and(|t| t.contains("expected  00:01:45")), "{xml}");
    let error = doc.descendants().find(|n| n.has_tag_name("error")).expect("an <error>");
    assert!(error.attribute("message").is_some_and(|m| m.contains("RC010")), "{xml}");
}

#[test]
fn bad_test_files_are_diagnostics_not_panics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "typos",
            r#"tests:
  - name: typos
    input_series:
      eror_rate: "0.01x3"
    fail: [L1.S9]
    approve: {2: maybe, 7: deny}
    expect:
      - {at: 60s, trigger: errors_critcal, state: pending}
      - {at: 60, trigger: errors_critical, state: firng}
"#,
            &[
                "bad.test.yml:6:7",
                "reads `eror_rate`",
                "did you mean `error_rate`?",
                "no step has the id `L1.S9`",
                "`maybe` is not an approval decision",
                "level 7 is not declared",
                "did you mean `errors_critical`?",
                "`60` is not a duration",
                "did you mean `firing`?",
            ],
        ),
        (
            "unknown key",
            "tests:\n  - name: x\n    expct: []\n",
            &["bad.test.yml:5:5", "unknown field `expct`", "help:"],
        ),
        ("not yaml", "tests: [\n", &["cannot read the test file"]),
        ("no tests", "tests: []\n", &["the test file has no tests"]),
        (
            "bad notation",
            "tests:\n  - name: x\n    input_series:\n      error_rate: \"1 2 3x\"\n    expect:\n      - {no_run: any}\n",
            &["bad.test.yml:6:", "RC403"],
        ),
        (
            "a label given twice",
            "tests:\n  - name: x\n    input_series:\n      'error_rate{instance=\"a\", instance=\"b\"}': \"1\"\n    expect:\n      - {no_run: any}\n",
            &["RC401", "bad.test.yml:6:33", "the label `instance` is given twice", "name{label="],
        ),
        (
            "a series given twice",
            "tests:\n  - name: x\n    input_series:\n      - {series: 'error_rate{a=\"1\"}', values: \"1\"}\n      - {series: 'error_rate{a=\"1\",}', values: \"2\"}\n      - {series: 'error_rate{a=\"1\"', values: \"2\"}\n    expect:\n      - {no_run: any}\n",
            &["the series `error_rate{a=\"1\"}` is given twice", "bad.test.yml:8:", "the labels are not closed"],
        ),
        (
            "huge repetition",
            "tests:\n  - name: x\n    input_series:\n      error_rate: \"1x99999999999\"\n    expect:\n      - {no_run: any}\n",
            &["at most 10000000 samples"],
        ),
        (
            "mixed expectation",
            "tests:\n  - name: x\n    expect:\n      - {at: 1m, no_run: any, no_firing: any}\n      - {at: 1m, from: 0s, no_run: any}\n      - {from: 2m, to: 1m, no_run: 1}\n",
            &["mixes `no_run` and `no_firing`", "`at` and `from`/`to` cannot be used together", "is before `from`"],
        ),
        (
            "duplicate names and nothing expected",
            "tests:\n  - name: x\n    expect: []\n  - name: x\n    expect:\n      - {no_run: any}\n",
            &["test `x` expects nothing", "two tests are named `x`"],
        ),
    ];
    for (what, body, wanted) in cases {
        write_test(dir.path(), "bad.test.yml", body);
        let out = ripcord(dir.path(), &["test", "bad.test.yml"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(text(&out.stdout).contains("bad.test.yml: INVALID, no test ran"), "{what}: {}", text(&out.stdout));
        for w in *wanted {
            assert!(stderr.contains(w), "{what}: `{w}` is not in\n{stderr}");
        }
    }

    // A missing runbook is reported at the test file's `runbook:` line.
    std::fs::write(dir.path().join("lost.test.yml"), "runbook: ../nowhere.runbook\ntests: []\n").expect("write");
    let out = ripcord(dir.path(), &["test", "lost.test.yml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("lost.test.yml:1:10") && stderr.contains("cannot use the runbook"), "{stderr}");

    // A runbook with errors: its own diagnostics, against the runbook file.
    std::fs::write(dir.path().join("broken.runbook"), "runbook broken {\n  x > -> level 1\n}\n").expect("write");
    std::fs::write(
        dir.path().join("broken.test.yml"),
        "runbook: broken.runbook\ntests:\n  - name: x\n    expect:\n      - {no_run: any}\n",
    )
    .expect("write");
    let out = ripcord(dir.path(), &["test", "broken.test.yml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("RC001") && stderr.contains("broken.runbook:2:"), "{stderr}");
}

#[test]
fn input_series_may_carry_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = r#"tests:
  - name: one instance's errors fire the trigger
    input_series:
      - series: 'error_rate{instance="a"}'
        values: "0.01x3 0.06x6 0.004x20"
      - series: 'error_rate{instance="b", zone=`eu\1`}'
        values: "0.01x30"
    expect:
      - {at: 1m, trigger: errors_critical, state: pending}
      - {at: 2m, trigger: errors_critical, state: firing}
"#;
    let file = write_test(dir.path(), "labels.test.yml", body);
    let out = ripcord(dir.path(), &["test", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("test result: ok. 1 passed; 0 failed"), "{}", text(&out.stdout));
}

#[test]
fn usage_errors_exit_2() {
    let out = ripcord(root(), &["test"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ripcord(root(), &["test", "tests/runbooks", "--junit"]);
    assert_eq!(out.status.code(), Some(2));
}
