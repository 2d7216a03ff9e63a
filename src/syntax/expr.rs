//! Precedence for the flat `expr` rule: an operator-precedence pass with explicit stacks, so that neither a
//! long chain of operators nor a run of prefix operators recurses. Only parentheses and calls recurse, and
//! their depth is bounded by the pre-scan.

use pest::iterators::Pair;

use super::lower::Lowering;
use super::parser::Rule;
use crate::ast::{BinOp, Expr, ExprKind, Matching, UnOp};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// More operators than this in one expression is refused (no condition needs it, and deep trees are slow
/// to check and to drop).
pub const MAX_OPERATORS: usize = 1000;

enum Op {
    Prefix(UnOp, Span),
    Infix(BinOp, Span, Option<Matching>),
}

impl Op {
    fn precedence(&self) -> u8 {
        match self {
            Op::Prefix(op, _) => op.precedence(),
            Op::Infix(op, ..) => op.precedence(),
        }
    }
}

impl Lowering {
    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let whole = super::lower::span_of(&pair);
        let mut operands: Vec<Expr> = Vec::new();
        let mut ops: Vec<Op> = Vec::new();
        let mut count = 0usize;
        for part in pair.into_inner() {
            let span = super::span_of(part.as_span());
            let rule = part.as_rule();
            if let Some(op) = prefix_op(rule) {
                count += 1;
                ops.push(Op::Prefix(op, span));
            } else if let Some(op) = infix_op(rule) {
                count += 1;
                let precedence = op.precedence();
                while ops.last().is_some_and(|top| top.precedence() >= precedence) {
                    apply(&mut operands, ops.pop());
                }
                ops.push(Op::Infix(op, span, None));
            } else if rule == Rule::matching {
                // The grammar puts a matching right after its operator, which is on top of the stack.
                let matching = self.matching(part);
                if let Some(Op::Infix(_, _, slot)) = ops.last_mut() {
                    *slot = Some(matching);
                }
            } else {
                operands.push(self.operand(part));
            }
            if count > MAX_OPERATORS {
                self.diagnostics.push(
                    Diagnostic::new(Code::ExpressionTooLarge, span, "expression has more than 1,000 operators")
                        .label("the 1,001st operator")
                        .help("split the condition into several triggers, or aggregate in the metric's query"),
                );
                return Expr { span: whole, kind: ExprKind::Quantity(zero(whole)) };
            }
        }
        while !ops.is_empty() {
            apply(&mut operands, ops.pop());
        }
        operands.pop().unwrap_or(Expr { span: whole, kind: ExprKind::Quantity(zero(whole)) })
    }

    fn operand(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = super::lower::span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => ExprKind::Paren(Box::new(self.expr(inner))),
                None => ExprKind::Quantity(zero(span)),
            },
            Rule::quantity => ExprKind::Quantity(self.quantity(pair, false)),
            Rule::metric_ref => {
                let mut inner = pair.into_inner();
                let name = inner.next().map(|p| self.ident(p));
                let offset = inner.next().and_then(|p| self.offset(p));
                match name {
                    Some(name) => ExprKind::Metric { name, offset },
                    None => ExprKind::Quantity(zero(span)),
                }
            }
            Rule::call => {
                let mut name = None;
                let mut args = Vec::new();
                let mut offset = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::expr => args.push(self.expr(p)),
                        Rule::offset => offset = self.offset(p),
                        _ => {}
                    }
                }
                match name {
                    Some(name) => ExprKind::Call { name, args, offset },
                    None => ExprKind::Quantity(zero(span)),
                }
            }
            _ => ExprKind::Quantity(zero(span)),
        };
        Expr { span, kind }
    }

    fn matching(&mut self, pair: Pair<'_, Rule>) -> Matching {
        let span = super::lower::span_of(&pair);
        let mut on = true;
        let mut labels = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::kw_ignoring => on = false,
                Rule::label_name => labels.push(self.ident(p)),
                _ => {}
            }
        }
        Matching { span, on, labels }
    }

    fn offset(&mut self, pair: Pair<'_, Rule>) -> Option<crate::ast::Quantity> {
        pair.into_inner().find(|p| p.as_rule() == Rule::signed_quantity).map(|p| self.signed_quantity(p))
    }
}

fn apply(operands: &mut Vec<Expr>, op: Option<Op>) {
    match op {
        Some(Op::Prefix(op, op_span)) => {
            if let Some(operand) = operands.pop() {
                let span = op_span.to(operand.span);
                operands.push(Expr { span, kind: ExprKind::Unary { op, op_span, operand: Box::new(operand) } });
            }
        }
        Some(Op::Infix(op, op_span, matching)) => {
            let rhs = operands.pop();
            let lhs = operands.pop();
            if let (Some(lhs), Some(rhs)) = (lhs, rhs) {
                let span = lhs.span.to(rhs.span);
                operands.push(Expr {
                    span,
                    kind: ExprKind::Binary { op, op_span, matching, lhs: Box::new(lhs), rhs: Box::new(rhs) },
                });
            }
        }
        None => {}
    }
}

fn zero(span: Span) -> crate::ast::Quantity {
    crate::ast::Quantity {
        span,
        negative: false,
        value: crate::ast::QuantityValue::Number { value: 0.0, integer: true },
    }
}

fn prefix_op(rule: Rule) -> Option<UnOp> {
    match rule {
        Rule::op_not => Some(UnOp::Not),
        Rule::op_neg => Some(UnOp::Neg),
        _ => None,
    }
}

fn infix_op(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::op_or => BinOp::Or,
        Rule::op_and => BinOp::And,
        Rule::op_unless => BinOp::Unless,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        _ => return None,
    })
}
