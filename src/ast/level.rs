use super::{Quantity, StepNode, Text};
use crate::span::Span;

/// `level N "title" { options and steps }`
#[derive(Clone, Debug)]
pub struct Level {
    pub span: Span,
    /// The span of `level N "title"`, where diagnostics about the level as a whole point.
    pub header_span: Span,
    pub number: Quantity,
    pub title: Option<Text>,
    pub items: Vec<LevelItem>,
}

#[derive(Clone, Debug)]
pub enum LevelItem {
    Deadline(Quantity, Span),
    Approval(Span),
    Cooldown(Quantity, Span),
    MaxAttempts(Quantity, Span),
    /// `max parallel N`
    MaxParallel(Quantity, Span),
    OnFailure(OnFailure, Span),
    Step(StepNode),
}

#[derive(Clone, Debug)]
pub enum OnFailure {
    Escalate(Quantity),
    Abort,
    Continue,
}
