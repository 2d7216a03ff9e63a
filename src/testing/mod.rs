//! Unit tests for runbooks (`ripcord test`): YAML files that give input series in promtool's notation,
//! what-if options (failed steps, approval decisions) and expectations about trigger states and level runs,
//! checked against the simulation. docs/testing.md is the reference for the format.
//!
//! - `schema`: the file's YAML shape; `spec`: its checked form, with the checks of a test's inputs in
//!   `inputs` and of each kind of expectation in `expect/`. Every problem is a diagnostic with a span.
//! - `check`: expectations against a [`Simulation`](crate::simulate::Simulation).
//! - `report`: text for people, JUnit XML for CI.
//!
//! INVARIANT: like simulation, a test has no side effects; it reads its test file and its runbook, nothing
//! else.

mod check;
mod expect;
mod inputs;
mod report;
mod schema;
mod spec;

pub use check::{Failure, clock, parse_clock, ran_steps, timeline_slice};
pub use report::{Totals, junit, render_case, render_file, totals};
pub use spec::{Case, Expect, Expectation, MAX_EVALUATIONS, RunMatcher, Window, parse_duration};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostic::{Code, Diagnostic};
use crate::eval::PromVersion;
use crate::simulate::SimulateOptions;
use crate::span::Span;

/// Test files larger than this are refused.
pub const MAX_TEST_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Which file a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    TestFile,
    Runbook,
}

/// A problem that keeps a test file from running, in the test file or in its runbook.
#[derive(Clone, Debug)]
pub struct Problem {
    pub source: Source,
    pub diagnostic: Diagnostic,
}

/// The outcome of one test.
#[derive(Clone, Debug)]
pub struct CaseReport {
    pub name: String,
    /// 1-based line of the test in its file.
    pub line: usize,
    pub failures: Vec<Failure>,
    /// The simulation's timeline (`ripcord simulate`'s text output), for showing failures.
    pub timeline: String,
    pub time: Duration,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The outcome of one test file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The test file, as named.
    pub path: String,
    pub text: String,
    /// The runbook file, as resolved against the test file's directory (empty if the file did not say).
    pub runbook_path: String,
    pub runbook_text: String,
    /// The runbook's name, once it compiled.
    pub runbook: Option<String>,
    /// Problems that kept the file from running; when there are any, `cases` is empty.
    pub problems: Vec<Problem>,
    pub cases: Vec<CaseReport>,
    pub time: Duration,
}

impl FileReport {
    pub fn is_invalid(&self) -> bool {
        !self.problems.is_empty()
    }

    pub fn passed(&self) -> bool {
        !self.is_invalid() && self.cases.iter().all(CaseReport::passed)
    }
}

/// Reads a test file: at most `limit` bytes, UTF-8, without a byte-order mark.
fn read_test_file(path: &Path, limit: u64) -> Result<String, Diagnostic> {
    use crate::files::ReadError;
    let fail = |code: Code, message: String, help: &str| Diagnostic::new(code, Span::new(0, 0), message).help(help);
    match crate::files::read_capped(path, limit) {
        Ok(text) => Ok(crate::source_text(&text).to_string()),
        Err(ReadError::Io(e)) => Err(fail(
            Code::Unreadable,
            format!("cannot read `{}`: {e}", path.display()),
            "check the path and permissions",
        )),
        Err(ReadError::TooLarge) => Err(fail(
            Code::Unreadable,
            format!("`{}` is larger than {} MiB", path.display(), limit / (1024 * 1024)),
            "split the tests into several files",
        )),
        Err(ReadError::NotUtf8 { valid_up_to: at, .. }) => {
            Err(Diagnostic::new(Code::NotUtf8, Span::new(at, at), format!("`{}` is not valid UTF-8", path.display()))
                .help("save the test file as UTF-8"))
        }
    }
}

/// Reads one test file and its runbook, and runs every test in it, evaluating as Prometheus `version` does.
pub fn run_file(path: &Path, version: PromVersion) -> FileReport {
    let started = Instant::now();
    let mut report = FileReport {
        path: path.display().to_string(),
        text: String::new(),
        runbook_path: String::new(),
        runbook_text: String::new(),
        runbook: None,
        problems: Vec::new(),
        cases: Vec::new(),
        time: Duration::ZERO,
    };
    let problem = |source, diagnostic| Problem { source, diagnostic };
    match read_test_file(path, MAX_TEST_FILE_BYTES) {
        Ok(text) => report.text = text,
        Err(d) => {
            report.problems.push(problem(Source::TestFile, d));
            return finish(report, started);
        }
    }
    let parsed = match spec::parse(&report.text) {
        Ok(p) => p,
        Err(d) => {
            report.problems.push(problem(Source::TestFile, d));
            return finish(report, started);
        }
    };
    let runbook_path = resolve(path, &parsed.runbook);
    report.runbook_path = runbook_path.display().to_string();
    let loaded = crate::files::load_runbook(&runbook_path);
    if let Some(d) = loaded.error {
        let message = format!("cannot use the runbook `{}`: {}", parsed.runbook.trim(), d.message);
        report.problems.push(problem(
            Source::TestFile,
            Diagnostic::new(d.code, parsed.runbook_span, message)
                .label("the runbook, relative to this test file")
                .help(d.help.unwrap_or_else(|| "check the path".to_string())),
        ));
        return finish(report, started);
    }
    report.runbook_text = loaded.text;
    let compiled = crate::compile(&report.runbook_text);
    let Some(plan) = compiled.plan else {
        report
            .problems
            .extend(compiled.diagnostics.into_iter().filter(Diagnostic::is_error).map(|d| problem(Source::Runbook, d)));
        return finish(report, started);
    };
    report.runbook = Some(plan.runbook.clone());
    let cases = match parsed.check(&report.text, &plan) {
        Ok(cases) => cases,
        Err(problems) => {
            report.problems.extend(problems.into_iter().map(|d| problem(Source::TestFile, d)));
            return finish(report, started);
        }
    };
    for case in cases {
        report.cases.push(run_case(&plan, case, version));
    }
    finish(report, started)
}

fn finish(mut report: FileReport, started: Instant) -> FileReport {
    report.time = started.elapsed();
    report
}

/// Runs one checked test against its plan, evaluating as Prometheus `version` does.
pub fn run_case(plan: &crate::plan::Plan, case: Case, version: PromVersion) -> CaseReport {
    let started = Instant::now();
    let options = SimulateOptions { start_ms: Some(0), end_ms: Some(case.end_ms), run: case.run, version };
    let sim = crate::simulate::simulate(plan, &case.series, &options);
    let failures = check::check(&sim, &case.expectations);
    let timeline = if failures.is_empty() { String::new() } else { crate::simulate::to_text(&sim) };
    CaseReport { name: case.name, line: case.line, failures, timeline, time: started.elapsed() }
}

/// The runbook a test file names, relative to the test file's directory unless absolute.
fn resolve(test_file: &Path, runbook: &str) -> PathBuf {
    let runbook = Path::new(runbook.trim());
    if runbook.is_absolute() {
        return runbook.to_path_buf();
    }
    match test_file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(runbook),
        _ => runbook.to_path_buf(),
    }
}

/// Test files named on the command line, with directories expanded to the `*.test.yml` and `*.test.yaml`
/// files below them (sorted).
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    crate::files::expand_paths_matching(paths, |path| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name.ends_with(".test.yml") || name.ends_with(".test.yaml")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    const RUNBOOK: &str = r#"runbook t {
  evaluate every 15s
  trigger hot: x > 5 for 30s -> level 1
  trigger watch: x > 1 -> notify log "x is ${value}"
  level 1 "One" {
    approval required
    on failure escalate level 2
    step shell "a"
    parallel {
      step shell "b"
      step shell "c"
    }
  }
  level 2 "Two" {
    step shell "d"
  }
}"#;

    /// Runs a test file's text against `RUNBOOK`: the failures of each test, or the problems' messages.
    fn run(yaml: &str) -> Result<Vec<Vec<Failure>>, Vec<String>> {
        let plan = crate::compile(RUNBOOK).plan.unwrap();
        let text = format!("runbook: t.runbook\n{yaml}");
        let parsed = spec::parse(&text).map_err(|d| vec![d.message])?;
        let cases = parsed.check(&text, &plan).map_err(|ds| ds.into_iter().map(|d| d.message).collect::<Vec<_>>())?;
        Ok(cases.into_iter().map(|c| run_case(&plan, c, PromVersion::V2).failures).collect())
    }

    fn whats(failures: &[Failure]) -> Vec<&str> {
        failures.iter().map(|f| f.what.as_str()).collect()
    }

    #[test]
    fn states_are_checked_at_a_moment_and_over_a_window() {
        let out = run(r#"interval: 15s
tests:
  - name: a
    input_series:
      x: "0 9 9 9 9 0 0"
    expect:
      - {at: 0s, trigger: hot, state: inactive}
      - {at: 15s, trigger: hot, state: pending}
      - {at: 20s, trigger: hot, state: pending}
      - {at: 45s, trigger: hot, state: firing}
      - {from: 45s, to: 1m, trigger: hot, state: firing}
      - {from: 30s, to: 1m, trigger: hot, state: firing}
      - {at: 1m15s, trigger: hot, state: inactive}
      - {from: 1m15s, no_firing: any}
      - {no_firing: watch}
"#)
        .unwrap();
        assert_eq!(whats(&out[0]), ["`hot` is firing from 00:00:30 to 00:01:00", "`watch` is not firing at any time"]);
        assert_eq!(out[0][0].actual, ["00:00:30  trigger hot  pending", "00:00:45  trigger hot  firing"]);
    }

    #[test]
    fn runs_are_matched_by_time_level_steps_and_outcome() {
        let out = run(r#"tests:
  - name: list form, failure, approval
    input_series:
      - series: x
        values: "0 9x4"
    fail: [L1.S2.2]
    approve: {L1: "after:15s", 2: approve}
    expect:
      # Firing at 45s; approved 15s later, when the steps run and L1.S2.2 fails.
      - at: 45s
        run: {level: 1, trigger: hot, steps: [L1.S1, L1.S2, L1.S2.1, L1.S2.2], failed: [L1.S2, L1.S2.2], escalated_to: 2}
      - {run: {at: 1m, level: 2, steps: [L2.S1], outcome: succeeded}}
      - {runs: [{level: 1}, {level: 2}]}
      - {from: 46s, to: 59s, no_run: any}
      # Wrong on purpose:
      - {runs: [{level: 1}]}
      - {at: 45s, no_run: 1}
      - {at: 45s, run: {level: 1, outcome: succeeded}}
"#)
        .unwrap();
        assert_eq!(
            whats(&out[0]),
            [
                "exactly 1 run starts at any time, as listed",
                "no run of level 1 starts at 00:00:45",
                "a matching run starts at 00:00:45"
            ]
        );
    }

    #[test]
    fn the_test_runs_until_its_last_sample_or_the_latest_time_named() {
        let out = run(r#"tests:
  - name: times past the samples
    input_series:
      x: "9 9 9"
    expect:
      # The last sample (30s) stays visible for 5m: firing until 5m30s, inactive at 5m45s.
      - {at: 5m30s, trigger: hot, state: firing}
      - {at: 5m45s, trigger: hot, state: inactive}
  - name: an explicit end
    end: 1m
    input_series:
      x: "9 9 9"
    expect:
      - {at: 1m, trigger: hot, state: firing}
"#)
        .unwrap();
        assert!(out.iter().all(Vec::is_empty), "{out:?}");
    }

    #[test]
    fn problems_are_all_reported() {
        let problems = run(r#"tests:
  - name: a
    input_series:
      y: "1"
    expect:
      - {at: 1m, trigger: cold, state: firing}
      - {run: {level: 3}}
      - {at: 1m, state: firing}
"#)
        .unwrap_err();
        assert_eq!(
            problems,
            [
                "no trigger or verify step of runbook `t` reads `y`",
                "`cold` is not a trigger of runbook `t`",
                "level 3 is not declared in runbook `t`",
                "`state` needs a `trigger`",
            ]
        );
    }
}
