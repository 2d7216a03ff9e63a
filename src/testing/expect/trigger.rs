//! Expectations about triggers: `{at, trigger, state}` and `{no_firing: TRIGGER|any}`, and trigger names
//! wherever an expectation gives one.

use serde_saphyr::Spanned;

use super::super::schema::ExpectYaml;
use super::Wording;
use crate::diagnostic::{Code, did_you_mean};
use crate::eval::TriggerState;
use crate::testing::spec::{Checker, Expect, Window};
use crate::yaml::span_of;

impl Checker<'_> {
    pub(super) fn trigger_name(&mut self, s: &Spanned<String>) -> Option<String> {
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

    /// `{at, trigger, state}`, or `{from, to, trigger, state}` for every moment of a window.
    pub(super) fn state_expectation(
        &mut self,
        expect: &ExpectYaml,
        state: &Spanned<String>,
        window: Option<Window>,
    ) -> Option<Expect> {
        let Some(trigger) = &expect.trigger else {
            self.error(
                Code::SeriesSyntax,
                span_of(state, self.text),
                "`state` needs a `trigger`",
                "write `{at: 2m, trigger: NAME, state: firing}`",
            );
            return None;
        };
        let name = self.trigger_name(trigger);
        let trigger_state = self.one_of(
            state,
            &[
                ("inactive", TriggerState::Inactive),
                ("pending", TriggerState::Pending),
                ("firing", TriggerState::Firing),
            ],
            Wording {
                not_a: "a trigger state",
                after_suggestion: "a trigger is `inactive`, `pending` or `firing`",
                otherwise: "a trigger is `inactive`, `pending` or `firing`",
            },
        );
        if expect.at.is_none() && expect.from.is_none() && expect.to.is_none() {
            self.error(
                Code::SeriesSyntax,
                span_of(state, self.text),
                "a `state` needs `at`, or `from` and `to`",
                "write `at: 2m` for one moment, or `from: 1m, to: 5m` for every moment of a window",
            );
            return None;
        }
        let labels = expect.labels.as_ref().map(|l| crate::plan::Labels::from_pairs(l.clone()));
        Some(Expect::State { trigger: name?, labels, state: trigger_state?, window: window? })
    }

    /// `{no_firing: TRIGGER|any}`: the trigger (any, if `any`) is not firing at any moment of the window.
    pub(super) fn no_firing_expectation(
        &mut self,
        no_firing: &Spanned<String>,
        window: Option<Window>,
    ) -> Option<Expect> {
        let trigger = match no_firing.value.trim() {
            "any" | "true" => None,
            _ => Some(self.trigger_name(no_firing)?),
        };
        Some(Expect::NoFiring { trigger, window: window? })
    }
}
