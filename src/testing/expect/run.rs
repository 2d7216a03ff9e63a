//! Expectations about level runs: `{at, run: {...}}`, `{runs: [...]}` and `{no_run: LEVEL|any}`, and the
//! run matcher and level numbers they are written with.

use serde_saphyr::Spanned;

use super::super::schema::{ExpectYaml, RunYaml};
use super::Wording;
use crate::diagnostic::Code;
use crate::simulate::RunOutcome;
use crate::span::Span;
use crate::testing::spec::{Checker, Expect, RunMatcher, Window};
use crate::yaml::span_of;

impl Checker<'_> {
    pub(in crate::testing) fn level(&mut self, s: &Spanned<u32>) -> Option<u32> {
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
            Some(o) => Some(self.one_of(
                o,
                &[
                    ("succeeded", RunOutcome::Succeeded),
                    ("failed", RunOutcome::Failed),
                    ("escalated", RunOutcome::Escalated),
                ],
                Wording {
                    not_a: "a run outcome",
                    after_suggestion: "a run is `succeeded`, `failed` or `escalated`",
                    otherwise: "a run's outcome is `succeeded`, `failed` or `escalated`",
                },
            )?),
            None => None,
        };
        let escalated_to = match &r.escalated_to {
            Some(l) => Some(self.level(l)?),
            None => None,
        };
        let labels = r.labels.as_ref().map(|l| crate::plan::Labels::from_pairs(l.clone()));
        Some(RunMatcher { at_ms, level, trigger, steps, failed, outcome, escalated_to, labels })
    }

    /// `{at, run: {...}}`: some run matching the matcher starts at that moment (or in the window).
    pub(super) fn run_expectation(
        &mut self,
        expect: &ExpectYaml,
        run: &Spanned<RunYaml>,
        window: Option<Window>,
    ) -> Option<Expect> {
        let mut matcher = self.run_matcher(&run.value)?;
        let window = match (matcher.at_ms, expect.at.is_some()) {
            (Some(_), true) => {
                self.error(
                    Code::SeriesSyntax,
                    span_of(run, self.text),
                    "`at` is given twice, outside and inside `run`",
                    "keep one of them",
                );
                return None;
            }
            (Some(t), false) if expect.from.is_none() && expect.to.is_none() => Window { from_ms: t, to_ms: Some(t) },
            _ => window?,
        };
        if expect.at.is_some() {
            matcher.at_ms = Some(window.from_ms);
        }
        Some(Expect::Run { run: matcher, window })
    }

    /// `{runs: [...]}`: the runs that start in the window are exactly these, in order.
    pub(super) fn runs_expectation(
        &mut self,
        expect: &ExpectYaml,
        runs: &Spanned<Vec<Spanned<RunYaml>>>,
        span: Span,
        window: Option<Window>,
    ) -> Option<Expect> {
        if expect.at.is_some() {
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
        (ok && window.is_some()).then_some(Expect::Runs { runs: out, window: window? })
    }

    /// `{no_run: LEVEL|any}`: no run (of that level) starts in the window.
    pub(super) fn no_run_expectation(&mut self, no_run: &Spanned<String>, window: Option<Window>) -> Option<Expect> {
        let v = no_run.value.trim();
        let level = match v {
            "any" | "true" => None,
            _ => match v.parse::<u32>() {
                Ok(n) => {
                    Some(self.level(&Spanned { value: n, referenced: no_run.referenced, defined: no_run.defined })?)
                }
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
        Some(Expect::NoRun { level, window: window? })
    }
}
