//! Plan conditions to PromQL alerting expressions, per series: the exported rule returns a series exactly
//! for the label sets the condition holds for in `eval`, so Prometheus keeps one alert per series where
//! `simulate` keeps one trigger machine per series.
//!
//! How two operands are joined is never decided here: [`crate::plan::join`] (plan::shape) says it, and this
//! module only spells the answer in PromQL:
//!
//! | join | PromQL after the operator |
//! | --- | --- |
//! | a number on one side | nothing |
//! | one-to-one on every label (the default) | nothing |
//! | one-to-one `on(l, ...)` / `ignoring(l, ...)` | ` on(l, ...)` / ` ignoring(l, ...)`; `on()` for two single series |
//! | per series with a single series on the right | ` on() group_left` |
//! | a single series on the left with per series | ` on() group_right` |
//!
//! Set operators (`and`, `or`, `unless`) take the one-to-one modifier their join gives; PromQL allows no
//! `group_left`/`group_right` there, and the join rules never ask for one. `not C` is
//! `vector(1) unless on() (C)`: one series without labels when `C` holds for no series.
//!
//! The rest of the translation:
//!
//! - a declared metric is its query: bare when the query is a plain selector (`x`, `up{job="a"}`), else
//!   parenthesised, `(QUERY)`;
//! - operations on numbers alone are computed here (PromQL refuses a comparison of two scalars without
//!   `bool`), so a condition may fold to always true or always false; a set operator with such a side is
//!   folded only where the result is the same series (else the side is written `vector(1)` or
//!   `(vector(1) < 0)` with the join's modifier);
//! - a window function over a plain selector takes a range selector, `avg_over_time(x[5m])`, exactly what
//!   the simulation computes; over any other query it takes a subquery at the group's interval,
//!   `avg_over_time((QUERY)[5m:15s])`, which samples the query's results instead of raw samples;
//! - `offset` follows a selector or a subquery; the instant value of a query that is not a plain selector is
//!   reached through `last_over_time((QUERY)[1ms:1ms] offset D)`, the query's value at `t - D`.

use crate::plan::{
    ArithOp, Condition, Join, Matching, OpKind, Plan, Shape, Shapes, Value, WindowFunc, format_duration, format_number,
    join,
};

use super::selector::is_plain_selector;

/// PromQL binding strengths, loosest first (`or` < `and`/`unless` < comparisons < `+ -` < `* /`).
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_CMP: u8 = 3;
const P_ADD: u8 = 4;
const P_MUL: u8 = 5;
/// Unary minus: always parenthesised when it is an operand, so its PromQL precedence never matters.
const P_NEG: u8 = 6;
const P_ATOM: u8 = 7;

/// Why a condition cannot be written in PromQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unexpressible {
    /// The metric has no `promql` query, so Prometheus has nothing to evaluate.
    UndeclaredMetric(String),
    /// The trigger's `labels { }` sets a label that export writes itself (`ripcord_runbook`, ...).
    LabelClash(String),
    /// The trigger's `annotations { }` sets an annotation that export writes itself (`ripcord_condition`).
    AnnotationClash(String),
    /// A trigger form PromQL cannot express exactly (the reason says which and why).
    Form(String),
}

impl std::fmt::Display for Unexpressible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unexpressible::UndeclaredMetric(m) => write!(
                f,
                "metric `{m}` has no PromQL query; declare it with `metric {m} = promql \"...\"` to export this trigger"
            ),
            Unexpressible::LabelClash(l) => write!(
                f,
                "its `labels {{ {l} ... }}` sets label `{l}`, which export writes itself to say where the alert came from; \
                 rename the label (labels starting with `ripcord_` are export's)"
            ),
            Unexpressible::Form(why) => f.write_str(why),
            Unexpressible::AnnotationClash(a) => write!(
                f,
                "its `annotations {{ {a} ... }}` sets annotation `{a}`, which export writes itself; rename the annotation \
                 (annotations starting with `ripcord_` are export's)"
            ),
        }
    }
}

/// A translated value: a number, or PromQL text of an instant vector with how tightly its outermost
/// operator binds.
#[derive(Clone, Debug)]
enum Expr {
    Scalar(f64),
    Vector { text: String, prec: u8 },
}

/// A translated condition.
#[derive(Clone, Debug)]
enum Cond {
    Always(bool),
    Vector { text: String, prec: u8 },
}

/// Translates conditions of one plan.
pub struct Translator<'p> {
    plan: &'p Plan,
    shapes: Shapes<'p>,
    /// The group's evaluation interval, the step of subqueries.
    interval: String,
}

impl<'p> Translator<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        Translator {
            plan,
            shapes: Shapes::new(&plan.metrics),
            interval: format_duration(plan.evaluation_interval_ms.max(1)),
        }
    }

    /// The PromQL expression for a trigger's condition.
    pub fn condition(&self, c: &Condition) -> Result<String, Unexpressible> {
        Ok(match self.cond(c)? {
            Cond::Always(true) => "vector(1)".to_string(),
            // An empty vector: the alert never fires.
            Cond::Always(false) => "vector(1) < 0".to_string(),
            Cond::Vector { text, .. } => text,
        })
    }

    /// `LHS unless C` where `LHS` is PromQL text of shape `lhs_shape` (a whole expression, parenthesised
    /// here): the series of `LHS` for which `c` does not hold, joined as plan::join joins `unless`. `None`
    /// when that is no series at all (`c` always true).
    pub fn unless_condition(
        &self,
        lhs: &str,
        lhs_shape: &Shape,
        c: &Condition,
    ) -> Result<Option<String>, Unexpressible> {
        let j = join(OpKind::Unless, lhs_shape, &self.shapes.condition(c), None);
        let on_nothing = matches!(&j, Join::OneToOne(m) if m.on && m.labels.is_empty());
        Ok(match self.cond(c)? {
            Cond::Always(false) => Some(lhs.to_string()),
            // A one-series side matches every series of the other on no label; else, default matching,
            // the one always-true series has no labels and so matches only a series without labels.
            Cond::Always(true) if on_nothing => None,
            r => {
                let j = match j {
                    Join::OneLeft | Join::OneRight => Join::OneToOne(crate::plan::no_label()),
                    j => j,
                };
                let right = cond_operand(&r, P_AND + 1);
                Some(format!("({lhs}) unless{} {right}", modifier(&j, &right)))
            }
        })
    }

    fn query(&self, metric: &str) -> Result<&'p str, Unexpressible> {
        self.plan
            .declared_query(metric)
            .map(str::trim)
            .ok_or_else(|| Unexpressible::UndeclaredMetric(metric.to_string()))
    }

    fn cond(&self, c: &Condition) -> Result<Cond, Unexpressible> {
        Ok(match c {
            Condition::Compare { op, lhs, rhs, matching } => match (self.value(lhs)?, self.value(rhs)?) {
                (Expr::Scalar(a), Expr::Scalar(b)) => Cond::Always(op.test(a, b)),
                (l, r) => {
                    let j = join(OpKind::Arith, &self.shapes.value(lhs), &self.shapes.value(rhs), matching.as_ref());
                    let right = operand(&r, P_CMP + 1);
                    let text = format!("{} {}{} {right}", operand(&l, P_CMP), op.symbol(), modifier(&j, &right));
                    Cond::Vector { text, prec: P_CMP }
                }
            },
            Condition::And { lhs, rhs, matching } => self.set(OpKind::And, lhs, rhs, matching.as_ref())?,
            Condition::Or { lhs, rhs, matching } => self.set(OpKind::Or, lhs, rhs, matching.as_ref())?,
            Condition::Unless { lhs, rhs, matching } => self.set(OpKind::Unless, lhs, rhs, matching.as_ref())?,
            Condition::Not { operand } => match self.cond(operand)? {
                Cond::Always(b) => Cond::Always(!b),
                Cond::Vector { text, .. } => {
                    Cond::Vector { text: format!("vector(1) unless on() ({text})"), prec: P_AND }
                }
            },
        })
    }

    /// `lhs and|or|unless rhs`. A side that is always true is one series without labels, always false no
    /// series: folded away only where that gives the same series as PromQL would.
    fn set(&self, op: OpKind, lhs: &Condition, rhs: &Condition, m: Option<&Matching>) -> Result<Cond, Unexpressible> {
        let (l, r) = (self.cond(lhs)?, self.cond(rhs)?);
        let (ls, rs) = (self.shapes.condition(lhs), self.shapes.condition(rhs));
        let j = join(op, &ls, &rs, m);
        // Matching on no label: the one series of an always-true side matches every series of the other.
        let on_nothing = matches!(&j, Join::OneToOne(m) if m.on && m.labels.is_empty());
        let one = |s: &Shape| !s.per_series();
        use Cond::Always as A;
        let folded = match (op, &l, &r) {
            (OpKind::And, A(false), _) | (OpKind::And, _, A(false)) => Some(A(false)),
            (OpKind::And, _, A(true)) if on_nothing => Some(l.clone()),
            (OpKind::And, A(true), _) if on_nothing && one(&rs) => Some(r.clone()),
            (OpKind::Or, A(false), _) => Some(r.clone()),
            (OpKind::Or, _, A(false)) => Some(l.clone()),
            (OpKind::Or, A(true), _) if on_nothing => Some(A(true)),
            (OpKind::Or, _, A(true)) if on_nothing && one(&ls) => Some(A(true)),
            (OpKind::Unless, A(false), _) => Some(A(false)),
            (OpKind::Unless, _, A(false)) => Some(l.clone()),
            (OpKind::Unless, _, A(true)) if on_nothing => Some(A(false)),
            _ => None,
        };
        if let Some(c) = folded {
            return Ok(c);
        }
        let (word, prec) = match op {
            OpKind::Or => ("or", P_OR),
            OpKind::And => ("and", P_AND),
            OpKind::Unless | OpKind::Arith => ("unless", P_AND),
        };
        // INVARIANT: plan::join gives set operators one-to-one matching only; were it to give a group
        // modifier, PromQL would refuse it here, so only its `on()` is written.
        let j = match j {
            Join::OneLeft | Join::OneRight => Join::OneToOne(crate::plan::no_label()),
            j => j,
        };
        let right = cond_operand(&r, prec + 1);
        let text = format!("{} {word}{} {right}", cond_operand(&l, prec), modifier(&j, &right));
        Ok(Cond::Vector { text, prec })
    }

    fn value(&self, v: &Value) -> Result<Expr, Unexpressible> {
        Ok(match v {
            Value::Number { value } => Expr::Scalar(*value),
            Value::Metric { name, offset_ms } => {
                let query = self.query(name)?;
                let text = if *offset_ms == 0 {
                    if is_plain_selector(query) { query.to_string() } else { parenthesised(query) }
                } else if is_plain_selector(query) {
                    format!("{query} offset {}", format_duration(*offset_ms))
                } else {
                    format!("last_over_time({}[1ms:1ms] offset {})", parenthesised(query), format_duration(*offset_ms))
                };
                // `x offset 1h` is one selector, but reads better in parentheses inside arithmetic.
                let prec = if *offset_ms == 0 || !is_plain_selector(query) { P_ATOM } else { P_CMP };
                Expr::Vector { text, prec }
            }
            Value::Window { func, metric, window_ms, offset_ms, quantile } => {
                let query = self.query(metric)?;
                let window = format_duration(*window_ms);
                let range = if is_plain_selector(query) {
                    format!("{query}[{window}]")
                } else {
                    format!("{}[{window}:{}]", parenthesised(query), self.interval)
                };
                let offset =
                    if *offset_ms > 0 { format!(" offset {}", format_duration(*offset_ms)) } else { String::new() };
                let args = match (func, quantile) {
                    (WindowFunc::QuantileOver, Some(q)) => format!("{}, {range}{offset}", format_number(*q)),
                    _ => format!("{range}{offset}"),
                };
                Expr::Vector { text: format!("{}({args})", func.promql()), prec: P_ATOM }
            }
            Value::Abs { operand } => match self.value(operand)? {
                Expr::Scalar(a) => Expr::Scalar(a.abs()),
                Expr::Vector { text, .. } => Expr::Vector { text: format!("abs({text})"), prec: P_ATOM },
            },
            Value::Neg { operand } => match self.value(operand)? {
                Expr::Scalar(a) => Expr::Scalar(-a),
                e @ Expr::Vector { .. } => Expr::Vector { text: format!("-{}", operand_text(&e, P_ATOM)), prec: P_NEG },
            },
            Value::Arith { op, lhs, rhs, matching } => match (self.value(lhs)?, self.value(rhs)?) {
                (Expr::Scalar(a), Expr::Scalar(b)) => Expr::Scalar(op.apply(a, b)),
                (l, r) => {
                    let p = match op {
                        ArithOp::Add | ArithOp::Sub => P_ADD,
                        ArithOp::Mul | ArithOp::Div => P_MUL,
                    };
                    let j = join(OpKind::Arith, &self.shapes.value(lhs), &self.shapes.value(rhs), matching.as_ref());
                    let right = operand(&r, p + 1);
                    let text = format!("{} {}{} {right}", operand(&l, p), op.symbol(), modifier(&j, &right));
                    Expr::Vector { text, prec: p }
                }
            },
        })
    }
}

/// What PromQL writes after a binary operator for join `j`, with its leading space (or nothing), when the
/// right operand's text is `right`.
///
/// `group_left`/`group_right` take an optional label list in parentheses, so before a right operand that
/// starts with `(` the empty list is written (`group_left() (sum(x))`); without it PromQL would read the
/// operand as the list.
fn modifier(j: &Join, right: &str) -> String {
    let group = |word: &str| {
        let list = if right.starts_with('(') { "()" } else { "" };
        format!(" on() {word}{list}")
    };
    match j {
        Join::Scalar => String::new(),
        // PromQL's default: every label (`ignoring()`), written as nothing.
        Join::OneToOne(m) if !m.on && m.labels.is_empty() => String::new(),
        Join::OneToOne(m) => m.to_string(),
        Join::OneRight => group("group_left"),
        Join::OneLeft => group("group_right"),
    }
}

/// An operand of a binary operator of strength `min`: parenthesised when it binds more loosely, and
/// always when it is a unary minus or a negative number. (`NaN`, `+Inf` and `-Inf` are PromQL literals.)
fn operand(e: &Expr, min: u8) -> String {
    match e {
        Expr::Scalar(v) if *v < 0.0 || (*v == 0.0 && v.is_sign_negative()) => format!("({})", format_number(*v)),
        Expr::Scalar(v) => format_number(*v),
        Expr::Vector { .. } => operand_text(e, min),
    }
}

fn operand_text(e: &Expr, min: u8) -> String {
    match e {
        Expr::Scalar(v) => format_number(*v),
        Expr::Vector { text, prec } => {
            if *prec < min || *prec == P_NEG {
                format!("({text})")
            } else {
                text.clone()
            }
        }
    }
}

fn cond_operand(c: &Cond, min: u8) -> String {
    match c {
        Cond::Always(true) => "vector(1)".to_string(),
        Cond::Always(false) => "(vector(1) < 0)".to_string(),
        Cond::Vector { text, prec } => {
            if *prec < min {
                format!("({text})")
            } else {
                text.clone()
            }
        }
    }
}

/// `(QUERY)`, with the closing parenthesis on its own line when the query could end in a `#` comment.
fn parenthesised(query: &str) -> String {
    if query.contains('#') { format!("({query}\n)") } else { format!("({query})") }
}
