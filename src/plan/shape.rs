//! How many series a value or a condition can have, and how two operands are joined: the one home of the
//! matching rules that evaluation (`eval`), export (`export`) and analysis share, so that a condition means
//! the same series in `simulate`, `watch` and the exported alerting rule.
//!
//! PromQL's rules, with one addition that PromQL spells `on() group_left`: an operand that is at most one
//! series (a query aggregated without `by`) combines with every series of the other side, like a number.
//!
//! | left \ right | number | one series | per series |
//! | --- | --- | --- | --- |
//! | number | number | one series | per series, each |
//! | one series | one series | one-to-one `on()` | the right's series, each (`on() group_right`) |
//! | per series | per series, each | the left's series, each (`on() group_left`) | one-to-one on every label |
//!
//! `on(...)` / `ignoring(...)` written after an operator always mean one-to-one matching on those labels.
//! `and`, `unless` with a one-series side match `on()`; `or` matches on every label unless both sides are
//! one series. `not C` is one series without labels: it holds when `C` holds for no series.

use serde::{Deserialize, Serialize};

use super::{Condition, Matching, Metric, Value};

/// What the runbook tells about how many series something has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A number.
    Scalar,
    /// At most one series: a query aggregated without `by` (`sum(...)`), `scalar(...)`, `vector(...)`.
    Single,
    /// Any number of series, with labels the runbook does not tell.
    #[default]
    PerSeries,
    /// Per series with exactly these labels, sorted: the query names them (`sum by (instance) (...)`).
    Labels(Vec<String>),
}

impl Shape {
    /// Whether this can be more than one series.
    pub fn per_series(&self) -> bool {
        matches!(self, Shape::PerSeries | Shape::Labels(_))
    }

    /// The labels every series has, if known (none for a scalar or one series).
    pub fn known_labels(&self) -> Option<&[String]> {
        match self {
            Shape::Labels(l) => Some(l),
            Shape::Scalar | Shape::Single => Some(&[]),
            Shape::PerSeries => None,
        }
    }
}

/// How a binary operator joins its two operands' series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Join {
    /// At least one side is a number: the operator applies to each series of the other side.
    Scalar,
    /// The left side is at most one series, combined with each series of the right (the result has the
    /// right's labels; a comparison keeps the left's value). PromQL: `on() group_right`.
    OneLeft,
    /// The right side is at most one series, combined with each series of the left. PromQL: `on() group_left`.
    OneRight,
    /// One-to-one on the labels that `matching` selects (`on: false` with no labels: every label).
    OneToOne(Matching),
}

/// Which binary operator, for [`join`]: values and comparisons, or the set operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `+ - * /` and comparisons.
    Arith,
    And,
    Or,
    Unless,
}

/// Matching on every label: PromQL's default.
pub fn every_label() -> Matching {
    Matching { on: false, labels: Vec::new() }
}

/// `on()`: matching on no label.
pub fn no_label() -> Matching {
    Matching { on: true, labels: Vec::new() }
}

/// How `lhs OP rhs` joins, given what the author wrote after the operator.
pub fn join(op: OpKind, lhs: &Shape, rhs: &Shape, written: Option<&Matching>) -> Join {
    if op == OpKind::Arith && (*lhs == Shape::Scalar || *rhs == Shape::Scalar) {
        return Join::Scalar;
    }
    if let Some(m) = written {
        return Join::OneToOne(m.clone());
    }
    let (l_one, r_one) = (!lhs.per_series(), !rhs.per_series());
    match op {
        OpKind::Arith => match (l_one, r_one) {
            (true, true) => Join::OneToOne(no_label()),
            (true, false) => Join::OneLeft,
            (false, true) => Join::OneRight,
            (false, false) => Join::OneToOne(every_label()),
        },
        OpKind::And | OpKind::Unless if l_one || r_one => Join::OneToOne(no_label()),
        OpKind::Or if l_one && r_one => Join::OneToOne(no_label()),
        OpKind::And | OpKind::Unless | OpKind::Or => Join::OneToOne(every_label()),
    }
}

/// The shape of a binary operation's result.
pub fn joined(op: OpKind, lhs: &Shape, rhs: &Shape, j: &Join) -> Shape {
    match (op, j) {
        (OpKind::Arith, Join::Scalar) => {
            if *lhs == Shape::Scalar {
                rhs.clone()
            } else {
                lhs.clone()
            }
        }
        (OpKind::Arith, Join::OneLeft) => rhs.clone(),
        (OpKind::Arith, Join::OneRight) => lhs.clone(),
        (OpKind::Arith, Join::OneToOne(m)) => {
            if !lhs.per_series() && !rhs.per_series() {
                Shape::Single
            } else if m.on {
                let mut l = m.labels.clone();
                l.sort();
                l.dedup();
                Shape::Labels(l)
            } else {
                match lhs {
                    Shape::Labels(l) => Shape::Labels(l.iter().filter(|n| !m.labels.contains(n)).cloned().collect()),
                    other => other.clone(),
                }
            }
        }
        (OpKind::And | OpKind::Unless, _) => lhs.clone(),
        (OpKind::Or, _) => {
            if lhs == rhs {
                lhs.clone()
            } else {
                Shape::PerSeries
            }
        }
    }
}

/// Shapes of values and conditions, given the plan's metrics.
pub struct Shapes<'p> {
    metrics: &'p [Metric],
}

impl<'p> Shapes<'p> {
    pub const fn new(metrics: &'p [Metric]) -> Self {
        Shapes { metrics }
    }

    /// A metric's shape: as declared, or per series (an undeclared name, read from the input as it is).
    pub fn metric(&self, name: &str) -> Shape {
        self.metrics.iter().find(|m| m.name == name).map(|m| m.shape.clone()).unwrap_or_default()
    }

    pub fn value(&self, v: &Value) -> Shape {
        match v {
            Value::Number { .. } => Shape::Scalar,
            Value::Metric { name, .. } | Value::Window { metric: name, .. } => self.metric(name),
            Value::Abs { operand } | Value::Neg { operand } => self.value(operand),
            Value::Arith { lhs, rhs, matching, .. } => {
                let (l, r) = (self.value(lhs), self.value(rhs));
                let j = join(OpKind::Arith, &l, &r, matching.as_ref());
                joined(OpKind::Arith, &l, &r, &j)
            }
        }
    }

    pub fn condition(&self, c: &Condition) -> Shape {
        match c {
            Condition::Compare { lhs, rhs, matching, .. } => {
                let (l, r) = (self.value(lhs), self.value(rhs));
                let j = join(OpKind::Arith, &l, &r, matching.as_ref());
                match joined(OpKind::Arith, &l, &r, &j) {
                    // A comparison of two numbers holds or not: no series at all, or one without labels.
                    Shape::Scalar => Shape::Single,
                    s => s,
                }
            }
            Condition::And { lhs, rhs, matching } => self.set(OpKind::And, lhs, rhs, matching.as_ref()),
            Condition::Or { lhs, rhs, matching } => self.set(OpKind::Or, lhs, rhs, matching.as_ref()),
            Condition::Unless { lhs, rhs, matching } => self.set(OpKind::Unless, lhs, rhs, matching.as_ref()),
            Condition::Not { .. } => Shape::Single,
        }
    }

    fn set(&self, op: OpKind, lhs: &Condition, rhs: &Condition, m: Option<&Matching>) -> Shape {
        let (l, r) = (self.condition(lhs), self.condition(rhs));
        let j = join(op, &l, &r, m);
        joined(op, &l, &r, &j)
    }
}
