use super::{Expr, Ident, Quantity, Text};
use crate::span::Span;

/// A step or a `parallel { ... }` group; groups nest.
#[derive(Clone, Debug)]
pub enum StepNode {
    Step(Step),
    Parallel(Parallel),
}

#[derive(Clone, Debug)]
pub struct Parallel {
    pub span: Span,
    pub children: Vec<StepNode>,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub span: Span,
    /// The span of the step's own words (`step shell "..."`), without modifiers.
    pub head_span: Span,
    pub kind: StepKind,
    pub modifiers: Vec<Modifier>,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Shell(Text),
    Http {
        method: Ident,
        url: Text,
    },
    Snapshot(Text),
    Restore {
        path: Text,
        from: RestoreFrom,
    },
    Verify(VerifyProbe),
    Wait(Quantity),
    Notify {
        channel: Ident,
        message: Text,
    },
    /// `step ssh ...`: parsed so the analyser can name it and suggest a known kind.
    Unknown(Ident),
}

#[derive(Clone, Debug)]
pub enum RestoreFrom {
    Snapshot(Span),
    Path(Text),
}

#[derive(Clone, Debug)]
pub enum VerifyProbe {
    Condition(Expr),
    Shell(Text),
    Http { method: Ident, url: Text },
}

#[derive(Clone, Debug)]
pub struct Modifier {
    pub span: Span,
    pub kind: ModifierKind,
}

#[derive(Clone, Debug)]
pub enum ModifierKind {
    Timeout(Quantity),
    Retry {
        count: Quantity,
        backoff: Option<Quantity>,
    },
    Idempotent,
    Within(Quantity),
    Every(Quantity),
    Header(Text, Text),
    Body(Text),
    Expect(Quantity),
    /// `for N consecutive` on a verify step.
    Consecutive(Quantity),
}

impl ModifierKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            ModifierKind::Timeout(_) => "timeout",
            ModifierKind::Retry { .. } => "retry",
            ModifierKind::Idempotent => "idempotent",
            ModifierKind::Within(_) => "within",
            ModifierKind::Every(_) => "every",
            ModifierKind::Header(..) => "header",
            ModifierKind::Body(_) => "body",
            ModifierKind::Expect(_) => "expect",
            ModifierKind::Consecutive(_) => "for N consecutive",
        }
    }
}

impl StepKind {
    pub fn keyword(&self) -> &str {
        match self {
            StepKind::Shell(_) => "shell",
            StepKind::Http { .. } => "http",
            StepKind::Snapshot(_) => "snapshot",
            StepKind::Restore { .. } => "restore",
            StepKind::Verify(_) => "verify",
            StepKind::Wait(_) => "wait",
            StepKind::Notify { .. } => "notify",
            StepKind::Unknown(name) => &name.name,
        }
    }
}
