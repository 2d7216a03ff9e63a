//! Typed conditions: what a trigger or a `verify` tests. Comparisons join values; `and`, `or`, `not` join
//! comparisons. The analyser guarantees the types, so evaluators need no checks.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{format_duration, format_number};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Compare {
        op: CmpOp,
        lhs: Value,
        rhs: Value,
        /// `on(...)` / `ignoring(...)` as written after the operator; `None`: the default (see [`Join`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matching: Option<Matching>,
    },
    /// PromQL's `and`: the left side's series that have a match on the right.
    And {
        lhs: Box<Condition>,
        rhs: Box<Condition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matching: Option<Matching>,
    },
    /// PromQL's `or`: the left side's series, and the right side's that have no match on the left.
    Or {
        lhs: Box<Condition>,
        rhs: Box<Condition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matching: Option<Matching>,
    },
    /// PromQL's `unless`: the left side's series that have no match on the right.
    Unless {
        lhs: Box<Condition>,
        rhs: Box<Condition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matching: Option<Matching>,
    },
    /// Holds, with no labels, when its operand holds for no series at all.
    Not { operand: Box<Condition> },
}

/// Vector matching written after a binary operator, as in PromQL: `on(l, ...)` compares only the listed
/// labels, `ignoring(l, ...)` every label but the listed ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Matching {
    /// `true` for `on(...)`, `false` for `ignoring(...)`.
    pub on: bool,
    pub labels: Vec<String>,
}

impl fmt::Display for Matching {
    /// ` on(a, b)` / ` ignoring(a)`, with the leading space, to follow an operator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}({})", if self.on { "on" } else { "ignoring" }, self.labels.join(", "))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArithOp {
    #[serde(rename = "+")]
    Add,
    #[serde(rename = "-")]
    Sub,
    #[serde(rename = "*")]
    Mul,
    #[serde(rename = "/")]
    Div,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Number {
        value: f64,
    },
    /// The newest sample within the lookback, `offset_ms` before the evaluation time.
    Metric {
        name: String,
        offset_ms: u64,
    },
    /// A function over a window of samples ending `offset_ms` before the evaluation time.
    Window {
        func: WindowFunc,
        metric: String,
        window_ms: u64,
        offset_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantile: Option<f64>,
    },
    Abs {
        operand: Box<Value>,
    },
    Neg {
        operand: Box<Value>,
    },
    Arith {
        op: ArithOp,
        lhs: Box<Value>,
        rhs: Box<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matching: Option<Matching>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowFunc {
    AvgOver,
    MinOver,
    MaxOver,
    SumOver,
    CountOver,
    QuantileOver,
    Rate,
    Increase,
}

impl WindowFunc {
    pub const ALL: &'static [WindowFunc] = &[
        WindowFunc::AvgOver,
        WindowFunc::MinOver,
        WindowFunc::MaxOver,
        WindowFunc::SumOver,
        WindowFunc::CountOver,
        WindowFunc::QuantileOver,
        WindowFunc::Rate,
        WindowFunc::Increase,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WindowFunc::AvgOver => "avg_over",
            WindowFunc::MinOver => "min_over",
            WindowFunc::MaxOver => "max_over",
            WindowFunc::SumOver => "sum_over",
            WindowFunc::CountOver => "count_over",
            WindowFunc::QuantileOver => "quantile_over",
            WindowFunc::Rate => "rate",
            WindowFunc::Increase => "increase",
        }
    }

    /// The PromQL function computing the same value over a range vector.
    pub fn promql(self) -> &'static str {
        match self {
            WindowFunc::AvgOver => "avg_over_time",
            WindowFunc::MinOver => "min_over_time",
            WindowFunc::MaxOver => "max_over_time",
            WindowFunc::SumOver => "sum_over_time",
            WindowFunc::CountOver => "count_over_time",
            WindowFunc::QuantileOver => "quantile_over_time",
            WindowFunc::Rate => "rate",
            WindowFunc::Increase => "increase",
        }
    }

    pub fn from_name(name: &str) -> Option<WindowFunc> {
        WindowFunc::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl CmpOp {
    /// The operator that compares the other way round: `a OP b` is `b OP.mirrored() a`.
    pub fn mirrored(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            other => other,
        }
    }

    /// The operator true exactly where this one is false, for numbers (not NaN).
    pub fn negated(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// IEEE 754 comparison, as PromQL does: with NaN every comparison is false except `!=`.
    #[inline]
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 5,
            ArithOp::Mul | ArithOp::Div => 6,
        }
    }

    #[inline]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div => a / b,
        }
    }
}

impl Condition {
    /// Every metric the condition reads, in order of first appearance, with repeats.
    pub fn metrics(&self, out: &mut Vec<String>) {
        match self {
            Condition::Compare { lhs, rhs, .. } => {
                lhs.metrics(out);
                rhs.metrics(out);
            }
            Condition::And { lhs, rhs, .. } | Condition::Or { lhs, rhs, .. } | Condition::Unless { lhs, rhs, .. } => {
                lhs.metrics(out);
                rhs.metrics(out);
            }
            Condition::Not { operand } => operand.metrics(out),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Condition::Or { .. } => 1,
            Condition::And { .. } | Condition::Unless { .. } => 2,
            Condition::Not { .. } => 3,
            Condition::Compare { .. } => 4,
        }
    }
}

impl Value {
    pub fn metrics(&self, out: &mut Vec<String>) {
        match self {
            Value::Number { .. } => {}
            Value::Metric { name, .. } => out.push(name.clone()),
            Value::Window { metric, .. } => out.push(metric.clone()),
            Value::Abs { operand } | Value::Neg { operand } => operand.metrics(out),
            Value::Arith { lhs, rhs, .. } => {
                lhs.metrics(out);
                rhs.metrics(out);
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Value::Arith { op, .. } => op.precedence(),
            Value::Neg { .. } => 7,
            _ => 8,
        }
    }
}

/// A written matching, or nothing.
struct Written<'a>(&'a Option<Matching>);

impl fmt::Display for Written<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(m) => m.fmt(f),
            None => Ok(()),
        }
    }
}

fn offset_suffix(f: &mut fmt::Formatter<'_>, offset_ms: u64) -> fmt::Result {
    if offset_ms > 0 { write!(f, " offset {}", format_duration(offset_ms)) } else { Ok(()) }
}

/// Writes `inner`, parenthesised when it binds looser than its context requires.
fn child(f: &mut fmt::Formatter<'_>, inner: &dyn fmt::Display, inner_prec: u8, min_prec: u8) -> fmt::Result {
    if inner_prec < min_prec { write!(f, "({inner})") } else { write!(f, "{inner}") }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number { value } => f.write_str(&format_number(*value)),
            Value::Metric { name, offset_ms } => {
                f.write_str(name)?;
                offset_suffix(f, *offset_ms)
            }
            Value::Window { func, metric, window_ms, offset_ms, quantile } => {
                match quantile {
                    Some(q) => {
                        write!(f, "{}({}, {metric}, {})", func.name(), format_number(*q), format_duration(*window_ms))?
                    }
                    None => write!(f, "{}({metric}, {})", func.name(), format_duration(*window_ms))?,
                }
                offset_suffix(f, *offset_ms)
            }
            Value::Abs { operand } => write!(f, "abs({operand})"),
            Value::Neg { operand } => {
                f.write_str("-")?;
                child(f, operand.as_ref(), operand.precedence(), 8)
            }
            Value::Arith { op, lhs, rhs, matching } => {
                let p = op.precedence();
                child(f, lhs.as_ref(), lhs.precedence(), p)?;
                write!(f, " {}{} ", op.symbol(), Written(matching))?;
                child(f, rhs.as_ref(), rhs.precedence(), p + 1)
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare { op, lhs, rhs, matching } => {
                write!(f, "{lhs} {}{} {rhs}", op.symbol(), Written(matching))
            }
            Condition::And { lhs, rhs, matching } => {
                child(f, lhs.as_ref(), lhs.precedence(), 2)?;
                write!(f, " and{} ", Written(matching))?;
                child(f, rhs.as_ref(), rhs.precedence(), 3)
            }
            Condition::Unless { lhs, rhs, matching } => {
                child(f, lhs.as_ref(), lhs.precedence(), 2)?;
                write!(f, " unless{} ", Written(matching))?;
                child(f, rhs.as_ref(), rhs.precedence(), 3)
            }
            Condition::Or { lhs, rhs, matching } => {
                child(f, lhs.as_ref(), lhs.precedence(), 1)?;
                write!(f, " or{} ", Written(matching))?;
                child(f, rhs.as_ref(), rhs.precedence(), 2)
            }
            Condition::Not { operand } => {
                f.write_str("not ")?;
                child(f, operand.as_ref(), operand.precedence(), 3)
            }
        }
    }
}
