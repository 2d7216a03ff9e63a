//! A trigger's `clear when CONDITION` and `on no data keep | fire | clear`.
//!
//! The clear condition is analysed as the trigger's own (metrics, shapes, matching, canonical text). Two
//! more checks compare it with the condition: its series must be able to carry the condition's labels
//! (a series clears only when the clear condition yields that same series, `plan::shape`), and, for the
//! simple shape `VALUE OP number` on both sides, it must not hold whenever the condition does (RC220) nor
//! only while the condition does (RC221): `plan::Threshold` decides both exactly.

use super::Analyzer;
use crate::ast;
use crate::diagnostic::{Code, Diagnostic};
use crate::plan::{self, Condition, Shape, Threshold};

impl Analyzer<'_> {
    /// The checked `clear when`, or `None` after an error. `condition` is the trigger's own, when it is good.
    pub(super) fn clear_when(
        &mut self,
        clear: &ast::ClearWhen,
        condition: Option<(&Condition, &Shape)>,
        trigger_span: crate::span::Span,
    ) -> Option<plan::ClearWhen> {
        let (clear_condition, clear_shape) = self.condition(&clear.condition)?;
        let Some((condition, shape)) = condition else {
            return Some(finish(clear_condition));
        };
        let errors = self.error_count();
        if let (Some(l), Some(c)) = (shape.known_labels(), clear_shape.known_labels())
            && !same_labels(l, c)
        {
            let list = |l: &[String]| {
                if l.is_empty() { "no labels".to_string() } else { format!("labels ({})", l.join(", ")) }
            };
            self.push(
                Diagnostic::new(
                    Code::ClearNeverMatches,
                    clear.condition.span,
                    "the series of `clear when` never match the series of the condition",
                )
                .label(format!("series with {}", list(c)))
                .related(trigger_span, format!("the condition's series have {}", list(l)))
                .help(
                    "a firing series clears when `clear when` holds for the same series (the same labels): \
                     aggregate both queries to the same labels (`sum by (...)`)",
                ),
            );
        }
        if let (Some(t), Some(c)) = (Threshold::of(condition), Threshold::of(&clear_condition)) {
            self.clear_against_condition(clear, &t, &c);
        }
        (self.error_count() == errors).then(|| finish(clear_condition))
    }

    fn clear_against_condition(&mut self, clear: &ast::ClearWhen, t: &Threshold<'_>, c: &Threshold<'_>) {
        let band = |t: &Threshold<'_>| format!("clear when {}", t.band_example());
        if c.implies(t) {
            self.push(
                Diagnostic::new(
                    Code::ClearNeverTrue,
                    clear.condition.span,
                    format!("`clear when {c}` can hold only while `{t}` does, so the trigger never clears"),
                )
                .label("never true once the condition is false")
                .help(format!(
                    "a firing trigger clears at an evaluation where the condition is false and `clear when` is \
                     true: write the other side of the threshold, such as `{}`",
                    band(t)
                )),
            );
        } else if t.implies(c) {
            self.push(
                Diagnostic::new(
                    Code::ClearImplied,
                    clear.condition.span,
                    format!("`clear when {c}` holds whenever `{t}` does: it is true from the first firing evaluation"),
                )
                .label(format!("on the same side of the threshold as `{t}`"))
                .help(format!(
                    "the trigger would clear once `{t}` turns false while `{c}` still holds, and stay firing \
                     below it; write the other side of the threshold, such as `{}`",
                    band(t)
                )),
            );
        }
    }

    /// `on no data ...`; warns when the condition reads no metric, since such a condition always has a value.
    pub(super) fn on_no_data(&mut self, on: Option<&ast::OnNoData>, metrics: Option<&[String]>) -> plan::NoData {
        let Some(on) = on else {
            return plan::NoData::Clear;
        };
        if metrics.is_some_and(<[String]>::is_empty) {
            self.push(
                Diagnostic::new(
                    Code::NoDataWithoutMetric,
                    on.span,
                    format!("`on no data {}` on a condition that reads no metric", on.policy.as_str()),
                )
                .label("this condition always has a value")
                .help(
                    "an evaluation has no data when every metric the condition reads has no sample; remove the clause",
                ),
            );
        }
        match on.policy {
            ast::NoDataPolicy::Keep => plan::NoData::Keep,
            ast::NoDataPolicy::Fire => plan::NoData::Fire,
            ast::NoDataPolicy::Clear => plan::NoData::Clear,
        }
    }
}

fn same_labels(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

fn finish(condition: Condition) -> plan::ClearWhen {
    let mut metrics = Vec::new();
    condition.metrics(&mut metrics);
    metrics.sort();
    metrics.dedup();
    plan::ClearWhen { condition_text: condition.to_string(), condition, metrics }
}
