//! Typing expressions: which are values and which are conditions, function names and arities, windows and
//! offsets. Produces the plan's `Condition` and `Value` trees.

use super::Analyzer;
use crate::ast::{BinOp, Expr, ExprKind, Quantity, QuantityValue, UnOp};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::{ArithOp, CmpOp, Condition, Value, WindowFunc};
use crate::span::Span;

/// What an expression turned out to be.
pub(super) enum Typed {
    Cond(Condition),
    Val(Value),
}

const ALL_FUNCTIONS: &[&str] =
    &["avg_over", "min_over", "max_over", "sum_over", "count_over", "quantile_over", "rate", "increase", "abs"];

impl Analyzer<'_> {
    /// A condition (for a trigger or a verify), or `None` with diagnostics.
    pub(super) fn condition(&mut self, expr: &Expr) -> Option<Condition> {
        match self.typed(expr)? {
            Typed::Cond(c) => Some(c),
            Typed::Val(_) => {
                let text = self.snippet(expr.span);
                self.push(
                    Diagnostic::new(Code::NotACondition, expr.span, "a condition needs a comparison")
                        .label("this is a value, not a condition")
                        .help(format!("compare it with a threshold, for example `{text} > 0`")),
                );
                None
            }
        }
    }

    fn typed(&mut self, expr: &Expr) -> Option<Typed> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.typed(inner),
            ExprKind::Quantity(q) => self.scalar(q).map(|value| Typed::Val(Value::Number { value })),
            ExprKind::Metric { name, offset } => {
                self.use_metric(&name.name, name.span);
                let offset_ms = match offset {
                    Some(q) => self.duration(q, "an offset")?,
                    None => 0,
                };
                Some(Typed::Val(Value::Metric { name: name.name.clone(), offset_ms }))
            }
            ExprKind::Call { name, args, offset } => self.call(expr.span, name, args, offset.as_ref()).map(Typed::Val),
            ExprKind::Unary { op: UnOp::Not, op_span, operand } => match self.typed(operand)? {
                Typed::Cond(c) => Some(Typed::Cond(Condition::Not { operand: Box::new(c) })),
                Typed::Val(_) => {
                    self.operand_type(*op_span, operand.span, "`not` needs a condition", "a value");
                    None
                }
            },
            ExprKind::Unary { op: UnOp::Neg, op_span, operand } => match self.typed(operand)? {
                Typed::Val(Value::Number { value }) => Some(Typed::Val(Value::Number { value: -value })),
                Typed::Val(v) => Some(Typed::Val(Value::Neg { operand: Box::new(v) })),
                Typed::Cond(_) => {
                    self.operand_type(*op_span, operand.span, "unary `-` needs a value", "a condition");
                    None
                }
            },
            ExprKind::Binary { op, op_span, lhs, rhs } => self.binary(*op, *op_span, lhs, rhs),
        }
    }

    fn binary(&mut self, op: BinOp, op_span: Span, lhs: &Expr, rhs: &Expr) -> Option<Typed> {
        let l = self.typed(lhs);
        let r = self.typed(rhs);
        let (l, r) = (l?, r?);
        if op.is_logical() {
            let (Typed::Cond(l), Typed::Cond(r)) = (l, r) else {
                let bad = if matches!(self.typed_is_val(lhs), Some(true)) { lhs } else { rhs };
                self.operand_type(
                    op_span,
                    bad.span,
                    &format!("`{}` joins conditions, and this side is a value", op.symbol()),
                    "a value",
                );
                return None;
            };
            let (lhs, rhs) = (Box::new(l), Box::new(r));
            return Some(Typed::Cond(if op == BinOp::And {
                Condition::And { lhs, rhs, matching: None }
            } else {
                Condition::Or { lhs, rhs, matching: None }
            }));
        }
        let (Typed::Val(l), Typed::Val(r)) = (l, r) else {
            let bad = if is_comparison(lhs) {
                Some(lhs)
            } else if is_comparison(rhs) {
                Some(rhs)
            } else {
                None
            };
            if op.is_comparison()
                && let Some(bad) = bad
            {
                self.push(
                    Diagnostic::new(Code::ChainedComparison, op_span, "comparisons do not chain")
                        .label(format!("`{}` compares the result of another comparison", op.symbol()))
                        .related(bad.span, "this is already a comparison")
                        .help("join two comparisons with `and`: `a < x and x < b`"),
                );
                return None;
            }
            let side = if matches!(self.typed_is_val(lhs), Some(false)) { lhs } else { rhs };
            self.operand_type(
                op_span,
                side.span,
                &format!("`{}` needs values on both sides", op.symbol()),
                "a condition",
            );
            return None;
        };
        let arith =
            |op| Typed::Val(Value::Arith { op, lhs: Box::new(l.clone()), rhs: Box::new(r.clone()), matching: None });
        let cmp = |op| Typed::Cond(Condition::Compare { op, lhs: l.clone(), rhs: r.clone(), matching: None });
        Some(match op {
            BinOp::Gt => cmp(CmpOp::Gt),
            BinOp::Ge => cmp(CmpOp::Ge),
            BinOp::Lt => cmp(CmpOp::Lt),
            BinOp::Le => cmp(CmpOp::Le),
            BinOp::Eq => cmp(CmpOp::Eq),
            BinOp::Ne => cmp(CmpOp::Ne),
            BinOp::Add => arith(ArithOp::Add),
            BinOp::Sub => arith(ArithOp::Sub),
            BinOp::Mul => arith(ArithOp::Mul),
            BinOp::Div => arith(ArithOp::Div),
            BinOp::Or | BinOp::And => return None,
        })
    }

    /// Whether an expression is a value (`Some(true)`) or a condition (`Some(false)`), without diagnostics.
    fn typed_is_val(&self, expr: &Expr) -> Option<bool> {
        Some(match &expr.kind {
            ExprKind::Paren(inner) => return self.typed_is_val(inner),
            ExprKind::Quantity(_) | ExprKind::Metric { .. } | ExprKind::Call { .. } => true,
            ExprKind::Unary { op, .. } => *op == UnOp::Neg,
            ExprKind::Binary { op, .. } => !(op.is_comparison() || op.is_logical()),
        })
    }

    fn operand_type(&mut self, op_span: Span, operand: Span, message: &str, found: &str) {
        self.push(
            Diagnostic::new(Code::OperandType, operand, message.to_string())
                .label(format!("this is {found}"))
                .related(op_span, "operator")
                .help("comparisons (`>`, `<`, ...) turn values into conditions; `and`, `or`, `not` join conditions"),
        );
    }

    fn scalar(&mut self, q: &Quantity) -> Option<f64> {
        if let QuantityValue::Duration(Err(_)) = q.value {
            self.duration(q, "a duration");
            return None;
        }
        let value = q.as_scalar()?;
        if !value.is_finite() {
            self.push(
                Diagnostic::new(Code::OutOfRange, q.span, "number is too large")
                    .label("larger than a 64-bit float can hold")
                    .help("thresholds are ordinary numbers; no metric reaches 1e308"),
            );
            return None;
        }
        Some(value)
    }

    fn call(
        &mut self,
        span: Span,
        name: &crate::ast::Ident,
        args: &[Expr],
        offset: Option<&Quantity>,
    ) -> Option<Value> {
        if name.name == "abs" {
            if let Some(q) = offset {
                self.offset_not_allowed(q.span, "`abs(...)`");
            }
            if args.len() != 1 {
                self.arity(span, "abs", "abs(VALUE)", args.len(), 1);
                return None;
            }
            return match self.typed(&args[0])? {
                Typed::Val(v) => Some(Value::Abs { operand: Box::new(v) }),
                Typed::Cond(_) => {
                    self.operand_type(name.span, args[0].span, "`abs` needs a value", "a condition");
                    None
                }
            };
        }
        let Some(func) = WindowFunc::from_name(&name.name) else {
            let help = did_you_mean(&name.name, ALL_FUNCTIONS.iter().copied())
                .unwrap_or_else(|| format!("the functions are {}", ALL_FUNCTIONS.join(", ")));
            self.push(
                Diagnostic::new(Code::UnknownFunction, name.span, format!("unknown function `{}`", name.name))
                    .label("not a function the language has")
                    .help(help),
            );
            return None;
        };
        let (expected, usage) = match func {
            WindowFunc::QuantileOver => (3, "quantile_over(Q, METRIC, WINDOW)".to_string()),
            f => (2, format!("{}(METRIC, WINDOW)", f.name())),
        };
        if args.len() != expected {
            self.arity(span, func.name(), &usage, args.len(), expected);
            return None;
        }
        let (quantile, series, window) =
            if expected == 3 { (Some(&args[0]), &args[1], &args[2]) } else { (None, &args[0], &args[1]) };
        let quantile = match quantile {
            Some(q) => Some(self.quantile_arg(q)?),
            None => None,
        };
        let metric = match &series.kind {
            ExprKind::Metric { name, offset: None } => {
                self.use_metric(&name.name, name.span);
                Some(name.name.clone())
            }
            _ => {
                self.push(
                    Diagnostic::new(
                        Code::ArgumentNotMetric,
                        series.span,
                        format!("`{}` reads a window of one metric's samples", func.name()),
                    )
                    .label("expected a metric name")
                    .help(format!(
                        "write `{usage}`; put any `offset` after the call: `{}(m, 1h) offset 1d`",
                        func.name()
                    )),
                );
                None
            }
        };
        let window_ms = match &window.kind {
            ExprKind::Quantity(q) => self.duration(q, "a window"),
            _ => {
                self.push(
                    Diagnostic::new(Code::ExpectedDuration, window.span, "a window needs a duration")
                        .label("expected a duration such as `5m`")
                        .help(format!("write `{usage}`")),
                );
                None
            }
        };
        let offset_ms = match offset {
            Some(q) => Some(self.duration(q, "an offset")?),
            None => Some(0),
        };
        let (metric, window_ms, offset_ms) = (metric?, window_ms?, offset_ms?);
        if window_ms == 0 {
            self.push(
                Diagnostic::new(Code::OutOfRange, window.span, "a window must be longer than zero")
                    .label("empty window")
                    .help("windows are durations such as `5m`"),
            );
            return None;
        }
        Some(Value::Window { func, metric, window_ms, offset_ms, quantile })
    }

    fn quantile_arg(&mut self, q: &Expr) -> Option<f64> {
        let value = match &q.kind {
            ExprKind::Quantity(lit) if !matches!(lit.value, QuantityValue::Duration(_)) => lit.as_scalar(),
            _ => None,
        };
        match value {
            Some(v) if (0.0..=1.0).contains(&v) => Some(v),
            _ => {
                self.push(
                    Diagnostic::new(Code::OutOfRange, q.span, "a quantile is a number from 0 to 1")
                        .label("expected a number from 0 to 1")
                        .help("write `0.95` or `95%` for the 95th percentile"),
                );
                None
            }
        }
    }

    fn arity(&mut self, span: Span, name: &str, usage: &str, found: usize, expected: usize) {
        self.push(
            Diagnostic::new(
                Code::ArgumentCount,
                span,
                format!("`{name}` takes {expected} argument{}, found {found}", if expected == 1 { "" } else { "s" }),
            )
            .label("wrong number of arguments")
            .help(format!("write `{usage}`")),
        );
    }

    pub(super) fn offset_not_allowed(&mut self, span: Span, what: &str) {
        self.push(
            Diagnostic::new(Code::OffsetNotAllowed, span, format!("`offset` does not apply to {what}"))
                .label("offset here")
                .help("`offset` shifts a metric or a window function back in time: `avg_over(m, 1h) offset 1d`"),
        );
    }
}

fn is_comparison(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Paren(inner) => is_comparison(inner),
        ExprKind::Binary { op, .. } => op.is_comparison(),
        _ => false,
    }
}
