use super::{Expr, Ident, Quantity, Text};
use crate::span::Span;

/// `[trigger NAME:] CONDITION [for D | for N consecutive] [keep firing for D] -> TARGET`
#[derive(Clone, Debug)]
pub struct Trigger {
    pub span: Span,
    /// `None` for the anonymous form; the analyser names it `trigger_N` by position.
    pub name: Option<Ident>,
    pub condition: Expr,
    pub hold: Option<Hold>,
    pub keep_firing_for: Option<Quantity>,
    pub target: Target,
}

#[derive(Clone, Debug)]
pub enum Hold {
    For(Quantity),
    Consecutive(Quantity),
}

#[derive(Clone, Debug)]
pub enum Target {
    Level { number: Quantity, span: Span },
    Notify { channel: Ident, message: Text, span: Span },
}
