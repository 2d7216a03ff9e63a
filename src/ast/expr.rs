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
    Binary { op: BinOp, op_span: Span, matching: Option<Matching>, lhs: Box<Expr>, rhs: Box<Expr> },
    Paren(Box<Expr>),
}

/// `on(l, ...)` / `ignoring(l, ...)` written after a binary operator, as in PromQL.
#[derive(Clone, Debug)]
pub struct Matching {
    pub span: Span,
    /// `true` for `on`, `false` for `ignoring`.
    pub on: bool,
    /// The label names in written order (the analyser reports a repeated one).
    pub labels: Vec<Ident>,
}

impl Matching {
    pub fn keyword(&self) -> &'static str {
        if self.on { "on" } else { "ignoring" }
    }
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
    Unless,
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
    /// Binding power: higher binds tighter. `not` sits between `and` and the comparisons; `unless` binds
    /// as `and` does (as in PromQL).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le | BinOp::Eq | BinOp::Ne => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::Or | BinOp::And | BinOp::Unless)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Unless => "unless",
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
