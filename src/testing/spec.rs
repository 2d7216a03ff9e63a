//! The checked test file: what the runner uses ([`Case`], [`Expect`]), read from the YAML shape in `schema`
//! and checked against the runbook's plan by a [`Checker`], which `inputs` and `expect` extend with the
//! checks of a test's inputs and of each kind of expectation. Every problem in a test file is a
//! [`Diagnostic`] with a span into the file's text; nothing here panics on input.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::schema::{FileYaml, TestYaml};
use crate::diagnostic::{Code, Diagnostic};
use crate::eval::TriggerState;
use crate::plan::Labels;
use crate::plan::Plan;
use crate::simulate::{RunOptions, RunOutcome};
use crate::source::SeriesSet;
use crate::span::Span;
use crate::yaml::{line_of, span_of};

/// The most evaluations one test may ask for (its end over the runbook's interval).
pub const MAX_EVALUATIONS: i64 = 1_000_000;

/// A test file as read: where its runbook is, and its tests before they are checked against the plan.
pub struct Parsed {
    /// The `runbook:` value as written, and its span.
    pub runbook: String,
    pub runbook_span: Span,
    interval: Option<Spanned<String>>,
    tests: Vec<Spanned<TestYaml>>,
    tests_span: Span,
}

/// One test, checked against the plan.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// 1-based line of the test in the file.
    pub line: usize,
    pub series: SeriesSet,
    /// The input series' spacing.
    pub interval_ms: u64,
    /// The last evaluation time (evaluations start at 0).
    pub end_ms: i64,
    pub run: RunOptions,
    pub expectations: Vec<Expectation>,
}

#[derive(Clone, Debug)]
pub struct Expectation {
    /// 1-based line of the expectation in the file.
    pub line: usize,
    pub expect: Expect,
}

/// A time window, both ends included; `None` is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from_ms: i64,
    pub to_ms: Option<i64>,
}

impl Window {
    pub fn contains(&self, t: i64) -> bool {
        t >= self.from_ms && self.to_ms.is_none_or(|to| t <= to)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The trigger is in `state` at `at` (a point window) or at every moment of the window.
    /// With `labels`, only the trigger's series that have those labels count; a trigger of several series is
    /// firing when one of them is, pending when one is and none fires, inactive when none is active.
    State { trigger: String, labels: Option<Labels>, state: TriggerState, window: Window },
    /// Some run matching `run` starts in the window (a point window for `at`).
    Run { run: RunMatcher, window: Window },
    /// The runs that start in the window are exactly these, in order.
    Runs { runs: Vec<RunMatcher>, window: Window },
    /// No run (of `level`, if given) starts in the window.
    NoRun { level: Option<u32>, window: Window },
    /// The trigger (any trigger, if `None`) is not firing at any moment of the window.
    NoFiring { trigger: Option<String>, window: Window },
}

/// What a run must look like; `None` fields are not checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMatcher {
    pub at_ms: Option<i64>,
    pub level: Option<u32>,
    pub trigger: Option<String>,
    pub steps: Option<Vec<String>>,
    pub failed: Option<Vec<String>>,
    pub outcome: Option<RunOutcome>,
    pub escalated_to: Option<u32>,
    /// The run's series has these labels (among others).
    pub labels: Option<Labels>,
}

const FORMAT_HELP: &str = "a test file has `runbook: PATH`, an optional `interval`, and `tests:`, each with `name`, \
     `input_series`, optional `fail` and `approve`, and `expect` (see docs/testing.md)";

fn yaml_error(text: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let (at, reason) = crate::yaml::error_at(text, e);
    let end = text[at..].find(['\n', ':', ',', '}']).map_or(text.len(), |i| at + i).max(at);
    Diagnostic::new(Code::SeriesSyntax, Span::new(at, end), format!("cannot read the test file: {reason}"))
        .label("here")
        .help(FORMAT_HELP)
}

/// Reads a test file's YAML. The runbook is not read yet: [`Parsed::runbook`] says where it is.
pub fn parse(text: &str) -> Result<Parsed, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::new(Code::SeriesSyntax, Span::new(0, 0), "the test file is empty")
            .label("no tests")
            .help(FORMAT_HELP));
    }
    let file: FileYaml = serde_saphyr::from_str(text).map_err(|e| yaml_error(text, &e))?;
    let tests_span = span_of(&file.tests, text);
    Ok(Parsed {
        runbook: file.runbook.value.clone(),
        runbook_span: span_of(&file.runbook, text),
        interval: file.interval,
        tests: file.tests.value,
        tests_span,
    })
}

/// A duration as test files write them, which is how promtool writes them: `0`, or whole numbers with units
/// `y w d h m s ms`, largest first (`90s`, `1m30s`, `250ms`). Milliseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    crate::source::parse_prometheus_duration(s)
}

/// Collects the problems of one file; each check adds to it and carries on, so that one run reports them all.
pub(super) struct Checker<'a> {
    pub(super) text: &'a str,
    pub(super) plan: &'a Plan,
    pub(super) problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, code: Code, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(Diagnostic::new(code, span, message).label("here").help(help));
    }

    pub(super) fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<u64> {
        let parsed = parse_duration(&s.value);
        if parsed.is_none() {
            self.error(
                Code::SeriesTime,
                span_of(s, self.text),
                format!("`{}` is not a duration ({what})", s.value.trim()),
                "write whole numbers with units, largest first: `90s`, `1m30s`, `250ms`, `2h`, or `0`",
            );
        }
        parsed
    }

    pub(super) fn time(&mut self, s: &Spanned<String>, what: &str) -> Option<i64> {
        self.duration(s, what).map(|ms| i64::try_from(ms).unwrap_or(i64::MAX))
    }

    pub(super) fn window(&mut self, from: &Option<Spanned<String>>, to: &Option<Spanned<String>>) -> Option<Window> {
        let from_ms = match from {
            Some(f) => self.time(f, "`from`, a time since the start of the input")?,
            None => 0,
        };
        let to_ms = match to {
            Some(t) => Some(self.time(t, "`to`, a time since the start of the input")?),
            None => None,
        };
        if let (Some(to_ms), Some(to)) = (to_ms, to)
            && to_ms < from_ms
        {
            self.error(
                Code::SeriesTime,
                span_of(to, self.text),
                format!("`to: {}` is before `from`", to.value.trim()),
                "a window runs from `from` to `to`, both included",
            );
            return None;
        }
        Some(Window { from_ms, to_ms })
    }

    fn case(&mut self, t: &Spanned<TestYaml>, file_interval: Option<u64>) -> Option<Case> {
        let test = &t.value;
        let interval_ms = match &test.interval {
            Some(i) => self.duration(i, "the spacing of input samples")?,
            None => file_interval.unwrap_or(self.plan.evaluation_interval_ms),
        };
        if interval_ms == 0 {
            let span = test.interval.as_ref().map_or(span_of(t, self.text), |i| span_of(i, self.text));
            self.error(Code::SeriesTime, span, "the input interval must be longer than 0", "write `interval: 15s`");
            return None;
        }
        let before = self.problems.len();
        let series = self.series(&test.input_series, interval_ms);
        let mut fail = std::collections::BTreeSet::new();
        for f in &test.fail {
            if let Some(id) = self.step_id(f) {
                fail.insert(id);
            }
        }
        let approvals = self.approvals(&test.approve);
        let end = match &test.end {
            Some(e) => self.time(e, "the last evaluation"),
            None => Some(0),
        };
        let mut expectations = Vec::new();
        if test.expect.value.is_empty() {
            self.error(
                Code::SeriesSyntax,
                span_of(&test.expect, self.text),
                format!("test `{}` expects nothing", test.name.value),
                "add at least one expectation under `expect:`",
            );
        }
        for e in &test.expect.value {
            if let Some(expect) = self.expectation(e) {
                expectations.push(Expectation { line: line_of(e), expect });
            }
        }
        if self.problems.len() > before {
            return None;
        }
        // Evaluate up to the explicit `end`, else up to the last sample or the latest time an
        // expectation names, whichever is later.
        let last_sample = series.time_range().map_or(0, |(_, last)| last);
        let named = expectations.iter().map(|e| latest_time(&e.expect)).max().unwrap_or(0);
        let end_ms = match (&test.end, end) {
            (Some(_), Some(end)) => end,
            _ => last_sample.max(named),
        };
        let evaluations = end_ms / i64::try_from(self.plan.evaluation_interval_ms.max(1)).unwrap_or(i64::MAX);
        if evaluations > MAX_EVALUATIONS {
            self.error(
                Code::SeriesTime,
                span_of(t, self.text),
                format!("test `{}` runs past {MAX_EVALUATIONS} evaluations", test.name.value),
                "test a shorter period: the latest sample or time named sets how long the test runs",
            );
            return None;
        }
        Some(Case {
            name: test.name.value.clone(),
            line: line_of(t),
            series,
            interval_ms,
            end_ms,
            run: RunOptions { fail, approvals },
            expectations,
        })
    }
}

/// The latest time an expectation names (0 if none).
fn latest_time(e: &Expect) -> i64 {
    let end = |w: &Window| w.to_ms.unwrap_or(w.from_ms);
    match e {
        Expect::State { window, .. } | Expect::NoRun { window, .. } | Expect::NoFiring { window, .. } => end(window),
        Expect::Run { run, window } => end(window).max(run.at_ms.unwrap_or(0)),
        Expect::Runs { runs, window } => runs.iter().filter_map(|r| r.at_ms).max().unwrap_or(0).max(end(window)),
    }
}

impl Parsed {
    /// Checks every test against the runbook's plan. All problems are reported together.
    pub fn check(self, text: &str, plan: &Plan) -> Result<Vec<Case>, Vec<Diagnostic>> {
        let mut checker = Checker { text, plan, problems: Vec::new() };
        let file_interval = match &self.interval {
            Some(i) => checker.duration(i, "the spacing of input samples"),
            None => None,
        };
        if self.tests.is_empty() {
            checker.error(
                Code::SeriesSyntax,
                self.tests_span,
                "the test file has no tests",
                "add a test under `tests:` with a `name`, `input_series` and `expect`",
            );
        }
        let mut names: HashMap<String, Span> = HashMap::new();
        let mut cases = Vec::new();
        for t in &self.tests {
            let name_span = span_of(&t.value.name, text);
            if let Some(first) = names.get(&t.value.name.value) {
                checker.problems.push(
                    Diagnostic::new(
                        Code::SeriesSyntax,
                        name_span,
                        format!("two tests are named `{}`", t.value.name.value),
                    )
                    .label("second test")
                    .related(*first, "first test")
                    .help("give each test its own name, so that failures and reports tell them apart"),
                );
            } else {
                names.insert(t.value.name.value.clone(), name_span);
            }
            if let Some(case) = checker.case(t, file_interval) {
                cases.push(case);
            }
        }
        if checker.problems.is_empty() {
            Ok(cases)
        } else {
            crate::diagnostic::sort(&mut checker.problems);
            Err(checker.problems)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("90s"), Some(90_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("1h1m1s1ms"), Some(3_661_001));
        assert_eq!(parse_duration("2w"), Some(1_209_600_000));
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("90"), None);
        assert_eq!(parse_duration("1.5m"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("99999999999999999999s"), None);
        assert_eq!(parse_duration("9999999999999999w"), None);
    }
}
