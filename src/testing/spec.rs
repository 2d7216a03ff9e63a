//! The test file: its YAML shape (serde), and the checked form the runner uses. Every problem in a test
//! file is a [`Diagnostic`] with a span into the file's text; nothing here panics on input.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::eval::TriggerState;
use crate::plan::Plan;
use crate::simulate::{Approval, RunOptions, RunOutcome};
use crate::source::{Item, MAX_SAMPLES, Series, SeriesSet, TimeBase, expand_values, valid_metric_name};
use crate::span::Span;

/// The most evaluations one test may ask for (its end over the runbook's interval).
pub const MAX_EVALUATIONS: i64 = 1_000_000;

// ---------------------------------------------------------------------------------------------------------
// The YAML shape.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileYaml {
    runbook: Spanned<String>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    tests: Spanned<Vec<Spanned<TestYaml>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestYaml {
    name: Spanned<String>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    end: Option<Spanned<String>>,
    #[serde(default)]
    input_series: Option<InputSeries>,
    #[serde(default)]
    fail: Vec<Spanned<String>>,
    #[serde(default)]
    approve: HashMap<Spanned<String>, Spanned<String>>,
    expect: Spanned<Vec<Spanned<ExpectYaml>>>,
}

/// `input_series` as a map (`name: "values"`) or as promtool's list (`- series: name` / `values: "..."`).
struct InputSeries(Vec<(Spanned<String>, Spanned<String>)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesEntry {
    series: Spanned<String>,
    values: Spanned<String>,
}

impl<'de> Deserialize<'de> for InputSeries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = InputSeries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of series names to values, or a list of `{series, values}`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InputSeries, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<Spanned<String>>()? {
                    let values = map.next_value::<Spanned<String>>()?;
                    out.push((name, values));
                }
                Ok(InputSeries(out))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<InputSeries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = seq.next_element::<SeriesEntry>()? {
                    out.push((entry.series, entry.values));
                }
                Ok(InputSeries(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectYaml {
    #[serde(default)]
    at: Option<Spanned<String>>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    to: Option<Spanned<String>>,
    #[serde(default)]
    trigger: Option<Spanned<String>>,
    #[serde(default)]
    state: Option<Spanned<String>>,
    #[serde(default)]
    run: Option<Spanned<RunYaml>>,
    #[serde(default)]
    runs: Option<Spanned<Vec<Spanned<RunYaml>>>>,
    #[serde(default)]
    no_run: Option<Spanned<String>>,
    #[serde(default)]
    no_firing: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunYaml {
    #[serde(default)]
    at: Option<Spanned<String>>,
    #[serde(default)]
    level: Option<Spanned<u32>>,
    #[serde(default)]
    trigger: Option<Spanned<String>>,
    #[serde(default)]
    steps: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    failed: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    outcome: Option<Spanned<String>>,
    #[serde(default)]
    escalated_to: Option<Spanned<u32>>,
}

// ---------------------------------------------------------------------------------------------------------
// The checked form.

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
    State { trigger: String, state: TriggerState, window: Window },
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
}

// ---------------------------------------------------------------------------------------------------------
// Reading.

fn span_of<T>(s: &Spanned<T>, text: &str) -> Span {
    let loc = s.referenced.span();
    let start = loc.byte_offset().and_then(|o| usize::try_from(o).ok()).unwrap_or(0).min(text.len());
    let len = loc.byte_len().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
    Span::new(start, start.saturating_add(len).min(text.len()))
}

fn line_of<T>(s: &Spanned<T>) -> usize {
    usize::try_from(s.referenced.line()).unwrap_or(0)
}

/// The byte offset of a 1-based line and character column; the end of the text if past it.
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 == line {
            let column = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
            return l.char_indices().nth(column).map_or(offset + l.trim_end_matches('\n').len(), |(c, _)| offset + c);
        }
        offset += l.len();
    }
    text.len()
}

const FORMAT_HELP: &str = "a test file has `runbook: PATH`, an optional `interval`, and `tests:`, each with `name`, \
     `input_series`, optional `fail` and `approve`, and `expect` (see docs/testing.md)";

fn yaml_error(text: &str, e: &serde_saphyr::Error) -> Diagnostic {
    let at = e.location().map_or(0, |l| {
        l.span()
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o > 0)
            .unwrap_or_else(|| offset_of(text, l.line(), l.column()))
    });
    let at = crate::span::floor_char_boundary(text, at.min(text.len()));
    let rendered = e.to_string();
    let first = rendered.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
    let reason = first.strip_prefix("error: ").unwrap_or(first);
    let reason = match reason.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, rest)) => rest,
        None => reason,
    };
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
struct Checker<'a> {
    text: &'a str,
    plan: &'a Plan,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, code: Code, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.problems.push(Diagnostic::new(code, span, message).label("here").help(help));
    }

    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<u64> {
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

    fn time(&mut self, s: &Spanned<String>, what: &str) -> Option<i64> {
        self.duration(s, what).map(|ms| i64::try_from(ms).unwrap_or(i64::MAX))
    }

    fn window(&mut self, from: &Option<Spanned<String>>, to: &Option<Spanned<String>>) -> Option<Window> {
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

    fn trigger_name(&mut self, s: &Spanned<String>) -> Option<String> {
        let name = s.value.trim();
        if self.plan.trigger(name).is_some() {
            return Some(name.to_string());
        }
        let names: Vec<&str> = self.plan.triggers.iter().map(|t| t.name.as_str()).collect();
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(suggestion) => suggestion,
            None if names.is_empty() => "the runbook has no triggers".to_string(),
            None => format!("the runbook's triggers are {}", names.join(", ")),
        };
        self.error(
            Code::SimulationArgument,
            span_of(s, self.text),
            format!("`{name}` is not a trigger of runbook `{}`", self.plan.runbook),
            help,
        );
        None
    }

    fn level(&mut self, s: &Spanned<u32>) -> Option<u32> {
        if self.plan.level(s.value).is_some() {
            return Some(s.value);
        }
        let levels: Vec<String> = self.plan.levels.iter().map(|l| l.number.to_string()).collect();
        self.error(
            Code::SimulationArgument,
            span_of(s, self.text),
            format!("level {} is not declared in runbook `{}`", s.value, self.plan.runbook),
            if levels.is_empty() {
                "the runbook has no levels".to_string()
            } else {
                format!("its levels are {}", levels.join(", "))
            },
        );
        None
    }

    fn step_id(&mut self, s: &Spanned<String>) -> Option<String> {
        let id = s.value.trim();
        let ids: Vec<&str> = self.plan.all_steps().into_iter().map(|s| s.id.as_str()).collect();
        if ids.contains(&id) {
            return Some(id.to_string());
        }
        let help = match did_you_mean(id, ids.iter().copied()) {
            Some(suggestion) => format!("{suggestion} `ripcord plan` lists every step id"),
            None => "`ripcord plan` lists every step id (L1.S1, L3.S3.1, ...)".to_string(),
        };
        self.error(Code::SimulationArgument, span_of(s, self.text), format!("no step has the id `{id}`"), help);
        None
    }

    fn steps(&mut self, list: &Option<Vec<Spanned<String>>>) -> Option<Option<Vec<String>>> {
        let Some(list) = list else { return Some(None) };
        let mut out = Vec::new();
        let mut ok = true;
        for s in list {
            match self.step_id(s) {
                Some(id) => out.push(id),
                None => ok = false,
            }
        }
        ok.then_some(Some(out))
    }

    fn run_matcher(&mut self, r: &RunYaml) -> Option<RunMatcher> {
        let at_ms = match &r.at {
            Some(a) => Some(self.time(a, "`at`, when the run starts")?),
            None => None,
        };
        let level = match &r.level {
            Some(l) => Some(self.level(l)?),
            None => None,
        };
        let trigger = match &r.trigger {
            Some(t) => Some(self.trigger_name(t)?),
            None => None,
        };
        let steps = self.steps(&r.steps)?;
        let failed = self.steps(&r.failed)?;
        let outcome = match &r.outcome {
            Some(o) => Some(match o.value.trim() {
                "succeeded" => RunOutcome::Succeeded,
                "failed" => RunOutcome::Failed,
                "escalated" => RunOutcome::Escalated,
                other => {
                    self.error(
                        Code::SeriesValue,
                        span_of(o, self.text),
                        format!("`{other}` is not a run outcome"),
                        match did_you_mean(other, ["succeeded", "failed", "escalated"]) {
                            Some(suggestion) => format!("{suggestion} a run is `succeeded`, `failed` or `escalated`"),
                            None => "a run's outcome is `succeeded`, `failed` or `escalated`".to_string(),
                        },
                    );
                    return None;
                }
            }),
            None => None,
        };
        let escalated_to = match &r.escalated_to {
            Some(l) => Some(self.level(l)?),
            None => None,
        };
        Some(RunMatcher { at_ms, level, trigger, steps, failed, outcome, escalated_to })
    }

    fn expectation(&mut self, e: &Spanned<ExpectYaml>) -> Option<Expect> {
        let y = &e.value;
        let span = span_of(e, self.text);
        let kinds: Vec<&str> = [
            (y.state.is_some(), "state"),
            (y.run.is_some(), "run"),
            (y.runs.is_some(), "runs"),
            (y.no_run.is_some(), "no_run"),
            (y.no_firing.is_some(), "no_firing"),
        ]
        .into_iter()
        .filter_map(|(present, k)| present.then_some(k))
        .collect();
        let kinds_help = "an expectation is one of `{at, trigger, state}`, `{at, run: {...}}`, `{runs: [...]}`, \
                          `{no_run: LEVEL|any}` or `{no_firing: TRIGGER|any}`; `from` and `to` bound a window";
        if kinds.len() != 1 {
            let message = if kinds.is_empty() {
                "this expectation checks nothing".to_string()
            } else {
                format!(
                    "this expectation mixes {}",
                    kinds.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
                )
            };
            self.error(Code::SeriesSyntax, Span::new(span.start, span.start), message, kinds_help);
            return None;
        }
        if y.at.is_some() && (y.from.is_some() || y.to.is_some()) {
            self.error(
                Code::SeriesSyntax,
                Span::new(span.start, span.start),
                "`at` and `from`/`to` cannot be used together",
                "`at` checks one moment; `from` and `to` check every moment of a window",
            );
            return None;
        }
        if y.trigger.is_some() && y.state.is_none() {
            let t = y.trigger.as_ref().map_or(span, |t| span_of(t, self.text));
            self.error(
                Code::SeriesSyntax,
                t,
                "`trigger` needs a `state`",
                "write `{at: 2m, trigger: NAME, state: firing}`; for a run started by a trigger, put `trigger` inside `run`",
            );
            return None;
        }
        // A bad time is reported, and the rest of the expectation is still checked.
        let window = match &y.at {
            Some(a) => {
                self.time(a, "`at`, a time since the start of the input").map(|t| Window { from_ms: t, to_ms: Some(t) })
            }
            None => self.window(&y.from, &y.to),
        };
        if let Some(state) = &y.state {
            let Some(trigger) = &y.trigger else {
                self.error(
                    Code::SeriesSyntax,
                    span_of(state, self.text),
                    "`state` needs a `trigger`",
                    "write `{at: 2m, trigger: NAME, state: firing}`",
                );
                return None;
            };
            let name = self.trigger_name(trigger);
            let st = match state.value.trim() {
                "inactive" => Some(TriggerState::Inactive),
                "pending" => Some(TriggerState::Pending),
                "firing" => Some(TriggerState::Firing),
                other => {
                    self.error(
                        Code::SeriesValue,
                        span_of(state, self.text),
                        format!("`{other}` is not a trigger state"),
                        match did_you_mean(other, ["inactive", "pending", "firing"]) {
                            Some(suggestion) => format!("{suggestion} a trigger is `inactive`, `pending` or `firing`"),
                            None => "a trigger is `inactive`, `pending` or `firing`".to_string(),
                        },
                    );
                    None
                }
            };
            if y.at.is_none() && y.from.is_none() && y.to.is_none() {
                self.error(
                    Code::SeriesSyntax,
                    span_of(state, self.text),
                    "a `state` needs `at`, or `from` and `to`",
                    "write `at: 2m` for one moment, or `from: 1m, to: 5m` for every moment of a window",
                );
                return None;
            }
            return Some(Expect::State { trigger: name?, state: st?, window: window? });
        }
        if let Some(run) = &y.run {
            let mut matcher = self.run_matcher(&run.value)?;
            let window = match (matcher.at_ms, y.at.is_some()) {
                (Some(_), true) => {
                    self.error(
                        Code::SeriesSyntax,
                        span_of(run, self.text),
                        "`at` is given twice, outside and inside `run`",
                        "keep one of them",
                    );
                    return None;
                }
                (Some(t), false) if y.from.is_none() && y.to.is_none() => Window { from_ms: t, to_ms: Some(t) },
                _ => window?,
            };
            if y.at.is_some() {
                matcher.at_ms = Some(window.from_ms);
            }
            return Some(Expect::Run { run: matcher, window });
        }
        if let Some(runs) = &y.runs {
            if y.at.is_some() {
                self.error(
                    Code::SeriesSyntax,
                    Span::new(span.start, span.start),
                    "`runs` takes `from` and `to`, not `at`",
                    "give each run its own `at` inside the list",
                );
                return None;
            }
            let mut out = Vec::new();
            let mut ok = true;
            for r in &runs.value {
                match self.run_matcher(&r.value) {
                    Some(m) => out.push(m),
                    None => ok = false,
                }
            }
            return (ok && window.is_some()).then_some(Expect::Runs { runs: out, window: window? });
        }
        if let Some(no_run) = &y.no_run {
            let v = no_run.value.trim();
            let level = match v {
                "any" | "true" => None,
                _ => match v.parse::<u32>() {
                    Ok(n) => Some(self.level(&Spanned {
                        value: n,
                        referenced: no_run.referenced,
                        defined: no_run.defined,
                    })?),
                    Err(_) => {
                        self.error(
                            Code::SeriesValue,
                            span_of(no_run, self.text),
                            format!("`no_run: {v}` names no level"),
                            "write `no_run: any` for no run at all, or `no_run: 2` for no run of level 2",
                        );
                        return None;
                    }
                },
            };
            return Some(Expect::NoRun { level, window: window? });
        }
        if let Some(no_firing) = &y.no_firing {
            let trigger = match no_firing.value.trim() {
                "any" | "true" => None,
                _ => Some(self.trigger_name(no_firing)?),
            };
            return Some(Expect::NoFiring { trigger, window: window? });
        }
        None
    }

    fn approvals(&mut self, approve: &HashMap<Spanned<String>, Spanned<String>>) -> BTreeMap<u32, Approval> {
        let mut entries: Vec<_> = approve.iter().collect();
        entries.sort_by_key(|(k, _)| span_of(k, self.text).start);
        let mut out = BTreeMap::new();
        for (key, value) in entries {
            let level = match key.value.trim().trim_start_matches(['L', 'l']).parse::<u32>() {
                Ok(n) => self.level(&Spanned { value: n, referenced: key.referenced, defined: key.defined }),
                Err(_) => {
                    self.error(
                        Code::SeriesValue,
                        span_of(key, self.text),
                        format!("`{}` is not a level number", key.value.trim()),
                        "write `approve: {2: deny}` or `approve: {2: after 5m}`",
                    );
                    None
                }
            };
            let v = value.value.trim();
            let decision = match v {
                "deny" | "denied" => Some(Approval::Deny),
                "approve" | "approved" | "now" => Some(Approval::After(0)),
                _ => match v.strip_prefix("after").map(|d| d.trim_start_matches(':').trim()) {
                    Some(d) => self
                        .duration(
                            &Spanned { value: d.to_string(), referenced: value.referenced, defined: value.defined },
                            "how long after the level starts it is approved",
                        )
                        .map(Approval::After),
                    None => {
                        self.error(
                            Code::SeriesValue,
                            span_of(value, self.text),
                            format!("`{v}` is not an approval decision"),
                            "write `deny`, `approve` (at once) or `after 5m`",
                        );
                        None
                    }
                },
            };
            if let (Some(level), Some(decision)) = (level, decision)
                && out.insert(level, decision).is_some()
            {
                self.error(
                    Code::SeriesValue,
                    span_of(key, self.text),
                    format!("level {level} is decided twice"),
                    "give one decision per level",
                );
            }
        }
        out
    }

    fn series(&mut self, input: &Option<InputSeries>, interval_ms: u64) -> SeriesSet {
        let mut set = SeriesSet { series: BTreeMap::new(), time_base: TimeBase::Seconds };
        let Some(input) = input else { return set };
        let mut read = Vec::new();
        for t in &self.plan.triggers {
            t.condition.metrics(&mut read);
        }
        for s in self.plan.all_steps() {
            if let crate::plan::Action::VerifyCondition { condition, .. } = &s.action {
                condition.metrics(&mut read);
            }
        }
        let mut budget_left = MAX_SAMPLES as u64;
        let interval = i64::try_from(interval_ms).unwrap_or(i64::MAX);
        for (name, values) in &input.0 {
            let metric = name.value.trim();
            let name_span = span_of(name, self.text);
            if !valid_metric_name(metric) {
                let help = if metric.contains('{') {
                    "a runbook reads a metric by its name: give one series per name, without labels"
                } else {
                    "metric names are letters, digits, `_` and `:`, not starting with a digit"
                };
                self.error(Code::SeriesSyntax, name_span, format!("`{metric}` is not a metric name"), help);
                continue;
            }
            if set.series.contains_key(metric) {
                self.error(
                    Code::SeriesSyntax,
                    name_span,
                    format!("the series `{metric}` is given twice"),
                    "give each metric once",
                );
                continue;
            }
            if !read.iter().any(|m| m == metric) {
                let mut known: Vec<&str> = read.iter().map(String::as_str).collect();
                known.sort_unstable();
                known.dedup();
                let help = match did_you_mean(metric, known.iter().copied()) {
                    Some(suggestion) => suggestion,
                    None if known.is_empty() => "the runbook reads no metrics".to_string(),
                    None => format!("the runbook reads {}", known.join(", ")),
                };
                self.error(
                    Code::SeriesUnknownMetric,
                    name_span,
                    format!("no trigger or verify step of runbook `{}` reads `{metric}`", self.plan.runbook),
                    help,
                );
                continue;
            }
            let values_span = span_of(values, self.text);
            // The value's bytes start after an opening quote, if the scalar is quoted.
            let inner = [0, 1].into_iter().find(|&skip| {
                let at = values_span.start + skip;
                self.text.get(at..at + values.value.len()) == Some(values.value.as_str())
            });
            let part = |s: usize, e: usize| match inner {
                Some(skip) => Span::new(values_span.start + skip + s, values_span.start + skip + e),
                None => values_span,
            };
            let mut budget = |n: u64, s: usize, e: usize| {
                if n > budget_left {
                    return Err(crate::source::ExpandError {
                        start: s,
                        end: e,
                        message: format!("a test's series may hold at most {MAX_SAMPLES} samples"),
                    });
                }
                budget_left -= n;
                Ok(())
            };
            let items = match expand_values(&values.value, &mut budget) {
                Ok(items) => items,
                Err(e) => {
                    self.error(
                        Code::SeriesValue,
                        part(e.start, e.end),
                        e.message,
                        "promtool notation: `1 2 3`, `1+1x3` (1 2 3 4), `5x2` (5 5 5), `_` missing, `_x3` three missing, `stale`",
                    );
                    continue;
                }
            };
            let mut series = Series::default();
            for (i, item) in items.into_iter().enumerate() {
                if let Item::Value(v) = item {
                    let Some(t) = i64::try_from(i).ok().and_then(|i| i.checked_mul(interval)) else {
                        break;
                    };
                    series.t_ms.push(t);
                    series.v.push(v);
                }
            }
            set.series.insert(metric.to_string(), series);
        }
        set
    }

    fn case(&mut self, t: &Spanned<TestYaml>, file_interval: Option<u64>) -> Option<Case> {
        let y = &t.value;
        let interval_ms = match &y.interval {
            Some(i) => self.duration(i, "the spacing of input samples")?,
            None => file_interval.unwrap_or(self.plan.evaluation_interval_ms),
        };
        if interval_ms == 0 {
            let span = y.interval.as_ref().map_or(span_of(t, self.text), |i| span_of(i, self.text));
            self.error(Code::SeriesTime, span, "the input interval must be longer than 0", "write `interval: 15s`");
            return None;
        }
        let before = self.problems.len();
        let series = self.series(&y.input_series, interval_ms);
        let mut fail = std::collections::BTreeSet::new();
        for f in &y.fail {
            if let Some(id) = self.step_id(f) {
                fail.insert(id);
            }
        }
        let approvals = self.approvals(&y.approve);
        let end = match &y.end {
            Some(e) => self.time(e, "the last evaluation"),
            None => Some(0),
        };
        let mut expectations = Vec::new();
        if y.expect.value.is_empty() {
            self.error(
                Code::SeriesSyntax,
                span_of(&y.expect, self.text),
                format!("test `{}` expects nothing", y.name.value),
                "add at least one expectation under `expect:`",
            );
        }
        for e in &y.expect.value {
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
        let end_ms = match (&y.end, end) {
            (Some(_), Some(end)) => end,
            _ => last_sample.max(named),
        };
        let evaluations = end_ms / i64::try_from(self.plan.evaluation_interval_ms.max(1)).unwrap_or(i64::MAX);
        if evaluations > MAX_EVALUATIONS {
            self.error(
                Code::SeriesTime,
                span_of(t, self.text),
                format!("test `{}` runs past {MAX_EVALUATIONS} evaluations", y.name.value),
                "test a shorter period: the latest sample or time named sets how long the test runs",
            );
            return None;
        }
        Some(Case {
            name: y.name.value.clone(),
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
    let w = |w: &Window| w.to_ms.unwrap_or(w.from_ms);
    match e {
        Expect::State { window, .. } | Expect::NoRun { window, .. } | Expect::NoFiring { window, .. } => w(window),
        Expect::Run { run, window } => w(window).max(run.at_ms.unwrap_or(0)),
        Expect::Runs { runs, window } => runs.iter().filter_map(|r| r.at_ms).max().unwrap_or(0).max(w(window)),
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
