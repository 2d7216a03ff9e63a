//! `ripcord export prometheus-rules` through the real binary, checked by Prometheus's own promtool:
//!
//! - the rules exported from every runbook in runbooks/ pass `promtool check rules`;
//! - differential: for the promtool fixtures (their metrics declared as `metric x = promql "x"`) and for
//!   extra cases with `and`, `or`, `not`, two-metric arithmetic and subqueries, Prometheus evaluating the
//!   exported rules (`promtool test rules`) fires at exactly the evaluations where `ripcord simulate` fires,
//!   for Prometheus 2.42 (rules exported and simulated with `--prometheus-version 2`) and for Prometheus 3.5
//!   (`--prometheus-version 3`, promtool from `PROMTOOL3`, see .ci/prometheus3.sh).
//! - per series: for the fixtures of tests/promtool/series (alerts per label set that promtool 2.42 and
//!   3.5 both reported, for `a > X`, `and on(instance)`, `unless on(instance)`, `a / b` and
//!   `a > 2 * avg(a)`), the exported rules give promtool exactly those alerts, labels included;
//! - every join kind the export writes (`group_left`, `group_right`, `on`, `ignoring`, set operators,
//!   `not`, templates in labels and annotations) passes `promtool check rules` of both versions.
//!
//! Without promtool these tests are skipped with a message, unless `CI` is set: then a missing promtool fails.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use ripcord::eval::PromVersion;
use serde::{Deserialize, Serialize};
use support::bin::ripcord;
use support::prometheus::Version;
use support::root;

/// The promtool to use (2: `PROMTOOL`, else `promtool` on PATH; 3: `PROMTOOL3`), or `None` after saying why
/// the test is skipped. With `CI` set, a missing promtool fails the test instead.
fn promtool_of(test: &str, version: Version) -> Option<PathBuf> {
    let candidate = match version {
        Version::V2 => std::env::var_os("PROMTOOL").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("promtool")),
        Version::V3 => PathBuf::from(version.promtool()),
    };
    let works = Command::new(&candidate).arg("--version").output().is_ok_and(|o| o.status.success());
    if works {
        return Some(candidate);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: promtool is not installed (`{}`), and CI is set: install it (`.ci/run` does)",
            candidate.display()
        );
    }
    // Written straight to stderr, past the test harness's capture, so that a skip is never silent.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: promtool not found (`{}`); install Prometheus's promtool or set PROMTOOL (PROMTOOL3 for 3.x) to run it",
        candidate.display()
    );
    None
}

fn runbooks() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("runbooks"))
        .expect("runbooks/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "runbook"))
        .collect();
    out.sort();
    out
}

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    name: String,
    interval: String,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    alert: String,
    expr: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[test]
fn every_runbook_exports_rules_that_promtool_accepts() {
    let Some(promtool) = promtool("every_runbook_exports_rules_that_promtool_accepts") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    for runbook in runbooks() {
        let stem = runbook.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let plan = ripcord::compile(&std::fs::read_to_string(&runbook).expect("runbook")).plan.expect("compiles");
        // `on no data keep | fire` has no exact PromQL form: export refuses such a trigger and says why; every
        // other trigger of the bundled runbooks is exportable.
        let refused: Vec<&str> =
            plan.triggers.iter().filter(|t| !t.on_no_data.is_default()).map(|t| t.name.as_str()).collect();
        let path = runbook.display().to_string();
        let args: &[&str] = if refused.is_empty() {
            &["export", "prometheus-rules", &path, "--strict"]
        } else {
            &["export", "prometheus-rules", &path]
        };
        let out = ripcord(root(), args);
        assert!(out.status.success(), "{stem}: exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        for name in &refused {
            assert!(
                stderr.contains(&format!("trigger `{name}` is not exported: `on no data")),
                "{stem}: `{name}` refused with its reason:\n{stderr}"
            );
        }
        if refused.len() == plan.triggers.len() {
            continue;
        }
        let yaml = String::from_utf8(out.stdout).expect("UTF-8");
        let parsed: RuleFile = serde_saphyr::from_str(&yaml).expect("the export is YAML in Prometheus's shape");
        assert_eq!(parsed.groups.len(), 1, "{stem}: one group");
        assert_eq!(parsed.groups[0].name, plan.runbook);
        assert_eq!(parsed.groups[0].rules.len(), plan.triggers.len() - refused.len(), "{stem}: one alert per trigger");
        for rule in &parsed.groups[0].rules {
            assert_eq!(rule.labels.get("ripcord_runbook"), Some(&plan.runbook));
            assert!(rule.annotations.contains_key("ripcord_condition"));
            assert!(!rule.expr.is_empty());
        }
        let path = dir.path().join(format!("{stem}.rules.yml"));
        std::fs::write(&path, yaml).expect("write rules");
        files.push(path);
    }
    assert!(files.len() >= 5, "expected every runbook in runbooks/, found {}", files.len());
    let out = Command::new(&promtool).arg("check").arg("rules").args(&files).output().expect("run promtool");
    assert!(
        out.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn triggers_that_cannot_be_exported_are_listed_not_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runbook = dir.path().join("mixed.runbook");
    std::fs::write(
        &runbook,
        "runbook mixed {\n  evaluate every 30s\n  metric errors = promql `sum(rate(errors_total[1m]))`\n  \
         trigger declared: errors > 1 for 3 consecutive -> level 1\n  trigger undeclared: latency > 2 -> level 1\n  \
         level 1 \"Rollback\" {\n    step shell \"true\"\n  }\n}\n",
    )
    .expect("write runbook");
    let out = ripcord(dir.path(), &["export", "prometheus-rules", "mixed.runbook"]);
    assert_eq!(out.status.code(), Some(0), "not strict: exit 0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("trigger `undeclared` is not exported"), "{stderr}");
    assert!(stderr.contains("metric `latency` has no PromQL query"), "{stderr}");
    assert!(stderr.contains("exported 1 of 2 triggers"), "{stderr}");
    let parsed: RuleFile = serde_saphyr::from_slice(&out.stdout).expect("YAML");
    let group = &parsed.groups[0];
    assert_eq!((group.name.as_str(), group.interval.as_str()), ("mixed", "30s"));
    assert_eq!(group.rules.len(), 1);
    assert_eq!(group.rules[0].alert, "declared");
    assert_eq!(group.rules[0].expr, "(sum(rate(errors_total[1m]))) > 1");

    let strict = ripcord(dir.path(), &["export", "prometheus-rules", "mixed.runbook", "--strict"]);
    assert_eq!(strict.status.code(), Some(1), "--strict: exit 1");
    assert_eq!(strict.stdout, out.stdout, "--strict prints the same rules");
}

#[test]
fn a_runbook_without_triggers_is_an_empty_group_and_bad_input_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("manual.runbook"),
        "runbook manual {\n  level 1 {\n    step shell \"true\"\n  }\n}\n",
    )
    .expect("write");
    let out = ripcord(dir.path(), &["export", "prometheus-rules", "manual.runbook", "--strict"]);
    assert_eq!(out.status.code(), Some(0));
    let parsed: RuleFile = serde_saphyr::from_slice(&out.stdout).expect("YAML");
    assert_eq!(parsed.groups[0].name, "manual");
    assert!(parsed.groups[0].rules.is_empty());

    std::fs::write(dir.path().join("broken.runbook"), "runbook broken {\n  x > -> level 1\n}\n").expect("write");
    let out = ripcord(dir.path(), &["export", "prometheus-rules", "broken.runbook"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no rules for a runbook with errors");
    assert!(String::from_utf8_lossy(&out.stderr).contains("RC001"));

    let out = ripcord(dir.path(), &["export", "prometheus-rules", "missing.runbook"]);
    assert_eq!(out.status.code(), Some(1));
    let out = ripcord(dir.path(), &["export", "grafana", "manual.runbook"]);
    assert_eq!(out.status.code(), Some(2), "an unknown export target is a usage error");
}

// ---------------------------------------------------------------------------------------------------------
// Differential: promtool evaluating the exported rules against ripcord's simulation.

#[derive(Deserialize)]
struct FixtureTestFile {
    tests: Vec<FixtureTest>,
}

#[derive(Deserialize)]
struct FixtureTest {
    interval: String,
    input_series: Vec<SeriesEntry>,
}

#[derive(Clone, Deserialize, Serialize)]
struct SeriesEntry {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct PromtoolTestFile {
    rule_files: Vec<String>,
    evaluation_interval: String,
    tests: Vec<PromtoolTest>,
}

#[derive(Serialize)]
struct SeriesOnly {
    tests: Vec<PromtoolTest>,
}

#[derive(Serialize)]
struct PromtoolTest {
    interval: String,
    input_series: Vec<SeriesEntry>,
    alert_rule_test: Vec<AlertTest>,
}

#[derive(Serialize)]
struct AlertTest {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Clone, Serialize)]
struct ExpAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<String, String>,
}

/// One differential case: a runbook with one trigger `t`, promtool input series, and how long to evaluate.
struct Case {
    name: String,
    runbook: String,
    series_interval: String,
    series: Vec<SeriesEntry>,
    end_s: i64,
}

/// Inserts metric declarations right after the `runbook NAME {` line.
fn declare(runbook: &str, declarations: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in runbook.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.trim_start().starts_with("runbook ") && line.trim_end().ends_with('{') {
            out.push_str(declarations);
            done = true;
        }
    }
    assert!(done, "no `runbook NAME {{` line in:\n{runbook}");
    out
}

fn fixture_cases() -> Vec<Case> {
    let dir = root().join("tests/promtool/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir).expect("fixtures").flatten().map(|e| e.path()).collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            let name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let runbook = std::fs::read_to_string(d.join("case.runbook")).expect("case.runbook");
            let test: FixtureTestFile =
                serde_saphyr::from_str(&std::fs::read_to_string(d.join("test.yml")).expect("test.yml")).expect("yaml");
            let expected: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("expected.json")).expect("expected.json"))
                    .expect("json");
            let first = test.tests.into_iter().next().expect("a test");
            Case {
                name,
                runbook: declare(&runbook, "  metric x = promql \"x\"\n  metric c = promql \"c\"\n"),
                series_interval: first.interval,
                series: first.input_series,
                end_s: expected["end_s"].as_i64().expect("end_s"),
            }
        })
        .collect()
}

/// Cases the fixtures do not cover: `not`, `or` and `and` across two metrics, two-metric arithmetic and
/// comparisons (one series each, matched on every label), constants folded away, and queries that are not plain selectors (a subquery
/// for a window, `last_over_time` for an offset) where their samples line up with the evaluations.
fn extra_cases() -> Vec<Case> {
    let x = |v: &str| SeriesEntry { series: "x".to_string(), values: v.to_string() };
    // One series each, without labels: `x` and `c` (plain selectors, per series) match on every label, which
    // they share; `d` and `s` are aggregations. Series with labels are the per-series cases' (below).
    let c = |v: &str| SeriesEntry { series: "c".to_string(), values: v.to_string() };
    let d = |v: &str| SeriesEntry { series: "d".to_string(), values: v.to_string() };
    let s = |v: &str| SeriesEntry { series: "s".to_string(), values: v.to_string() };
    let ramp = "0+1x6 6x6 0x6 5x6";
    let case = |name: &str, every: &str, trigger: &str, interval: &str, series: Vec<SeriesEntry>, end_s: i64| Case {
        name: format!("extra_{name}"),
        runbook: format!(
            "runbook extra_{name} {{\n  evaluate every {every}\n  metric x = promql \"x\"\n  metric c = promql `c`\n  \
             metric d = promql `sum(d)`\n  metric s = promql `sum(x)`\n  trigger t: {trigger} -> level 1\n  level 1 \"respond\" {{\n    \
             step shell \"true\"\n  }}\n}}\n"
        ),
        series_interval: interval.to_string(),
        series,
        end_s,
    };
    // A gap longer than the 5m lookback, so that `x` has no value for a while.
    let gappy = "1 2 6 7 8 3 2 _x30 9 9 1 7 7 7 7 2";
    vec![
        case("not_with_gap", "15s", "not x > 5 for 30s", "15s", vec![x(gappy)], 720),
        case("not_keep_firing", "15s", "not x < 5 keep firing for 30s", "15s", vec![x(gappy)], 720),
        case(
            "and_not",
            "15s",
            "x > 2 and not c > 4 for 1m",
            "15s",
            vec![x("1+1x12 9x10 3x10"), c("0+0.5x20 6x12")],
            540,
        ),
        // `or` across metrics: both sides are one series without labels, so the alert is the same whichever
        // side holds.
        case("or_across", "10s", "x > 8 or d > 8 for 30s", "20s", vec![x("1+1x9 0x10 9x5"), d("9x3 0x15 12x6")], 500),
        case(
            "or_same_labels",
            "15s",
            "x > 5 or c > 5 for 30s",
            "15s",
            vec![x("0+1x10 0x5 8x5"), c("0+1x10 0x5 8x5")],
            300,
        ),
        case("and_same_labels", "15s", "x > 2 and c < 5 for 30s", "15s", vec![x("0+1x20"), c("10-1x20")], 300),
        case(
            "not_or",
            "15s",
            "not (x > 1 or c < 0) for 15s",
            "15s",
            vec![x("0x5 2x5 0x5 _x25 0x3"), c("1x10 -1x3 1x30")],
            720,
        ),
        case("x_gt_c", "15s", "x > c for 30s", "15s", vec![x("1+1x20 5x10"), c("10x10 3x5 _x25")], 600),
        case(
            "ratio_keep",
            "15s",
            "x / c > 0.5 keep firing for 45s",
            "15s",
            vec![x("1+1x10 0x8 6x5"), c("10x12 0x3 10x12")],
            420,
        ),
        case("abs_diff", "30s", "abs(x - c) > 2 for 1m", "30s", vec![x("1x4 9x6 4x6 0x6"), c("2x22")], 660),
        case("neg_arith", "15s", "-x + c * 2 < 3", "15s", vec![x("0+1x15"), c("2x5 4x10")], 240),
        case("folded_constants", "15s", "x > 2 * 2 or 1 > 2", "15s", vec![x("0+1x10 0x5")], 240),
        case("consecutive", "20s", "x > 3 for 3 consecutive", "20s", vec![x("0 4 4 0 4 4 4 4 0 4 4 4")], 240),
        // The simulation reads `s` from the input series of that name; promtool computes `sum(x)`. Both are
        // given the same values.
        case("subquery_avg", "15s", "avg_over(s, 1m) > 3 for 30s", "15s", vec![x(ramp), s(ramp)], 360),
        case("subquery_offset", "15s", "s offset 1m > 4", "15s", vec![x(ramp), s(ramp)], 420),
        case("subquery_rate", "15s", "rate(s, 1m) > 0.05", "15s", vec![x(ramp), s(ramp)], 420),
        case(
            "window_and_or",
            "15s",
            "max_over(x, 1m) > 5 and min_over(c, 30s) < 2 or x == 0",
            "15s",
            vec![x("1 2 3 7 7 0 1 8 8 8 8 2 2"), c("3 1 1 1 3 3 3 1 1 1 1 1 1")],
            240,
        ),
    ]
}

fn promtool(test: &str) -> Option<PathBuf> {
    promtool_of(test, Version::V2)
}

fn prom_version(version: Version) -> PromVersion {
    match version {
        Version::V2 => PromVersion::V2,
        Version::V3 => PromVersion::V3,
    }
}

/// Evaluation times (seconds) at which `t` is firing, by the simulation under `version`.
fn simulated_firing(
    plan: &ripcord::Plan,
    series: &ripcord::source::SeriesSet,
    end_s: i64,
    version: PromVersion,
) -> Vec<bool> {
    let options = ripcord::simulate::SimulateOptions {
        start_ms: Some(0),
        end_ms: Some(end_s * 1000),
        version,
        ..Default::default()
    };
    let sim = ripcord::simulate::simulate(plan, series, &options);
    let step = i64::try_from(plan.evaluation_interval_ms).expect("interval");
    (0..=end_s * 1000)
        .step_by(usize::try_from(step).expect("step"))
        .map(|t| {
            sim.transitions
                .iter()
                .rfind(|tr| tr.trigger == "t" && tr.t_ms <= t)
                .is_some_and(|tr| tr.state == ripcord::eval::TriggerState::Firing)
        })
        .collect()
}

#[test]
fn promtool_2_evaluating_exported_rules_fires_when_simulate_does() {
    differential("promtool_2_evaluating_exported_rules_fires_when_simulate_does", Version::V2);
}

#[test]
fn promtool_3_evaluating_exported_rules_fires_when_simulate_does() {
    differential("promtool_3_evaluating_exported_rules_fires_when_simulate_does", Version::V3);
}

/// Every case exported for `version` and simulated under it; one promtool of that version checks them all.
fn differential(test: &str, version: Version) {
    let Some(promtool) = promtool_of(test, version) else { return };
    let prom = prom_version(version);
    let work = tempfile::tempdir().expect("temp dir");
    let mut cases = fixture_cases();
    assert!(cases.len() >= 100, "expected the promtool fixtures, found {}", cases.len());
    cases.extend(extra_cases());
    let mut test_files = Vec::new();
    let mut firing_total = 0;
    for case in &cases {
        let compiled = ripcord::compile(&case.runbook);
        let plan =
            compiled.plan.unwrap_or_else(|| panic!("{}: {:?}\n{}", case.name, compiled.diagnostics, case.runbook));
        let export = ripcord::export::prometheus_rules(&plan, prom);
        assert!(export.skipped.is_empty(), "{}: skipped {:?}", case.name, export.skipped);
        assert_eq!(export.rules.len(), 1, "{}", case.name);
        let rule = &export.rules[0];

        // The simulation reads the same series promtool loads: a promtool test file of them.
        let series_yaml = serde_saphyr::to_string(&SeriesOnly {
            tests: vec![PromtoolTest {
                interval: case.series_interval.clone(),
                input_series: case.series.clone(),
                alert_rule_test: Vec::new(),
            }],
        })
        .expect("yaml");
        let series = ripcord::source::read_series("series.yml", &series_yaml)
            .unwrap_or_else(|d| panic!("{}: {}\n{series_yaml}", case.name, d.message));
        let firing = simulated_firing(&plan, &series, case.end_s, prom);
        firing_total += firing.iter().filter(|f| **f).count();
        if case.name.starts_with("extra_") {
            let n = firing.iter().filter(|f| **f).count();
            assert!(n > 0 && n < firing.len(), "{}: a useful case fires at some evaluations, not all ({n})", case.name);
        }

        let mut exp_labels = rule.labels.clone();
        exp_labels.retain(|k, _| k != "alertname");
        let alert = ExpAlert { exp_labels, exp_annotations: rule.annotations.clone() };
        let interval_s = plan.evaluation_interval_ms / 1000;
        let alert_rule_test = firing
            .iter()
            .enumerate()
            .map(|(i, f)| AlertTest {
                eval_time: format!("{}s", i as u64 * interval_s),
                alertname: "t".to_string(),
                exp_alerts: if *f { vec![alert.clone()] } else { Vec::new() },
            })
            .collect();
        let test = PromtoolTestFile {
            rule_files: vec!["rules.yml".to_string()],
            evaluation_interval: format!("{interval_s}s"),
            tests: vec![PromtoolTest {
                interval: case.series_interval.clone(),
                input_series: case.series.clone(),
                alert_rule_test,
            }],
        };
        let dir = work.path().join(&case.name);
        std::fs::create_dir_all(&dir).expect("case dir");
        std::fs::write(dir.join("rules.yml"), &export.yaml).expect("rules.yml");
        std::fs::write(dir.join("test.yml"), serde_saphyr::to_string(&test).expect("yaml")).expect("test.yml");
        std::fs::write(dir.join("case.runbook"), &case.runbook).expect("case.runbook");
        test_files.push(dir.join("test.yml"));
    }
    assert!(firing_total > 1000, "the cases should fire often, fired at {firing_total} evaluations");
    // One promtool run for every case; only when it fails, one run per case to say which disagree (promtool
    // writes the differences to stderr and the file names to stdout, so a joint run cannot tell them apart).
    let out = Command::new(&promtool).arg("test").arg("rules").args(&test_files).output().expect("run promtool");
    if !out.status.success() {
        let mut report = String::new();
        let mut failed = 0;
        for file in &test_files {
            let one = Command::new(&promtool).arg("test").arg("rules").arg(file).output().expect("run promtool");
            if !one.status.success() {
                failed += 1;
                let text = String::from_utf8_lossy(&one.stdout).into_owned() + &String::from_utf8_lossy(&one.stderr);
                report.push_str(&text.chars().take(3000).collect::<String>());
                report.push('\n');
            }
        }
        panic!(
            "promtool disagrees with ripcord simulate on {failed} of {} case(s) (work dir kept: {}):\n{report}",
            test_files.len(),
            work.keep().display()
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Per series: the fixtures of tests/promtool/series (alerts per label set, as promtool 2.42 and 3.5 both
// reported them), exported from their runbooks and evaluated by promtool. The metrics' shapes are set here
// to what analysis infers from their queries (a plain selector per series, `avg(a)` one series), and an
// `on(instance)` join is built here from its two sides, so this checks the export whatever the front end
// already parses.

/// The plan of a per-series fixture's runbook, its shapes and its condition as the design means them.
fn series_plan(case: &std::path::Path) -> ripcord::Plan {
    use ripcord::plan::{Condition, Matching, Shape};
    let text = std::fs::read_to_string(case.join("case.runbook")).expect("case.runbook");
    let line = text.lines().find(|l| l.trim_start().starts_with("trigger t: ")).expect("a trigger t");
    let body = line.trim_start()["trigger t: ".len()..].split(" -> ").next().unwrap_or_default();
    let body = body.split(" keep firing for ").next().unwrap_or_default();
    let condition = body.split(" for ").next().unwrap_or_default().trim();
    let joined = [(" and on(instance) ", "and"), (" unless on(instance) ", "unless")]
        .into_iter()
        .find_map(|(word, kind)| condition.split_once(word).map(|(l, r)| (l, r, kind)));
    let source =
        match joined {
            // The left side stands in for the whole; the right side is compiled as a second trigger.
            Some((l, r, _)) => text
                .replacen(&format!("trigger t: {condition}"), &format!("trigger t: {l}"), 1)
                .replacen("  level 1 ", &format!("  trigger right: {r} -> level 1\n  level 1 "), 1),
            None => text.clone(),
        };
    let compiled = ripcord::compile(&source);
    let mut plan = compiled.plan.unwrap_or_else(|| panic!("{}: {:?}\n{source}", case.display(), compiled.diagnostics));
    for metric in &mut plan.metrics {
        metric.shape = if metric.promql.as_deref() == Some("avg(a)") { Shape::Single } else { Shape::PerSeries };
    }
    if let Some((_, _, kind)) = joined {
        let right = plan.triggers.pop().expect("the right side").condition;
        let t = &mut plan.triggers[0];
        let (lhs, rhs) = (Box::new(t.condition.clone()), Box::new(right));
        let matching = Some(Matching { on: true, labels: vec!["instance".to_string()] });
        t.condition = match kind {
            "and" => Condition::And { lhs, rhs, matching },
            _ => Condition::Unless { lhs, rhs, matching },
        };
        t.condition_text = t.condition.to_string();
        assert_eq!(t.condition_text, condition, "{}", case.display());
    }
    plan
}

#[test]
fn promtool_2_evaluating_exported_per_series_rules_fires_for_the_same_series() {
    per_series_differential("promtool_2_evaluating_exported_per_series_rules_fires_for_the_same_series", Version::V2);
}

#[test]
fn promtool_3_evaluating_exported_per_series_rules_fires_for_the_same_series() {
    per_series_differential("promtool_3_evaluating_exported_per_series_rules_fires_for_the_same_series", Version::V3);
}

fn per_series_differential(test: &str, version: Version) {
    let Some(promtool) = promtool_of(test, version) else { return };
    let dir = root().join("tests/promtool/series");
    let mut cases: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("series fixtures").flatten().map(|e| e.path()).collect();
    cases.sort();
    assert!(cases.len() >= 40, "expected the per-series fixtures, found {}", cases.len());
    let work = tempfile::tempdir().expect("temp dir");
    let mut rule_files = Vec::new();
    let mut test_files = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for case in &cases {
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let plan = series_plan(case);
        let export = ripcord::export::prometheus_rules(&plan, prom_version(version));
        assert!(export.skipped.is_empty(), "{name}: skipped {:?}", export.skipped);
        let rule = &export.rules[0];
        for kind in ["and on(instance)", "unless on(instance)", "on() group_left", " / "] {
            if rule.expr.contains(kind) {
                kinds.insert(kind);
            }
        }
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).expect("expected.json"))
                .expect("json");
        let interval_s = expected["interval_s"].as_i64().expect("interval_s");
        let end_s = expected["end_s"].as_i64().expect("end_s");
        let series: Vec<(BTreeMap<String, String>, Vec<i64>)> = expected["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|s| {
                let labels = serde_json::from_value(s["labels"].clone()).expect("labels");
                (labels, s["firing"].as_array().expect("firing").iter().filter_map(|t| t.as_i64()).collect())
            })
            .collect();
        let input: FixtureTestFile =
            serde_saphyr::from_str(&std::fs::read_to_string(case.join("test.yml")).expect("test.yml")).expect("yaml");
        let input = input.tests.into_iter().next().expect("a test");
        let alert_rule_test = (0..=end_s)
            .step_by(usize::try_from(interval_s).expect("interval"))
            .map(|t| AlertTest {
                eval_time: format!("{t}s"),
                alertname: rule.alert.clone(),
                exp_alerts: series
                    .iter()
                    .filter(|(_, firing)| firing.contains(&t))
                    .map(|(labels, _)| {
                        let mut exp_labels = labels.clone();
                        exp_labels.extend(rule.labels.clone());
                        ExpAlert { exp_labels, exp_annotations: rule.annotations.clone() }
                    })
                    .collect(),
            })
            .collect();
        let file = PromtoolTestFile {
            rule_files: vec!["rules.yml".to_string()],
            evaluation_interval: format!("{interval_s}s"),
            tests: vec![PromtoolTest { interval: input.interval, input_series: input.input_series, alert_rule_test }],
        };
        let case_dir = work.path().join(&name);
        std::fs::create_dir_all(&case_dir).expect("case dir");
        std::fs::write(case_dir.join("rules.yml"), &export.yaml).expect("rules.yml");
        std::fs::write(case_dir.join("test.yml"), serde_saphyr::to_string(&file).expect("yaml")).expect("test.yml");
        rule_files.push(case_dir.join("rules.yml"));
        test_files.push(case_dir.join("test.yml"));
    }
    assert_eq!(kinds.len(), 4, "every join kind is among the cases: {kinds:?}");
    let check = Command::new(&promtool).arg("check").arg("rules").args(&rule_files).output().expect("promtool");
    assert!(
        check.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let mut failed = Vec::new();
    for file in &test_files {
        let dir = file.parent().expect("case dir");
        let out =
            Command::new(&promtool).current_dir(dir).args(["test", "rules", "test.yml"]).output().expect("promtool");
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            failed.push(format!("{}: {}", dir.display(), text.chars().take(1500).collect::<String>()));
        }
    }
    if !failed.is_empty() {
        panic!(
            "{} of {} exported per-series rules fire differently from the fixtures (work dir kept: {}):\n{}",
            failed.len(),
            test_files.len(),
            work.keep().display(),
            failed.join("\n")
        );
    }
}

/// Every join kind, set operator and template form the export writes is a rule both promtools accept:
/// `group_left`/`group_right` (with the empty label list before a parenthesis), `on(...)`/`ignoring(...)`,
/// `or` of a per-series and a single side, `not`, folded constants, and labels and annotations with
/// `{{ $labels.NAME }}`, `{{ $value }}` and escaped braces.
#[test]
fn every_join_kind_exports_rules_that_both_promtools_accept() {
    use ripcord::plan::{CmpOp, Condition, Matching, Shape, Template, TemplatePart, Value, Variable};
    let text = "runbook joins {\n  metric a = promql `disk_used{kind=\"fs\"}`\n  metric b = promql `up`\n  \
                metric s = promql `sum(disk_used)`\n  trigger t1: a > s -> level 1\n  trigger t2: s < a -> level 1\n  \
                trigger t3: a / s > 0.5 -> level 1\n  trigger t4: -a < -s -> level 1\n  trigger t5: a > 1 or s > 1 -> level 1\n  \
                trigger t6: not a > 1 -> level 1\n  trigger t7: a > 1 or 1 > 0 -> level 1\n  trigger t8: 1 > 0 and a > 1 -> level 1\n  \
                trigger t9: s > 1 and a > 1 -> level 1\n  trigger t10: a > b -> level 1\n  trigger t11: a > 1 -> level 1\n  \
                trigger t12: a > 1 -> level 1\n  level 1 \"Fix {{it}}\" {\n    step shell \"true\"\n  }\n}\n";
    let mut plan = ripcord::compile(text).plan.expect("compiles");
    for metric in &mut plan.metrics {
        metric.shape = if metric.name == "s" { Shape::Single } else { Shape::PerSeries };
    }
    let m = |name: &str| Value::Metric { name: name.to_string(), offset_ms: 0 };
    let gt = |name: &str| Condition::Compare {
        op: CmpOp::Gt,
        lhs: Value::Metric { name: name.to_string(), offset_ms: 0 },
        rhs: Value::Number { value: 1.0 },
        matching: None,
    };
    let t11 = &mut plan.triggers[10];
    t11.condition = Condition::Compare {
        op: CmpOp::Gt,
        lhs: m("a"),
        rhs: m("b"),
        matching: Some(Matching { on: false, labels: vec!["mountpoint".to_string(), "kind".to_string()] }),
    };
    t11.alert = Some("DiskFull".to_string());
    t11.labels = vec![("severity".to_string(), "page {{now}}".to_string())];
    t11.annotations = vec![(
        "description".to_string(),
        Template {
            parts: vec![
                TemplatePart::Text("{{ on {".to_string()),
                TemplatePart::Var(Variable::Label("instance".to_string())),
                TemplatePart::Text("}: ".to_string()),
                TemplatePart::Var(Variable::Value),
                TemplatePart::Text(" for ".to_string()),
                TemplatePart::Var(Variable::Trigger),
            ],
        },
    )];
    plan.triggers[11].condition = Condition::Unless {
        lhs: Box::new(gt("a")),
        rhs: Box::new(Condition::Or {
            lhs: Box::new(gt("s")),
            rhs: Box::new(gt("b")),
            matching: Some(Matching { on: true, labels: vec!["instance".to_string()] }),
        }),
        matching: None,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for version in Version::ALL {
        let Some(promtool) = promtool_of("every_join_kind_exports_rules_that_both_promtools_accept", version) else {
            continue;
        };
        let export = ripcord::export::prometheus_rules(&plan, prom_version(version));
        assert!(export.skipped.is_empty(), "{:?}", export.skipped);
        let exprs: Vec<&str> = export.rules.iter().map(|r| r.expr.as_str()).collect();
        for kind in ["group_left()", "group_right", "ignoring(mountpoint, kind)", "on(instance)", "or vector(1)"] {
            assert!(exprs.iter().any(|e| e.contains(kind)), "no `{kind}` in {exprs:#?}");
        }
        let path = dir.path().join(format!("joins.v{}.yml", version.flag()));
        std::fs::write(&path, &export.yaml).expect("write rules");
        let out = Command::new(&promtool).arg("check").arg("rules").arg(&path).output().expect("promtool");
        assert!(
            out.status.success(),
            "{}: promtool check rules failed:\n{}{}\n{}",
            promtool.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            export.yaml
        );
    }
}
