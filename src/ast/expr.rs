use super::{Ident, Quantity};
use crate::span::Span;

/// An expression as written: conditions and arithmetic share one grammar, and the analyser sorts out which
/// is which (a bare metric is not a condition; `and` does not take numbers).
#[derive(Clone, Debug)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Quantity(Quantity),
    Metric { name: Ident, offset: Option<Quantity> },
    Call { name: Ident, args: Vec<Expr>, offset: Option<Quantity> },
    Unary { op: UnOp, op_span: Span, operand: Box<Expr> },
    Binary { op: BinOp, op_span: Span, lhs: Box<Expr>, rhs: Box<Expr> },
    Paren(Box<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// Binding power: higher binds tighter. `not` sits between `and` and the comparisons.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le | BinOp::Eq | BinOp::Ne => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::Or | BinOp::And)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

impl UnOp {
    /// `not` binds looser than comparisons (`not a > b` is `not (a > b)`); unary minus binds tightest.
    pub fn precedence(self) -> u8 {
        match self {
            UnOp::Not => 3,
            UnOp::Neg => 7,
        }
    }
}
