use super::{Ident, Level, Quantity, Text, Trigger};
use crate::span::Span;

/// `runbook NAME { items }`: items in the order written (the formatter and the plan keep that order).
#[derive(Clone, Debug)]
pub struct Runbook {
    pub span: Span,
    pub name: Ident,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub span: Span,
    pub kind: ItemKind,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    Description(Text),
    Owner(Text),
    EvaluateEvery(Quantity),
    FilesUnder(Vec<Text>),
    /// `max series N`
    MaxSeries(Quantity),
    Channel(Channel),
    Metric(MetricDecl),
    Trigger(Box<Trigger>),
    Level(Level),
}

/// `channel NAME webhook "url"`
#[derive(Clone, Debug)]
pub struct Channel {
    pub name: Ident,
    pub url: Text,
}

/// `metric NAME = promql "query"`
#[derive(Clone, Debug)]
pub struct MetricDecl {
    pub name: Ident,
    pub query: Text,
}
