use super::{Expr, Ident, Quantity, Text};
use crate::span::Span;

/// `[trigger NAME:] CONDITION [for D | for N consecutive | for N of M] [clear when CONDITION]
/// [keep firing for D] [on no data keep | fire | clear] -> TARGET [{ ATTRIBUTES }]`
#[derive(Clone, Debug)]
pub struct Trigger {
    pub span: Span,
    /// `None` for the anonymous form; the analyser names it `trigger_N` by position.
    pub name: Option<Ident>,
    pub condition: Expr,
    pub hold: Option<Hold>,
    pub clear_when: Option<ClearWhen>,
    pub keep_firing_for: Option<Quantity>,
    pub on_no_data: Option<OnNoData>,
    pub target: Target,
    /// `{ alert "..." labels { ... } annotations { ... } }` after the target.
    pub attrs: Option<TriggerAttrs>,
}

/// The block after a trigger's target: what an alert for it carries.
#[derive(Clone, Debug)]
pub struct TriggerAttrs {
    pub span: Span,
    /// In written order; the analyser reports a repeated attribute.
    pub items: Vec<TriggerAttr>,
}

#[derive(Clone, Debug)]
pub enum TriggerAttr {
    /// `alert "Name"`
    Alert { name: Text, span: Span },
    /// `labels { name "value" ... }`
    Labels { entries: Vec<LabelEntry>, span: Span },
    /// `annotations { name "text" ... }`
    Annotations { entries: Vec<LabelEntry>, span: Span },
}

impl TriggerAttr {
    pub fn span(&self) -> Span {
        match self {
            TriggerAttr::Alert { span, .. }
            | TriggerAttr::Labels { span, .. }
            | TriggerAttr::Annotations { span, .. } => *span,
        }
    }

    pub fn keyword(&self) -> &'static str {
        match self {
            TriggerAttr::Alert { .. } => "alert",
            TriggerAttr::Labels { .. } => "labels",
            TriggerAttr::Annotations { .. } => "annotations",
        }
    }
}

/// `name "text"` in a trigger's `labels { }` or `annotations { }`.
#[derive(Clone, Debug)]
pub struct LabelEntry {
    pub span: Span,
    pub name: Ident,
    pub value: Text,
}

#[derive(Clone, Debug)]
pub enum Hold {
    For(Quantity),
    Consecutive(Quantity),
    /// `for N of M`; the span covers `N of M`.
    OfLast {
        n: Quantity,
        m: Quantity,
        span: Span,
    },
}

/// `clear when CONDITION`.
#[derive(Clone, Debug)]
pub struct ClearWhen {
    /// From `clear` to the end of the condition.
    pub span: Span,
    pub condition: Expr,
}

/// `on no data keep | fire | clear`.
#[derive(Clone, Debug)]
pub struct OnNoData {
    /// From `on` to the policy.
    pub span: Span,
    pub policy: NoDataPolicy,
    pub policy_span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoDataPolicy {
    Keep,
    Fire,
    Clear,
}

impl NoDataPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            NoDataPolicy::Keep => "keep",
            NoDataPolicy::Fire => "fire",
            NoDataPolicy::Clear => "clear",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Target {
    Level { number: Quantity, span: Span },
    Notify { channel: Ident, message: Text, span: Span },
}

impl Target {
    /// Where the target is written, from `level` or `notify` on.
    pub fn span(&self) -> Span {
        match self {
            Target::Level { span, .. } | Target::Notify { span, .. } => *span,
        }
    }
}
