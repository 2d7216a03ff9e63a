//! Vector matching, checked where the runbook tells the labels: `on(...)` / `ignoring(...)` as written
//! (no label twice, never beside a number or a `not`), and a one-to-one match that can never work, because
//! the two sides' labels never agree (RC215) or because several series of one side would meet in one match,
//! which PromQL refuses without `group_left` (RC216).
//!
//! How two sides join is `plan::shape`'s to say (the one home of the join rules); this file only reads its
//! answer against the labels each side is known to have (`Shape::known_labels`). A side whose labels the
//! runbook does not tell (`Shape::PerSeries`) is never reported: Prometheus is the judge there.

use super::Analyzer;
use crate::ast::{self, BinOp, Expr, ExprKind, UnOp};
use crate::diagnostic::{Code, Diagnostic};
use crate::plan::{Join, Matching, OpKind, Shape, join};
use crate::span::Span;

/// One operand of a binary operator: where it is written and how many series it has.
pub(super) struct Side {
    pub span: Span,
    pub shape: Shape,
}

/// The labels that one-to-one matching `m` compares, of a series labelled by `labels`, sorted.
fn compared(labels: &[String], m: &Matching) -> Vec<String> {
    labels.iter().filter(|l| m.labels.contains(l) == m.on).cloned().collect()
}

/// `(instance, mountpoint)`, or `no labels`.
fn label_list(labels: &[String]) -> String {
    if labels.is_empty() { "no labels".to_string() } else { format!("({})", labels.join(", ")) }
}

/// Whether `expr` is a `not ...`, parentheses aside.
fn is_not(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Paren(inner) => is_not(inner),
        ExprKind::Unary { op: UnOp::Not, .. } => true,
        _ => false,
    }
}

impl Analyzer<'_> {
    /// The matching as the plan holds it (labels sorted), or `None` when a label is named twice.
    pub(super) fn matching(&mut self, m: &ast::Matching) -> Option<Matching> {
        let mut ok = true;
        for (i, label) in m.labels.iter().enumerate() {
            if let Some(first) = m.labels[..i].iter().find(|l| l.name == label.name) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateMatchingLabel,
                        label.span,
                        format!("label `{}` is named twice in `{}(...)`", label.name, m.keyword()),
                    )
                    .label("second time here")
                    .related(first.span, "first named here")
                    .help(format!("name each label once: `{}`", dedup_text(m))),
                );
                ok = false;
            }
        }
        let mut labels: Vec<String> = m.labels.iter().map(|l| l.name.clone()).collect();
        labels.sort();
        ok.then_some(Matching { on: m.on, labels })
    }

    /// A matching between two conditions one of which is `not ...`: that side is one series with no labels,
    /// so there is nothing to match on.
    pub(super) fn matching_beside_not(&mut self, op: BinOp, m: &ast::Matching, lhs: &Expr, rhs: &Expr) -> bool {
        let Some(side) = [lhs, rhs].into_iter().find(|e| is_not(e)) else {
            return true;
        };
        self.push(
            Diagnostic::new(
                Code::MatchingOnNot,
                m.span,
                format!("`{}(...)` matches labels, and `not ...` has none", m.keyword()),
            )
            .label("no labels to match on")
            .related(side.span, "holds with no labels, when its condition holds for no series")
            .help(format!(
                "remove `{}`: `{}` with a `not ...` side already matches every series of the other side",
                self.snippet(m.span),
                op.symbol()
            )),
        );
        false
    }

    /// A matching beside a number: a number has no labels and applies to every series of the other side.
    pub(super) fn matching_beside_number(
        &mut self,
        op: BinOp,
        m: &ast::Matching,
        lhs: (&Expr, &Shape),
        rhs: (&Expr, &Shape),
    ) -> bool {
        let Some((side, _)) = [lhs, rhs].into_iter().find(|(_, s)| **s == Shape::Scalar) else {
            return true;
        };
        self.push(
            Diagnostic::new(
                Code::MatchingOnNumber,
                m.span,
                format!("`{}(...)` is written beside a number, which has no labels", m.keyword()),
            )
            .label("nothing to match")
            .related(side.span, "a number")
            .help(format!(
                "remove `{}`: a number applies to every series of the other side (`x {} 5`)",
                self.snippet(m.span),
                op.symbol()
            )),
        );
        false
    }

    /// Reports a one-to-one match that can never work, where both sides' labels are known. Returns whether
    /// the join is fine.
    pub(super) fn check_join(
        &mut self,
        kind: OpKind,
        op: BinOp,
        op_span: Span,
        lhs: &Side,
        rhs: &Side,
        written: Option<&Matching>,
    ) -> bool {
        let Join::OneToOne(m) = join(kind, &lhs.shape, &rhs.shape, written) else {
            return true;
        };
        let (l_known, r_known) = (lhs.shape.known_labels(), rhs.shape.known_labels());
        // `or` keeps the series of both sides; sides that never match are its ordinary case.
        if kind != OpKind::Or
            && let (Some(l), Some(r)) = (l_known, r_known)
            && compared(l, &m) != compared(r, &m)
        {
            self.never_match(op, op_span, lhs, rhs, (l, r), written);
            return false;
        }
        // Set operators take any number of series on either side of a match; values and comparisons one.
        if kind != OpKind::Arith {
            return true;
        }
        let mut ok = true;
        for (side, other) in [(lhs, rhs), (rhs, lhs)] {
            if let (true, Some(labels)) = (side.shape.per_series(), side.shape.known_labels()) {
                let by = compared(labels, &m);
                if by.len() != labels.len() {
                    // Matching on every label of this side only helps when the other side may have them too.
                    let widen = other.shape.known_labels().is_none_or(|o| labels.iter().all(|l| o.contains(l)));
                    self.many_to_one(op, op_span, side, labels, &by, written, widen);
                    ok = false;
                }
            }
        }
        ok
    }

    fn never_match(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: &Side,
        rhs: &Side,
        (l, r): (&[String], &[String]),
        written: Option<&Matching>,
    ) {
        let common: Vec<String> = l.iter().filter(|n| r.contains(n)).cloned().collect();
        let how = written.map_or_else(|| "on every label".to_string(), |m| m.to_string().trim_start().to_string());
        let help = if common.is_empty() {
            "the two sides share no label: aggregate both to the same labels in their queries (`sum by (...)`), \
             or one side without `by` to compare it with every series of the other"
                .to_string()
        } else {
            format!("match on the labels both sides have: `{} on({})`", op.symbol(), common.join(", "))
        };
        self.push(
            Diagnostic::new(Code::NeverMatch, op_span, format!("the two sides of `{}` never match", op.symbol()))
                .label(format!("matching {how}, no series of one side agrees with a series of the other"))
                .related(lhs.span, format!("series with {}", label_list(l)))
                .related(rhs.span, format!("series with {}", label_list(r)))
                .help(help),
        );
    }

    #[expect(clippy::too_many_arguments, reason = "what the diagnostic says, each part from the caller's join")]
    fn many_to_one(
        &mut self,
        op: BinOp,
        op_span: Span,
        side: &Side,
        labels: &[String],
        by: &[String],
        written: Option<&Matching>,
        widen: bool,
    ) {
        let text = self.snippet(side.span).to_string();
        let how = written.map_or_else(|| "every label".to_string(), |m| m.to_string().trim_start().to_string());
        let aggregate = if by.is_empty() {
            format!("aggregate `{text}` to one series in its query (`sum(...)`, `max(...)`)")
        } else {
            format!("aggregate `{text}` by ({}) in its query", by.join(", "))
        };
        self.push(
            Diagnostic::new(
                Code::ManyToOne,
                side.span,
                format!("several series of `{text}` meet in one match of `{}`", op.symbol()),
            )
            .label(format!("series with {}, compared on {}", label_list(labels), label_list(by)))
            .related(op_span, format!("one-to-one matching, {how}: PromQL refuses several series on one side"))
            .help(if widen {
                format!("{aggregate}, or match on({})", labels.join(", "))
            } else {
                aggregate
            }),
        );
    }
}

/// The matching as written, each label once: the fix for a repeated one.
fn dedup_text(m: &ast::Matching) -> String {
    let mut names: Vec<&str> = Vec::new();
    for l in &m.labels {
        if !names.contains(&l.name.as_str()) {
            names.push(&l.name);
        }
    }
    format!("{}({})", m.keyword(), names.join(", "))
}
