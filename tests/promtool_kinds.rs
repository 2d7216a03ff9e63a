//! The trigger forms `for N of M` and `clear when` (with `for D`, `for N consecutive`, `keep firing for`)
//! against promtool: every fixture in tests/promtool/kinds holds a runbook with one such trigger, random
//! multi-series input, and, per series, the evaluations at which the trigger fires by ripcord's definition
//! of the forms (tests/promtool/generate_kinds.py's model), which promtool 2.42 and 3.5 both confirmed for
//! the exported rule (`rules.yml`, `test.yml`, `test.v3.yml`). Here, for each fixture:
//!
//! - `ripcord simulate case.runbook --series test.yml --format json --prometheus-version 2|3` fires for
//!   exactly those series at exactly those evaluations;
//! - `ripcord export prometheus-rules case.runbook` writes the rule the fixture was confirmed with (the
//!   same expression, `for` and `keep_firing_for`), and promtool 2.42 over `test.yml` and promtool 3.5
//!   over `test.v3.yml` pass with the exported rules;
//! - the committed test files still pass both promtools (skipped without promtool unless `CI` is set).

mod support;

use std::path::Path;
use std::process::Command;

use std::collections::BTreeMap;

use serde::Deserialize;
use support::bin::Test;
use support::installed;
use support::prometheus::Version;
use support::promtool::{fixtures, name_of, simulate_disagreements};

const MIN_FIXTURES: usize = 40;

fn test_file(version: Version) -> &'static str {
    match version {
        Version::V2 => "test.yml",
        Version::V3 => "test.v3.yml",
    }
}

#[test]
fn simulate_2_fires_where_the_forms_say_and_promtool_2_42_confirmed() {
    simulate_fires_where_promtool_confirmed(Version::V2);
}

#[test]
fn simulate_3_fires_where_the_forms_say_and_promtool_3_5_confirmed() {
    simulate_fires_where_promtool_confirmed(Version::V3);
}

fn simulate_fires_where_promtool_confirmed(version: Version) {
    let cases = fixtures("kinds", MIN_FIXTURES);
    let failures = simulate_disagreements(&cases, version, test_file(version));
    assert!(
        failures.is_empty(),
        "Prometheus {}: {} of {} trigger-form fixtures disagree:\n{}",
        version.flag(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    rules: Vec<Rule>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
}

/// The exported rule's annotations, which every alert it fires carries.
fn annotations(yaml: &str) -> Result<BTreeMap<String, String>, String> {
    #[derive(Deserialize)]
    struct File {
        groups: Vec<G>,
    }
    #[derive(Deserialize)]
    struct G {
        rules: Vec<R>,
    }
    #[derive(Deserialize)]
    struct R {
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let file: File = serde_saphyr::from_str(yaml).map_err(|e| format!("{e}\n{yaml}"))?;
    Ok(file.groups.into_iter().flat_map(|g| g.rules).next().map(|r| r.annotations).unwrap_or_default())
}

/// The fixture's test with the exported annotations expected on every alert (the fixture was confirmed
/// without annotations; they are constant per rule, so the alerts expected are the same).
fn with_annotations(test: &str, annotations: &BTreeMap<String, String>) -> String {
    let json = serde_json::to_string(annotations).expect("a map of strings serializes");
    let mut out = String::with_capacity(test.len() * 2);
    for line in test.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(at) = line.find("- exp_labels:") {
            out.push_str(&" ".repeat(at + 2));
            out.push_str("exp_annotations: ");
            out.push_str(&json);
            out.push('\n');
        }
    }
    out
}

fn first_rule(yaml: &str) -> Result<Rule, String> {
    let file: RuleFile = serde_saphyr::from_str(yaml).map_err(|e| format!("{e}\n{yaml}"))?;
    file.groups.into_iter().next().and_then(|g| g.rules.into_iter().next()).ok_or_else(|| format!("no rule in\n{yaml}"))
}

#[test]
fn exported_rules_are_the_confirmed_ones_and_pass_both_promtools() {
    let cases = fixtures("kinds", MIN_FIXTURES);
    for version in Version::ALL {
        let tool = version.promtool();
        if !installed("exported_rules_are_the_confirmed_ones_and_pass_both_promtools", &[&tool]) {
            continue;
        }
        let work = tempfile::tempdir().expect("temp dir");
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|case| {
                exported_case(case, &work.path().join(name_of(case)), version, &tool)
                    .err()
                    .map(|e| format!("{}: {e}", name_of(case)))
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{tool}: {} of {} trigger-form fixtures fail with the exported rules:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// Exports `case`'s runbook for `version`, compares its rule with the confirmed one and runs the
/// fixture's test file of that version over it.
fn exported_case(case: &Path, dir: &Path, version: Version, tool: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let out = Test::in_dir(case)
        .args(["export", "prometheus-rules", "case.runbook", "--strict", "--prometheus-version", version.flag()])
        .run();
    if !out.status.success() {
        return Err(format!("export: exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
    }
    let yaml = String::from_utf8_lossy(&out.stdout).into_owned();
    let confirmed = std::fs::read_to_string(case.join("rules.yml")).map_err(|e| e.to_string())?;
    let (got, want) = (first_rule(&yaml)?, first_rule(&confirmed)?);
    if got != want {
        return Err(format!("export writes {got:?}, the fixture was confirmed with {want:?}"));
    }
    std::fs::write(dir.join("rules.yml"), &yaml).map_err(|e| e.to_string())?;
    let name = test_file(version);
    let test = std::fs::read_to_string(case.join(name)).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(name), with_annotations(&test, &annotations(&yaml)?)).map_err(|e| e.to_string())?;
    let check = Command::new(tool).current_dir(dir).args(["check", "rules", "rules.yml"]).output().expect("promtool");
    if !check.status.success() {
        return Err(format!("promtool check rules: {}\n{yaml}", String::from_utf8_lossy(&check.stdout)));
    }
    let run = Command::new(tool).current_dir(dir).args(["test", "rules", name]).output().expect("promtool");
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
fn every_trigger_form_fixture_is_confirmed_by_both_promtools() {
    let cases = fixtures("kinds", MIN_FIXTURES);
    for version in Version::ALL {
        let tool = version.promtool();
        if !installed("every_trigger_form_fixture_is_confirmed_by_both_promtools", &[&tool]) {
            continue;
        }
        let failed: Vec<String> = cases
            .iter()
            .filter_map(|case| {
                let out = Command::new(&tool)
                    .current_dir(case)
                    .args(["test", "rules", test_file(version)])
                    .output()
                    .expect("promtool");
                (!out.status.success()).then(|| {
                    let text =
                        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
                    format!("{}: {}", name_of(case), text.chars().take(400).collect::<String>())
                })
            })
            .collect();
        assert!(failed.is_empty(), "{tool}: {} of {} fixtures fail:\n{}", failed.len(), cases.len(), failed.join("\n"));
    }
}
