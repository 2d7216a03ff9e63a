//! Per-series trigger timing against promtool: every fixture in tests/promtool/series holds, per series
//! (label set), the evaluations at which alert `t` is firing, as promtool 2.42 and promtool 3.5 both
//! reported it when tests/promtool/generate_series.py made them (the two agree on every kept case, and
//! `test.yml` asserts it with `exp_alerts` per evaluation). Here, for each fixture and each version:
//!
//! - `ripcord simulate case.runbook --series test.yml --format json --prometheus-version N` has a firing
//!   transition for exactly those series at exactly those evaluations;
//! - the rules `ripcord export prometheus-rules case.runbook` writes pass `promtool check rules`, and
//!   `promtool test rules` of that version over them, with the fixture's input series and its alerts
//!   (with the exported rule's labels and annotations), passes: the exported rule fires for the same
//!   series, at the same times;
//! - the committed `test.yml` still passes that promtool (skipped without promtool unless `CI` is set).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use support::bin::Test;
use support::installed;
use support::prometheus::Version;
use support::promtool::{expected, name_of, simulate_disagreements};

fn fixtures() -> Vec<PathBuf> {
    support::promtool::fixtures("series", 40)
}

#[test]
fn simulate_2_fires_per_series_when_promtool_2_42_does() {
    simulate_fires_when_promtool_does(Version::V2);
}

#[test]
fn simulate_3_fires_per_series_when_promtool_3_5_does() {
    simulate_fires_when_promtool_does(Version::V3);
}

fn simulate_fires_when_promtool_does(version: Version) {
    let cases = fixtures();
    let failures = simulate_disagreements(&cases, version, "test.yml");
    assert!(
        failures.is_empty(),
        "Prometheus {}: {} of {} per-series fixtures disagree:\n{}",
        version.flag(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------------------
// The exported rules, evaluated by promtool.

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

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    limit: Option<u64>,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    alert: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct PromtoolTestFile {
    rule_files: Vec<String>,
    evaluation_interval: String,
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

#[derive(Serialize)]
struct ExpAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<String, String>,
}

#[test]
fn exported_rules_fire_per_series_where_promtool_did() {
    let cases = fixtures();
    for version in Version::ALL {
        let tool = version.promtool();
        if !installed("exported_rules_fire_per_series_where_promtool_did", &[&tool]) {
            continue;
        }
        let work = tempfile::tempdir().expect("temp dir");
        let mut failures = Vec::new();
        for case in &cases {
            let name = name_of(case);
            if let Err(e) = exported_case(case, &work.path().join(&name), version, &tool) {
                failures.push(format!("{name}: {e}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{tool}: {} of {} per-series fixtures fail with the exported rules:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// Exports `case`'s runbook for `version`, checks the rules and runs the fixture's alerts over them.
fn exported_case(case: &Path, dir: &Path, version: Version, tool: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let out = Test::in_dir(case)
        .args(["export", "prometheus-rules", "case.runbook", "--strict", "--prometheus-version"])
        .arg(version.flag())
        .run();
    if !out.status.success() {
        return Err(format!("export: exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
    }
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    let file: RuleFile = serde_saphyr::from_str(&yaml).map_err(|e| format!("{e}\n{yaml}"))?;
    let group = file.groups.first().ok_or("no group")?;
    if group.limit != Some(1000) {
        return Err(format!("the group's limit is {:?}, not the default `max series` 1000", group.limit));
    }
    let rule = group.rules.first().ok_or("no rule")?;
    std::fs::write(dir.join("rules.yml"), &yaml).map_err(|e| e.to_string())?;
    let check = Command::new(tool).current_dir(dir).args(["check", "rules", "rules.yml"]).output().expect("promtool");
    if !check.status.success() {
        return Err(format!("promtool check rules: {}\n{yaml}", String::from_utf8_lossy(&check.stdout)));
    }

    let want = expected(case);
    let fixture: FixtureTestFile =
        serde_saphyr::from_str(&std::fs::read_to_string(case.join("test.yml")).expect("test.yml")).expect("yaml");
    let input = fixture.tests.into_iter().next().ok_or("no test in test.yml")?;
    let alert_rule_test = (0..=want.end_s)
        .step_by(usize::try_from(want.interval_s).unwrap_or(1))
        .map(|t| AlertTest {
            eval_time: format!("{t}s"),
            alertname: rule.alert.clone(),
            exp_alerts: want
                .firing
                .iter()
                .filter(|(_, times)| times.contains(&t))
                .map(|(labels, _)| {
                    let mut exp_labels = labels.clone();
                    exp_labels.extend(rule.labels.clone());
                    ExpAlert { exp_labels, exp_annotations: rule.annotations.clone() }
                })
                .collect(),
        })
        .collect();
    let test = PromtoolTestFile {
        rule_files: vec!["rules.yml".to_string()],
        evaluation_interval: format!("{}s", want.interval_s),
        tests: vec![PromtoolTest { interval: input.interval, input_series: input.input_series, alert_rule_test }],
    };
    std::fs::write(dir.join("test.yml"), serde_saphyr::to_string(&test).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let run = Command::new(tool).current_dir(dir).args(["test", "rules", "test.yml"]).output().expect("promtool");
    if !run.status.success() {
        let text = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
        return Err(format!(
            "promtool test rules over the exported rules:\n{}",
            text.chars().take(2000).collect::<String>()
        ));
    }
    Ok(())
}

/// The committed fixtures still pass both promtools.
#[test]
fn every_fixture_is_confirmed_by_both_promtools() {
    let cases = fixtures();
    for version in Version::ALL {
        let tool = version.promtool();
        if !installed("every_fixture_is_confirmed_by_both_promtools", &[&tool]) {
            continue;
        }
        let mut failed = Vec::new();
        for case in &cases {
            let out =
                Command::new(&tool).current_dir(case).args(["test", "rules", "test.yml"]).output().expect("promtool");
            if !out.status.success() {
                failed.push(format!(
                    "{}: {}",
                    name_of(case),
                    String::from_utf8_lossy(&out.stderr).chars().take(400).collect::<String>()
                ));
            }
        }
        assert!(failed.is_empty(), "{tool}: {} of {} fixtures fail:\n{}", failed.len(), cases.len(), failed.join("\n"));
    }
}
