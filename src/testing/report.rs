//! Reporting test results: text for a person (stdout of `ripcord test`) and JUnit XML for CI.

use std::fmt::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::check::{clock, timeline_slice};
use super::{CaseReport, FileReport, Source};

/// How many timeline lines a failure shows at most.
const MAX_TIMELINE_LINES: usize = 40;

/// Counts over every file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub invalid_files: usize,
}

pub fn totals(reports: &[FileReport]) -> Totals {
    let mut t = Totals::default();
    for r in reports {
        if r.is_invalid() {
            t.invalid_files += 1;
        }
        for c in &r.cases {
            if c.passed() {
                t.passed += 1;
            } else {
                t.failed += 1;
            }
        }
    }
    t
}

fn push_block(out: &mut String, indent: &str, label: &str, lines: &[String]) {
    let pad = " ".repeat(label.len());
    for (i, line) in lines.iter().enumerate() {
        let head = if i == 0 { label } else { &pad };
        let _ = writeln!(out, "{indent}{head}{line}");
    }
}

/// A failed test's explanation: for each expectation that did not hold, expected and actual timeline lines,
/// then the slice of the simulation's timeline around them. `indent` prefixes every line.
pub fn render_case(case: &CaseReport, test_path: &str, indent: &str) -> String {
    let mut out = String::new();
    for f in &case.failures {
        let _ = writeln!(out, "{indent}{test_path}:{}: not met: {}", f.line, f.what);
        push_block(&mut out, &format!("{indent}  "), "expected  ", &f.expected);
        push_block(&mut out, &format!("{indent}  "), "actual    ", &f.actual);
        let slice = timeline_slice(&case.timeline, f.from_ms, f.to_ms, MAX_TIMELINE_LINES);
        let until = f.to_ms.map(|t| format!("to {}", clock(t))).unwrap_or_else(|| "on".to_string());
        if slice.is_empty() {
            let _ = writeln!(out, "{indent}  timeline {} {until}: nothing happened", clock(f.from_ms));
        } else {
            let _ = writeln!(out, "{indent}  timeline {} {until}:", clock(f.from_ms));
            for line in slice {
                let _ = writeln!(out, "{indent}    {line}");
            }
        }
    }
    out
}

/// One file's results for stdout: a header, one line per test, and an explanation for each failure.
/// Problems that kept the file from running are rendered separately (they are diagnostics).
pub fn render_file(report: &FileReport) -> String {
    let mut out = String::new();
    if report.is_invalid() {
        let n = report.problems.len();
        let _ = writeln!(
            out,
            "{}: INVALID, no test ran ({n} problem{} reported above)",
            report.path,
            if n == 1 { "" } else { "s" }
        );
        return out;
    }
    let n = report.cases.len();
    let _ = writeln!(
        out,
        "{}: runbook `{}`, {n} test{}",
        report.path,
        report.runbook.as_deref().unwrap_or("?"),
        if n == 1 { "" } else { "s" }
    );
    for case in &report.cases {
        if case.passed() {
            let _ = writeln!(out, "  ok    {}", case.name);
        } else {
            let _ = writeln!(out, "  FAIL  {}", case.name);
            out.push_str(&render_case(case, &report.path, "        "));
        }
    }
    out
}

/// The results as a JUnit XML report: one test suite per file, one test case per test. A file that could not
/// run is a suite with one errored case, `(test file)`, carrying its diagnostics.
pub fn junit(reports: &[FileReport]) -> Result<String, String> {
    let mut report = Report::new("ripcord test");
    for file in reports {
        let mut suite = TestSuite::new(file.path.as_str());
        suite.set_time(file.time);
        if file.is_invalid() {
            let messages: Vec<String> =
                file.problems.iter().map(|p| format!("{}: {}", p.diagnostic.code, p.diagnostic.message)).collect();
            let details: String = file
                .problems
                .iter()
                .map(|p| {
                    let (path, text) = match p.source {
                        Source::TestFile => (&file.path, &file.text),
                        Source::Runbook => (&file.runbook_path, &file.runbook_text),
                    };
                    crate::diagnostic::render_plain(path, text, &p.diagnostic)
                })
                .collect();
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(messages.join("; ")).set_type("invalid test file").set_description(details);
            let mut case = TestCase::new("(test file)", status);
            case.set_classname(file.path.as_str());
            suite.add_test_case(case);
        }
        for c in &file.cases {
            let status = if c.passed() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first =
                    c.failures.first().map(|f| format!("line {}: not met: {}", f.line, f.what)).unwrap_or_default();
                let more = c.failures.len().saturating_sub(1);
                let message = if more > 0 { format!("{first} (and {more} more)") } else { first };
                s.set_message(message).set_type("expectation").set_description(render_case(c, &file.path, ""));
                s
            };
            let mut case = TestCase::new(c.name.as_str(), status);
            case.set_classname(file.runbook.as_deref().unwrap_or(file.path.as_str()));
            case.set_time(c.time);
            case.add_property(quick_junit::Property::new("line", c.line.to_string()));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}
