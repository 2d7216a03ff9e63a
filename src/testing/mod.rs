//! Unit tests for runbooks (`ripcord test`): YAML files that give input series in promtool's notation,
//! what-if options (failed steps, approval decisions) and expectations about trigger states and level runs,
//! checked against the simulation. docs/testing.md is the reference for the format.
//!
//! - `spec`: the file's YAML shape and its checked form; every problem is a diagnostic with a span.
//! - `check`: expectations against a [`Simulation`](crate::simulate::Simulation).
//! - `report`: text for people, JUnit XML for CI.
//!
//! INVARIANT: like simulation, a test has no side effects; it reads its test file and its runbook, nothing
//! else.

mod check;
mod report;
mod spec;

pub use check::{Failure, clock, parse_clock, ran_steps, timeline_slice};
pub use report::{Totals, junit, render_case, render_file, totals};
pub use spec::{Case, Expect, Expectation, MAX_EVALUATIONS, RunMatcher, Window, parse_duration};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostic::{Code, Diagnostic};
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

fn read_capped(path: &Path, limit: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(format!("`{}` is larger than {} MiB", path.display(), limit / (1024 * 1024)));
    }
    String::from_utf8(bytes)
        .map(|t| crate::source_text(&t).to_string())
        .map_err(|_| format!("`{}` is not UTF-8 text", path.display()))
}

/// Reads one test file and its runbook, and runs every test in it.
pub fn run_file(path: &Path) -> FileReport {
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
    match read_capped(path, MAX_TEST_FILE_BYTES) {
        Ok(text) => report.text = text,
        Err(message) => {
            report.problems.push(problem(
                Source::TestFile,
                Diagnostic::new(Code::Unreadable, Span::new(0, 0), message).help("check the path and permissions"),
            ));
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
    let loaded = crate::cli::load_runbook(&runbook_path);
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
        report.cases.push(run_case(&plan, case));
    }
    finish(report, started)
}

fn finish(mut report: FileReport, started: Instant) -> FileReport {
    report.time = started.elapsed();
    report
}

/// Runs one checked test against its plan.
pub fn run_case(plan: &crate::Plan, case: Case) -> CaseReport {
    let started = Instant::now();
    let options = SimulateOptions { start_ms: Some(0), end_ms: Some(case.end_ms), run: case.run };
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
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk(&path, out),
                Ok(_) => {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    if name.ends_with(".test.yml") || name.ends_with(".test.yaml") {
                        out.push(path);
                    }
                }
                Err(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found);
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}
