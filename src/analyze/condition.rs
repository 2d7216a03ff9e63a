//! Typing expressions: which are values and which are conditions, function names and arities, windows and
//! offsets, and how many series each side has (`plan::shape`), so that matching that can never work is
//! reported here (`matching.rs`). Produces the plan's `Condition` and `Value` trees.

use super::Analyzer;
use super::matching::Side;
use crate::ast::{self, BinOp, Expr, ExprKind, Quantity, QuantityValue, UnOp};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::plan::{ArithOp, CmpOp, Condition, OpKind, Shape, Value, WindowFunc, join, joined};
use crate::span::Span;

/// What an expression turned out to be.
pub(super) enum Typed {
    Cond(Condition),
    Val(Value),
}

const ALL_FUNCTIONS: &[&str] =
    &["avg_over", "min_over", "max_over", "sum_over", "count_over", "quantile_over", "rate", "increase", "abs"];

impl Analyzer<'_> {
    /// A condition (for a trigger or a verify) and how many series it can hold for, or `None` with
    /// diagnostics.
    pub(super) fn condition(&mut self, expr: &Expr) -> Option<(Condition, Shape)> {
        match self.typed(expr)? {
            (Typed::Cond(c), shape) => Some((c, shape)),
            (Typed::Val(_), _) => {
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

    fn typed(&mut self, expr: &Expr) -> Option<(Typed, Shape)> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.typed(inner),
            ExprKind::Quantity(q) => self.scalar(q).map(|value| (Typed::Val(Value::Number { value }), Shape::Scalar)),
            ExprKind::Metric { name, offset } => {
                self.use_metric(&name.name, name.span);
                let offset_ms = match offset {
                    Some(q) => self.duration(q, "an offset")?,
                    None => 0,
                };
                let shape = self.metric_shape(&name.name);
                Some((Typed::Val(Value::Metric { name: name.name.clone(), offset_ms }), shape))
            }
            ExprKind::Call { name, args, offset } => {
                let v = self.call(expr.span, name, args, offset.as_ref())?;
                let shape = self.value_shape(&v);
                Some((Typed::Val(v), shape))
            }
            ExprKind::Unary { op: UnOp::Not, op_span, operand } => match self.typed(operand)? {
                // `not C` holds, with no labels, when C holds for no series (plan::shape).
                (Typed::Cond(c), _) => Some((Typed::Cond(Condition::Not { operand: Box::new(c) }), Shape::Single)),
                (Typed::Val(_), _) => {
                    self.operand_type(*op_span, operand.span, "`not` needs a condition", "a value");
                    None
                }
            },
            ExprKind::Unary { op: UnOp::Neg, op_span, operand } => match self.typed(operand)? {
                (Typed::Val(Value::Number { value }), s) => Some((Typed::Val(Value::Number { value: -value }), s)),
                (Typed::Val(v), s) => Some((Typed::Val(Value::Neg { operand: Box::new(v) }), s)),
                (Typed::Cond(_), _) => {
                    self.operand_type(*op_span, operand.span, "unary `-` needs a value", "a condition");
                    None
                }
            },
            ExprKind::Binary { op, op_span, matching, lhs, rhs } => {
                self.binary(*op, *op_span, matching.as_ref(), lhs, rhs)
            }
        }
    }

    /// The shape of a value built by `call` (a window function reads its metric's series).
    fn value_shape(&self, v: &Value) -> Shape {
        match v {
            Value::Number { .. } => Shape::Scalar,
            Value::Metric { name, .. } | Value::Window { metric: name, .. } => self.metric_shape(name),
            Value::Abs { operand } | Value::Neg { operand } => self.value_shape(operand),
            // Never built by `call`; its shape comes from `binary`.
            Value::Arith { .. } => Shape::PerSeries,
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        matching: Option<&ast::Matching>,
        lhs: &Expr,
        rhs: &Expr,
    ) -> Option<(Typed, Shape)> {
        let l = self.typed(lhs);
        let r = self.typed(rhs);
        let written = matching.map(|m| self.matching(m));
        let ((l, l_shape), (r, r_shape)) = (l?, r?);
        let written = match written {
            Some(None) => return None,
            Some(Some(m)) => Some(m),
            None => None,
        };
        let sides = |expr: &'_ Expr, shape: Shape| Side { span: expr.span, shape };
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
            let kind = match op {
                BinOp::And => OpKind::And,
                BinOp::Unless => OpKind::Unless,
                _ => OpKind::Or,
            };
            if let Some(m) = matching
                && !self.matching_beside_not(op, m, lhs, rhs)
            {
                return None;
            }
            let (ls, rs) = (sides(lhs, l_shape), sides(rhs, r_shape));
            if !self.check_join(kind, op, op_span, &ls, &rs, written.as_ref()) {
                return None;
            }
            let shape = joined(kind, &ls.shape, &rs.shape, &join(kind, &ls.shape, &rs.shape, written.as_ref()));
            let (lhs, rhs) = (Box::new(l), Box::new(r));
            let c = match kind {
                OpKind::And => Condition::And { lhs, rhs, matching: written },
                OpKind::Unless => Condition::Unless { lhs, rhs, matching: written },
                _ => Condition::Or { lhs, rhs, matching: written },
            };
            return Some((Typed::Cond(c), shape));
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
        if let Some(m) = matching
            && !self.matching_beside_number(op, m, (lhs, &l_shape), (rhs, &r_shape))
        {
            return None;
        }
        let (ls, rs) = (sides(lhs, l_shape), sides(rhs, r_shape));
        if !self.check_join(OpKind::Arith, op, op_span, &ls, &rs, written.as_ref()) {
            return None;
        }
        let shape =
            joined(OpKind::Arith, &ls.shape, &rs.shape, &join(OpKind::Arith, &ls.shape, &rs.shape, written.as_ref()));
        let arith = |op| {
            let v = Value::Arith { op, lhs: Box::new(l.clone()), rhs: Box::new(r.clone()), matching: written.clone() };
            (Typed::Val(v), shape.clone())
        };
        // A comparison of two numbers holds or not: one series without labels (plan::Shapes::condition).
        let cond_shape = if shape == Shape::Scalar { Shape::Single } else { shape.clone() };
        let cmp = |op| {
            let c = Condition::Compare { op, lhs: l.clone(), rhs: r.clone(), matching: written.clone() };
            (Typed::Cond(c), cond_shape.clone())
        };
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
            BinOp::Or | BinOp::And | BinOp::Unless => return None,
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
            return match self.typed(&args[0])?.0 {
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
