//! One expectation of a test, checked against the plan into an [`Expect`]: the shape common to every kind
//! (exactly one kind; `at` or a `from`/`to` window) here, and one file per kind of expectation:
//! `trigger` (states, `no_firing`), `run` (`run`, `runs`, `no_run`), `step` (step ids).

mod run;
mod step;
mod trigger;

use serde_saphyr::Spanned;

use super::schema::ExpectYaml;
use super::spec::{Checker, Expect, Window};
use crate::diagnostic::{Code, did_you_mean};
use crate::span::Span;
use crate::yaml::span_of;

/// How [`Checker::one_of`] words a value that is none of the choices.
pub(super) struct Wording {
    /// What the value is not: `a run outcome`.
    pub not_a: &'static str,
    /// The sentence after a suggestion.
    pub after_suggestion: &'static str,
    /// The help when nothing is close.
    pub otherwise: &'static str,
}

impl Checker<'_> {
    /// The choice a value names (trimmed), or `None` after reporting it, with a suggestion when one is close.
    pub(super) fn one_of<T: Copy>(
        &mut self,
        s: &Spanned<String>,
        choices: &[(&str, T)],
        wording: Wording,
    ) -> Option<T> {
        let value = s.value.trim();
        if let Some((_, choice)) = choices.iter().find(|(name, _)| *name == value) {
            return Some(*choice);
        }
        let help = match did_you_mean(value, choices.iter().map(|(name, _)| *name)) {
            Some(suggestion) => format!("{suggestion} {}", wording.after_suggestion),
            None => wording.otherwise.to_string(),
        };
        self.error(Code::SeriesValue, span_of(s, self.text), format!("`{value}` is not {}", wording.not_a), help);
        None
    }

    pub(super) fn expectation(&mut self, e: &Spanned<ExpectYaml>) -> Option<Expect> {
        let expect = &e.value;
        let span = span_of(e, self.text);
        let kinds: Vec<&str> = [
            (expect.state.is_some(), "state"),
            (expect.run.is_some(), "run"),
            (expect.runs.is_some(), "runs"),
            (expect.no_run.is_some(), "no_run"),
            (expect.no_firing.is_some(), "no_firing"),
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
        if expect.at.is_some() && (expect.from.is_some() || expect.to.is_some()) {
            self.error(
                Code::SeriesSyntax,
                Span::new(span.start, span.start),
                "`at` and `from`/`to` cannot be used together",
                "`at` checks one moment; `from` and `to` check every moment of a window",
            );
            return None;
        }
        if expect.trigger.is_some() && expect.state.is_none() {
            let t = expect.trigger.as_ref().map_or(span, |t| span_of(t, self.text));
            self.error(
                Code::SeriesSyntax,
                t,
                "`trigger` needs a `state`",
                "write `{at: 2m, trigger: NAME, state: firing}`; for a run started by a trigger, put `trigger` inside `run`",
            );
            return None;
        }
        // A bad time is reported, and the rest of the expectation is still checked.
        let window = match &expect.at {
            Some(a) => {
                self.time(a, "`at`, a time since the start of the input").map(|t| Window { from_ms: t, to_ms: Some(t) })
            }
            None => self.window(&expect.from, &expect.to),
        };
        if let Some(state) = &expect.state {
            return self.state_expectation(expect, state, window);
        }
        if let Some(run) = &expect.run {
            return self.run_expectation(expect, run, window);
        }
        if let Some(runs) = &expect.runs {
            return self.runs_expectation(expect, runs, span, window);
        }
        if let Some(no_run) = &expect.no_run {
            return self.no_run_expectation(no_run, window);
        }
        if let Some(no_firing) = &expect.no_firing {
            return self.no_firing_expectation(no_firing, window);
        }
        None
    }
}
